//! The prover's durable storage behind one interface, so that a node runs
//! on the embedded store (`depin-store-redb`, the default) and a cluster on
//! a shared database.
//!
//! # Reads and writes
//!
//! Reads are plain async calls. Writes go in a [`WriteBatch`] to
//! [`Store::commit`], which returns once the batch is durable; a caller
//! acknowledges nothing before that. A batch is applied atomically, or not
//! at all.
//!
//! # Read-modify-write without locks
//!
//! Several requests may change the same device's chain at once (on one
//! node, or on several nodes of a cluster). A batch carries
//! [`Condition`]s: the state it was planned on (the chain's tail, the job
//! that closes an epoch, how many reports a beacon holds, the registry's
//! size, ...). The store checks every condition against the state the
//! batch would be applied to, inside the same transaction, and refuses the
//! whole batch with [`StoreError::Conflict`] when one does not hold: the
//! caller reads again, plans again and retries. This is compare-and-set on
//! the chain's tail; no lock is held by the caller, and a chain can never
//! fork.
//!
//! - [`model`]: what is stored.
//! - `conformance` (feature `conformance`): the suite every store passes.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod model;

use async_trait::async_trait;
use depin_crypto::eddsa::PublicKey;
use depin_statements::records::SignedWitnessReport;
use depin_statements::{Fr, StatementKind};

pub use model::{
    batch_id, BatchRecord, ChainKey, ChainState, ClaimRequest, CodecError, EpochConfig, JobRecord,
    JobState, Lease, StoredClaim, StoredHeartbeat, StoredReceipt, StoredRecord,
};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed: it refused the request (a constraint, a value
    /// out of range, a bad schema, wrong credentials) or answered something
    /// unexpected. Retrying the same request is not expected to help.
    #[error("database: {0}")]
    Database(String),
    /// The database cannot be reached now: the connection was refused or
    /// lost, no connection could be opened or taken from the pool in time,
    /// or the server is shutting down or starting up. Retry later (with
    /// backoff): once the database is back, the same store serves again.
    ///
    /// What was written: a read wrote nothing. A [`Store::commit`] wrote
    /// nothing, unless the message says that the outcome is unknown (the
    /// connection was lost during COMMIT, so the batch may or may not be
    /// durable). Either way a retry that plans again on what it reads is
    /// safe: a batch already applied fails its [`Condition`]s (or, for an
    /// unconditional batch of upserts, writes the same values again).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value is corrupt.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A condition of the batch does not hold: the state changed since the
    /// caller read it. Nothing was written; read again and retry.
    #[error("conflict: {0}")]
    Conflict(Condition),
    /// The store is closed (shutting down).
    #[error("the store is closed")]
    Closed,
}

/// What a shared store announces about the jobs that any node writes
/// ([`Store::job_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// The job was written (created, claimed, renewed, finished).
    Changed(ChainKey),
    /// Announcements may have been missed (the store's listener connected
    /// again, or the subscriber lagged): read again whatever is watched.
    Resync,
}

/// One write.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Register a device.
    Device(Fr, PublicKey),
    /// Register a client at an index.
    Client {
        /// Client id.
        id: Fr,
        /// Leaf index.
        index: u32,
        /// Key.
        key: PublicKey,
    },
    /// Publish an epoch.
    Epoch(EpochConfig),
    /// Index a device's beacon id for an epoch (for witness reports).
    Beacon {
        /// Epoch.
        epoch: u32,
        /// `Poseidon(BEACON_ID, beacon, device_id)`.
        beacon_id: Fr,
        /// Device.
        device: Fr,
    },
    /// Replace a chain's tail state.
    Chain(ChainKey, ChainState),
    /// Append a record to a chain at a position.
    Record(ChainKey, u32, StoredRecord),
    /// Store a coverage claim.
    Claim(Fr, u32, StoredClaim),
    /// Store a witness report under its epoch and beacon id.
    Report(SignedWitnessReport),
    /// Create or update a job.
    Job(JobRecord),
    /// Store a proof (`proof.bin` bytes).
    Proof(ChainKey, Vec<u8>),
    /// Create or update a batch (its members are indexed by device).
    Batch(BatchRecord),
}

/// What must hold for a batch to apply: the state it was planned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The chain's tail is `tail`: `Some((len, head))`, or `None` when the
    /// chain holds nothing yet.
    ChainTail {
        /// The chain.
        key: ChainKey,
        /// Records stored and the head after the last.
        tail: Option<(u32, Fr)>,
    },
    /// The job of `key` is in `state` (`None`: there is no job, so the
    /// device's epoch of that statement still takes records).
    Job {
        /// The job's key.
        key: ChainKey,
        /// Its state.
        state: Option<JobState>,
    },
    /// The job of `key` is in `state` at attempt `attempts` (its fencing
    /// token) and, when `lease_until_ms` is given, its lease ends then (0:
    /// it has no lease). A worker's writes to a job it proves are
    /// conditioned on its attempt, so that a node whose lease was taken
    /// over writes nothing; a claim is conditioned on the whole lease it
    /// read.
    Attempt {
        /// The job's key.
        key: ChainKey,
        /// Its state.
        state: JobState,
        /// Its attempts.
        attempts: u32,
        /// When its lease ends, if that must hold too.
        lease_until_ms: Option<u64>,
    },
    /// The kind's batch `sequence` is in `state` at attempt `attempts` and,
    /// when `lease_until_ms` is given, its lease ends then (0: it has no
    /// lease): [`Condition::Attempt`] for a batch.
    BatchAttempt {
        /// The statement.
        kind: StatementKind,
        /// The batch's number.
        sequence: u64,
        /// Its state.
        state: JobState,
        /// Its attempts.
        attempts: u32,
        /// When its lease ends, if that must hold too.
        lease_until_ms: Option<u64>,
    },
    /// The device has no coverage claim in the epoch.
    NoClaim {
        /// The device.
        device: Fr,
        /// The epoch.
        epoch: u32,
    },
    /// The witness has no report on the beacon id in the epoch.
    NoReport {
        /// The epoch.
        epoch: u32,
        /// The beacon id.
        beacon_id: Fr,
        /// The witness's id.
        witness: Fr,
    },
    /// The beacon id holds exactly `count` reports in the epoch.
    ReportCount {
        /// The epoch.
        epoch: u32,
        /// The beacon id.
        beacon_id: Fr,
        /// Reports stored.
        count: usize,
    },
    /// Exactly this many devices are registered.
    DeviceCount(u64),
    /// Exactly this many clients are registered.
    ClientCount(u32),
    /// The highest published epoch is this one (`None`: none yet).
    LatestEpoch(Option<u32>),
    /// The epoch is not published.
    NoEpoch(u32),
    /// The kind holds exactly `count` batches (numbered `0..count`).
    BatchCount {
        /// The statement.
        kind: StatementKind,
        /// Batches stored.
        count: u64,
    },
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::ChainTail { key, .. } => {
                write!(f, "the chain {} changed", key.job_id())
            }
            Condition::Job { key, .. } => write!(f, "the job {} changed", key.job_id()),
            Condition::Attempt { key, attempts, .. } => write!(
                f,
                "the job {} is no longer at attempt {attempts} (its lease was taken over)",
                key.job_id()
            ),
            Condition::NoClaim { epoch, .. } => {
                write!(f, "a coverage claim was stored for epoch {epoch}")
            }
            Condition::NoReport { epoch, .. } => {
                write!(f, "the witness report was stored for epoch {epoch}")
            }
            Condition::ReportCount { epoch, .. } => {
                write!(f, "the beacon's reports of epoch {epoch} changed")
            }
            Condition::DeviceCount(_) => f.write_str("the device registry changed"),
            Condition::ClientCount(_) => f.write_str("the client registry changed"),
            Condition::LatestEpoch(_) => f.write_str("an epoch was published"),
            Condition::NoEpoch(e) => write!(f, "epoch {e} was published"),
            Condition::BatchCount { kind, .. } => {
                write!(f, "a {} batch was formed", kind.as_str())
            }
            Condition::BatchAttempt {
                kind,
                sequence,
                attempts,
                ..
            } => write!(
                f,
                "the batch {} is no longer at attempt {attempts} (its lease was taken over)",
                batch_id(*kind, *sequence)
            ),
        }
    }
}

/// Writes applied atomically and in order, if every condition holds.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    /// What must hold first.
    pub conditions: Vec<Condition>,
    /// The writes.
    pub mutations: Vec<Mutation>,
}

impl WriteBatch {
    /// Adds a write.
    pub fn push(&mut self, m: Mutation) {
        self.mutations.push(m);
    }

    /// Adds a condition.
    pub fn require(&mut self, c: Condition) {
        self.conditions.push(c);
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.mutations.is_empty()
    }
}

/// The prover's storage.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A registered device's key.
    async fn device(&self, id: &Fr) -> Result<Option<PublicKey>, StoreError>;
    /// Number of registered devices.
    async fn device_count(&self) -> Result<u64, StoreError>;
    /// Every registered device id (for indexing beacon ids at publication).
    async fn device_ids(&self) -> Result<Vec<Fr>, StoreError>;
    /// A registered client's leaf index.
    async fn client_index(&self, id: &Fr) -> Result<Option<u32>, StoreError>;
    /// Number of registered clients.
    async fn client_count(&self) -> Result<u32, StoreError>;
    /// The ids of the first `count` clients, in index order.
    async fn client_ids(&self, count: u32) -> Result<Vec<Fr>, StoreError>;
    /// A published epoch.
    async fn epoch(&self, epoch: u32) -> Result<Option<EpochConfig>, StoreError>;
    /// The highest published epoch.
    async fn latest_epoch(&self) -> Result<Option<u32>, StoreError>;
    /// The device whose beacon id in `epoch` is `beacon_id`.
    async fn beacon_device(&self, epoch: u32, beacon_id: &Fr) -> Result<Option<Fr>, StoreError>;
    /// A chain's tail state.
    async fn chain(&self, key: &ChainKey) -> Result<Option<ChainState>, StoreError>;
    /// The record at `position` of a chain.
    async fn record(
        &self,
        key: &ChainKey,
        position: u32,
    ) -> Result<Option<StoredRecord>, StoreError>;
    /// Every record of a chain, in order.
    async fn records(&self, key: &ChainKey) -> Result<Vec<StoredRecord>, StoreError>;
    /// A device's coverage claim for an epoch.
    async fn claim(&self, device: &Fr, epoch: u32) -> Result<Option<StoredClaim>, StoreError>;
    /// A witness's report on a beacon id in an epoch.
    async fn report(
        &self,
        epoch: u32,
        beacon_id: &Fr,
        witness: &Fr,
    ) -> Result<Option<SignedWitnessReport>, StoreError>;
    /// Every report on a beacon id in an epoch (ordered by witness id).
    async fn reports(
        &self,
        epoch: u32,
        beacon_id: &Fr,
    ) -> Result<Vec<SignedWitnessReport>, StoreError>;
    /// A job.
    async fn job(&self, key: &ChainKey) -> Result<Option<JobRecord>, StoreError>;
    /// Jobs not done or failed (to resume after a restart), oldest first.
    async fn unfinished_jobs(&self) -> Result<Vec<JobRecord>, StoreError>;
    /// Takes the oldest job a worker of `request` may prove
    /// ([`JobRecord::claimable`]: QUEUED, or PROVING under an expired lease)
    /// and stores it [`JobRecord::claimed`] before returning it; `None` when
    /// there is none. Two workers, on any nodes, never take the same job
    /// under one lease.
    async fn claim_job(&self, request: &ClaimRequest) -> Result<Option<JobRecord>, StoreError>;
    /// The job changes of every node sharing the store, as they commit;
    /// `None` for a store only this process writes (its writers know).
    fn job_events(&self) -> Option<tokio::sync::broadcast::Receiver<JobEvent>> {
        None
    }
    /// QUEUED jobs, counted up to `limit` (the queue's bound is checked
    /// against it, so counting past it is wasted).
    async fn queued_jobs(&self, limit: u64) -> Result<u64, StoreError>;
    /// A job's proof (`proof.bin` bytes).
    async fn proof(&self, key: &ChainKey) -> Result<Option<Vec<u8>>, StoreError>;
    /// A kind's batch.
    async fn batch(
        &self,
        kind: StatementKind,
        sequence: u64,
    ) -> Result<Option<BatchRecord>, StoreError>;
    /// A kind's batches from `from` on, in sequence order.
    async fn batches(&self, kind: StatementKind, from: u64)
        -> Result<Vec<BatchRecord>, StoreError>;
    /// The sequence numbers of the kind's batches that hold `device`, in
    /// order.
    async fn device_batches(
        &self,
        kind: StatementKind,
        device: &Fr,
    ) -> Result<Vec<u64>, StoreError>;
    /// Applies `batch` atomically if every condition holds, and returns once
    /// it is durable. [`StoreError::Conflict`] names the first condition
    /// that did not hold (nothing was written). [`StoreError::Unavailable`]:
    /// the database could not be reached; nothing was written, or, when its
    /// message says so, the outcome is unknown (plan again and retry).
    async fn commit(&self, batch: WriteBatch) -> Result<(), StoreError>;
}

impl Condition {
    /// A write planned on `job` as read: it is still in the same state, at
    /// the same attempt, under the same lease.
    pub fn job_as_read(job: &JobRecord) -> Condition {
        Condition::Attempt {
            key: job.key,
            state: job.state,
            attempts: job.attempts,
            lease_until_ms: Some(Lease::until(job.lease.as_ref())),
        }
    }

    /// A write of the worker proving `job`: still PROVING at its attempt
    /// (the fencing token), whatever its lease's renewals made of it.
    pub fn job_held(job: &JobRecord) -> Condition {
        Condition::Attempt {
            key: job.key,
            state: JobState::Proving,
            attempts: job.attempts,
            lease_until_ms: None,
        }
    }

    /// [`Condition::job_as_read`] for a batch.
    pub fn batch_as_read(batch: &BatchRecord) -> Condition {
        Condition::BatchAttempt {
            kind: batch.kind,
            sequence: batch.sequence,
            state: batch.state,
            attempts: batch.attempts,
            lease_until_ms: Some(Lease::until(batch.lease.as_ref())),
        }
    }

    /// [`Condition::job_held`] for a batch.
    pub fn batch_held(batch: &BatchRecord) -> Condition {
        Condition::BatchAttempt {
            kind: batch.kind,
            sequence: batch.sequence,
            state: JobState::Proving,
            attempts: batch.attempts,
            lease_until_ms: None,
        }
    }

    /// Whether the stored `job` satisfies a [`Condition::Job`] or
    /// [`Condition::Attempt`] on it (`None` for every other condition).
    pub fn holds_for_job(&self, job: Option<&JobRecord>) -> Option<bool> {
        match self {
            Condition::Job { state, .. } => Some(job.map(|j| j.state) == *state),
            Condition::Attempt { .. } => {
                Some(job.is_some_and(|j| self.at_attempt(j.state, j.attempts, j.lease.as_ref())))
            }
            _ => None,
        }
    }

    /// Whether the stored `batch` satisfies a [`Condition::BatchAttempt`]
    /// on it (`None` for every other condition).
    pub fn holds_for_batch(&self, batch: Option<&BatchRecord>) -> Option<bool> {
        match self {
            Condition::BatchAttempt { .. } => {
                Some(batch.is_some_and(|b| self.at_attempt(b.state, b.attempts, b.lease.as_ref())))
            }
            _ => None,
        }
    }

    /// Whether work stored in `state` at `attempts` under `lease` is what
    /// this [`Condition::Attempt`] or [`Condition::BatchAttempt`] asks.
    fn at_attempt(&self, state: JobState, attempts: u32, lease: Option<&Lease>) -> bool {
        match self {
            Condition::Attempt {
                state: s,
                attempts: a,
                lease_until_ms,
                ..
            }
            | Condition::BatchAttempt {
                state: s,
                attempts: a,
                lease_until_ms,
                ..
            } => {
                state == *s
                    && attempts == *a
                    && lease_until_ms.is_none_or(|u| Lease::until(lease) == u)
            }
            _ => false,
        }
    }
}

/// [`Store::claim_job`] by compare-and-set: the oldest claimable job among
/// the unfinished ones, taken with a batch conditioned on the state, attempt
/// and lease it was read in (a store whose writers are all in one process
/// needs nothing more; a shared database does better with row locks).
pub async fn claim_job_by_cas(
    store: &dyn Store,
    request: &ClaimRequest,
) -> Result<Option<JobRecord>, StoreError> {
    for job in store.unfinished_jobs().await? {
        if !job.claimable(request) {
            continue;
        }
        let condition = Condition::job_as_read(&job);
        let claimed = job.claimed(request);
        let mut b = WriteBatch::default();
        b.require(condition);
        b.push(Mutation::Job(claimed.clone()));
        match store.commit(b).await {
            Ok(()) => return Ok(Some(claimed)),
            // Another worker took it first: try the next.
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
