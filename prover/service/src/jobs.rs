//! Proving jobs: a durable record per (device, kind, epoch), claimed by
//! workers under leases, so that the nodes of a cluster share one queue.
//!
//! `ProveEpoch` stores the job (QUEUED) before answering, so an
//! acknowledged job survives a crash; the store's QUEUED jobs are the
//! queue, bounded by `queue_capacity` (a request that finds it full gets
//! RESOURCE_EXHAUSTED and nothing is stored).
//!
//! A worker claims the oldest job of its node's statements that is QUEUED
//! or PROVING under a lease that ended ([`Store::claim_job`]: on PostgreSQL
//! `FOR UPDATE SKIP LOCKED`), which stores it PROVING with one more attempt
//! and the node's lease (`job_lease_s`). While it proves, the worker renews
//! the lease every third of it; every write it makes to the job (renewals,
//! the proof and DONE in one write, or FAILED) is conditioned on its
//! attempt, the fencing token: once another node took the job over, the
//! old holder's writes are refused and it drops its result, so a job ends
//! with exactly one stored proof. A node that dies (or freezes past its
//! lease) leaves its job to whichever worker claims it next, on any node;
//! a node starting again frees its own leases at once (with the embedded
//! store, only one process writes: every lease is its own).
//!
//! Workers wake when a job is queued on this node, when the store
//! announces a job change from another node ([`Store::job_events`]), and
//! every second (to take over expired leases). On shutdown the workers take
//! no new job and the running ones finish within the grace period, or
//! their leases end and the job is claimed again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use std::time::Duration;

use depin_statements::{StatementKind, Verdict};
use tokio::sync::{broadcast, Notify};

use depin_proto::convert::fr_pb;
use depin_store::model::now_ms;
use depin_store::{
    ChainKey, ClaimRequest, Condition, JobEvent, JobRecord, JobState, Lease, Mutation, Store,
    StoreError, WriteBatch,
};

use super::batches::{BatchConfig, Batcher};
use super::error::{Result, ServiceError};
use super::lease::{Holding, LeaseConfig, Renewal};
use super::metrics::Metrics;
use super::prove::{job_rng, load_epoch, KeyState, KeyStore, ProveError, Registries};

/// How often an idle worker looks for a job (a queued job of this node, or
/// one announced by the store, wakes it sooner).
const POLL: Duration = Duration::from_secs(1);

/// The job system.
pub struct Jobs {
    store: Arc<dyn Store>,
    keys: Arc<KeyStore>,
    registries: Arc<Registries>,
    secret: [u8; 32],
    capacity: usize,
    leases: LeaseConfig,
    /// The statements proven one device-epoch at a time (none when the
    /// node proves in batches).
    single: Vec<StatementKind>,
    wake: Notify,
    updates: broadcast::Sender<JobRecord>,
    stopping: AtomicBool,
    stop: tokio::sync::watch::Sender<bool>,
    metrics: Arc<Metrics>,
    batcher: Option<Arc<Batcher>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// The answer to `ProveEpoch`.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The job.
    pub job: JobRecord,
    /// Whether this call created (or re-queued) it.
    pub created: bool,
}

impl Jobs {
    /// The job system for `kinds`; call [`Jobs::start`] to run workers.
    /// With `batches` (a batch size and its settings) the statements are
    /// proven in epoch batches ([`crate::batches`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyStore>,
        registries: Arc<Registries>,
        secret: [u8; 32],
        capacity: usize,
        leases: LeaseConfig,
        metrics: Arc<Metrics>,
        kinds: Vec<StatementKind>,
        batches: Option<BatchConfig>,
    ) -> Arc<Self> {
        let (updates, _) = broadcast::channel(1024);
        let (stop, _) = tokio::sync::watch::channel(false);
        let single = if batches.is_some() {
            Vec::new()
        } else {
            kinds.clone()
        };
        let batcher = batches.map(|config| {
            Batcher::new(
                store.clone(),
                registries.clone(),
                secret,
                config,
                &kinds,
                updates.clone(),
            )
        });
        Arc::new(Jobs {
            store,
            keys,
            registries,
            secret,
            capacity,
            leases,
            single,
            wake: Notify::new(),
            updates,
            stopping: AtomicBool::new(false),
            stop,
            metrics,
            batcher,
        })
    }

    /// The batcher, when the node proves in epoch batches.
    pub fn batcher(&self) -> Option<&Arc<Batcher>> {
        self.batcher.as_ref()
    }

    /// Frees this node's leases of a previous life, resumes the batches,
    /// and starts `workers` workers and the listener of other nodes' job
    /// changes; returns their handles.
    pub async fn start(
        self: &Arc<Self>,
        workers: usize,
    ) -> Result<Vec<tokio::task::JoinHandle<()>>> {
        let unfinished = self.store.unfinished_jobs().await?;
        let shared = self.store.job_events();
        self.free_own_leases(&unfinished).await?;
        let mut tasks = Vec::new();
        if let Some(b) = &self.batcher {
            // Jobs in a stored batch resume with it; jobs still waiting for
            // a batch wait again, and so do jobs a single proof of an
            // earlier life (batch_size = 0) left PROVING.
            let mut queued = Vec::new();
            for j in &unfinished {
                if j.batch.is_some() {
                    continue;
                }
                if j.state == JobState::Queued || self.requeue(j).await? {
                    queued.push(j.key);
                }
            }
            tasks = b.start(queued);
        }
        if let Some(events) = shared {
            let this = self.clone();
            tasks.push(tokio::spawn(async move { this.hear(events).await }));
        }
        if !self.single.is_empty() {
            let waiting = unfinished.iter().filter(|j| j.batch.is_none()).count();
            if waiting > 0 {
                tracing::info!(jobs = waiting, "unfinished jobs wait for a worker");
            }
            tasks.extend((0..workers).map(|i| {
                let this = self.clone();
                tokio::spawn(async move { this.worker(i).await })
            }));
        }
        Ok(tasks)
    }

    /// Ends, at once, the leases that this node held before it started
    /// ([`LeaseConfig::holds`]), so that its workers take those jobs again
    /// without waiting for them to expire.
    async fn free_own_leases(&self, unfinished: &[JobRecord]) -> Result<()> {
        for job in unfinished {
            if job.state != JobState::Proving
                || job.batch.is_some()
                || job.lease.is_none()
                || !self.leases.holds(job.lease.as_ref())
            {
                continue;
            }
            let mut freed = job.clone();
            if let Some(l) = freed.lease.as_mut() {
                l.until_ms = 0;
            }
            // Taken over meanwhile: not ours any more.
            self.rewrite_as_read(job, freed).await?;
        }
        Ok(())
    }

    /// Puts a job PROVING on its own back to QUEUED for this node's
    /// batcher, when its lease is this node's or ended; whether it did.
    async fn requeue(&self, job: &JobRecord) -> Result<bool> {
        let ended = Lease::ended(job.lease.as_ref(), now_ms());
        if job.state != JobState::Proving || !(ended || self.leases.holds(job.lease.as_ref())) {
            return Ok(false);
        }
        let mut queued = job.clone();
        queued.state = JobState::Queued;
        queued.lease = None;
        self.rewrite_as_read(job, queued).await
    }

    /// Stores `new` in place of `job` if the job is still as read; whether
    /// it was.
    async fn rewrite_as_read(&self, job: &JobRecord, new: JobRecord) -> Result<bool> {
        let mut b = WriteBatch::default();
        b.require(Condition::job_as_read(job));
        b.push(Mutation::Job(new));
        match self.store.commit(b).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Passes the job changes of other nodes on to this node's watchers
    /// and wakes its workers for a queued job (or after missed changes).
    async fn hear(self: Arc<Self>, mut events: broadcast::Receiver<JobEvent>) {
        use broadcast::error::RecvError;
        let mut stop = self.stop.subscribe();
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                _ = stop.changed() => return,
            };
            match event {
                Ok(JobEvent::Changed(key)) => {
                    if let Ok(Some(job)) = self.store.job(&key).await {
                        if job.state == JobState::Queued && self.single.contains(&key.kind) {
                            self.wake.notify_one();
                        }
                        let _ = self.updates.send(job);
                    }
                }
                Ok(JobEvent::Resync) | Err(RecvError::Lagged(_)) => self.wake.notify_waiters(),
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// Stops taking jobs.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        if let Some(b) = &self.batcher {
            b.stop();
        }
    }

    /// Subscribes to job changes.
    pub fn subscribe(&self) -> broadcast::Receiver<JobRecord> {
        self.updates.subscribe()
    }

    /// A job.
    pub async fn get(&self, key: &ChainKey) -> Result<JobRecord> {
        self.store
            .job(key)
            .await?
            .ok_or_else(|| ServiceError::UnknownJob(key.job_id()))
    }

    /// Queues the proof of a device's epoch (idempotent: an existing job is
    /// returned; a failed one is queued again).
    pub async fn submit(&self, key: ChainKey) -> Result<Submitted> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(ServiceError::ShuttingDown);
        }
        match self.keys.state(key.kind) {
            KeyState::NotServed => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "this node does not prove the {} statement",
                    key.kind.as_str()
                )))
            }
            KeyState::Failed(e) => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "the {} keys are unavailable: {e}",
                    key.kind.as_str()
                )))
            }
            KeyState::Loading | KeyState::Ready(_) => {}
        }
        if self.store.device(&key.device).await?.is_none() {
            return Err(ServiceError::UnknownDevice(fr_pb(&key.device)));
        }
        if self.store.epoch(key.epoch).await?.is_none() {
            return Err(ServiceError::UnknownEpoch(key.epoch));
        }
        // The job closes the chain to ingest: created only on the job state
        // it was planned on (none, or FAILED to queue it again).
        for _ in 0..8 {
            let existing = self.store.job(&key).await?;
            let planned_on = existing.as_ref().map(|j| j.state);
            let mut job = match existing {
                Some(j) if j.state != JobState::Failed => {
                    return Ok(Submitted {
                        job: j,
                        created: false,
                    })
                }
                Some(mut j) => {
                    j.state = JobState::Queued;
                    j.failure.clear();
                    j.batch = None;
                    j
                }
                None => {
                    self.check_present(&key).await?;
                    JobRecord::new(key, now_ms())
                }
            };
            let permit = match &self.batcher {
                Some(b) => Some(b.reserve(key.kind)?),
                None => {
                    let limit = self.capacity as u64;
                    let queued = self.store.queued_jobs(limit).await?;
                    self.metrics.queue_depth.set(queued as i64);
                    if queued >= limit {
                        return Err(ServiceError::QueueFull(self.capacity));
                    }
                    None
                }
            };
            job.state = JobState::Queued;
            let mut b = WriteBatch::default();
            b.push(Mutation::Job(job.clone()));
            b.require(Condition::Job {
                key,
                state: planned_on,
            });
            match self.store.commit(b).await {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => continue,
                // The commit's outcome may be unknown: a job that was stored
                // is queued here, or nothing would prove it (a retried
                // ProveEpoch returns the stored job as it is).
                Err(StoreError::Unavailable(e)) => match self.store.job(&key).await {
                    Ok(Some(j))
                        if j.state == JobState::Queued && j.created_ms == job.created_ms => {}
                    _ => return Err(StoreError::Unavailable(e).into()),
                },
                Err(e) => return Err(e.into()),
            }
            match permit {
                Some(p) => {
                    p.send(key);
                }
                None => {
                    self.metrics.queue_depth.inc();
                    self.wake.notify_one();
                }
            }
            let _ = self.updates.send(job.clone());
            return Ok(Submitted { job, created: true });
        }
        Err(ServiceError::Contended(key.job_id()))
    }

    /// Refuses a job with nothing to prove.
    async fn check_present(&self, key: &ChainKey) -> Result<()> {
        let present = match key.kind {
            StatementKind::Uptime | StatementKind::Bandwidth => self
                .store
                .chain(key)
                .await?
                .is_some_and(|c| c.signature.is_some()),
            StatementKind::Coverage => self.store.claim(&key.device, key.epoch).await?.is_some(),
        };
        if present {
            return Ok(());
        }
        Err(ServiceError::FailedPrecondition(format!(
            "nothing to prove: no {} {} of this device in epoch {}",
            key.kind.as_str(),
            if key.kind == StatementKind::Coverage {
                "claim"
            } else {
                "records"
            },
            key.epoch
        )))
    }

    /// What this node's workers claim, now: jobs of the statements whose
    /// keys are ready (a node still loading keys, or whose keys failed,
    /// leaves the shared queue to the others).
    fn claim_request(&self) -> ClaimRequest {
        ClaimRequest {
            kinds: self
                .single
                .iter()
                .copied()
                .filter(|k| matches!(self.keys.state(*k), KeyState::Ready(_)))
                .collect(),
            node: self.leases.node_id.clone(),
            now_ms: now_ms(),
            lease_ms: self.leases.lease.as_millis() as u64,
        }
    }

    async fn worker(self: Arc<Self>, id: usize) {
        let mut stop = self.stop.subscribe();
        let mut failing = false;
        loop {
            if *stop.borrow() || self.stopping.load(Ordering::SeqCst) {
                break;
            }
            let request = self.claim_request();
            let claimed = if request.kinds.is_empty() {
                Ok(None)
            } else {
                self.store.claim_job(&request).await
            };
            match claimed {
                Ok(Some(job)) => {
                    failing = false;
                    let key = job.key;
                    let span = tracing::info_span!("job", id = %key.job_id());
                    if let Err(e) = tracing::Instrument::instrument(self.run(job), span).await {
                        tracing::error!(worker = id, job = %key.job_id(), error = %e, "job error");
                    }
                    continue;
                }
                Ok(None) => {
                    failing = false;
                    self.metrics.queue_depth.set(0);
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(worker = id, error = %e, "claiming a job failed; retrying");
                    }
                    failing = true;
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => break,
            }
        }
        tracing::debug!(worker = id, "worker stopped");
    }

    /// Stores the finished `job` (with its proof) under its attempt,
    /// retrying while the store is unreachable. `false`: the lease was
    /// taken over and nothing was stored.
    async fn save(&self, job: &JobRecord, proof: Option<Vec<u8>>) -> Result<bool> {
        let mut b = WriteBatch::default();
        b.require(Condition::job_held(job));
        if let Some(p) = proof {
            b.push(Mutation::Proof(job.key, p));
        }
        b.push(Mutation::Job(job.clone()));
        let mut tries = 0;
        loop {
            match self.store.commit(b.clone()).await {
                Ok(()) => {
                    let _ = self.updates.send(job.clone());
                    return Ok(true);
                }
                Err(StoreError::Conflict(_)) => {
                    // Stored by an earlier try whose answer was lost, still
                    // ours (the refusal was contention), or taken over.
                    let stored = self.store.job(&job.key).await?;
                    if stored.as_ref() == Some(job) {
                        let _ = self.updates.send(job.clone());
                        return Ok(true);
                    }
                    let stored = stored.map(|s| (s.state, s.attempts));
                    match Holding::of(stored, job.attempts) {
                        Holding::Held if tries < 10 => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        _ => {
                            tracing::warn!(
                                "the lease was taken over by another node; result dropped"
                            );
                            return Ok(false);
                        }
                    }
                }
                Err(StoreError::Unavailable(e)) if tries < 10 => {
                    tries += 1;
                    tracing::warn!(error = %e, "storing the result failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Proves a job this node's worker claimed.
    async fn run(&self, mut job: JobRecord) -> Result<()> {
        let key = job.key;
        let _ = self.updates.send(job.clone());
        let mut renewal = Renewal::start(self.store.clone(), self.leases.lease, job.clone());
        tracing::info!(attempt = job.attempts, "proving");
        let started = Instant::now();
        let proving = async {
            let epoch = load_epoch(self.store.as_ref(), &self.registries, &key).await?;
            let keys = self.keys.clone();
            let secret = self.secret;
            tokio::task::spawn_blocking(move || {
                let evaluation = epoch.evaluate()?;
                let system = keys.wait(key.kind)?;
                let mut rng = job_rng(&secret, &key, &evaluation.public.to_field_elements());
                let proof = system.prove(&epoch, &mut rng)?;
                // Never store a proof that does not verify.
                if !system.verify(&proof)? {
                    return Err(ProveError::Missing("the proof does not verify".into()));
                }
                let bytes = proof
                    .to_bytes()
                    .map_err(|e| ProveError::Missing(format!("encoding the proof: {e}")))?;
                Ok::<_, ProveError>((evaluation, bytes))
            })
            .await
            .map_err(|e| ProveError::Missing(format!("proving task: {e}")))?
        };
        let result = tokio::select! {
            r = proving => r,
            // Taken over: another node proves it; this result would be
            // refused anyway.
            () = renewal.lost() => return Ok(()),
        };
        let elapsed = started.elapsed();
        job.finished_ms = now_ms();
        job.lease = None;
        match result {
            Ok((evaluation, bytes)) => {
                job.state = JobState::Done;
                job.reward = evaluation.reward;
                job.verdicts = evaluation.verdicts;
                job.proving_ms = elapsed.as_millis() as u64;
                if !self.save(&job, Some(bytes)).await? {
                    return Ok(());
                }
                self.metrics
                    .proof_seconds
                    .get_or_create(&vec![("kind", key.kind.as_str())])
                    .observe(elapsed.as_secs_f64());
                self.metrics
                    .jobs
                    .get_or_create(&vec![("kind", key.kind.as_str()), ("outcome", "done")])
                    .inc();
                tracing::info!(
                    reward = job.reward,
                    accepted = job.verdicts.iter().filter(|v| v.is_accepted()).count(),
                    seconds = elapsed.as_secs_f64(),
                    "proof stored"
                );
            }
            Err(e) => {
                job.state = JobState::Failed;
                job.failure = e.to_string();
                if !self.save(&job, None).await? {
                    return Ok(());
                }
                self.metrics
                    .jobs
                    .get_or_create(&vec![("kind", key.kind.as_str()), ("outcome", "failed")])
                    .inc();
                tracing::warn!(error = %e, "job failed");
            }
        }
        Ok(())
    }
}

/// Counts of a job's verdicts: `(accepted, rejected)`.
pub fn verdict_counts(v: &[Verdict]) -> (u32, u32) {
    let a = v.iter().filter(|v| v.is_accepted()).count() as u32;
    (a, v.len() as u32 - a)
}
