//! Durable storage behind one trait, so that a node can run on the embedded
//! [`RedbStore`] (the default) and a cluster on a shared database.
//!
//! Reads are plain calls. Writes go in a [`WriteBatch`] to
//! [`Store::commit`], which returns a [`CommitTicket`] that resolves once the
//! batch is durable (fsynced); a caller acknowledges nothing before that.
//! The embedded store commits the batches that arrive together in one
//! transaction (group commit), so one fsync covers many requests.
//!
//! Read-modify-write sequences (a device's chain, client indices) are
//! serialized by the caller (the ingest path holds a per-chain lock until
//! its batch is durable); the store itself only promises that one batch is
//! applied atomically and in submission order.

mod redb_store;

pub use redb_store::RedbStore;

use super::model::{
    ChainKey, ChainState, CodecError, EpochConfig, JobRecord, StoredClaim, StoredRecord,
};
use depin_crypto::eddsa::PublicKey;
use depin_statements::records::SignedWitnessReport;
use depin_statements::Fr;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The embedded database failed.
    #[error("database: {0}")]
    Database(String),
    /// A stored value is corrupt.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The store is closed (shutting down).
    #[error("the store is closed")]
    Closed,
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
}

/// Writes applied atomically, in order.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch(pub Vec<Mutation>);

impl WriteBatch {
    /// Adds a write.
    pub fn push(&mut self, m: Mutation) {
        self.0.push(m);
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Resolves once a batch is durable (or failed).
pub struct CommitTicket(tokio::sync::oneshot::Receiver<Result<(), StoreError>>);

impl CommitTicket {
    /// A ticket and the sender that resolves it.
    pub fn channel() -> (tokio::sync::oneshot::Sender<Result<(), StoreError>>, Self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (tx, CommitTicket(rx))
    }

    /// Waits (async) until the batch is durable.
    pub async fn wait(self) -> Result<(), StoreError> {
        self.0.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Waits (blocking the thread) until the batch is durable.
    pub fn wait_blocking(self) -> Result<(), StoreError> {
        self.0.blocking_recv().unwrap_or(Err(StoreError::Closed))
    }
}

/// The service's storage.
pub trait Store: Send + Sync + 'static {
    /// A registered device's key.
    fn device(&self, id: &Fr) -> Result<Option<PublicKey>, StoreError>;
    /// Number of registered devices.
    fn device_count(&self) -> Result<u64, StoreError>;
    /// Every registered device id (for indexing beacon ids at publication).
    fn device_ids(&self) -> Result<Vec<Fr>, StoreError>;
    /// A registered client's leaf index.
    fn client_index(&self, id: &Fr) -> Result<Option<u32>, StoreError>;
    /// Number of registered clients.
    fn client_count(&self) -> Result<u32, StoreError>;
    /// The ids of the first `count` clients, in index order.
    fn client_ids(&self, count: u32) -> Result<Vec<Fr>, StoreError>;
    /// A published epoch.
    fn epoch(&self, epoch: u32) -> Result<Option<EpochConfig>, StoreError>;
    /// The highest published epoch.
    fn latest_epoch(&self) -> Result<Option<u32>, StoreError>;
    /// The device whose beacon id in `epoch` is `beacon_id`.
    fn beacon_device(&self, epoch: u32, beacon_id: &Fr) -> Result<Option<Fr>, StoreError>;
    /// A chain's tail state.
    fn chain(&self, key: &ChainKey) -> Result<Option<ChainState>, StoreError>;
    /// The record at `position` of a chain.
    fn record(&self, key: &ChainKey, position: u32) -> Result<Option<StoredRecord>, StoreError>;
    /// Every record of a chain, in order.
    fn records(&self, key: &ChainKey) -> Result<Vec<StoredRecord>, StoreError>;
    /// A device's coverage claim for an epoch.
    fn claim(&self, device: &Fr, epoch: u32) -> Result<Option<StoredClaim>, StoreError>;
    /// A witness's report on a beacon id in an epoch.
    fn report(
        &self,
        epoch: u32,
        beacon_id: &Fr,
        witness: &Fr,
    ) -> Result<Option<SignedWitnessReport>, StoreError>;
    /// Every report on a beacon id in an epoch (ordered by witness id).
    fn reports(&self, epoch: u32, beacon_id: &Fr) -> Result<Vec<SignedWitnessReport>, StoreError>;
    /// A job.
    fn job(&self, key: &ChainKey) -> Result<Option<JobRecord>, StoreError>;
    /// Jobs not done or failed (to resume after a restart), oldest first.
    fn unfinished_jobs(&self) -> Result<Vec<JobRecord>, StoreError>;
    /// A job's proof (`proof.bin` bytes).
    fn proof(&self, key: &ChainKey) -> Result<Option<Vec<u8>>, StoreError>;
    /// Applies `batch` atomically; the ticket resolves once it is durable.
    fn commit(&self, batch: WriteBatch) -> CommitTicket;
}
