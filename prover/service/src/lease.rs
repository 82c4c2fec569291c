//! Leases on the work the nodes of a cluster share (a job proven on its
//! own, a batch): the holder renews its lease every third of it, each
//! renewal conditioned on the attempt it holds (its fencing token), and
//! gives the work up as soon as a renewal finds the attempt changed (the
//! lease ended and another node took the work over). A proof already
//! running when that happens runs to its end in the background; its
//! result is refused and dropped. Leases compare the nodes' wall clocks:
//! keep them synchronised (NTP) to well within a lease.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use depin_store::model::now_ms;
use depin_store::{
    BatchRecord, Condition, JobRecord, JobState, Lease, Mutation, Store, StoreError, WriteBatch,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Who a node is in the leases it holds, and how long they last.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// The node's id (stable across its restarts).
    pub node_id: String,
    /// How long a lease lasts without a renewal.
    pub lease: Duration,
    /// Whether only this process writes the store (the embedded store):
    /// then every lease in it is this node's, left by its previous life.
    pub exclusive: bool,
}

impl LeaseConfig {
    /// Whether `lease` is this node's.
    pub fn holds(&self, lease: Option<&Lease>) -> bool {
        self.exclusive || lease.is_some_and(|l| l.node == self.node_id)
    }

    /// A lease of this node from now on.
    pub fn new_lease(&self) -> Lease {
        Lease {
            node: self.node_id.clone(),
            until_ms: now_ms().saturating_add(self.lease.as_millis() as u64),
        }
    }
}

/// Where a lease stands, as read from the store after a renewal was
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holding {
    /// Still PROVING at the holder's attempt (the refusal was contention):
    /// renew again.
    Held,
    /// Finished at the holder's attempt: nothing more to renew.
    Finished,
    /// At another attempt: taken over by another node.
    TakenOver,
}

impl Holding {
    /// Where the lease of the holder at `attempts` stands on work stored
    /// in `state` at `stored_attempts` (`None`: not stored).
    pub(crate) fn of(stored: Option<(JobState, u32)>, attempts: u32) -> Holding {
        match stored {
            Some((JobState::Proving, a)) if a == attempts => Holding::Held,
            Some((_, a)) if a == attempts => Holding::Finished,
            _ => Holding::TakenOver,
        }
    }
}

/// Work held under a lease: a job proven on its own, or a batch.
pub(crate) trait Leased: Clone + Send + Sync + 'static {
    /// Its name in logs.
    fn what(&self) -> String;
    /// The write that renews its lease until `until_ms`, conditioned on
    /// the holder's attempt.
    fn renewal(&self, until_ms: u64) -> WriteBatch;
    /// Where the holder's lease stands in `store`.
    fn holding(
        &self,
        store: &dyn Store,
    ) -> impl Future<Output = Result<Holding, StoreError>> + Send;
}

impl Leased for JobRecord {
    fn what(&self) -> String {
        self.key.job_id()
    }

    fn renewal(&self, until_ms: u64) -> WriteBatch {
        let mut renewed = self.clone();
        if let Some(l) = renewed.lease.as_mut() {
            l.until_ms = until_ms;
        }
        let mut b = WriteBatch::default();
        b.require(Condition::job_held(self));
        b.push(Mutation::Job(renewed));
        b
    }

    async fn holding(&self, store: &dyn Store) -> Result<Holding, StoreError> {
        let stored = store.job(&self.key).await?;
        Ok(Holding::of(
            stored.map(|j| (j.state, j.attempts)),
            self.attempts,
        ))
    }
}

impl Leased for BatchRecord {
    fn what(&self) -> String {
        self.batch_id()
    }

    fn renewal(&self, until_ms: u64) -> WriteBatch {
        let mut renewed = self.clone();
        if let Some(l) = renewed.lease.as_mut() {
            l.until_ms = until_ms;
        }
        let mut b = WriteBatch::default();
        b.require(Condition::batch_held(self));
        b.push(Mutation::Batch(renewed));
        b
    }

    async fn holding(&self, store: &dyn Store) -> Result<Holding, StoreError> {
        let stored = store.batch(self.kind, self.sequence).await?;
        Ok(Holding::of(
            stored.map(|b| (b.state, b.attempts)),
            self.attempts,
        ))
    }
}

/// The renewal task of a held lease, stopped when dropped.
pub(crate) struct Renewal {
    task: JoinHandle<()>,
    lost: watch::Receiver<bool>,
}

impl Drop for Renewal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Renewal {
    /// Renews the lease on `work` (as claimed) every third of `lease`. A
    /// refused renewal is checked against the store: only a lease taken
    /// over gives the work up.
    pub(crate) fn start(store: Arc<dyn Store>, lease: Duration, work: impl Leased) -> Renewal {
        let (tx, lost) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = now_ms().saturating_add(lease.as_millis() as u64);
                match store.commit(work.renewal(until)).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => match work.holding(store.as_ref()).await {
                        Ok(Holding::TakenOver) => {
                            tracing::warn!(
                                work = %work.what(),
                                "the lease was taken over by another node; dropping the work"
                            );
                            let _ = tx.send(true);
                            return;
                        }
                        Ok(Holding::Finished) => return,
                        // Contention, or the store failed: the next renewal
                        // tries again.
                        Ok(Holding::Held) | Err(_) => {}
                    },
                    // The next renewal tries again; if the lease ends
                    // meanwhile, the work is taken over and this node's
                    // writes are refused.
                    Err(e) => {
                        tracing::warn!(work = %work.what(), error = %e, "renewing the lease failed")
                    }
                }
            }
        });
        Renewal { task, lost }
    }

    /// Resolves once the lease was taken over (never while it is held).
    pub(crate) async fn lost(&mut self) {
        if self.lost.wait_for(|l| *l).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
