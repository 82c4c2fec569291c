//! Leases on the work the nodes of a cluster share (a job proven on its
//! own, a batch): the holder renews its lease every third of it, each
//! renewal conditioned on the attempt it holds (its fencing token), and
//! gives the work up as soon as a renewal finds the attempt changed (the
//! lease ended and another node took the work over). A proof already
//! running when that happens runs to its end in the background; its
//! result is refused and dropped. Leases compare the nodes' wall clocks:
//! keep them synchronised (NTP) to well within a lease.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use depin_store::model::now_ms;
use depin_store::{Store, StoreError, WriteBatch};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Who a node is in the leases it holds, and how long they last.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// The node's id (stable across its restarts).
    pub node_id: String,
    /// How long a lease lasts without a renewal.
    pub lease: Duration,
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

/// How a renewal reads where its lease stands.
pub(crate) type CheckHolding =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Holding, StoreError>> + Send>> + Send>;

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
    /// Renews a lease of `lease` every third of it with the write
    /// `renewal(until_ms)` gives (conditioned on the holder's attempt),
    /// `what` naming the work in logs. A refused renewal is checked with
    /// `check`: only a lease taken over gives the work up.
    pub(crate) fn start(
        store: Arc<dyn Store>,
        lease: Duration,
        what: String,
        renewal: impl Fn(u64) -> WriteBatch + Send + 'static,
        check: CheckHolding,
    ) -> Renewal {
        let (tx, lost) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = now_ms().saturating_add(lease.as_millis() as u64);
                match store.commit(renewal(until)).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => match check().await {
                        Ok(Holding::TakenOver) => {
                            tracing::warn!(
                                work = %what,
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
                    Err(e) => tracing::warn!(work = %what, error = %e, "renewing the lease failed"),
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
