//! What the service stores: devices, epochs, hash chains of records, coverage
//! claims and witness reports, jobs and proofs. How each store encodes them
//! is its own business; [`ChainKey::to_bytes`] is the one encoding fixed
//! here, because it also seeds a job's proof randomness.

use depin_batch::header::BatchHeader;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_statements::records::{CoverageClaim, Heartbeat, SessionReceipt};
use depin_statements::{BandwidthPolicy, CoveragePolicy, Fr, StatementKind, UptimePolicy, Verdict};

/// A value in the store could not be decoded (corruption or a bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt stored {what}: {reason}")]
pub struct CodecError {
    /// What was being decoded.
    pub what: &'static str,
    /// Why it failed.
    pub reason: &'static str,
}

/// A device's hash chain of one kind in one epoch (uptime or bandwidth), or
/// a job about a device, kind and epoch: the same 37-byte key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainKey {
    /// The device id.
    pub device: Fr,
    /// The statement.
    pub kind: StatementKind,
    /// The epoch.
    pub epoch: u32,
}

/// Length of [`ChainKey::to_bytes`].
pub const CHAIN_KEY_LEN: usize = 37;

impl ChainKey {
    /// `device (32, LE) || kind (1) || epoch (4, BE)`.
    pub fn to_bytes(&self) -> [u8; CHAIN_KEY_LEN] {
        let mut out = [0u8; CHAIN_KEY_LEN];
        out[..32].copy_from_slice(&fr_to_le_bytes(&self.device));
        out[32] = self.kind.code();
        out[33..].copy_from_slice(&self.epoch.to_be_bytes());
        out
    }

    /// Parses [`ChainKey::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, CodecError> {
        let err = |reason| CodecError {
            what: "key",
            reason,
        };
        let b: &[u8; CHAIN_KEY_LEN] = b.try_into().map_err(|_| {
            err(if b.len() < CHAIN_KEY_LEN {
                "truncated"
            } else {
                "trailing bytes"
            })
        })?;
        let mut device = [0u8; 32];
        device.copy_from_slice(&b[..32]);
        let device = fr_from_le_bytes(&device).map_err(|_| err("field element not canonical"))?;
        let kind = StatementKind::try_from(b[32]).map_err(|_| err("unknown statement kind"))?;
        let epoch = u32::from_be_bytes([b[33], b[34], b[35], b[36]]);
        Ok(ChainKey {
            device,
            kind,
            epoch,
        })
    }

    /// The job id: `<kind>-<epoch>-<device id, 64 hex digits big-endian>`.
    pub fn job_id(&self) -> String {
        let mut be = fr_to_le_bytes(&self.device);
        be.reverse();
        format!("{}-{}-{}", self.kind.as_str(), self.epoch, hex::encode(be))
    }

    /// Parses a job id.
    pub fn from_job_id(id: &str) -> Option<Self> {
        let mut parts = id.splitn(3, '-');
        let kind = match parts.next()? {
            "uptime" => StatementKind::Uptime,
            "bandwidth" => StatementKind::Bandwidth,
            "coverage" => StatementKind::Coverage,
            _ => return None,
        };
        let epoch: u32 = parts.next()?.parse().ok()?;
        let hex_id = parts.next()?;
        if hex_id.len() != 64 {
            return None;
        }
        let mut bytes: [u8; 32] = hex::decode(hex_id).ok()?.try_into().ok()?;
        bytes.reverse();
        let device = fr_from_le_bytes(&bytes).ok()?;
        Some(ChainKey {
            device,
            kind,
            epoch,
        })
    }
}

/// The tail of a device's hash chain, and the state the per-record rules
/// carry from one record to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainState {
    /// Records stored.
    pub len: u32,
    /// The head after the last stored record (the genesis when empty).
    pub head: Fr,
    /// The device's signature on `head` (none while empty).
    pub signature: Option<Signature>,
    /// Uptime: the smallest slot the next heartbeat may count for.
    pub next_slot: u64,
    /// Bandwidth: session numbers of accepted receipts.
    pub accepted_sessions: Vec<u32>,
    /// Closed by `ProveEpoch`: no more records.
    pub sealed: bool,
}

impl ChainState {
    /// An empty chain starting at `genesis`.
    pub fn new(genesis: Fr) -> Self {
        ChainState {
            len: 0,
            head: genesis,
            signature: None,
            next_slot: 0,
            accepted_sessions: Vec::new(),
            sealed: false,
        }
    }
}

/// A heartbeat as stored: in the device's chain, with the head after it and
/// its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredHeartbeat {
    /// The heartbeat.
    pub heartbeat: Heartbeat,
    /// The chain head after it.
    pub head: Fr,
    /// The reference's verdict, decided at ingest.
    pub verdict: Verdict,
}

/// A co-signed receipt as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredReceipt {
    /// The receipt.
    pub receipt: SessionReceipt,
    /// The client's key.
    pub client_key: PublicKey,
    /// The client's signature on the receipt's message.
    pub client_signature: Signature,
    /// The chain head after it.
    pub head: Fr,
    /// The reference's verdict, decided at ingest.
    pub verdict: Verdict,
}

/// A record of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived values, stored in bulk as bytes
pub enum StoredRecord {
    /// Uptime.
    Heartbeat(StoredHeartbeat),
    /// Bandwidth.
    Receipt(StoredReceipt),
}

impl StoredRecord {
    /// The chain head after the record.
    pub fn head(&self) -> Fr {
        match self {
            StoredRecord::Heartbeat(h) => h.head,
            StoredRecord::Receipt(r) => r.head,
        }
    }

    /// The verdict.
    pub fn verdict(&self) -> Verdict {
        match self {
            StoredRecord::Heartbeat(h) => h.verdict,
            StoredRecord::Receipt(r) => r.verdict,
        }
    }

    /// The record's message (what the chain folds in).
    pub fn message(&self) -> Fr {
        match self {
            StoredRecord::Heartbeat(h) => h.heartbeat.message(),
            StoredRecord::Receipt(r) => r.receipt.message(),
        }
    }
}

/// A coverage claim with the device's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredClaim {
    /// The claim.
    pub claim: CoverageClaim,
    /// The device's signature on its message.
    pub signature: Signature,
}

/// What an operator published for an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochConfig {
    /// The epoch.
    pub epoch: u32,
    /// The beacon.
    pub beacon: Fr,
    /// Uptime policy.
    pub uptime: UptimePolicy,
    /// Bandwidth policy.
    pub bandwidth: BandwidthPolicy,
    /// Coverage policy.
    pub coverage: CoveragePolicy,
    /// Clients in the registry snapshot of this epoch (the first
    /// `registry_size` registered).
    pub registry_size: u32,
    /// The registry root of that snapshot.
    pub registry_root: Fr,
}

impl EpochConfig {
    /// Whether `other` publishes the same values (the registry snapshot is
    /// the first publication's).
    pub fn same_publication(&self, other: &EpochConfig) -> bool {
        self.epoch == other.epoch
            && self.beacon == other.beacon
            && self.uptime == other.uptime
            && self.bandwidth == other.bandwidth
            && self.coverage == other.coverage
    }
}

/// Where a proving job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a worker.
    Queued = 1,
    /// A worker is proving it.
    Proving = 2,
    /// The proof is stored.
    Done = 3,
    /// It cannot be proven (see `failure`).
    Failed = 4,
}

impl JobState {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Proving => "proving",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Whether the job will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

/// A proving job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Device, kind, epoch.
    pub key: ChainKey,
    /// State.
    pub state: JobState,
    /// Why it failed.
    pub failure: String,
    /// The proven reward.
    pub reward: u64,
    /// Verdicts of the proven records, in proof order.
    pub verdicts: Vec<Verdict>,
    /// Creation time (ms since the Unix epoch).
    pub created_ms: u64,
    /// Completion time.
    pub finished_ms: u64,
    /// Proving time.
    pub proving_ms: u64,
    /// Attempts started.
    pub attempts: u32,
    /// The batch that proves the job (the kind's batch sequence number),
    /// when the node proves the kind in batches.
    pub batch: Option<u64>,
    /// The lease of the node proving the job on its own (a PROVING job
    /// outside a batch); `attempts` is its fencing token.
    pub lease: Option<Lease>,
}

/// A node's lease on a job it proves: renewed by the node's heartbeats; once
/// `until_ms` is past, any node may take the job over (its `attempts` goes
/// up, so every later write of the presumed-dead node, conditioned on the
/// attempt it holds, is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The node holding it (`node_id` of its configuration).
    pub node: String,
    /// When it ends (ms since the Unix epoch).
    pub until_ms: u64,
}

impl Lease {
    /// When `lease` ends: 0 for none (work written by a build without
    /// leases, free to take).
    pub fn until(lease: Option<&Lease>) -> u64 {
        lease.map_or(0, |l| l.until_ms)
    }

    /// Whether `lease` (none: it ended long ago) ended before `now_ms`.
    pub fn ended(lease: Option<&Lease>, now_ms: u64) -> bool {
        Lease::until(lease) < now_ms
    }
}

/// What a worker asks [`crate::Store::claim_job`] for.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    /// The statements the node proves one device-epoch at a time.
    pub kinds: Vec<StatementKind>,
    /// The claiming node.
    pub node: String,
    /// Now (ms since the Unix epoch): leases that ended before are expired.
    pub now_ms: u64,
    /// How long the new lease lasts (ms).
    pub lease_ms: u64,
}

impl JobRecord {
    /// Whether a worker of `request` may take the job: a job of one of its
    /// kinds outside a batch that is QUEUED, or PROVING under a lease that
    /// ended (or none: written by a build without leases).
    pub fn claimable(&self, request: &ClaimRequest) -> bool {
        request.kinds.contains(&self.key.kind)
            && self.batch.is_none()
            && match self.state {
                JobState::Queued => true,
                JobState::Proving => Lease::ended(self.lease.as_ref(), request.now_ms),
                JobState::Done | JobState::Failed => false,
            }
    }

    /// The job taken by `request`'s node: PROVING, one more attempt (the new
    /// fencing token), under a new lease.
    pub fn claimed(mut self, request: &ClaimRequest) -> Self {
        self.state = JobState::Proving;
        self.attempts += 1;
        self.lease = Some(Lease {
            node: request.node.clone(),
            until_ms: request.now_ms.saturating_add(request.lease_ms),
        });
        self
    }
}

impl JobRecord {
    /// A new queued job.
    pub fn new(key: ChainKey, now_ms: u64) -> Self {
        JobRecord {
            key,
            state: JobState::Queued,
            failure: String::new(),
            reward: 0,
            verdicts: Vec::new(),
            created_ms: now_ms,
            finished_ms: 0,
            proving_ms: 0,
            attempts: 0,
            batch: None,
            lease: None,
        }
    }
}

/// A batch of device-epochs of one kind and one epoch, proven together
/// (`docs/batches.md`). A kind's batches are numbered from 0 and chain:
/// batch `n + 1` starts from the rewards tree batch `n` ends with, so
/// replaying their public data in order rebuilds the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    /// The statement.
    pub kind: StatementKind,
    /// The kind's batch number (0, 1, ...).
    pub sequence: u64,
    /// Positions (the batch key's size).
    pub batch_size: u32,
    /// The epoch-wide values and the tree commitments before and after.
    pub header: BatchHeader,
    /// The public data (`depin_batch::PublicData::encode`).
    pub public_data: Vec<u8>,
    /// The jobs the batch proves, in position order.
    pub members: Vec<ChainKey>,
    /// [`JobState::Proving`] until the proof is stored ([`JobState::Done`]),
    /// or [`JobState::Failed`].
    pub state: JobState,
    /// Why it failed.
    pub failure: String,
    /// The proof (`BatchProof` bytes) once done; empty before.
    pub proof: Vec<u8>,
    /// Creation time (ms since the Unix epoch).
    pub created_ms: u64,
    /// Completion time.
    pub finished_ms: u64,
    /// Proving time.
    pub proving_ms: u64,
    /// Attempts started (the fencing token of the node proving it).
    pub attempts: u32,
    /// While PROVING: the lease of the node that formed or proves it; once
    /// it ends, any node may take the batch over.
    pub lease: Option<Lease>,
}

impl BatchRecord {
    /// Whether a node may take the batch over at `now_ms`: PROVING under a
    /// lease that ended (or none: written by a build without leases).
    pub fn lease_ended(&self, now_ms: u64) -> bool {
        self.state == JobState::Proving && Lease::ended(self.lease.as_ref(), now_ms)
    }

    /// The batch id: `<kind>-batch-<sequence>`.
    pub fn batch_id(&self) -> String {
        batch_id(self.kind, self.sequence)
    }
}

/// The id of a kind's batch: `<kind>-batch-<sequence>`.
pub fn batch_id(kind: StatementKind, sequence: u64) -> String {
    format!("{}-batch-{sequence}", kind.as_str())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_round_trip() {
        let k = ChainKey {
            device: Fr::from(123_456_789u64),
            kind: StatementKind::Bandwidth,
            epoch: 42,
        };
        let id = k.job_id();
        assert!(id.starts_with("bandwidth-42-"));
        assert_eq!(ChainKey::from_job_id(&id), Some(k));
        assert_eq!(ChainKey::from_bytes(&k.to_bytes()), Ok(k));
        assert_eq!(ChainKey::from_job_id("uptime-1-zz"), None);
        assert!(ChainKey::from_bytes(&k.to_bytes()[..36]).is_err());
        let mut bad = k.to_bytes();
        bad[32] = 9;
        assert!(ChainKey::from_bytes(&bad).is_err());
    }
}
