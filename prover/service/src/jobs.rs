//! Proving jobs: a durable record per (device, kind, epoch), a bounded queue
//! and a pool of workers.
//!
//! `ProveEpoch` stores the job (QUEUED) before answering, so an
//! acknowledged job survives a crash; at start every job still QUEUED or
//! PROVING is queued again (a PROVING job was interrupted: its attempt
//! counter shows it). The in-memory queue holds at most `queue_capacity`
//! jobs; a request that finds it full gets RESOURCE_EXHAUSTED and nothing
//! is stored. On shutdown the workers take no new job and the running ones
//! finish within the grace period or are left PROVING for the next start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use depin_statements::{StatementKind, Verdict};
use tokio::sync::{broadcast, mpsc, Mutex};

use depin_proto::convert::fr_pb;
use depin_store::model::now_ms;
use depin_store::{
    ChainKey, Condition, JobRecord, JobState, Mutation, Store, StoreError, WriteBatch,
};

use super::batches::{BatchConfig, Batcher};
use super::error::{Result, ServiceError};
use super::metrics::Metrics;
use super::prove::{job_rng, load_epoch, KeyState, KeyStore, ProveError, Registries};

/// The job system.
pub struct Jobs {
    store: Arc<dyn Store>,
    keys: Arc<KeyStore>,
    registries: Arc<Registries>,
    secret: [u8; 32],
    queue: mpsc::Sender<ChainKey>,
    receiver: Mutex<mpsc::Receiver<ChainKey>>,
    capacity: usize,
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
    /// The job system; call [`Jobs::start`] to run workers. With `batches`
    /// (a batch size and its settings) the served statements are proven in
    /// epoch batches ([`crate::batches`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyStore>,
        registries: Arc<Registries>,
        secret: [u8; 32],
        capacity: usize,
        metrics: Arc<Metrics>,
        batches: Option<(BatchConfig, Vec<StatementKind>)>,
    ) -> Arc<Self> {
        let (queue, receiver) = mpsc::channel(capacity);
        let (updates, _) = broadcast::channel(1024);
        let (stop, _) = tokio::sync::watch::channel(false);
        let batcher = batches.map(|(config, kinds)| {
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
            queue,
            receiver: Mutex::new(receiver),
            capacity,
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

    /// Re-queues unfinished jobs and starts `workers` workers; returns their
    /// handles.
    pub async fn start(
        self: &Arc<Self>,
        workers: usize,
    ) -> Result<Vec<tokio::task::JoinHandle<()>>> {
        let mut unfinished = self.store.unfinished_jobs().await?;
        if !unfinished.is_empty() {
            tracing::info!(jobs = unfinished.len(), "resuming unfinished jobs");
        }
        let mut batch_tasks = Vec::new();
        if let Some(b) = &self.batcher {
            // Jobs in a stored batch resume with it; jobs still waiting for
            // a batch wait again; a single proof interrupted is finished.
            unfinished.retain(|j| j.batch.is_none());
            let (queued, single): (Vec<_>, Vec<_>) = unfinished
                .into_iter()
                .partition(|j| j.state == JobState::Queued);
            unfinished = single;
            batch_tasks = b.start(queued.into_iter().map(|j| j.key).collect());
        }
        let this = self.clone();
        tokio::spawn(async move {
            for job in unfinished {
                this.metrics.queue_depth.inc();
                if this.queue.send(job.key).await.is_err() {
                    break;
                }
            }
        });
        let mut tasks: Vec<_> = (0..workers)
            .map(|i| {
                let this = self.clone();
                tokio::spawn(async move { this.worker(i).await })
            })
            .collect();
        tasks.extend(batch_tasks);
        Ok(tasks)
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
                Some(b) => Slot::Batch(b.reserve(key.kind)?),
                None => Slot::Single(
                    self.queue
                        .try_reserve()
                        .map_err(|_| ServiceError::QueueFull(self.capacity))?,
                ),
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
                Slot::Single(p) => {
                    self.metrics.queue_depth.inc();
                    p.send(key);
                }
                Slot::Batch(p) => {
                    p.send(key);
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

    async fn next(&self) -> Option<ChainKey> {
        let mut stop = self.stop.subscribe();
        if *stop.borrow() {
            return None;
        }
        let mut rx = self.receiver.lock().await;
        tokio::select! {
            k = rx.recv() => k,
            _ = stop.changed() => None,
        }
    }

    async fn worker(self: Arc<Self>, id: usize) {
        while let Some(key) = self.next().await {
            self.metrics.queue_depth.dec();
            let span = tracing::info_span!("job", id = %key.job_id());
            if let Err(e) = tracing::Instrument::instrument(self.run(key), span).await {
                tracing::error!(worker = id, job = %key.job_id(), error = %e, "job error");
            }
        }
        tracing::debug!(worker = id, "worker stopped");
    }

    async fn save(&self, job: &JobRecord, proof: Option<Vec<u8>>) -> Result<()> {
        let mut b = WriteBatch::default();
        if let Some(p) = proof {
            b.push(Mutation::Proof(job.key, p));
        }
        b.push(Mutation::Job(job.clone()));
        self.store.commit(b).await?;
        let _ = self.updates.send(job.clone());
        Ok(())
    }

    async fn run(&self, key: ChainKey) -> Result<()> {
        let Some(mut job) = self.store.job(&key).await? else {
            return Ok(());
        };
        if job.state.is_terminal() {
            return Ok(());
        }
        job.state = JobState::Proving;
        job.attempts += 1;
        self.save(&job, None).await?;
        tracing::info!(attempt = job.attempts, "proving");
        let started = Instant::now();
        let result = match load_epoch(self.store.as_ref(), &self.registries, &key).await {
            Err(e) => Err(e),
            Ok(epoch) => {
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
                .map_err(|e| ServiceError::Internal(format!("proving task: {e}")))?
            }
        };
        let elapsed = started.elapsed();
        job.finished_ms = now_ms();
        match result {
            Ok((evaluation, bytes)) => {
                job.state = JobState::Done;
                job.reward = evaluation.reward;
                job.verdicts = evaluation.verdicts;
                job.proving_ms = elapsed.as_millis() as u64;
                self.save(&job, Some(bytes)).await?;
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
                self.save(&job, None).await?;
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

/// A reserved place in the single-proof queue or a statement's batch
/// queue.
enum Slot<'a> {
    Single(mpsc::Permit<'a, ChainKey>),
    Batch(mpsc::OwnedPermit<ChainKey>),
}

/// Counts of a job's verdicts: `(accepted, rejected)`.
pub fn verdict_counts(v: &[Verdict]) -> (u32, u32) {
    let a = v.iter().filter(|v| v.is_accepted()).count() as u32;
    (a, v.len() as u32 - a)
}
