//! A compact binary encoding of signed records, for the spool and for
//! firmware that hands records over a C interface. `no_std`, no allocation.
//!
//! A record is a version byte ([`WIRE_VERSION`]), a kind byte
//! ([`RecordKind`]) and the fields in declaration order, each fixed-size:
//!
//! - field elements: 32 bytes little-endian, canonical (below `p`; decoding
//!   refuses larger values rather than reducing them);
//! - points: `x` then `y`, each a field element, in circomlib's coordinates
//!   (decoding refuses points off the curve);
//! - signatures: `R8` (a point) then `S` (32 bytes little-endian, any
//!   256-bit value: an out-of-range `S` is a well-formed invalid signature);
//! - `u32`, `u64`, `i32`: little-endian.
//!
//! | kind | fields | bytes |
//! | --- | --- | --- |
//! | 1 heartbeat | device id, epoch, slot, response, latency, head, signature | 206 |
//! | 2 receipt | device id, client id, epoch, session, bytes, duration, client key, client signature, head, head signature | 374 |
//! | 3 coverage claim | device id, epoch, x, y, beacon id, signature | 174 |
//! | 4 witness report | witness key, x, y, rssi, beacon id, epoch, signature | 210 |
//!
//! Decoding checks structure only; [`SignedRecord::verify_signatures`]
//! checks the signatures.

use ark_ff::BigInt;
use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_crypto::Fr;
use depin_statements::records::{
    CoverageClaim, Heartbeat, Location, SessionReceipt, SignedWitnessReport, WitnessReport,
};

use crate::chain::{ChainKind, SignedHeartbeat, SignedReceipt};
use crate::signer::{CoSignature, RecordError, SignedClaim};

/// The encoding's version byte.
pub const WIRE_VERSION: u8 = 1;

/// The longest encoded record (a receipt).
pub const MAX_RECORD_LEN: usize = 374;

/// What kind of record an encoding holds (its second byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordKind {
    /// An uptime heartbeat with its signed chain head.
    Heartbeat = 1,
    /// A co-signed bandwidth receipt with its signed chain head.
    Receipt = 2,
    /// The device's signed coverage claim.
    Claim = 3,
    /// A witness report signed by the witness.
    Witness = 4,
}

impl RecordKind {
    /// The encoded length of a record of this kind.
    pub const fn encoded_len(self) -> usize {
        match self {
            RecordKind::Heartbeat => 206,
            RecordKind::Receipt => 374,
            RecordKind::Claim => 174,
            RecordKind::Witness => 210,
        }
    }

    /// The kind of a kind byte.
    pub const fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(RecordKind::Heartbeat),
            2 => Some(RecordKind::Receipt),
            3 => Some(RecordKind::Claim),
            4 => Some(RecordKind::Witness),
            _ => None,
        }
    }

    /// A lowercase name (`heartbeat`, `receipt`, `claim`, `witness`).
    pub const fn name(self) -> &'static str {
        match self {
            RecordKind::Heartbeat => "heartbeat",
            RecordKind::Receipt => "receipt",
            RecordKind::Claim => "claim",
            RecordKind::Witness => "witness",
        }
    }
}

/// Why an encoding was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The output buffer is shorter than the record.
    #[error("buffer of {have} bytes is too small: the record needs {need}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The input is empty or shorter than its kind's length.
    #[error("record is truncated: {have} bytes, expected {need}")]
    Truncated {
        /// Bytes expected.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The input is longer than its kind's length.
    #[error("record has {0} trailing bytes")]
    TrailingBytes(usize),
    /// The version byte is not [`WIRE_VERSION`].
    #[error("unknown record encoding version {0}")]
    UnknownVersion(u8),
    /// The kind byte names no [`RecordKind`].
    #[error("unknown record kind {0}")]
    UnknownKind(u8),
    /// A field element at `offset` is not below the modulus.
    #[error("field element at byte {offset} is not canonical")]
    NonCanonicalField {
        /// Byte offset of the element.
        offset: usize,
    },
    /// A point at `offset` is not on Baby Jubjub.
    #[error("point at byte {offset} is not on the curve")]
    NotOnCurve {
        /// Byte offset of the point.
        offset: usize,
    },
}

/// Any record a device sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedRecord {
    /// An uptime heartbeat.
    Heartbeat(SignedHeartbeat),
    /// A bandwidth receipt.
    Receipt(SignedReceipt),
    /// A coverage claim.
    Claim(SignedClaim),
    /// A witness report.
    Witness(SignedWitnessReport),
}

impl From<SignedHeartbeat> for SignedRecord {
    fn from(r: SignedHeartbeat) -> Self {
        SignedRecord::Heartbeat(r)
    }
}
impl From<SignedReceipt> for SignedRecord {
    fn from(r: SignedReceipt) -> Self {
        SignedRecord::Receipt(r)
    }
}
impl From<SignedClaim> for SignedRecord {
    fn from(r: SignedClaim) -> Self {
        SignedRecord::Claim(r)
    }
}
impl From<SignedWitnessReport> for SignedRecord {
    fn from(r: SignedWitnessReport) -> Self {
        SignedRecord::Witness(r)
    }
}

impl SignedRecord {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            SignedRecord::Heartbeat(_) => RecordKind::Heartbeat,
            SignedRecord::Receipt(_) => RecordKind::Receipt,
            SignedRecord::Claim(_) => RecordKind::Claim,
            SignedRecord::Witness(_) => RecordKind::Witness,
        }
    }

    /// The epoch the record belongs to.
    pub fn epoch(&self) -> u32 {
        match self {
            SignedRecord::Heartbeat(r) => r.epoch,
            SignedRecord::Receipt(r) => r.co_signed.receipt.epoch,
            SignedRecord::Claim(r) => r.claim.epoch,
            SignedRecord::Witness(r) => r.report.epoch,
        }
    }

    /// Who submits it: the device (heartbeats, receipts, claims) or the
    /// witness (witness reports).
    pub fn submitter_id(&self) -> Fr {
        match self {
            SignedRecord::Heartbeat(r) => r.device_id,
            SignedRecord::Receipt(r) => r.co_signed.receipt.device_id,
            SignedRecord::Claim(r) => r.claim.device_id,
            SignedRecord::Witness(r) => r.report.witness_id(),
        }
    }

    /// The chain the record extends and the head after it, for heartbeats
    /// and receipts.
    pub fn chain_head(&self) -> Option<(ChainKind, Fr)> {
        match self {
            SignedRecord::Heartbeat(r) => Some((ChainKind::Uptime, r.head)),
            SignedRecord::Receipt(r) => Some((ChainKind::Bandwidth, r.head)),
            _ => None,
        }
    }

    /// Verifies every signature the record carries: the device's on the
    /// head (heartbeats, receipts) or on the claim, the client's on a
    /// receipt, the witness's on a report. `device` is the submitting
    /// device's key; it is not needed for witness reports, which carry
    /// their witness's key. Chain continuity is not checked here (it needs
    /// the previous head).
    pub fn verify_signatures(&self, device: &PublicKey) -> Result<(), RecordError> {
        let own =
            |m: &Fr, s: &Signature| device.verify(m, s).map_err(|_| RecordError::BadSignature);
        match self {
            SignedRecord::Heartbeat(r) => {
                if device.id() != r.device_id {
                    return Err(RecordError::WrongDevice);
                }
                own(&r.head, &r.signature)
            }
            SignedRecord::Receipt(r) => {
                let c = &r.co_signed;
                if device.id() != c.receipt.device_id {
                    return Err(RecordError::WrongDevice);
                }
                if c.client_key.id() != c.receipt.client_id {
                    return Err(RecordError::ClientKeyMismatch);
                }
                c.client_key
                    .verify(&c.receipt.message(), &c.client_signature)
                    .map_err(|_| RecordError::BadClientSignature)?;
                own(&r.head, &r.head_signature)
            }
            SignedRecord::Claim(r) => {
                if device.id() != r.claim.device_id {
                    return Err(RecordError::WrongDevice);
                }
                own(&r.claim.message(), &r.signature)
            }
            SignedRecord::Witness(r) => r
                .report
                .witness
                .verify(&r.report.message(), &r.signature)
                .map_err(|_| RecordError::BadSignature),
        }
    }

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        self.kind().encoded_len()
    }

    /// Writes the encoding into `out` and returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let need = self.encoded_len();
        let Some(buf) = out.get_mut(..need) else {
            return Err(WireError::BufferTooSmall {
                need,
                have: out.len(),
            });
        };
        let mut w = Writer { buf, pos: 0 };
        w.u8(WIRE_VERSION);
        w.u8(self.kind() as u8);
        match self {
            SignedRecord::Heartbeat(r) => {
                w.fr(&r.device_id);
                w.u32(r.epoch);
                w.u32(r.heartbeat.slot);
                w.fr(&r.heartbeat.response);
                w.u32(r.heartbeat.latency_ms);
                w.fr(&r.head);
                w.sig(&r.signature);
            }
            SignedRecord::Receipt(r) => {
                let c = &r.co_signed;
                w.fr(&c.receipt.device_id);
                w.fr(&c.receipt.client_id);
                w.u32(c.receipt.epoch);
                w.u32(c.receipt.session);
                w.u64(c.receipt.bytes);
                w.u32(c.receipt.duration_s);
                w.point(&c.client_key.0);
                w.sig(&c.client_signature);
                w.fr(&r.head);
                w.sig(&r.head_signature);
            }
            SignedRecord::Claim(r) => {
                w.fr(&r.claim.device_id);
                w.u32(r.claim.epoch);
                w.u32(r.claim.location.x);
                w.u32(r.claim.location.y);
                w.fr(&r.claim.beacon_id);
                w.sig(&r.signature);
            }
            SignedRecord::Witness(r) => {
                w.point(&r.report.witness.0);
                w.u32(r.report.location.x);
                w.u32(r.report.location.y);
                w.u32(r.report.rssi_dbm as u32);
                w.fr(&r.report.beacon_id);
                w.u32(r.report.epoch);
                w.sig(&r.signature);
            }
        }
        debug_assert_eq!(w.pos, need);
        Ok(need)
    }

    /// Decodes one record that fills `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let (&version, rest) = bytes.split_first().ok_or(WireError::Truncated {
            need: 2,
            have: bytes.len(),
        })?;
        if version != WIRE_VERSION {
            return Err(WireError::UnknownVersion(version));
        }
        let &kind = rest.first().ok_or(WireError::Truncated {
            need: 2,
            have: bytes.len(),
        })?;
        let kind = RecordKind::from_u8(kind).ok_or(WireError::UnknownKind(kind))?;
        let need = kind.encoded_len();
        if bytes.len() < need {
            return Err(WireError::Truncated {
                need,
                have: bytes.len(),
            });
        }
        if bytes.len() > need {
            return Err(WireError::TrailingBytes(bytes.len() - need));
        }
        let mut r = Reader { buf: bytes, pos: 2 };
        let rec = match kind {
            RecordKind::Heartbeat => SignedRecord::Heartbeat(SignedHeartbeat {
                device_id: r.fr()?,
                epoch: r.u32(),
                heartbeat: Heartbeat {
                    slot: r.u32(),
                    response: r.fr()?,
                    latency_ms: r.u32(),
                },
                head: r.fr()?,
                signature: r.sig()?,
            }),
            RecordKind::Receipt => SignedRecord::Receipt(SignedReceipt {
                co_signed: CoSignature {
                    receipt: SessionReceipt {
                        device_id: r.fr()?,
                        client_id: r.fr()?,
                        epoch: r.u32(),
                        session: r.u32(),
                        bytes: r.u64(),
                        duration_s: r.u32(),
                    },
                    client_key: PublicKey(r.point()?),
                    client_signature: r.sig()?,
                },
                head: r.fr()?,
                head_signature: r.sig()?,
            }),
            RecordKind::Claim => SignedRecord::Claim(SignedClaim {
                claim: CoverageClaim {
                    device_id: r.fr()?,
                    epoch: r.u32(),
                    location: Location {
                        x: r.u32(),
                        y: r.u32(),
                    },
                    beacon_id: r.fr()?,
                },
                signature: r.sig()?,
            }),
            RecordKind::Witness => SignedRecord::Witness(SignedWitnessReport {
                report: WitnessReport {
                    witness: PublicKey(r.point()?),
                    location: Location {
                        x: r.u32(),
                        y: r.u32(),
                    },
                    rssi_dbm: r.u32() as i32,
                    beacon_id: r.fr()?,
                    epoch: r.u32(),
                },
                signature: r.sig()?,
            }),
        };
        debug_assert_eq!(r.pos, need);
        Ok(rec)
    }

    /// The encoding as a vector.
    #[cfg(feature = "std")]
    pub fn to_vec(&self) -> std::vec::Vec<u8> {
        let mut buf = [0u8; MAX_RECORD_LEN];
        let n = self.encode(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    }
}

/// Writes into a buffer whose length the caller checked.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos += b.len();
    }
    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn fr(&mut self, v: &Fr) {
        self.bytes(&fr_to_le_bytes(v));
    }
    fn point(&mut self, p: &Point) {
        self.fr(&p.x);
        self.fr(&p.y);
    }
    fn sig(&mut self, s: &Signature) {
        self.point(&s.r8);
        for limb in s.s.0 {
            self.u64(limb);
        }
    }
}

/// Reads from a buffer whose length the caller checked (short reads give
/// zeros, which cannot happen after that check).
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.buf.get(self.pos..self.pos + N) {
            out.copy_from_slice(src);
        }
        self.pos += N;
        out
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn fr(&mut self) -> Result<Fr, WireError> {
        let offset = self.pos;
        fr_from_le_bytes(&self.take()).map_err(|_| WireError::NonCanonicalField { offset })
    }
    fn point(&mut self) -> Result<Point, WireError> {
        let offset = self.pos;
        let x = self.fr()?;
        let y = self.fr()?;
        Point::new(x, y).map_err(|_| WireError::NotOnCurve { offset })
    }
    fn sig(&mut self) -> Result<Signature, WireError> {
        let r8 = self.point()?;
        let s = BigInt::new([self.u64(), self.u64(), self.u64(), self.u64()]);
        Ok(Signature { r8, s })
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::chain::{HeartbeatChain, ReceiptChain};
    use crate::signer::{ClientSigner, Device};
    use depin_crypto::eddsa::PrivateKey;

    pub(crate) fn samples() -> [SignedRecord; 4] {
        let d = Device::from_secret([1; 32]);
        let client = ClientSigner::new(PrivateKey::from_bytes([2; 32]));
        let beacon = Fr::from(5u64);
        let hb = HeartbeatChain::new(d.id(), 3)
            .heartbeat(&d, beacon, 7, 40)
            .unwrap();
        let mut rc = ReceiptChain::new(d.id(), 3);
        let co = client
            .co_sign_unchecked(&rc.propose(client.id(), u64::MAX, 9))
            .unwrap();
        let receipt = rc.append(&d, &co).unwrap();
        let claim = d
            .coverage_claim(
                3,
                beacon,
                Location {
                    x: 100,
                    y: (1 << 31) - 1,
                },
            )
            .unwrap();
        let witness = Device::from_secret([3; 32])
            .witness_report(d.beacon_id(beacon), Location { x: 5, y: 6 }, -90, 3)
            .unwrap();
        [hb.into(), receipt.into(), claim.into(), witness.into()]
    }

    #[test]
    fn every_kind_round_trips_and_verifies() {
        let d = Device::from_secret([1; 32]);
        for rec in samples() {
            assert!(fully_valid(&rec, &d.public_key()));
            let bytes = rec.to_vec();
            assert_eq!(bytes.len(), rec.kind().encoded_len());
            assert!(bytes.len() <= MAX_RECORD_LEN);
            assert_eq!(SignedRecord::decode(&bytes), Ok(rec));
            rec.verify_signatures(&d.public_key()).unwrap();
        }
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let rec = samples()[0];
        let bytes = rec.to_vec();
        assert_eq!(
            SignedRecord::decode(&[]),
            Err(WireError::Truncated { need: 2, have: 0 })
        );
        assert_eq!(
            SignedRecord::decode(&bytes[..100]),
            Err(WireError::Truncated {
                need: 206,
                have: 100
            })
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            SignedRecord::decode(&long),
            Err(WireError::TrailingBytes(1))
        );
        let mut v = bytes.clone();
        v[0] = 9;
        assert_eq!(SignedRecord::decode(&v), Err(WireError::UnknownVersion(9)));
        v = bytes.clone();
        v[1] = 0;
        assert_eq!(SignedRecord::decode(&v), Err(WireError::UnknownKind(0)));
        v = bytes.clone();
        v[2..34].fill(0xff);
        assert_eq!(
            SignedRecord::decode(&v),
            Err(WireError::NonCanonicalField { offset: 2 })
        );
        v = bytes.clone();
        // R8.y of the signature: change one byte, stay canonical.
        v[206 - 64 + 1] ^= 1;
        assert_eq!(
            SignedRecord::decode(&v),
            Err(WireError::NotOnCurve { offset: 206 - 96 })
        );
        let mut small = [0u8; 10];
        assert_eq!(
            rec.encode(&mut small),
            Err(WireError::BufferTooSmall {
                need: 206,
                have: 10
            })
        );
    }

    /// Signatures, and for chained records the head as the first record
    /// of its chain (as the samples are).
    fn fully_valid(r: &SignedRecord, device: &PublicKey) -> bool {
        use depin_statements::records::chain_step;
        let chained = match r {
            SignedRecord::Heartbeat(h) => {
                chain_step(
                    ChainKind::Uptime.genesis(h.device_id, h.epoch),
                    h.heartbeat.message(),
                ) == h.head
            }
            SignedRecord::Receipt(c) => {
                let rc = &c.co_signed.receipt;
                chain_step(
                    ChainKind::Bandwidth.genesis(rc.device_id, rc.epoch),
                    rc.message(),
                ) == c.head
            }
            _ => true,
        };
        chained && r.verify_signatures(device).is_ok()
    }

    #[test]
    fn any_byte_change_is_refused_or_fails_verification() {
        let d = Device::from_secret([1; 32]);
        for rec in samples() {
            let bytes = rec.to_vec();
            for i in (0..bytes.len()).step_by(7) {
                let mut v = bytes.clone();
                v[i] ^= 0x10;
                if let Ok(r) = SignedRecord::decode(&v) {
                    assert!(
                        !fully_valid(&r, &d.public_key()),
                        "{:?} byte {i}",
                        rec.kind()
                    );
                }
            }
        }
    }
}
