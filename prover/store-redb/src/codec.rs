//! The embedded store's value encodings: compact, fixed-order binary
//! ([`Writer`] / [`Reader`]).
//!
//! Field elements are 32 bytes little-endian (canonical, checked on read),
//! integers little-endian, except in keys, where numbers that order a range
//! (epochs, positions) are big-endian.

use depin_batch::header::BatchHeader;
use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_statements::records::{
    CoverageClaim, Heartbeat, Location, SessionReceipt, SignedWitnessReport, WitnessReport,
};
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, Fr, RejectReason, StatementKind, UptimePolicy, Verdict,
};
use depin_store::model::{
    BatchRecord, ChainKey, ChainState, EpochConfig, JobRecord, JobState, Lease, StoredClaim,
    StoredHeartbeat, StoredReceipt, StoredRecord, CHAIN_KEY_LEN,
};
use depin_store::CodecError;

/// A stored value's encoding.
pub trait Codec: Sized {
    /// The bytes stored.
    fn encode(&self) -> Vec<u8>;
    /// The value of stored bytes, refusing anything [`Codec::encode`] does
    /// not write.
    fn decode(b: &[u8]) -> Result<Self, CodecError>;
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
    /// A chain or job key ([`ChainKey::to_bytes`]).
    pub fn chain_key(&mut self, k: &ChainKey) -> &mut Self {
        self.0.extend_from_slice(&k.to_bytes());
        self
    }
    /// A job or batch state.
    pub fn state(&mut self, s: JobState) -> &mut Self {
        self.u8(s as u8)
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
        self.bytes_at_most(u32::MAX as usize)
    }
    /// Length-prefixed bytes, at most `max` of them.
    pub fn bytes_at_most(&mut self, max: usize) -> Result<Vec<u8>, CodecError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(self.err("too long"));
        }
        if self.buf.len() < n {
            return Err(self.err("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head.to_vec())
    }
    /// A lease: its holder's id (at most [`MAX_NODE_ID`] bytes of UTF-8),
    /// then when it ends.
    pub fn lease(&mut self) -> Result<Lease, CodecError> {
        let node = self.bytes_at_most(MAX_NODE_ID)?;
        let node = String::from_utf8(node).map_err(|_| self.err("lease holder not UTF-8"))?;
        Ok(Lease {
            node,
            until_ms: self.u64()?,
        })
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
    /// A chain or job key.
    pub fn chain_key(&mut self) -> Result<ChainKey, CodecError> {
        ChainKey::from_bytes(&self.take::<CHAIN_KEY_LEN>()?)
    }
    /// A job or batch state.
    pub fn state(&mut self) -> Result<JobState, CodecError> {
        match self.u8()? {
            1 => Ok(JobState::Queued),
            2 => Ok(JobState::Proving),
            3 => Ok(JobState::Done),
            4 => Ok(JobState::Failed),
            _ => Err(self.err("unknown job state")),
        }
    }
    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
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

impl Codec for ChainState {
    /// Encodes.
    fn encode(&self) -> Vec<u8> {
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
    fn decode(b: &[u8]) -> Result<Self, CodecError> {
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

impl Codec for StoredRecord {
    /// Encodes.
    fn encode(&self) -> Vec<u8> {
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
    fn decode(b: &[u8]) -> Result<Self, CodecError> {
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

impl Codec for StoredClaim {
    /// Encodes.
    fn encode(&self) -> Vec<u8> {
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
    fn decode(b: &[u8]) -> Result<Self, CodecError> {
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

impl Codec for EpochConfig {
    /// Encodes.
    fn encode(&self) -> Vec<u8> {
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
    fn decode(b: &[u8]) -> Result<Self, CodecError> {
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

impl Codec for JobRecord {
    /// Encodes.
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.chain_key(&self.key)
            .state(self.state)
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
        // Optional tagged trailers, absent from the records of older builds.
        if let Some(batch) = self.batch {
            w.u8(1).u64(batch);
        }
        if let Some(lease) = &self.lease {
            w.u8(2).bytes(lease.node.as_bytes()).u64(lease.until_ms);
        }
        w.0
    }

    /// Decodes (a record of an older build, without the trailers, has no
    /// batch and no lease).
    fn decode(b: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(b, "job");
        let key = r.chain_key()?;
        let state = r.state()?;
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
        let created_ms = r.u64()?;
        let finished_ms = r.u64()?;
        let proving_ms = r.u64()?;
        let attempts = r.u32()?;
        let (mut batch, mut lease) = (None, None);
        let mut last_tag = 0;
        while !r.is_empty() {
            let tag = r.u8()?;
            if tag <= last_tag {
                return Err(r.err("trailers out of order"));
            }
            last_tag = tag;
            match tag {
                1 => batch = Some(r.u64()?),
                2 => lease = Some(r.lease()?),
                _ => return Err(r.err("unknown trailer")),
            }
        }
        r.finish()?;
        Ok(JobRecord {
            key,
            state,
            failure,
            reward,
            verdicts,
            created_ms,
            finished_ms,
            proving_ms,
            attempts,
            batch,
            lease,
        })
    }
}

/// Most bytes of a lease holder's node id.
pub const MAX_NODE_ID: usize = 256;

/// Most members of a stored batch.
const MAX_BATCH_MEMBERS: usize = 1 << 16;
/// Most bytes of a stored batch's public data.
const MAX_PUBLIC_DATA: usize = 56 * 65536;
/// Most bytes of a stored batch proof.
const MAX_BATCH_PROOF: usize = 4096;

impl Codec for BatchRecord {
    /// Encodes.
    fn encode(&self) -> Vec<u8> {
        let h = &self.header;
        let mut w = Writer::default();
        w.u8(self.kind.code())
            .u64(self.sequence)
            .u32(self.batch_size)
            .u8(h.kind)
            .u32(h.version)
            .u32(h.epoch)
            .fr(&h.policy_hash)
            .fr(&h.beacon)
            .fr(&h.registry_root)
            .fr(&h.old_commitment)
            .fr(&h.new_commitment)
            .bytes(&self.public_data)
            .u32(self.members.len() as u32);
        for m in &self.members {
            w.chain_key(m);
        }
        w.state(self.state)
            .bytes(self.failure.as_bytes())
            .bytes(&self.proof)
            .u64(self.created_ms)
            .u64(self.finished_ms)
            .u64(self.proving_ms)
            .u32(self.attempts);
        // An optional tagged trailer, absent from the records of older
        // builds.
        if let Some(lease) = &self.lease {
            w.u8(2).bytes(lease.node.as_bytes()).u64(lease.until_ms);
        }
        w.0
    }

    /// Decodes.
    fn decode(b: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(b, "batch");
        let kind = StatementKind::try_from(r.u8()?).map_err(|_| r.err("unknown statement kind"))?;
        let sequence = r.u64()?;
        let batch_size = r.u32()?;
        let header = BatchHeader {
            kind: r.u8()?,
            version: r.u32()?,
            epoch: r.u32()?,
            policy_hash: r.fr()?,
            beacon: r.fr()?,
            registry_root: r.fr()?,
            old_commitment: r.fr()?,
            new_commitment: r.fr()?,
        };
        let public_data = r.bytes_at_most(MAX_PUBLIC_DATA)?;
        let n = r.u32()? as usize;
        if n > MAX_BATCH_MEMBERS {
            return Err(r.err("too many members"));
        }
        let mut members = Vec::with_capacity(n.min(r.buf.len() / CHAIN_KEY_LEN));
        for _ in 0..n {
            members.push(r.chain_key()?);
        }
        let state = r.state()?;
        let failure = String::from_utf8(r.bytes()?).map_err(|_| r.err("failure not UTF-8"))?;
        let proof = r.bytes_at_most(MAX_BATCH_PROOF)?;
        let out = BatchRecord {
            kind,
            sequence,
            batch_size,
            header,
            public_data,
            members,
            state,
            failure,
            proof,
            created_ms: r.u64()?,
            finished_ms: r.u64()?,
            proving_ms: r.u64()?,
            attempts: r.u32()?,
            lease: None,
        };
        let mut out = out;
        if !r.is_empty() {
            match r.u8()? {
                2 => out.lease = Some(r.lease()?),
                _ => return Err(r.err("unknown trailer")),
            }
        }
        r.finish()?;
        Ok(out)
    }
}

impl Codec for SignedWitnessReport {
    fn encode(&self) -> Vec<u8> {
        let s = self;
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

    fn decode(b: &[u8]) -> Result<Self, CodecError> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
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
        let hb = StoredRecord::Heartbeat(StoredHeartbeat {
            heartbeat: Heartbeat {
                slot: 1,
                response: Fr::from(2u64),
                latency_ms: 3,
            },
            head: Fr::from(99u64),
            verdict: Verdict::Accepted,
        });
        assert_eq!(StoredRecord::decode(&hb.encode()), Ok(hb));
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
        job.state = JobState::Failed;
        assert_eq!(JobRecord::decode(&job.encode()), Ok(job));
        let report = SignedWitnessReport {
            report: WitnessReport {
                witness: sk.public_key(),
                location: Location { x: 1, y: 2 },
                rssi_dbm: -90,
                beacon_id: Fr::from(3u64),
                epoch: 4,
            },
            signature: sig,
        };
        assert_eq!(SignedWitnessReport::decode(&report.encode()), Ok(report));
        let claim = StoredClaim {
            claim: CoverageClaim {
                device_id: Fr::from(1u64),
                epoch: 2,
                location: Location { x: 3, y: 4 },
                beacon_id: Fr::from(5u64),
            },
            signature: sig,
        };
        assert_eq!(StoredClaim::decode(&claim.encode()), Ok(claim));
        let batch = sample_batch();
        assert_eq!(BatchRecord::decode(&batch.encode()), Ok(batch.clone()));
        let empty = BatchRecord {
            members: Vec::new(),
            public_data: Vec::new(),
            failure: String::new(),
            proof: Vec::new(),
            state: JobState::Proving,
            ..batch
        };
        assert_eq!(BatchRecord::decode(&empty.encode()), Ok(empty));
    }

    fn job_key(device: u64) -> ChainKey {
        ChainKey {
            device: Fr::from(device),
            kind: StatementKind::Bandwidth,
            epoch: 7,
        }
    }

    fn sample_batch() -> BatchRecord {
        BatchRecord {
            kind: StatementKind::Bandwidth,
            sequence: 3,
            batch_size: 4,
            header: BatchHeader {
                kind: StatementKind::Bandwidth.code(),
                version: 1,
                epoch: 7,
                policy_hash: Fr::from(11u64),
                beacon: Fr::from(12u64),
                registry_root: Fr::from(13u64),
                old_commitment: Fr::from(14u64),
                new_commitment: Fr::from(15u64),
            },
            public_data: vec![9; 56 * 4],
            members: vec![job_key(1), job_key(2), job_key(3)],
            state: JobState::Done,
            failure: "none".into(),
            proof: vec![1, 2, 3],
            created_ms: 100,
            finished_ms: 200,
            proving_ms: 50,
            attempts: 2,
            lease: None,
        }
    }

    #[test]
    fn batches_carry_their_lease() {
        let mut b = sample_batch();
        let old = b.encode();
        b.lease = Some(Lease {
            node: "n".into(),
            until_ms: 5,
        });
        let leased = b.encode();
        assert_eq!(&leased[..old.len()], old.as_slice());
        assert_eq!(BatchRecord::decode(&leased), Ok(b));
        let mut bad = old;
        bad.push(9);
        assert!(BatchRecord::decode(&bad).is_err());
    }

    #[test]
    fn jobs_carry_their_batch() {
        let mut job = JobRecord::new(job_key(5), 10);
        job.batch = Some(u64::MAX - 1);
        assert_eq!(JobRecord::decode(&job.encode()), Ok(job.clone()));
        job.batch = Some(0);
        assert_eq!(JobRecord::decode(&job.encode()), Ok(job.clone()));
        // An unknown trailer tag, or a truncated trailer, is refused.
        job.batch = None;
        let mut bad = job.encode();
        bad.push(2);
        bad.extend_from_slice(&[0; 8]);
        assert!(JobRecord::decode(&bad).is_err());
        let mut short = job.encode();
        short.extend_from_slice(&[1, 0, 0]);
        assert!(JobRecord::decode(&short).is_err());
    }

    #[test]
    fn jobs_of_older_builds_decode_without_a_batch() {
        // The layout before batches, written out by hand: key, state,
        // failure, reward, verdicts, times, attempts, nothing after.
        let key = job_key(8);
        let mut old = key.to_bytes().to_vec();
        old.push(JobState::Done as u8);
        old.extend_from_slice(&2u32.to_le_bytes());
        old.extend_from_slice(b"ok");
        old.extend_from_slice(&42u64.to_le_bytes());
        old.extend_from_slice(&2u32.to_le_bytes());
        old.push(0);
        old.push(RejectReason::Duplicate.code());
        old.extend_from_slice(&5u64.to_le_bytes());
        old.extend_from_slice(&6u64.to_le_bytes());
        old.extend_from_slice(&7u64.to_le_bytes());
        old.extend_from_slice(&3u32.to_le_bytes());
        let job = JobRecord::decode(&old).unwrap();
        assert_eq!(
            job,
            JobRecord {
                key,
                state: JobState::Done,
                failure: "ok".into(),
                reward: 42,
                verdicts: vec![
                    Verdict::Accepted,
                    Verdict::Rejected(RejectReason::Duplicate)
                ],
                created_ms: 5,
                finished_ms: 6,
                proving_ms: 7,
                attempts: 3,
                batch: None,
                lease: None,
            }
        );
        // And a job without a batch is still written in the old layout.
        assert_eq!(job.encode(), old);
    }

    #[test]
    fn leases_round_trip_and_bad_trailers_are_refused() {
        let mut job = JobRecord::new(job_key(9), 11);
        job.state = JobState::Proving;
        job.attempts = 2;
        job.lease = Some(Lease {
            node: "node-2".into(),
            until_ms: 99,
        });
        assert_eq!(JobRecord::decode(&job.encode()).unwrap(), job);
        job.batch = Some(4);
        let both = job.encode();
        assert_eq!(JobRecord::decode(&both).unwrap(), job);
        // A truncation never panics, and never decodes to the same job
        // (cut at a trailer's boundary it is a job without that trailer).
        for n in 0..both.len() {
            assert_ne!(
                JobRecord::decode(&both[..n]).ok().as_ref(),
                Some(&job),
                "{n}"
            );
        }
        // The trailers in the wrong order, or twice, are refused.
        let base = JobRecord::new(job_key(9), 11).encode();
        let mut swapped = base.clone();
        swapped.extend_from_slice(&[2, 1, 0, 0, 0, b'n']);
        swapped.extend_from_slice(&5u64.to_le_bytes());
        swapped.push(1);
        swapped.extend_from_slice(&4u64.to_le_bytes());
        assert!(JobRecord::decode(&swapped).is_err());
        let mut twice = base.clone();
        for _ in 0..2 {
            twice.push(1);
            twice.extend_from_slice(&4u64.to_le_bytes());
        }
        assert!(JobRecord::decode(&twice).is_err());
        let mut unknown = base;
        unknown.push(3);
        assert!(JobRecord::decode(&unknown).is_err());
    }

    #[test]
    fn corrupt_batches_are_refused() {
        let b = sample_batch().encode();
        // Every truncation fails (no panic).
        for n in 0..b.len() {
            assert!(BatchRecord::decode(&b[..n]).is_err(), "{n}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(BatchRecord::decode(&long).is_err());
        // Unknown kind, state; non-canonical field element.
        let mut bad = b.clone();
        bad[0] = 9;
        assert!(BatchRecord::decode(&bad).is_err());
        let mut bad = b.clone();
        bad[22..54].copy_from_slice(&[0xff; 32]);
        assert!(BatchRecord::decode(&bad).is_err());
        // Lengths past the bounds are refused before anything is read.
        let header = 1 + 8 + 4 + 1 + 4 + 4 + 5 * 32;
        let mut huge = b[..header].to_vec();
        huge.extend_from_slice(&(56 * 65536 + 1u32).to_le_bytes());
        assert_eq!(
            BatchRecord::decode(&huge),
            Err(CodecError {
                what: "batch",
                reason: "too long"
            })
        );
        let mut many = b[..header].to_vec();
        many.extend_from_slice(&0u32.to_le_bytes());
        many.extend_from_slice(&((1u32 << 16) + 1).to_le_bytes());
        assert_eq!(
            BatchRecord::decode(&many),
            Err(CodecError {
                what: "batch",
                reason: "too many members"
            })
        );
        let mut big_proof = sample_batch();
        big_proof.proof = vec![0; 4097];
        assert!(BatchRecord::decode(&big_proof.encode()).is_err());
        let mut state = sample_batch();
        state.members.clear();
        state.public_data.clear();
        let mut enc = state.encode();
        // The state byte follows the empty public data and member count.
        enc[header + 8] = 7;
        assert!(BatchRecord::decode(&enc).is_err());
        // Arbitrary bytes never panic.
        let mut x = 0x1234_5678_u32;
        for len in 0..300 {
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let _ = BatchRecord::decode(&junk);
            let _ = JobRecord::decode(&junk);
        }
    }

    #[test]
    fn corrupt_values_are_refused() {
        assert!(StoredRecord::decode(&[1, 0]).is_err());
        assert!(StoredRecord::decode(&[9, 0]).is_err());
        let st = ChainState::new(Fr::from(1u64));
        let mut long = st.encode();
        long.push(0);
        assert_eq!(
            ChainState::decode(&long),
            Err(CodecError {
                what: "chain",
                reason: "trailing bytes"
            })
        );
        let mut bad = st.encode();
        bad[4..36].copy_from_slice(&[0xff; 32]);
        assert!(ChainState::decode(&bad).is_err());
    }
}
