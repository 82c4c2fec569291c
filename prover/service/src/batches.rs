//! Epoch batches at the service (`docs/batches.md`): with `batch_size = B`
//! a statement's device-epochs are proven `B` at a time, one proof per
//! batch updating the statement's tree of cumulative rewards.
//!
//! `ProveEpoch` stores the job (QUEUED) as without batches; the kind's
//! batcher groups the waiting jobs by epoch and forms a batch when `B`
//! wait or when the oldest has waited `batch_deadline_s`. Forming loads
//! each device's epoch, evaluates it with the native reference (a job the
//! reference refuses fails on its own) and credits the batch's devices to
//! the tree natively, then stores in one write, conditioned on the kind
//! holding exactly the batches it was planned on and on every job still
//! being QUEUED: the batch (PROVING, with its header and public data) and
//! its jobs (PROVING, naming the batch). A kind's batches chain from 0 on:
//! batch `n + 1` starts from the tree batch `n` ends with, which is what
//! the contract applies them in order on.
//!
//! Proving follows, batch by batch; the proof is verified before it is
//! stored (batch DONE, its jobs DONE, in one write). The randomness is
//! derived from the node's secret and the batch, so a batch proven again
//! after a crash gives the same proof.
//!
//! Across the nodes of a cluster a batch is leased like a job
//! ([`crate::lease`]): it is formed under its former's lease, claimed
//! before it is proven (one more attempt, the prover's lease, conditioned
//! on the attempt and lease it was read with), the lease renewed while the
//! proof runs, and every later write conditioned on the attempt, so a
//! batch ends with one stored proof. A batch whose lease ended (its node
//! died, froze, or is busy proving the batch before it) is taken over by
//! any node that watches the kind's batches (every `REAP`): formed again
//! on the tree before it (replayed from the stored batches) and proven, so
//! batches are proven in parallel across nodes.
//!
//! At start the kind's tree is rebuilt by replaying the stored batches'
//! public data (`RewardsTree::apply`, each checked against its stored
//! commitment), the batches left PROVING under this node's lease or an
//! ended one are formed again from their jobs (the same header and public
//! data, or the batch fails) and proven, and the jobs left QUEUED are
//! queued again. Nothing acknowledged is lost
//! at any moment: a job is QUEUED, or in a stored batch.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use depin_batch::{PublicData, RewardsTree, WithdrawalProof, TREE_DEPTH};
use depin_groth16::batch::{BatchKeys, BatchProof, BatchProver, BatchProverError, EpochBatch};
use depin_statements::StatementKind;
use depin_store::model::now_ms;
use depin_store::{
    batch_id, BatchRecord, ChainKey, Condition, JobRecord, JobState, Mutation, Store, StoreError,
    WriteBatch,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tokio::sync::{broadcast, mpsc, watch};

use super::error::{Result, ServiceError};
use super::lease::{LeaseConfig, Renewal};
use super::prove::{load_epoch, ProveError, Registries};

/// Where a node's batch keys live: `<keys_dir>/batches/<kind>-<B>.pk`.
pub fn batch_key_path(keys_dir: &std::path::Path, kind: StatementKind, size: usize) -> PathBuf {
    // Beside, not inside, the statements' key directories: those appear
    // whole, made or copied in one step.
    keys_dir
        .join("batches")
        .join(format!("{}-{size}.pk", kind.as_str()))
}

/// What the batcher needs from the node.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Positions per batch.
    pub batch_size: usize,
    /// How long the oldest waiting device-epoch waits for a full batch.
    pub deadline: Duration,
    /// The key directory (`<keys_dir>/batches/<kind>-<B>.pk`).
    pub keys_dir: PathBuf,
    /// Make development batch keys from this seed where missing.
    pub dev_seed: Option<u64>,
    /// Jobs waiting per statement, at most.
    pub capacity: usize,
    /// The node's id and lease length in the leases on batches.
    pub leases: LeaseConfig,
}

/// The batchers of a node's statements.
pub struct Batcher {
    store: Arc<dyn Store>,
    registries: Arc<Registries>,
    secret: [u8; 32],
    config: BatchConfig,
    queues: HashMap<StatementKind, mpsc::Sender<ChainKey>>,
    receivers: std::sync::Mutex<HashMap<StatementKind, mpsc::Receiver<ChainKey>>>,
    job_updates: broadcast::Sender<JobRecord>,
    updates: broadcast::Sender<BatchRecord>,
    stop: watch::Sender<bool>,
    /// One key is loaded or made at a time (a development setup takes
    /// gigabytes).
    setup: Arc<std::sync::Mutex<()>>,
    /// The batches handed to this node's provers and not finished (the
    /// reaper leaves them alone).
    in_flight: std::sync::Mutex<HashSet<(StatementKind, u64)>>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Tries to store a batch before another writer changes the kind's
/// batches or the jobs.
const FORM_ATTEMPTS: usize = 8;

/// The tree after the stored batches, the next batch number, and the
/// batches left PROVING with the tree before each.
type Rebuilt = (RewardsTree, u64, Vec<(RewardsTree, BatchRecord)>);

/// What forming the due batches gave.
enum Formation {
    Done,
    /// The store failed: the jobs wait again; try again soon.
    Retry,
    /// The prover is gone (the node stops).
    Stopped,
}

/// What one try of forming a batch gave.
enum Attempt {
    Formed(Box<Formed>),
    Nothing,
    Conflict,
}

/// A batch formed and stored, waiting for its proof.
struct Formed {
    record: BatchRecord,
    batch: EpochBatch,
}

impl Batcher {
    /// The batchers of `kinds`; job changes are announced on `job_updates`
    /// (the job system's channel, which `WatchJob` follows).
    pub fn new(
        store: Arc<dyn Store>,
        registries: Arc<Registries>,
        secret: [u8; 32],
        config: BatchConfig,
        kinds: &[StatementKind],
        job_updates: broadcast::Sender<JobRecord>,
    ) -> Arc<Self> {
        let mut queues = HashMap::new();
        let mut receivers = HashMap::new();
        for &k in kinds {
            let (tx, rx) = mpsc::channel(config.capacity.max(1));
            queues.insert(k, tx);
            receivers.insert(k, rx);
        }
        let (updates, _) = broadcast::channel(256);
        let (stop, _) = watch::channel(false);
        Arc::new(Batcher {
            registries,
            secret,
            config,
            queues,
            receivers: std::sync::Mutex::new(receivers),
            job_updates,
            updates,
            stop,
            setup: Arc::new(std::sync::Mutex::new(())),
            in_flight: std::sync::Mutex::new(HashSet::new()),
            store,
        })
    }

    /// Positions per batch.
    pub fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    /// Reserves a place in `kind`'s queue (RESOURCE_EXHAUSTED when full).
    pub fn reserve(&self, kind: StatementKind) -> Result<mpsc::OwnedPermit<ChainKey>> {
        let q = self.queues.get(&kind).ok_or_else(|| {
            ServiceError::FailedPrecondition(format!(
                "this node does not prove the {} statement",
                kind.as_str()
            ))
        })?;
        q.clone()
            .try_reserve_owned()
            .map_err(|_| ServiceError::QueueFull(self.config.capacity))
    }

    /// Starts one batcher per statement, `queued` (jobs left QUEUED) waiting
    /// first; returns their tasks.
    pub fn start(self: &Arc<Self>, queued: Vec<ChainKey>) -> Vec<tokio::task::JoinHandle<()>> {
        let receivers = match self.receivers.lock() {
            Ok(mut r) => std::mem::take(&mut *r),
            Err(_) => return Vec::new(),
        };
        receivers
            .into_iter()
            .map(|(kind, rx)| {
                let this = self.clone();
                let resumed = queued.iter().filter(|k| k.kind == kind).copied().collect();
                tokio::spawn(async move { this.run(kind, rx, resumed).await })
            })
            .collect()
    }

    /// Stops forming and proving batches (a batch being proven is left
    /// PROVING for the next start).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Subscribes to batch changes.
    pub fn subscribe(&self) -> broadcast::Receiver<BatchRecord> {
        self.updates.subscribe()
    }

    /// A stored batch.
    pub async fn get(&self, kind: StatementKind, sequence: u64) -> Result<BatchRecord> {
        self.store
            .batch(kind, sequence)
            .await?
            .ok_or_else(|| ServiceError::UnknownBatch(batch_id(kind, sequence)))
    }

    /// A device's withdrawal: its branch in the latest proven batch of
    /// `kind` that holds it.
    pub async fn withdrawal(
        &self,
        kind: StatementKind,
        device: &depin_statements::Fr,
    ) -> Result<(BatchRecord, WithdrawalProof)> {
        let sequences = self.store.device_batches(kind, device).await?;
        for seq in sequences.into_iter().rev() {
            let Some(b) = self.store.batch(kind, seq).await? else {
                continue;
            };
            if b.state != JobState::Done {
                continue;
            }
            let data = PublicData::decode(b.batch_size as usize, &b.public_data)
                .map_err(|e| ServiceError::Internal(format!("stored batch {seq}: {e}")))?;
            let position = data
                .devices()
                .iter()
                .position(|e| e.device_id == *device)
                .ok_or_else(|| {
                    ServiceError::Internal(format!(
                        "stored batch {} is indexed under a device it does not hold",
                        b.batch_id()
                    ))
                })?;
            let proof = data.withdrawal_proof(position).ok_or_else(|| {
                ServiceError::Internal(format!("no withdrawal branch in {}", b.batch_id()))
            })?;
            return Ok((b, proof));
        }
        Err(ServiceError::NoWithdrawal(kind.as_str()))
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// One statement's batcher: keys, the tree from the stored batches,
    /// unproven batches, then batches formed from the queue.
    async fn run(
        self: Arc<Self>,
        kind: StatementKind,
        mut rx: mpsc::Receiver<ChainKey>,
        resumed: Vec<ChainKey>,
    ) {
        let prover = match self.load_keys(kind).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(statement = kind.as_str(), error = %e, "batch keys unavailable");
                let why = format!("the {} batch keys are unavailable: {e}", kind.as_str());
                self.refuse_all(rx, resumed, &why).await;
                return;
            }
        };
        let mut stop = self.stop.subscribe();
        let (mut tree, mut next, unproven) = match self.rebuild(kind, &mut stop).await {
            None => return,
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                tracing::error!(statement = kind.as_str(), error = %e, "cannot rebuild the rewards tree");
                let why = format!("the {} rewards tree cannot be rebuilt: {e}", kind.as_str());
                self.refuse_all(rx, resumed, &why).await;
                return;
            }
        };
        tracing::info!(
            statement = kind.as_str(),
            batches = next,
            devices = tree.size().saturating_sub(1),
            "rewards tree rebuilt"
        );
        let (to_prove, mut proving) = mpsc::channel::<Formed>(2);
        let proofs = {
            let this = self.clone();
            let prover = prover.clone();
            tokio::spawn(async move {
                while let Some(f) = proving.recv().await {
                    if this.stopped() {
                        break;
                    }
                    if let Err(e) = this.prove(&prover, f).await {
                        tracing::error!(error = %e, "storing a batch failed: it is proven again at the next start");
                    }
                }
            })
        };
        let mut low = unproven.first().map_or(next, |(_, b)| b.sequence);
        if !self.resume(unproven, &to_prove, &mut stop).await {
            return;
        }
        let mut last_adoption = Instant::now();
        let mut reap = tokio::time::interval(self.reap_every());
        reap.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut waiting: BTreeMap<u32, Vec<(ChainKey, Instant)>> = BTreeMap::new();
        let started = Instant::now();
        for k in resumed {
            waiting.entry(k.epoch).or_default().push((k, started));
        }
        let mut retry_at: Option<Instant> = None;
        loop {
            let due = waiting
                .values()
                .filter_map(|v| v.first().map(|(_, t)| *t + self.config.deadline))
                .chain(retry_at)
                .min();
            let sleep = async {
                match due {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                k = rx.recv() => match k {
                    Some(k) => waiting.entry(k.epoch).or_default().push((k, Instant::now())),
                    None => break,
                },
                () = sleep => {}
                _ = reap.tick() => {
                    if !self.reap(kind, &mut low, &to_prove).await {
                        return;
                    }
                    if last_adoption.elapsed() >= self.adopt_every() {
                        last_adoption = Instant::now();
                        self.adopt(kind, &mut waiting).await;
                    }
                }
                _ = stop.changed() => break,
            }
            let now = Instant::now();
            if retry_at.is_some_and(|t| t > now) {
                continue;
            }
            retry_at = None;
            match self
                .form_ready(kind, &mut waiting, (&mut tree, &mut next), &to_prove, now)
                .await
            {
                Formation::Done => {}
                Formation::Retry => retry_at = Some(Instant::now() + RETRY),
                Formation::Stopped => return,
            }
        }
        drop(to_prove);
        let _ = proofs.await;
    }

    /// The kind's tree from its stored batches, retrying while the store
    /// fails; `None` when the node stops first.
    async fn rebuild(
        &self,
        kind: StatementKind,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<std::result::Result<Rebuilt, String>> {
        loop {
            match self.replay(kind).await {
                Ok(t) => return Some(Ok(t)),
                Err(Failure::Transient(e)) => {
                    tracing::warn!(statement = kind.as_str(), error = %e, "reading the batches: retrying");
                    tokio::select! {
                        () = tokio::time::sleep(RETRY) => {}
                        _ = stop.changed() => return None,
                    }
                }
                Err(Failure::Broken(e)) => return Some(Err(e)),
            }
        }
    }

    /// Forms the batches left PROVING again and hands them to the prover;
    /// false when the node stops first.
    async fn resume(
        &self,
        unproven: Vec<(RewardsTree, BatchRecord)>,
        to_prove: &mpsc::Sender<Formed>,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let now = now_ms();
        for (before, record) in unproven {
            if !self.may_take(&record, now) {
                // Another node proves it; taken over if its lease ends.
                continue;
            }
            if record.batch_size as usize != self.config.batch_size {
                // Another size's key proves it: left for a node with it.
                tracing::error!(
                    batch = %record.batch_id(),
                    size = record.batch_size,
                    configured = self.config.batch_size,
                    "a batch left PROVING is of another size: not proven here"
                );
                continue;
            }
            let batch = loop {
                match self.reform(&before, &record).await {
                    Ok(b) => break Some(b),
                    Err(Failure::Transient(e)) => {
                        tracing::warn!(batch = %record.batch_id(), error = %e, "reading the batch's jobs: retrying");
                        tokio::select! {
                            () = tokio::time::sleep(RETRY) => {}
                            _ = stop.changed() => return false,
                        }
                    }
                    Err(Failure::Broken(why)) => {
                        let read = Condition::batch_as_read(&record);
                        self.fail_batch(record.clone(), &why, read).await;
                        break None;
                    }
                }
            };
            if let Some(batch) = batch {
                if !self.hand_over(to_prove, Formed { record, batch }).await {
                    return false;
                }
            }
        }
        true
    }

    /// Whether this node may prove `record` at `now_ms`: its lease is this
    /// node's, or ended.
    fn may_take(&self, record: &BatchRecord, now_ms: u64) -> bool {
        self.config.leases.holds(record.lease.as_ref()) || record.lease_ended(now_ms)
    }

    /// How often the store's waiting jobs are looked at for ones no node
    /// batches.
    fn adopt_every(&self) -> Duration {
        (self.config.deadline + self.config.leases.lease).max(Duration::from_secs(1))
    }

    /// Adds to `waiting` the kind's jobs that have waited in the store for
    /// longer than a deadline and a lease without a batch (the node that
    /// took them died before forming it, or lags): due at once. Another
    /// node batching them too is harmless (a job goes into a batch only
    /// while QUEUED, in the write that stores the batch).
    async fn adopt(
        &self,
        kind: StatementKind,
        waiting: &mut BTreeMap<u32, Vec<(ChainKey, Instant)>>,
    ) {
        let Ok(unfinished) = self.store.unfinished_jobs().await else {
            return;
        };
        let cutoff = now_ms().saturating_sub(self.adopt_every().as_millis() as u64);
        let due = Instant::now()
            .checked_sub(self.config.deadline)
            .unwrap_or_else(Instant::now);
        for job in unfinished {
            if job.key.kind != kind
                || job.state != JobState::Queued
                || job.batch.is_some()
                || job.created_ms >= cutoff
            {
                continue;
            }
            let group = waiting.entry(job.key.epoch).or_default();
            if group.iter().any(|(k, _)| *k == job.key) {
                continue;
            }
            tracing::info!(job = %job.key.job_id(), "adopting a job no node batched");
            group.insert(0, (job.key, due));
        }
    }

    /// How often the kind's batches are looked at for ended leases.
    fn reap_every(&self) -> Duration {
        (self.config.leases.lease / 3).max(Duration::from_millis(500))
    }

    /// Hands a formed batch to the kind's prover; false when it is gone
    /// (the node stops).
    async fn hand_over(&self, to_prove: &mpsc::Sender<Formed>, f: Formed) -> bool {
        let key = (f.record.kind, f.record.sequence);
        if let Ok(mut s) = self.in_flight.lock() {
            s.insert(key);
        }
        if to_prove.send(f).await.is_err() {
            return false;
        }
        true
    }

    /// Takes over the kind's batches whose lease ended (from `low` on,
    /// which moves past the finished ones): each formed again on the tree
    /// before it and handed to the prover. False when the node stops.
    async fn reap(
        &self,
        kind: StatementKind,
        low: &mut u64,
        to_prove: &mpsc::Sender<Formed>,
    ) -> bool {
        // Only as many as the prover takes now: a node busy proving leaves
        // the batches to idle ones (and keeps forming its own).
        if to_prove.capacity() == 0 {
            return true;
        }
        let Ok(stored) = self.store.batches(kind, *low).await else {
            return true;
        };
        for b in &stored {
            if !b.state.is_terminal() {
                break;
            }
            *low = b.sequence + 1;
        }
        let now = now_ms();
        let taken: HashSet<(StatementKind, u64)> =
            self.in_flight.lock().map(|s| s.clone()).unwrap_or_default();
        let ended: HashSet<u64> = stored
            .iter()
            .filter(|b| {
                b.lease_ended(now)
                    && b.batch_size as usize == self.config.batch_size
                    && !taken.contains(&(kind, b.sequence))
            })
            .map(|b| b.sequence)
            .collect();
        if ended.is_empty() {
            return true;
        }
        // The trees before them, from the stored batches.
        let Ok((_, _, unproven)) = self.replay(kind).await else {
            return true;
        };
        for (before, record) in unproven {
            if !ended.contains(&record.sequence) {
                continue;
            }
            if to_prove.capacity() == 0 {
                break;
            }
            match self.reform(&before, &record).await {
                Ok(batch) => {
                    tracing::info!(batch = %record.batch_id(), "taking over a batch whose lease ended");
                    if !self.hand_over(to_prove, Formed { record, batch }).await {
                        return false;
                    }
                }
                // Tried again at the next look.
                Err(Failure::Transient(_)) => {}
                Err(Failure::Broken(why)) => {
                    let read = Condition::batch_as_read(&record);
                    self.fail_batch(record, &why, read).await;
                }
            }
        }
        true
    }

    /// Forms the batches that are due: once a group is ready (full, or its
    /// oldest job past the deadline), every group of an earlier epoch is
    /// formed first, full or not, since a device's later epoch credited
    /// first would refuse its earlier one.
    async fn form_ready(
        &self,
        kind: StatementKind,
        waiting: &mut BTreeMap<u32, Vec<(ChainKey, Instant)>>,
        (tree, next): (&mut RewardsTree, &mut u64),
        to_prove: &mpsc::Sender<Formed>,
        now: Instant,
    ) -> Formation {
        let ready = waiting
            .iter()
            .filter(|(_, g)| {
                g.len() >= self.config.batch_size
                    || g.first()
                        .is_some_and(|(_, t)| *t + self.config.deadline <= now)
            })
            .map(|(e, _)| *e)
            .max();
        let Some(ready) = ready else {
            return Formation::Done;
        };
        let epochs: Vec<u32> = waiting.range(..=ready).map(|(e, _)| *e).collect();
        for epoch in epochs {
            while let Some(group) = waiting.get_mut(&epoch) {
                let last = epoch == ready;
                let full = group.len() >= self.config.batch_size;
                let late = group
                    .first()
                    .is_some_and(|(_, t)| *t + self.config.deadline <= now);
                if last && !(full || late) {
                    break;
                }
                let n = group.len().min(self.config.batch_size);
                let taken: Vec<(ChainKey, Instant)> = group.drain(..n).collect();
                if group.is_empty() {
                    waiting.remove(&epoch);
                }
                let keys = taken.iter().map(|(k, _)| *k).collect();
                match self.form(kind, tree, next, keys).await {
                    Ok(Some(f)) => {
                        if !self.hand_over(to_prove, f).await {
                            return Formation::Stopped;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        // Nothing is decided about these jobs: they
                        // wait again, and the batcher tries again soon.
                        tracing::warn!(error = %e, "forming a batch failed: retrying");
                        let group = waiting.entry(epoch).or_default();
                        group.splice(0..0, taken);
                        return Formation::Retry;
                    }
                }
            }
        }
        Formation::Done
    }

    /// Loads (or makes, with development keys) the kind's batch prover.
    async fn load_keys(
        &self,
        kind: StatementKind,
    ) -> std::result::Result<Arc<BatchProver>, String> {
        let path = batch_key_path(&self.config.keys_dir, kind, self.config.batch_size);
        let size = self.config.batch_size;
        let dev_seed = self.config.dev_seed;
        let setup = self.setup.clone();
        tokio::task::spawn_blocking(move || {
            let _one_at_a_time = setup.lock().map_err(|_| "key loader lock poisoned")?;
            let started = Instant::now();
            let keys = match BatchKeys::read(&path, kind, size, true) {
                Ok(k) => k,
                Err(BatchProverError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    let Some(seed) = dev_seed else {
                        return Err(format!("{} does not exist", path.display()));
                    };
                    tracing::warn!(
                        statement = kind.as_str(),
                        path = %path.display(),
                        "no batch keys: making INSECURE development keys (dev_keys = true)"
                    );
                    let k = BatchKeys::dev_setup(kind, size, seed).map_err(|e| e.to_string())?;
                    if let Some(d) = path.parent() {
                        depin_durable::create_private_dir_all(d)
                            .map_err(|e| format!("{}: {e}", d.display()))?;
                    }
                    k.write(&path).map_err(|e| e.to_string())?;
                    k
                }
                Err(e) => return Err(e.to_string()),
            };
            let prover = BatchProver::new(keys).map_err(|e| e.to_string())?;
            tracing::info!(
                statement = kind.as_str(),
                batch_size = size,
                constraints = prover.num_constraints(),
                seconds = started.elapsed().as_secs_f64(),
                "batch keys ready"
            );
            Ok(Arc::new(prover))
        })
        .await
        .map_err(|e| format!("key loading task: {e}"))?
    }

    /// The kind's tree after its stored batches, the next sequence number,
    /// and the batches still PROVING with the tree before each.
    async fn replay(&self, kind: StatementKind) -> std::result::Result<Rebuilt, Failure> {
        let mut tree = RewardsTree::new(TREE_DEPTH).map_err(|e| Failure::Broken(e.to_string()))?;
        let stored = self
            .store
            .batches(kind, 0)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?;
        let mut unproven = Vec::new();
        let mut next = 0u64;
        for b in stored {
            let before = (b.state == JobState::Proving).then(|| tree.clone());
            apply_stored(&mut tree, &mut next, &b).map_err(Failure::Broken)?;
            if let Some(before) = before {
                unproven.push((before, b));
            }
        }
        Ok((tree, next, unproven))
    }

    /// Forms `record`'s batch again from its jobs on `before`: the same
    /// header and public data, or the reason it cannot be.
    async fn reform(
        &self,
        before: &RewardsTree,
        record: &BatchRecord,
    ) -> std::result::Result<EpochBatch, Failure> {
        let mut epochs = Vec::with_capacity(record.members.len());
        for key in &record.members {
            epochs.push(
                load_epoch(self.store.as_ref(), &self.registries, key)
                    .await
                    .map_err(|e| {
                        let why = format!("{}: {e}", key.job_id());
                        match e {
                            ProveError::Store(_) => Failure::Transient(why),
                            _ => Failure::Broken(why),
                        }
                    })?,
            );
        }
        let before = before.clone();
        let size = record.batch_size as usize;
        let batch = tokio::task::spawn_blocking(move || EpochBatch::form(&before, size, &epochs))
            .await
            .map_err(|e| Failure::Broken(e.to_string()))?
            .map_err(|e| Failure::Broken(e.to_string()))?;
        if *batch.header() != record.header || batch.public_data().encode() != record.public_data {
            return Err(Failure::Broken(
                "its jobs no longer form the stored batch".into(),
            ));
        }
        Ok(batch)
    }

    /// Forms, stores and returns a batch of `keys` (one epoch) on `tree`;
    /// `None` when none of them is left to batch. When another node of a
    /// cluster stored a batch of the kind first, the tree catches up with
    /// it and the batch is formed again on it.
    async fn form(
        &self,
        kind: StatementKind,
        tree: &mut RewardsTree,
        next: &mut u64,
        keys: Vec<ChainKey>,
    ) -> Result<Option<Formed>> {
        for _ in 0..FORM_ATTEMPTS {
            match self.try_form(kind, tree, next, &keys).await? {
                Attempt::Formed(f) => return Ok(Some(*f)),
                Attempt::Nothing => return Ok(None),
                Attempt::Conflict => self.catch_up(kind, tree, next).await?,
            }
        }
        Err(ServiceError::Contended(format!(
            "the {} batches",
            kind.as_str()
        )))
    }

    /// Applies the kind's batches stored from `next` on (by another node)
    /// to `tree`.
    async fn catch_up(
        &self,
        kind: StatementKind,
        tree: &mut RewardsTree,
        next: &mut u64,
    ) -> Result<()> {
        for b in self.store.batches(kind, *next).await? {
            apply_stored(tree, next, &b).map_err(ServiceError::Internal)?;
        }
        Ok(())
    }

    /// One try of [`Batcher::form`].
    async fn try_form(
        &self,
        kind: StatementKind,
        tree: &mut RewardsTree,
        next: &mut u64,
        keys: &[ChainKey],
    ) -> Result<Attempt> {
        let mut jobs = Vec::with_capacity(keys.len());
        let mut epochs = Vec::with_capacity(keys.len());
        for &key in keys {
            let Some(mut job) = self.store.job(&key).await? else {
                continue;
            };
            if job.state != JobState::Queued || job.batch.is_some() {
                continue;
            }
            let loaded = match load_epoch(self.store.as_ref(), &self.registries, &key).await {
                Ok(e) => e.evaluate().map(|ev| (e, ev)).map_err(|e| e.to_string()),
                // The store failed now: nothing is decided about the job.
                Err(ProveError::Store(e)) => return Err(e.into()),
                Err(e) => Err(e.to_string()),
            };
            match loaded {
                Ok((epoch, evaluation)) => {
                    job.reward = evaluation.reward;
                    job.verdicts = evaluation.verdicts;
                    jobs.push(job);
                    epochs.push(epoch);
                }
                Err(why) => self.fail_job(job, &why).await?,
            }
        }
        let batch = loop {
            if jobs.is_empty() {
                return Ok(Attempt::Nothing);
            }
            let t = tree.clone();
            let size = self.config.batch_size;
            let e = epochs.clone();
            let formed = tokio::task::spawn_blocking(move || EpochBatch::form(&t, size, &e))
                .await
                .map_err(|e| ServiceError::Internal(format!("forming task: {e}")))?;
            match formed {
                Ok(b) => break b,
                // One position refused (its circuit, or the tree: an epoch
                // already credited): that job fails, the others are batched.
                Err(
                    ref e @ (BatchProverError::Statement { position, .. }
                    | BatchProverError::Form {
                        source: depin_batch_r1cs::BatchError::Tree { position, .. },
                        ..
                    }),
                ) if position < jobs.len() => {
                    let why = e.to_string();
                    epochs.remove(position);
                    let job = jobs.remove(position);
                    self.fail_job(job, &why).await?;
                }
                Err(e) => {
                    let why = e.to_string();
                    for job in jobs {
                        self.fail_job(job, &why).await?;
                    }
                    return Ok(Attempt::Nothing);
                }
            }
        };
        let sequence = *next;
        let record = BatchRecord {
            kind,
            sequence,
            batch_size: self.config.batch_size as u32,
            header: *batch.header(),
            public_data: batch.public_data().encode(),
            members: jobs.iter().map(|j| j.key).collect(),
            state: JobState::Proving,
            failure: String::new(),
            proof: Vec::new(),
            created_ms: now_ms(),
            finished_ms: 0,
            proving_ms: 0,
            attempts: 0,
            // The former's, until it claims the batch to prove it.
            lease: Some(self.config.leases.new_lease()),
        };
        let mut w = WriteBatch::default();
        w.require(Condition::BatchCount {
            kind,
            count: sequence,
        });
        w.push(Mutation::Batch(record.clone()));
        for job in &mut jobs {
            w.require(Condition::Job {
                key: job.key,
                state: Some(JobState::Queued),
            });
            job.state = JobState::Proving;
            job.batch = Some(sequence);
            w.push(Mutation::Job(job.clone()));
        }
        match self.store.commit(w).await {
            Ok(()) => {}
            // Another node stored a batch of the kind, or a job changed:
            // nothing was written.
            Err(StoreError::Conflict(c)) => {
                tracing::info!(batch = %record.batch_id(), conflict = %c, "forming again");
                return Ok(Attempt::Conflict);
            }
            Err(e) => return Err(e.into()),
        }
        *tree = batch.tree().clone();
        *next += 1;
        tracing::info!(
            batch = %record.batch_id(),
            epoch = record.header.epoch,
            devices = record.members.len(),
            "batch formed"
        );
        let _ = self.updates.send(record.clone());
        for job in jobs {
            let _ = self.job_updates.send(job);
        }
        Ok(Attempt::Formed(Box::new(Formed { record, batch })))
    }

    /// Proves a formed batch (if this node can claim it) and stores the
    /// proof with its jobs DONE (or the batch and its jobs FAILED).
    async fn prove(&self, prover: &Arc<BatchProver>, formed: Formed) -> Result<()> {
        let key = (formed.record.kind, formed.record.sequence);
        let result = self.prove_claimed(prover, formed).await;
        if let Ok(mut s) = self.in_flight.lock() {
            s.remove(&key);
        }
        result
    }

    /// Claims the stored batch of `formed` for this node: one more attempt
    /// under its lease, planned on the batch as read. `None` when it is
    /// finished, or another node holds it or took it first.
    async fn claim(&self, formed: &BatchRecord) -> Result<Option<BatchRecord>> {
        let Some(stored) = self.store.batch(formed.kind, formed.sequence).await? else {
            return Ok(None);
        };
        if stored.state != JobState::Proving
            || stored.header != formed.header
            || stored.public_data != formed.public_data
        {
            return Ok(None);
        }
        if !self.may_take(&stored, now_ms()) {
            tracing::info!(batch = %stored.batch_id(), "another node proves the batch");
            return Ok(None);
        }
        let mut claimed = stored.clone();
        claimed.attempts += 1;
        claimed.lease = Some(self.config.leases.new_lease());
        let mut w = WriteBatch::default();
        w.require(Condition::batch_as_read(&stored));
        w.push(Mutation::Batch(claimed.clone()));
        match self.store.commit(w).await {
            Ok(()) => {
                let _ = self.updates.send(claimed.clone());
                Ok(Some(claimed))
            }
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn prove_claimed(&self, prover: &Arc<BatchProver>, formed: Formed) -> Result<()> {
        let Formed { record, batch } = formed;
        let Some(mut record) = self.claim(&record).await? else {
            return Ok(());
        };
        let held = Condition::batch_held(&record);
        let mut renewal =
            Renewal::start(self.store.clone(), self.config.leases.lease, record.clone());
        tracing::info!(batch = %record.batch_id(), attempt = record.attempts, "proving the batch");
        let started = Instant::now();
        let mut rng = batch_rng(&self.secret, &record);
        let p = prover.clone();
        let proving = tokio::task::spawn_blocking(move || {
            let proof = p.prove_epochs(batch, &mut rng)?;
            if !p.verify(&proof)? {
                return Err(BatchProverError::Encoding(
                    "the batch proof does not verify".into(),
                ));
            }
            Ok::<BatchProof, BatchProverError>(proof)
        });
        let result = tokio::select! {
            r = proving => r.map_err(|e| ServiceError::Internal(format!("proving task: {e}")))?,
            // Taken over: the other node's proof is the one stored.
            () = renewal.lost() => return Ok(()),
        };
        // The lease is renewed until the result is stored.
        let elapsed = started.elapsed();
        record.lease = None;
        match result {
            Ok(proof) => {
                record.state = JobState::Done;
                record.proof = proof.to_bytes();
                record.proving_ms = elapsed.as_millis() as u64;
                record.finished_ms = now_ms();
                let mut jobs = Vec::with_capacity(record.members.len());
                for key in &record.members {
                    if let Some(mut j) = self.store.job(key).await? {
                        j.state = JobState::Done;
                        j.proving_ms = record.proving_ms;
                        j.finished_ms = record.finished_ms;
                        jobs.push(j);
                    }
                }
                if self.save_batch(&record, &jobs, held).await? {
                    tracing::info!(
                        batch = %record.batch_id(),
                        seconds = elapsed.as_secs_f64(),
                        "batch proof stored"
                    );
                }
            }
            Err(e) => self.fail_batch(record, &e.to_string(), held).await,
        }
        Ok(())
    }

    /// Stores `record` with `jobs` in one write, conditioned on
    /// `condition`, and announces them; a store that fails now is tried
    /// again, for about a minute. False when the condition no longer held
    /// (another node took the batch over): nothing was written.
    async fn save_batch(
        &self,
        record: &BatchRecord,
        jobs: &[JobRecord],
        condition: Condition,
    ) -> Result<bool> {
        let mut w = WriteBatch::default();
        w.require(condition);
        w.push(Mutation::Batch(record.clone()));
        for j in jobs {
            w.push(Mutation::Job(j.clone()));
        }
        let mut tries = 0;
        loop {
            match self.store.commit(w.clone()).await {
                Ok(()) => break,
                Err(StoreError::Conflict(c)) => {
                    // Stored by an earlier try whose answer was lost, still
                    // as planned (the refusal was contention), or taken
                    // over.
                    let stored = self.store.batch(record.kind, record.sequence).await?;
                    if stored.as_ref() == Some(record) {
                        break;
                    }
                    if c.holds_for_batch(stored.as_ref()) == Some(true) && tries < 60 {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    tracing::warn!(batch = %record.batch_id(), "the batch was taken over by another node; result dropped");
                    return Ok(false);
                }
                Err(StoreError::Unavailable(e)) if tries < 60 && !self.stopped() => {
                    tries += 1;
                    tracing::warn!(batch = %record.batch_id(), error = %e, "storing the batch: retrying");
                    tokio::time::sleep(RETRY).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let _ = self.updates.send(record.clone());
        for j in jobs {
            let _ = self.job_updates.send(j.clone());
        }
        Ok(true)
    }

    /// Marks a batch and its jobs FAILED. The tree keeps its credits (the
    /// batches after it chain on them): a failed batch is a fault for the
    /// operator, since the contract cannot apply the ones after it.
    async fn fail_batch(&self, mut record: BatchRecord, why: &str, condition: Condition) {
        tracing::error!(batch = %record.batch_id(), error = %why, "batch failed");
        record.state = JobState::Failed;
        record.lease = None;
        record.failure = why.to_string();
        record.finished_ms = now_ms();
        let mut jobs = Vec::new();
        for key in &record.members {
            if let Ok(Some(mut j)) = self.store.job(key).await {
                j.state = JobState::Failed;
                j.failure = format!("batch {} failed: {why}", record.batch_id());
                j.finished_ms = record.finished_ms;
                jobs.push(j);
            }
        }
        if let Err(e) = self.save_batch(&record, &jobs, condition).await {
            tracing::error!(batch = %record.batch_id(), error = %e, "storing a failed batch");
        }
    }

    /// Marks a job FAILED.
    async fn fail_job(&self, mut job: JobRecord, why: &str) -> Result<()> {
        tracing::warn!(job = %job.key.job_id(), error = %why, "job failed");
        job.state = JobState::Failed;
        job.failure = why.to_string();
        job.finished_ms = now_ms();
        let mut w = WriteBatch::default();
        w.require(Condition::Job {
            key: job.key,
            state: Some(JobState::Queued),
        });
        w.push(Mutation::Job(job.clone()));
        match self.store.commit(w).await {
            Ok(()) => {
                let _ = self.job_updates.send(job);
                Ok(())
            }
            // Another node batched or failed it meanwhile.
            Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Fails every job of a kind whose batches cannot run, now and as they
    /// come, until the node stops.
    async fn refuse_all(
        &self,
        mut rx: mpsc::Receiver<ChainKey>,
        resumed: Vec<ChainKey>,
        why: &str,
    ) {
        let mut stop = self.stop.subscribe();
        let mut pending = resumed;
        loop {
            for key in pending.drain(..) {
                if let Ok(Some(job)) = self.store.job(&key).await {
                    if job.state == JobState::Queued {
                        let _ = self.fail_job(job, why).await;
                    }
                }
            }
            tokio::select! {
                k = rx.recv() => match k {
                    Some(k) => pending.push(k),
                    None => return,
                },
                _ = stop.changed() => return,
            }
        }
    }
}

/// Applies stored batch `b`, which must be batch `next`, to `tree` and
/// moves `next` on; checks both commitments.
fn apply_stored(
    tree: &mut RewardsTree,
    next: &mut u64,
    b: &BatchRecord,
) -> std::result::Result<(), String> {
    let broken = |why: &str| format!("{}: {why}", b.batch_id());
    if b.sequence != *next {
        return Err(format!("batch {} is missing", batch_id(b.kind, *next)));
    }
    if tree.commitment() != b.header.old_commitment {
        return Err(broken("does not start from the tree"));
    }
    let data = PublicData::decode(b.batch_size as usize, &b.public_data)
        .map_err(|e| broken(&e.to_string()))?;
    tree.apply(b.header.epoch, &data)
        .map_err(|e| broken(&e.to_string()))?;
    if tree.commitment() != b.header.new_commitment {
        return Err(broken("does not end at its commitment"));
    }
    *next += 1;
    Ok(())
}

/// Why stored state could not be used: a store that failed now (retry),
/// or state that will never do.
#[derive(Debug)]
enum Failure {
    Transient(String),
    Broken(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient(e) | Failure::Broken(e) => f.write_str(e),
        }
    }
}

/// How long the batcher waits before trying again after the store failed.
const RETRY: Duration = Duration::from_secs(1);

/// The proving randomness of a batch: ChaCha20 seeded with
/// `keccak256(secret || kind || sequence || digest input)`.
fn batch_rng(secret: &[u8; 32], record: &BatchRecord) -> ChaCha20Rng {
    use tiny_keccak::{Hasher, Keccak};
    let mut k = Keccak::v256();
    k.update(b"depin.prover.batch-rng.v1");
    k.update(secret);
    k.update(&[record.kind.code()]);
    k.update(&record.sequence.to_be_bytes());
    k.update(&record.header.encode());
    k.update(&record.public_data);
    let mut seed = [0u8; 32];
    k.finalize(&mut seed);
    ChaCha20Rng::from_seed(seed)
}
