//! What the service stores: devices, epochs, hash chains of records, coverage
//! claims and witness reports, jobs and proofs, with their compact binary
//! encodings ([`Writer`] / [`Reader`]).
//!
//! Field elements are 32 bytes little-endian (canonical, checked on read),
//! integers little-endian, except in keys, where numbers that order a range
//! (epochs, positions) are big-endian.

use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_statements::records::{
    CoverageClaim, Heartbeat, Location, SessionReceipt, SignedWitnessReport, WitnessReport,
};
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, Fr, RejectReason, StatementKind, UptimePolicy, Verdict,
};

/// A value in the store could not be decoded (corruption or a bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt stored {what}: {reason}")]
pub struct CodecError {
    /// What was being decoded.
    pub what: &'static str,
    /// Why it failed.
    pub reason: &'static str,
}

/// Appends values to a byte buffer.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    /// A byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    /// A `u32`, little-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// A `u64`, little-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// An `i32`, little-endian.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// A field element, 32 bytes little-endian.
    pub fn fr(&mut self, v: &Fr) -> &mut Self {
        self.0.extend_from_slice(&fr_to_le_bytes(v));
        self
    }
    /// A point, `x` then `y`.
    pub fn point(&mut self, p: &Point) -> &mut Self {
        self.fr(&p.x).fr(&p.y)
    }
    /// A signature: `R8` then `S` (32 bytes little-endian).
    pub fn sig(&mut self, s: &Signature) -> &mut Self {
        self.point(&s.r8);
        for limb in s.s.0 {
            self.u64(limb);
        }
        self
    }
    /// Length-prefixed bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
        self
    }
    /// A verdict: 0 accepted, else the reason code.
    pub fn verdict(&mut self, v: Verdict) -> &mut Self {
        self.u8(v.reason().map_or(0, RejectReason::code))
    }
}

/// Reads values written by [`Writer`].
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Reads `buf`, naming `what` in errors.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }
    fn err(&self, reason: &'static str) -> CodecError {
        CodecError {
            what: self.what,
            reason,
        }
    }
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        if self.buf.len() < N {
            return Err(self.err("truncated"));
        }
        let (head, rest) = self.buf.split_at(N);
        self.buf = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }
    /// A byte.
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take::<1>()?[0])
    }
    /// A `u32`.
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    /// An `i32`.
    pub fn i32(&mut self) -> Result<i32, CodecError> {
        Ok(i32::from_le_bytes(self.take()?))
    }
    /// A field element.
    pub fn fr(&mut self) -> Result<Fr, CodecError> {
        fr_from_le_bytes(&self.take()?).map_err(|_| self.err("field element not canonical"))
    }
    /// A point (not checked to be on the curve: the store only holds points
    /// that were checked on the way in).
    pub fn point(&mut self) -> Result<Point, CodecError> {
        Ok(Point {
            x: self.fr()?,
            y: self.fr()?,
        })
    }
    /// A public key.
    pub fn key(&mut self) -> Result<PublicKey, CodecError> {
        Ok(PublicKey(self.point()?))
    }
    /// A signature.
    pub fn sig(&mut self) -> Result<Signature, CodecError> {
        let r8 = self.point()?;
        let mut limbs = [0u64; 4];
        for l in &mut limbs {
            *l = self.u64()?;
        }
        Ok(Signature {
            r8,
            s: ark_ff::BigInt(limbs),
        })
    }
    /// Length-prefixed bytes.
    pub fn bytes(&mut self) -> Result<Vec<u8>, CodecError> {
        let n = self.u32()? as usize;
        if self.buf.len() < n {
            return Err(self.err("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head.to_vec())
    }
    /// A verdict.
    pub fn verdict(&mut self) -> Result<Verdict, CodecError> {
        match self.u8()? {
            0 => Ok(Verdict::Accepted),
            c => RejectReason::try_from(c)
                .map(Verdict::Rejected)
                .map_err(|_| self.err("unknown reason code")),
        }
    }
    /// A statement kind.
    pub fn kind(&mut self) -> Result<StatementKind, CodecError> {
        StatementKind::try_from(self.u8()?).map_err(|_| self.err("unknown statement kind"))
    }
    /// Fails unless everything was read.
    pub fn finish(self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.err("trailing bytes"))
        }
    }
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
        let mut r = Reader::new(b, "key");
        let device = r.fr()?;
        let kind = r.kind()?;
        let epoch = u32::from_be_bytes(r.take()?);
        r.finish()?;
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

    /// Encodes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(self.len).fr(&self.head);
        match &self.signature {
            Some(s) => {
                w.u8(1).sig(s);
            }
            None => {
                w.u8(0);
            }
        }
        w.u64(self.next_slot)
            .u32(self.accepted_sessions.len() as u32);
        for s in &self.accepted_sessions {
            w.u32(*s);
        }
        w.u8(u8::from(self.sealed));
        w.0
    }

    /// Decodes.
    pub fn decode(b: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(b, "chain");
        let len = r.u32()?;
        let head = r.fr()?;
        let signature = match r.u8()? {
            0 => None,
            _ => Some(r.sig()?),
        };
        let next_slot = r.u64()?;
        let n = r.u32()?;
        if n > 1024 {
            return Err(r.err("too many sessions"));
        }
        let mut accepted_sessions = Vec::with_capacity(n as usize);
        for _ in 0..n {
            accepted_sessions.push(r.u32()?);
        }
        let sealed = r.u8()? != 0;
        r.finish()?;
        Ok(ChainState {
            len,
            head,
            signature,
            next_slot,
            accepted_sessions,
            sealed,
        })
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

    /// Encodes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            StoredRecord::Heartbeat(h) => {
                w.u8(1)
                    .verdict(h.verdict)
                    .fr(&h.head)
                    .u32(h.heartbeat.slot)
                    .fr(&h.heartbeat.response)
                    .u32(h.heartbeat.latency_ms);
            }
            StoredRecord::Receipt(r) => {
                let rc = &r.receipt;
                w.u8(2)
                    .verdict(r.verdict)
                    .fr(&r.head)
                    .fr(&rc.device_id)
                    .fr(&rc.client_id)
                    .u32(rc.epoch)
                    .u32(rc.session)
                    .u64(rc.bytes)
                    .u32(rc.duration_s)
                    .point(&r.client_key.0)
                    .sig(&r.client_signature);
            }
        }
        w.0
    }

    /// Decodes.
    pub fn decode(b: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(b, "record");
        let tag = r.u8()?;
        let verdict = r.verdict()?;
        let head = r.fr()?;
        let out = match tag {
            1 => StoredRecord::Heartbeat(StoredHeartbeat {
                heartbeat: Heartbeat {
                    slot: r.u32()?,
                    response: r.fr()?,
                    latency_ms: r.u32()?,
                },
                head,
                verdict,
            }),
            2 => StoredRecord::Receipt(StoredReceipt {
                receipt: SessionReceipt {
                    device_id: r.fr()?,
                    client_id: r.fr()?,
                    epoch: r.u32()?,
                    session: r.u32()?,
                    bytes: r.u64()?,
                    duration_s: r.u32()?,
                },
                client_key: r.key()?,
                client_signature: r.sig()?,
                head,
                verdict,
            }),
            _ => return Err(r.err("unknown record type")),
        };
        r.finish()?;
        Ok(out)
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

impl StoredClaim {
    /// Encodes.
    pub fn encode(&self) -> Vec<u8> {
        let c = &self.claim;
        let mut w = Writer::default();
        w.fr(&c.device_id)
            .u32(c.epoch)
            .u32(c.location.x)
            .u32(c.location.y)
            .fr(&c.beacon_id)
            .sig(&self.signature);
        w.0
    }

    /// Decodes.
    pub fn decode(b: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(b, "claim");
        let out = StoredClaim {
            claim: CoverageClaim {
                device_id: r.fr()?,
                epoch: r.u32()?,
                location: Location {
                    x: r.u32()?,
                    y: r.u32()?,
                },
                beacon_id: r.fr()?,
            },
            signature: r.sig()?,
        };
        r.finish()?;
        Ok(out)
    }
}

/// Encodes a signed witness report.
pub fn encode_report(s: &SignedWitnessReport) -> Vec<u8> {
    let r = &s.report;
    let mut w = Writer::default();
    w.point(&r.witness.0)
        .u32(r.location.x)
        .u32(r.location.y)
        .i32(r.rssi_dbm)
        .fr(&r.beacon_id)
        .u32(r.epoch)
        .sig(&s.signature);
    w.0
}

/// Decodes a signed witness report.
pub fn decode_report(b: &[u8]) -> Result<SignedWitnessReport, CodecError> {
    let mut r = Reader::new(b, "witness report");
    let out = SignedWitnessReport {
        report: WitnessReport {
            witness: r.key()?,
            location: Location {
                x: r.u32()?,
                y: r.u32()?,
            },
            rssi_dbm: r.i32()?,
            beacon_id: r.fr()?,
            epoch: r.u32()?,
        },
        signature: r.sig()?,
    };
    r.finish()?;
    Ok(out)
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

    /// Encodes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        let u = &self.uptime;
        let b = &self.bandwidth;
        let c = &self.coverage;
        w.u32(self.epoch)
            .fr(&self.beacon)
            .u32(u.slots_per_epoch)
            .u32(u.floor_slots)
            .u32(u.max_latency_ms)
            .u64(u.base_reward)
            .u64(u.reward_per_slot)
            .u64(u.reward_cap)
            .u32(b.max_bytes_per_s)
            .u32(b.rate_num)
            .u32(b.rate_shift)
            .u64(b.reward_cap)
            .u32(c.min_witnesses)
            .u64(c.reward_per_witness)
            .u64(c.reward_cap)
            .u32(c.min_distance_m)
            .u32(c.max_distance_m)
            .i32(c.eirp_dbm)
            .u32(c.k_q32)
            .u32(c.cell_bits)
            .u32(self.registry_size)
            .fr(&self.registry_root);
        w.0
    }

    /// Decodes.
    pub fn decode(b: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(b, "epoch");
        let out = EpochConfig {
            epoch: r.u32()?,
            beacon: r.fr()?,
            uptime: UptimePolicy {
                slots_per_epoch: r.u32()?,
                floor_slots: r.u32()?,
                max_latency_ms: r.u32()?,
                base_reward: r.u64()?,
                reward_per_slot: r.u64()?,
                reward_cap: r.u64()?,
            },
            bandwidth: BandwidthPolicy {
                max_bytes_per_s: r.u32()?,
                rate_num: r.u32()?,
                rate_shift: r.u32()?,
                reward_cap: r.u64()?,
            },
            coverage: CoveragePolicy {
                min_witnesses: r.u32()?,
                reward_per_witness: r.u64()?,
                reward_cap: r.u64()?,
                min_distance_m: r.u32()?,
                max_distance_m: r.u32()?,
                eirp_dbm: r.i32()?,
                k_q32: r.u32()?,
                cell_bits: r.u32()?,
            },
            registry_size: r.u32()?,
            registry_root: r.fr()?,
        };
        r.finish()?;
        Ok(out)
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
        }
    }

    /// Encodes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.0.extend_from_slice(&self.key.to_bytes());
        w.u8(self.state as u8)
            .bytes(self.failure.as_bytes())
            .u64(self.reward)
            .u32(self.verdicts.len() as u32);
        for v in &self.verdicts {
            w.verdict(*v);
        }
        w.u64(self.created_ms)
            .u64(self.finished_ms)
            .u64(self.proving_ms)
            .u32(self.attempts);
        w.0
    }

    /// Decodes.
    pub fn decode(b: &[u8]) -> Result<Self, CodecError> {
        if b.len() < CHAIN_KEY_LEN {
            return Err(CodecError {
                what: "job",
                reason: "truncated",
            });
        }
        let key = ChainKey::from_bytes(&b[..CHAIN_KEY_LEN])?;
        let mut r = Reader::new(&b[CHAIN_KEY_LEN..], "job");
        let state = match r.u8()? {
            1 => JobState::Queued,
            2 => JobState::Proving,
            3 => JobState::Done,
            4 => JobState::Failed,
            _ => return Err(r.err("unknown job state")),
        };
        let failure = String::from_utf8(r.bytes()?).map_err(|_| r.err("failure not UTF-8"))?;
        let reward = r.u64()?;
        let n = r.u32()?;
        if n > 4096 {
            return Err(r.err("too many verdicts"));
        }
        let mut verdicts = Vec::with_capacity(n as usize);
        for _ in 0..n {
            verdicts.push(r.verdict()?);
        }
        let out = JobRecord {
            key,
            state,
            failure,
            reward,
            verdicts,
            created_ms: r.u64()?,
            finished_ms: r.u64()?,
            proving_ms: r.u64()?,
            attempts: r.u32()?,
        };
        r.finish()?;
        Ok(out)
    }
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
    }

    #[test]
    fn records_round_trip() {
        let sk = depin_crypto::eddsa::PrivateKey::from_bytes([5; 32]);
        let sig = sk.sign(&Fr::from(9u64));
        let st = ChainState {
            len: 3,
            head: Fr::from(77u64),
            signature: Some(sig),
            next_slot: 5,
            accepted_sessions: vec![1, 2],
            sealed: true,
        };
        assert_eq!(ChainState::decode(&st.encode()), Ok(st));
        let rec = StoredRecord::Receipt(StoredReceipt {
            receipt: SessionReceipt {
                device_id: Fr::from(1u64),
                client_id: Fr::from(2u64),
                epoch: 3,
                session: 4,
                bytes: 5,
                duration_s: 6,
            },
            client_key: sk.public_key(),
            client_signature: sig,
            head: Fr::from(8u64),
            verdict: Verdict::Rejected(RejectReason::SelfDealing),
        });
        assert_eq!(StoredRecord::decode(&rec.encode()), Ok(rec));
        let mut job = JobRecord::new(
            ChainKey {
                device: Fr::from(1u64),
                kind: StatementKind::Uptime,
                epoch: 2,
            },
            10,
        );
        job.verdicts = vec![
            Verdict::Accepted,
            Verdict::Rejected(RejectReason::Duplicate),
        ];
        job.failure = "x".into();
        assert_eq!(JobRecord::decode(&job.encode()), Ok(job));
        assert!(StoredRecord::decode(&[1, 0]).is_err());
    }
}
