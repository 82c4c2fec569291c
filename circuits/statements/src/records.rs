//! The records devices and their counterparties sign, with their canonical
//! messages. No allocation: device firmware links this module.
//!
//! Every message is one circomlib Poseidon hash with a domain tag from
//! [`crate::tags`] first, then the record's fields in declaration order,
//! each encoded as a field element: unsigned integers by value, signed
//! integers (`rssi_dbm`) by their value modulo `p` (so `-90` is `p - 90`),
//! field elements as they are.
//!
//! | record | message |
//! | --- | --- |
//! | [`Heartbeat`] | `Poseidon(HEARTBEAT, slot, response, latency_ms)` |
//! | [`SessionReceipt`] | `Poseidon(RECEIPT, device_id, client_id, epoch, session, bytes, duration_s)` |
//! | [`WitnessReport`] | `Poseidon(WITNESS_REPORT, witness_id, x, y, rssi_dbm, beacon_id, epoch)` |
//! | [`CoverageClaim`] | `Poseidon(COVERAGE_CLAIM, device_id, epoch, x, y, beacon_id)` |
//! | [`prove_request_message`] | `Poseidon(PROVE_REQUEST, device_id, kind, epoch, beacon)` |
//!
//! Uptime heartbeats and bandwidth receipts are hash-chained per device and
//! epoch ([`HashChain`]) and the device signs the running head, so a statement
//! verifies one device signature, on the last head, for the whole epoch.

use crate::{tags, REGISTRY_DEPTH};
use ark_ff::{AdditiveGroup, BigInt};
use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::poseidon::{hash2, hash_n};
use depin_crypto::Fr;

// ---------------------------------------------------------------------------
// Hash chains.

/// Genesis of a device's uptime chain for an epoch:
/// `Poseidon(UPTIME_CHAIN, device_id, epoch)`.
pub fn uptime_genesis(device_id: Fr, epoch: u32) -> Fr {
    hash_n(&[tags::fr(tags::UPTIME_CHAIN), device_id, Fr::from(epoch)])
}

/// Genesis of a device's bandwidth receipt chain for an epoch:
/// `Poseidon(BANDWIDTH_CHAIN, device_id, epoch)`.
pub fn bandwidth_genesis(device_id: Fr, epoch: u32) -> Fr {
    hash_n(&[tags::fr(tags::BANDWIDTH_CHAIN), device_id, Fr::from(epoch)])
}

/// One chain step: `h_i = Poseidon(h_{i-1}, message_i)`.
pub fn chain_step(prev: Fr, message: Fr) -> Fr {
    hash2(prev, message)
}

/// A running hash chain over record messages, as a device keeps it.
///
/// The device signs [`HashChain::head`] after each record; the prover keeps
/// the last signature and the statement checks it against the head it
/// recomputes from the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashChain {
    head: Fr,
    len: u32,
}

impl HashChain {
    /// Starts a chain at `genesis`.
    pub fn from_genesis(genesis: Fr) -> Self {
        HashChain {
            head: genesis,
            len: 0,
        }
    }

    /// Starts a device's uptime chain for `epoch`.
    pub fn uptime(device_id: Fr, epoch: u32) -> Self {
        Self::from_genesis(uptime_genesis(device_id, epoch))
    }

    /// Starts a device's bandwidth receipt chain for `epoch`.
    pub fn bandwidth(device_id: Fr, epoch: u32) -> Self {
        Self::from_genesis(bandwidth_genesis(device_id, epoch))
    }

    /// Appends a record's message and returns the new head.
    pub fn push(&mut self, message: Fr) -> Fr {
        self.head = chain_step(self.head, message);
        self.len = self.len.saturating_add(1);
        self.head
    }

    /// The current head (the genesis while empty).
    pub fn head(&self) -> Fr {
        self.head
    }

    /// Records appended so far.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether no record was appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A chain head with the device's signature on it (the message signed is
/// the head itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHead {
    /// The head as the device computed it.
    pub head: Fr,
    /// The device's EdDSA-Poseidon signature on `head`.
    pub signature: Signature,
}

/// A signature no key produces, used to fill disabled slots: `R8 = Base8`,
/// `S = 0`. Its contents never matter; it only keeps gadgets on valid points.
pub const PADDING_SIGNATURE: Signature = Signature {
    r8: Point::BASE8,
    s: BigInt([0; 4]),
};

/// The key used in disabled slots (`Base8`); never matters.
pub const PADDING_KEY: PublicKey = PublicKey(Point::BASE8);

// ---------------------------------------------------------------------------
// Proving requests.

/// The message a device signs to ask for the proof of its epoch while the
/// epoch still takes records (`ProveEpoch` closes the device's chain):
/// `Poseidon(PROVE_REQUEST, device_id, kind, epoch, beacon)`, `kind` by its
/// code. The epoch's beacon, published by the network for that epoch, makes
/// a captured request worthless for any other epoch; within its own epoch
/// a replay asks for the same job again (`ProveEpoch` is idempotent).
pub fn prove_request_message(
    device_id: Fr,
    kind: crate::StatementKind,
    epoch: u32,
    beacon: Fr,
) -> Fr {
    hash_n(&[
        tags::fr(tags::PROVE_REQUEST),
        device_id,
        Fr::from(kind.code()),
        Fr::from(epoch),
        beacon,
    ])
}

// ---------------------------------------------------------------------------
// Uptime.

/// The challenge of `slot`: `Poseidon(CHALLENGE, beacon, device_id, slot)`.
///
/// It can only be computed once the epoch beacon is published, so a correct
/// response proves the heartbeat was made after the beacon (not that the
/// device was alive during that slot: see `docs/statements.md`).
pub fn challenge(beacon: Fr, device_id: Fr, slot: u32) -> Fr {
    hash_n(&[tags::fr(tags::CHALLENGE), beacon, device_id, Fr::from(slot)])
}

/// One uptime heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Slot number within the epoch (0-based; 32 bits).
    pub slot: u32,
    /// The response to the slot's [`challenge`].
    pub response: Fr,
    /// Measured round-trip latency in milliseconds (32 bits).
    pub latency_ms: u32,
}

impl Heartbeat {
    /// The canonical filler of a disabled slot (all zero).
    pub const PADDING: Heartbeat = Heartbeat {
        slot: 0,
        response: Fr::ZERO,
        latency_ms: 0,
    };

    /// An honest heartbeat: the response is the slot's challenge.
    pub fn answer(beacon: Fr, device_id: Fr, slot: u32, latency_ms: u32) -> Self {
        Heartbeat {
            slot,
            response: challenge(beacon, device_id, slot),
            latency_ms,
        }
    }

    /// `Poseidon(HEARTBEAT, slot, response, latency_ms)`.
    pub fn message(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::HEARTBEAT),
            Fr::from(self.slot),
            self.response,
            Fr::from(self.latency_ms),
        ])
    }
}

// ---------------------------------------------------------------------------
// Bandwidth.

/// A bandwidth session receipt, co-signed by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionReceipt {
    /// The serving device's id (`Poseidon(A.x, A.y)` of its key).
    pub device_id: Fr,
    /// The client's id (`Poseidon(A.x, A.y)` of its key).
    pub client_id: Fr,
    /// Epoch number (32 bits).
    pub epoch: u32,
    /// Session number, assigned by the device, unique per device and epoch
    /// (32 bits).
    pub session: u32,
    /// Bytes served (64 bits).
    pub bytes: u64,
    /// Session duration in seconds (32 bits).
    pub duration_s: u32,
}

impl SessionReceipt {
    /// The canonical filler of a disabled slot (all zero).
    pub const PADDING: SessionReceipt = SessionReceipt {
        device_id: Fr::ZERO,
        client_id: Fr::ZERO,
        epoch: 0,
        session: 0,
        bytes: 0,
        duration_s: 0,
    };

    /// `Poseidon(RECEIPT, device_id, client_id, epoch, session, bytes, duration_s)`.
    pub fn message(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::RECEIPT),
            self.device_id,
            self.client_id,
            Fr::from(self.epoch),
            Fr::from(self.session),
            Fr::from(self.bytes),
            Fr::from(self.duration_s),
        ])
    }
}

/// Membership of a client id in the registry tree of depth
/// [`REGISTRY_DEPTH`]: the leaf index and the siblings, leaf level first
/// (the convention of `depin_crypto::merkle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryProof {
    /// Leaf index (16 bits: the tree has `2^16` leaves).
    pub index: u16,
    /// Sibling hashes from the leaf level up.
    pub siblings: [Fr; REGISTRY_DEPTH],
}

impl RegistryProof {
    /// The canonical filler of a disabled slot (all zero).
    pub const PADDING: RegistryProof = RegistryProof {
        index: 0,
        siblings: [Fr::ZERO; REGISTRY_DEPTH],
    };

    /// The root obtained by folding the siblings onto `leaf` (bit `i` of the
    /// index set means the node at level `i` is the right child). Equal to
    /// `depin_crypto::merkle::root_from_path` at depth 16.
    pub fn root(&self, leaf: Fr) -> Fr {
        let mut cur = leaf;
        for (i, sib) in self.siblings.iter().enumerate() {
            cur = if (self.index >> i) & 1 == 0 {
                hash2(cur, *sib)
            } else {
                hash2(*sib, cur)
            };
        }
        cur
    }

    /// Whether `leaf` sits at this proof's index under `root`.
    pub fn verifies(&self, root: &Fr, leaf: Fr) -> bool {
        self.root(leaf) == *root
    }
}

/// A receipt as the prover holds it: the receipt, the client's key and
/// signature on [`SessionReceipt::message`], and the client's registry
/// membership proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoSignedReceipt {
    /// The receipt.
    pub receipt: SessionReceipt,
    /// The client's public key; its id must equal `receipt.client_id`.
    pub client_key: PublicKey,
    /// The client's signature on `receipt.message()`.
    pub client_signature: Signature,
    /// Membership of `receipt.client_id` in the client registry.
    pub registry_proof: RegistryProof,
}

impl CoSignedReceipt {
    /// The canonical filler of a disabled slot.
    pub const PADDING: CoSignedReceipt = CoSignedReceipt {
        receipt: SessionReceipt::PADDING,
        client_key: PADDING_KEY,
        client_signature: PADDING_SIGNATURE,
        registry_proof: RegistryProof::PADDING,
    };
}

// ---------------------------------------------------------------------------
// Coverage.

/// A location in integer metres on the network's planar grid. Valid
/// coordinates are below `2^31` (see `depin_crypto::geo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Location {
    /// Easting in metres.
    pub x: u32,
    /// Northing in metres.
    pub y: u32,
}

impl Location {
    /// Largest valid coordinate, `2^31 - 1` (`depin_crypto::geo::MAX_COORD`).
    pub const MAX_COORD: u32 = depin_crypto::geo::MAX_COORD;

    /// Whether both coordinates are below `2^31`.
    pub const fn in_range(&self) -> bool {
        depin_crypto::geo::coordinate_in_domain(self.x)
            && depin_crypto::geo::coordinate_in_domain(self.y)
    }

    /// The coarse cell `(x >> bits) * 2^32 + (y >> bits)`: the public input
    /// of the coverage statement (at most 64 bits; zero coordinates for
    /// `bits >= 32`).
    pub const fn cell(&self, bits: u32) -> u64 {
        let cx = match self.x.checked_shr(bits) {
            Some(v) => v,
            None => 0,
        };
        let cy = match self.y.checked_shr(bits) {
            Some(v) => v,
            None => 0,
        };
        ((cx as u64) << 32) | cy as u64
    }
}

/// The beacon id a device transmits in an epoch:
/// `Poseidon(BEACON_ID, beacon, device_id)`.
pub fn beacon_id(beacon: Fr, device_id: Fr) -> Fr {
    hash_n(&[tags::fr(tags::BEACON_ID), beacon, device_id])
}

/// What a witness reports having heard, signed by the witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitnessReport {
    /// The witness's public key (its id is `Poseidon(A.x, A.y)`).
    pub witness: PublicKey,
    /// The witness's location.
    pub location: Location,
    /// Received signal strength in dBm (signed 32 bits; the path-loss rule
    /// counts only `-2^15..2^15`, `depin_crypto::geo::dbm_in_domain`).
    pub rssi_dbm: i32,
    /// The beacon id heard.
    pub beacon_id: Fr,
    /// Epoch number (32 bits).
    pub epoch: u32,
}

impl WitnessReport {
    /// The canonical filler of a disabled slot.
    pub const PADDING: WitnessReport = WitnessReport {
        witness: PADDING_KEY,
        location: Location { x: 0, y: 0 },
        rssi_dbm: 0,
        beacon_id: Fr::ZERO,
        epoch: 0,
    };

    /// The witness id, `Poseidon(A.x, A.y)`.
    pub fn witness_id(&self) -> Fr {
        self.witness.id()
    }

    /// `Poseidon(WITNESS_REPORT, witness_id, x, y, rssi_dbm, beacon_id, epoch)`.
    pub fn message(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::WITNESS_REPORT),
            self.witness_id(),
            Fr::from(self.location.x),
            Fr::from(self.location.y),
            Fr::from(self.rssi_dbm),
            self.beacon_id,
            Fr::from(self.epoch),
        ])
    }
}

/// A witness report with the witness's signature on its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedWitnessReport {
    /// The report.
    pub report: WitnessReport,
    /// The witness's signature on `report.message()`.
    pub signature: Signature,
}

impl SignedWitnessReport {
    /// The canonical filler of a disabled slot.
    pub const PADDING: SignedWitnessReport = SignedWitnessReport {
        report: WitnessReport::PADDING,
        signature: PADDING_SIGNATURE,
    };
}

/// The coverage device's own claim for an epoch, signed by the device: its
/// (private) location and the beacon id it transmitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverageClaim {
    /// The device's id.
    pub device_id: Fr,
    /// Epoch number (32 bits).
    pub epoch: u32,
    /// The device's location (private; only its cell is public).
    pub location: Location,
    /// The beacon id transmitted: [`beacon_id`]`(beacon, device_id)`.
    pub beacon_id: Fr,
}

impl CoverageClaim {
    /// `Poseidon(COVERAGE_CLAIM, device_id, epoch, x, y, beacon_id)`.
    pub fn message(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::COVERAGE_CLAIM),
            self.device_id,
            Fr::from(self.epoch),
            Fr::from(self.location.x),
            Fr::from(self.location.y),
            self.beacon_id,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::eddsa::PrivateKey;

    #[test]
    fn messages_of_different_kinds_differ_on_equal_fields() {
        let z = Fr::ZERO;
        let hb = Heartbeat::PADDING.message();
        let rc = SessionReceipt::PADDING.message();
        let claim = CoverageClaim {
            device_id: z,
            epoch: 0,
            location: Location::default(),
            beacon_id: z,
        }
        .message();
        let w = WitnessReport::PADDING.message();
        let all = [
            hb,
            rc,
            claim,
            w,
            uptime_genesis(z, 0),
            bandwidth_genesis(z, 0),
        ];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "{i} vs {j}");
            }
        }
    }

    #[test]
    fn every_field_enters_the_receipt_message() {
        let base = SessionReceipt {
            device_id: Fr::from(1u64),
            client_id: Fr::from(2u64),
            epoch: 3,
            session: 4,
            bytes: 5,
            duration_s: 6,
        };
        let m = base.message();
        let variants = [
            SessionReceipt {
                device_id: Fr::from(9u64),
                ..base
            },
            SessionReceipt {
                client_id: Fr::from(9u64),
                ..base
            },
            SessionReceipt { epoch: 9, ..base },
            SessionReceipt { session: 9, ..base },
            SessionReceipt { bytes: 9, ..base },
            SessionReceipt {
                duration_s: 9,
                ..base
            },
        ];
        for v in variants {
            assert_ne!(v.message(), m);
        }
    }

    #[test]
    fn rssi_is_encoded_modulo_p() {
        let r = WitnessReport {
            rssi_dbm: -90,
            ..WitnessReport::PADDING
        };
        let expected = hash_n(&[
            tags::fr(tags::WITNESS_REPORT),
            r.witness_id(),
            Fr::ZERO,
            Fr::ZERO,
            -Fr::from(90u64),
            Fr::ZERO,
            Fr::ZERO,
        ]);
        assert_eq!(r.message(), expected);
    }

    #[test]
    fn chain_folds_messages_from_genesis() {
        let dev = Fr::from(77u64);
        let mut c = HashChain::uptime(dev, 5);
        assert!(c.is_empty());
        assert_eq!(c.head(), uptime_genesis(dev, 5));
        let m1 = Fr::from(1u64);
        let m2 = Fr::from(2u64);
        c.push(m1);
        let h = c.push(m2);
        assert_eq!(c.len(), 2);
        assert_eq!(h, hash2(hash2(uptime_genesis(dev, 5), m1), m2));
        assert_ne!(uptime_genesis(dev, 5), bandwidth_genesis(dev, 5));
        assert_ne!(uptime_genesis(dev, 5), uptime_genesis(dev, 6));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn registry_proof_matches_crypto_merkle() {
        use depin_crypto::merkle::MerkleTree;
        let leaves: [Fr; 5] = core::array::from_fn(|i| Fr::from(100 + i as u64));
        let tree = MerkleTree::new(REGISTRY_DEPTH, &leaves).unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            let p = tree.proof(i as u64).unwrap();
            let proof = RegistryProof {
                index: i as u16,
                siblings: p.siblings.clone().try_into().unwrap(),
            };
            assert!(proof.verifies(&tree.root(), *leaf));
            assert!(!proof.verifies(&tree.root(), *leaf + Fr::from(1u64)));
        }
    }

    #[test]
    fn honest_heartbeat_answers_its_challenge() {
        let k = PrivateKey::from_bytes([3; 32]).public_key();
        let beacon = Fr::from(12345u64);
        let hb = Heartbeat::answer(beacon, k.id(), 7, 40);
        assert_eq!(hb.response, challenge(beacon, k.id(), 7));
        assert_ne!(hb.response, challenge(beacon, k.id(), 8));
    }

    #[test]
    fn cell_is_the_coarse_location() {
        let l = Location {
            x: 0x1234_5678,
            y: 0x0765_4321,
        };
        assert_eq!(l.cell(12), (0x12345u64 << 32) | 0x7654);
        assert_eq!(l.cell(0), (0x1234_5678u64 << 32) | 0x0765_4321);
        assert_eq!(l.cell(32), 0);
        assert!(l.in_range());
        assert!(!Location { x: 1 << 31, y: 0 }.in_range());
    }

    #[test]
    fn padding_values_verify_nothing() {
        let m = Fr::from(1u64);
        assert!(PADDING_KEY.verify(&m, &PADDING_SIGNATURE).is_err());
    }
}
