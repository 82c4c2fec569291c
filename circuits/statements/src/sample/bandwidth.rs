//! Bandwidth epochs for key generation, tests and benchmarks of every
//! backend: the deterministic full-capacity sample epoch, an epoch as the
//! prover holds it, the client registry helper and (feature `sample`) a
//! fixed "world" of device, clients and registry with random epochs that
//! break each rule of [`crate::bandwidth`] (and the epoch-wide checks) with
//! fixed odds, so that every backend's circuit is checked against the
//! reference on the same inputs.

pub use crate::epoch::BandwidthEpoch;
use alloc::vec::Vec;
use ark_ff::AdditiveGroup;
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::poseidon::hash2;
use depin_crypto::Fr;
#[cfg(feature = "sample")]
use {
    ark_ff::{BigInt, BigInteger, Field, UniformRand},
    depin_crypto::babyjubjub::{Point, SUBORDER},
    rand::Rng,
    std::sync::OnceLock,
};

use super::uptime::sign_head;
use crate::public::{PublicInputs, StatementKind};
use crate::records::{CoSignedReceipt, HashChain, RegistryProof, SessionReceipt};
use crate::{BandwidthPolicy, BANDWIDTH_CAPACITY, REGISTRY_DEPTH};

/// The policy of the sample epoch: at most 1 MB/s, a reward of one unit per
/// KiB (`rate_num = 1`, `rate_shift = 10`), capped at `10^9`.
pub const SAMPLE_POLICY: BandwidthPolicy = BandwidthPolicy {
    max_bytes_per_s: 1_000_000,
    rate_num: 1,
    rate_shift: 10,
    reward_cap: 1_000_000_000,
};

/// The sample epoch's number and beacon, shared by the three statements.
pub use super::{SAMPLE_BEACON, SAMPLE_EPOCH};

/// Registered clients of the sample epoch.
pub const SAMPLE_CLIENTS: usize = 4;

/// One MiB, the unit of the sample receipts.
const MIB: u64 = 1 << 20;

/// The sample device key.
pub fn sample_key() -> PrivateKey {
    PrivateKey::from_bytes([0x42; 32])
}

/// The key of the sample epoch's client `i` (`i < SAMPLE_CLIENTS`; any
/// `u8` gives a key).
pub fn sample_client_key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes([0x60_u8.wrapping_add(i); 32])
}

/// Root and membership proofs of `leaves` at indices `0..` in a registry
/// of depth [`REGISTRY_DEPTH`] whose other leaves are zero (at most `2^16`
/// leaves; the proofs of any further leaves carry index `u16::MAX`).
pub fn registry(leaves: &[Fr]) -> (Fr, Vec<RegistryProof>) {
    let mut proofs: Vec<RegistryProof> = (0..leaves.len())
        .map(|i| RegistryProof {
            index: u16::try_from(i).unwrap_or(u16::MAX),
            siblings: [Fr::ZERO; REGISTRY_DEPTH],
        })
        .collect();
    let mut level = leaves.to_vec();
    let mut empty = Fr::ZERO;
    for d in 0..REGISTRY_DEPTH {
        for (i, p) in proofs.iter_mut().enumerate() {
            let sibling = level.get((i >> d) ^ 1).copied().unwrap_or(empty);
            if let Some(s) = p.siblings.get_mut(d) {
                *s = sibling;
            }
        }
        level = level
            .chunks(2)
            .map(|c| {
                let left = c.first().copied().unwrap_or(empty);
                hash2(left, c.get(1).copied().unwrap_or(empty))
            })
            .collect();
        empty = hash2(empty, empty);
    }
    (level.first().copied().unwrap_or(empty), proofs)
}

/// `receipt` co-signed by the client of `key`, with registry proof `proof`.
pub fn cosign(receipt: SessionReceipt, key: &PrivateKey, proof: RegistryProof) -> CoSignedReceipt {
    CoSignedReceipt {
        receipt,
        client_key: key.public_key(),
        client_signature: key.sign(&receipt.message()),
        registry_proof: proof,
    }
}

/// The head of the bandwidth chain of `device_id` over the receipts'
/// messages.
pub fn chain_head(device_id: Fr, epoch: u32, receipts: &[CoSignedReceipt]) -> Fr {
    let mut chain = HashChain::bandwidth(device_id, epoch);
    for r in receipts {
        chain.push(r.receipt.message());
    }
    chain.head()
}

/// Sample constructors of the owned epoch type
/// ([`crate::epoch::BandwidthEpoch`]).
impl BandwidthEpoch {
    /// `receipts` chained and signed by `key`.
    pub fn signed(
        key: &PrivateKey,
        epoch: u32,
        beacon: Fr,
        policy: BandwidthPolicy,
        registry_root: Fr,
        receipts: Vec<CoSignedReceipt>,
    ) -> Self {
        let device = key.public_key();
        let head = chain_head(device.id(), epoch, &receipts);
        BandwidthEpoch {
            device,
            epoch,
            beacon,
            policy,
            registry_root,
            receipts,
            signed_head: sign_head(key, head),
        }
    }

    /// The head of the chain over the current receipts.
    pub fn chain_head(&self) -> Fr {
        chain_head(self.device.id(), self.epoch, &self.receipts)
    }

    /// `key` signs the head of the current receipts (after a change to
    /// them).
    pub fn sign(&mut self, key: &PrivateKey) {
        self.signed_head = sign_head(key, self.chain_head());
    }
}

/// A deterministic honest epoch at full capacity for the device of `key`:
/// 32 receipts (sessions `0..32`, `1 + j % 8` MiB over 10 s) from the
/// [`SAMPLE_CLIENTS`] registered clients in turn, under [`SAMPLE_POLICY`].
/// Key generation and benchmarks use it.
pub fn sample_epoch(key: &PrivateKey) -> BandwidthEpoch {
    let device_id = key.public_key().id();
    let clients: Vec<PrivateKey> = (0..SAMPLE_CLIENTS as u8).map(sample_client_key).collect();
    let ids: Vec<Fr> = clients.iter().map(|k| k.public_key().id()).collect();
    let (registry_root, proofs) = registry(&ids);
    let receipts: Vec<CoSignedReceipt> = (0..BANDWIDTH_CAPACITY as u32)
        .zip(clients.iter().zip(&proofs).cycle())
        .map(|(j, (client, proof))| {
            let receipt = SessionReceipt {
                device_id,
                client_id: client.public_key().id(),
                epoch: SAMPLE_EPOCH,
                session: j,
                bytes: MIB * u64::from(1 + j % 8),
                duration_s: 10,
            };
            cosign(receipt, client, *proof)
        })
        .collect();
    BandwidthEpoch::signed(
        key,
        SAMPLE_EPOCH,
        SAMPLE_BEACON,
        SAMPLE_POLICY,
        registry_root,
        receipts,
    )
}

/// The public inputs of `e` when every receipt is accepted and the device's
/// signature on the chain verifies, as for [`sample_epoch`]: computed
/// without verifying anything (key generation uses it; the tests check it
/// against the reference).
pub fn sample_public_inputs(e: &BandwidthEpoch) -> PublicInputs {
    let total: u128 = e.receipts.iter().map(|r| u128::from(r.receipt.bytes)).sum();
    let mut public = PublicInputs::common(
        StatementKind::Bandwidth,
        e.epoch,
        e.device.id(),
        e.policy.hash(),
        e.beacon,
        e.policy.reward(total),
    );
    public.registry_root = Some(e.registry_root);
    public
}

#[cfg(feature = "sample")]
/// Registered clients of the [`World`].
pub const N_CLIENTS: usize = 4;

#[cfg(feature = "sample")]
/// The registry index of the [`World`]'s device, registered as a client too
/// (for the self-dealing rule).
pub const DEVICE_INDEX: usize = N_CLIENTS;

#[cfg(feature = "sample")]
/// The fixed keys and client registry the random and targeted epochs use.
#[derive(Debug)]
pub struct World {
    /// The device.
    pub device: PrivateKey,
    /// The registered clients, at registry indices `0..N_CLIENTS`.
    pub clients: Vec<PrivateKey>,
    /// A client that is not registered.
    pub outsider: PrivateKey,
    /// The registry root: the clients, then the device (at
    /// [`DEVICE_INDEX`]).
    pub root: Fr,
    /// The registry proofs of the clients, then of the device.
    pub proofs: Vec<RegistryProof>,
}

#[cfg(feature = "sample")]
/// The one [`World`] (built once).
pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let device = PrivateKey::from_bytes([7; 32]);
        let clients: Vec<PrivateKey> = (0..N_CLIENTS as u8)
            .map(|i| PrivateKey::from_bytes([100 + i; 32]))
            .collect();
        let mut ids: Vec<Fr> = clients.iter().map(|k| k.public_key().id()).collect();
        ids.push(device.public_key().id());
        let (root, proofs) = registry(&ids);
        World {
            device,
            clients,
            outsider: PrivateKey::from_bytes([200; 32]),
            root,
            proofs,
        }
    })
}

#[cfg(feature = "sample")]
impl World {
    /// The world device's id.
    pub fn device_id(&self) -> Fr {
        self.device.public_key().id()
    }

    /// Registered client `c`'s receipt (`c < N_CLIENTS`, or
    /// [`DEVICE_INDEX`] for the device itself), co-signed, with its
    /// registry proof.
    pub fn cosigned(&self, receipt: SessionReceipt, c: usize) -> CoSignedReceipt {
        let key = self.clients.get(c).unwrap_or(&self.device);
        let proof = self
            .proofs
            .get(c)
            .copied()
            .unwrap_or(RegistryProof::PADDING);
        cosign(receipt, key, proof)
    }

    /// An epoch of the world's device and registry, signed by the device.
    pub fn epoch(
        &self,
        epoch: u32,
        beacon: Fr,
        policy: BandwidthPolicy,
        receipts: Vec<CoSignedReceipt>,
    ) -> BandwidthEpoch {
        BandwidthEpoch::signed(&self.device, epoch, beacon, policy, self.root, receipts)
    }

    /// `n` honest receipts under [`SAMPLE_POLICY`] in [`SAMPLE_EPOCH`]:
    /// sessions `0..n`, `1 + j % 8` MiB over 10 s, from the clients in
    /// turn, with the device's signature on the chain.
    pub fn honest(&self, n: u32) -> BandwidthEpoch {
        let device_id = self.device_id();
        let receipts = (0..n)
            .map(|j| {
                let c = j as usize % N_CLIENTS;
                let client_id = self
                    .clients
                    .get(c)
                    .map_or(Fr::ZERO, |k| k.public_key().id());
                let receipt = SessionReceipt {
                    device_id,
                    client_id,
                    epoch: SAMPLE_EPOCH,
                    session: j,
                    bytes: MIB * u64::from(1 + j % 8),
                    duration_s: 10,
                };
                self.cosigned(receipt, c)
            })
            .collect();
        self.epoch(SAMPLE_EPOCH, SAMPLE_BEACON, SAMPLE_POLICY, receipts)
    }

    /// Replaces receipt `index` of `e` by `f` of it, co-signed by client
    /// `client` (with its registry proof). The chain is not signed again.
    pub fn resign(
        &self,
        e: &mut BandwidthEpoch,
        index: usize,
        client: usize,
        f: impl FnOnce(&mut SessionReceipt),
    ) {
        if let Some(r) = e.receipts.get_mut(index) {
            let mut receipt = r.receipt;
            f(&mut receipt);
            *r = self.cosigned(receipt, client);
        }
    }
}

#[cfg(feature = "sample")]
fn pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, options: &[T]) -> T {
    options[rng.gen_range(0..options.len())]
}

#[cfg(feature = "sample")]
/// A valid policy: throughput bounds, rates, shifts and caps at their
/// extremes (1, `u32::MAX`, 64, `u64::MAX`) or random.
pub fn random_policy<R: Rng + ?Sized>(rng: &mut R) -> BandwidthPolicy {
    let p = BandwidthPolicy {
        max_bytes_per_s: match rng.gen_range(0..5) {
            0 => 1,
            1 => rng.gen_range(1..=1000),
            2 => 1_000_000,
            3 => u32::MAX,
            _ => rng.gen_range(1..=u32::MAX),
        },
        rate_num: match rng.gen_range(0..4) {
            0 => 1,
            1 => rng.gen_range(1..=1000),
            2 => u32::MAX,
            _ => rng.gen_range(1..=u32::MAX),
        },
        rate_shift: match rng.gen_range(0..6) {
            0 => 0,
            1 => 64,
            2 => rng.gen_range(0..=64),
            _ => rng.gen_range(0..=12),
        },
        reward_cap: match rng.gen_range(0..4) {
            0 => 1,
            1 => rng.gen_range(1..=1_000_000),
            2 => u64::MAX,
            _ => rng.gen_range(1..=u64::MAX),
        },
    };
    debug_assert_eq!(p.validate(), Ok(()));
    p
}

#[cfg(feature = "sample")]
/// Ways [`corrupt`] breaks a receipt.
pub const CORRUPTIONS: usize = 17;

#[cfg(feature = "sample")]
/// One of the [`CORRUPTIONS`] of world client `c`'s receipt `r` (made from
/// `receipt`), drawn from `rng`; each breaks the rule named in its comment,
/// possibly along with later ones. `earlier` are the epoch's receipts so
/// far (for a duplicate session) and `allowed` the receipt's throughput
/// bound (`duration_s * max_bytes_per_s`, at most `u64::MAX`).
pub fn corrupt<R: Rng + ?Sized>(
    rng: &mut R,
    c: usize,
    mut receipt: SessionReceipt,
    mut r: CoSignedReceipt,
    earlier: &[CoSignedReceipt],
    allowed: u64,
) -> CoSignedReceipt {
    let w = world();
    let device_id = w.device_id();
    let other = (c + 1 + rng.gen_range(0..N_CLIENTS - 1)) % N_CLIENTS;
    match rng.gen_range(0..CORRUPTIONS) {
        // Rule 1: another device.
        0 => {
            let options = [Fr::rand(rng), w.clients[other].public_key().id()];
            receipt.device_id = pick(rng, &options);
            r = w.cosigned(receipt, c);
        }
        // Rule 2: another epoch.
        1 => {
            receipt.epoch ^= 1 << rng.gen_range(0..32);
            r = w.cosigned(receipt, c);
        }
        // Rule 3: carries (and is signed by) another client's key.
        2 => r = cosign(receipt, &w.clients[other], w.proofs[c]),
        // Rule 4: altered after signing.
        3 => r.receipt.bytes ^= 1 << rng.gen_range(0..64),
        4 => r.client_signature = w.clients[other].sign(&receipt.message()),
        // S + l: the same point equation, refused as S >= l.
        5 => {
            let mut s = r.client_signature.s;
            s.add_with_carry(&SUBORDER);
            r.client_signature.s = s;
        }
        6 => r.client_signature.s = BigInt([u64::MAX; 4]),
        7 => r.client_signature.r8.x += Fr::ONE,
        8 => r.client_signature.r8 = pick(rng, &[Point::IDENTITY, Point::BASE8]),
        // Rule 4 too: a key off the curve (or of small order), named
        // consistently by the receipt.
        9 => {
            let mut k = w.clients[c].public_key();
            if rng.gen_bool(0.5) {
                k.0.y += Fr::ONE;
            } else {
                k.0 = Point::IDENTITY;
            }
            receipt.client_id = k.id();
            r = w.cosigned(receipt, c);
            r.client_key = k;
        }
        // Rule 5: not registered, or the wrong path.
        10 => {
            receipt.client_id = w.outsider.public_key().id();
            r = cosign(receipt, &w.outsider, w.proofs[c]);
        }
        11 => r.registry_proof = w.proofs[other],
        12 => {
            let level = rng.gen_range(0..REGISTRY_DEPTH);
            r.registry_proof.siblings[level] += Fr::ONE;
        }
        // Rule 6: the device serves itself.
        13 => {
            receipt.client_id = device_id;
            r = w.cosigned(receipt, DEVICE_INDEX);
        }
        // Rule 7: more bytes than the duration allows.
        14 => {
            if allowed < u64::MAX {
                receipt.bytes = allowed + 1 + rng.gen_range(0..(u64::MAX - allowed));
            } else {
                receipt.duration_s = 0;
                receipt.bytes = rng.gen_range(1..=u64::MAX);
            }
            r = w.cosigned(receipt, c);
        }
        // Rule 8: an earlier receipt's session.
        15 => {
            if let Some(e) = earlier.get(rng.gen_range(0..earlier.len().max(1))) {
                receipt.session = e.receipt.session;
                r = w.cosigned(receipt, c);
            }
        }
        // Rule 5: a registered client at a valid index, but the index bits
        // of another leaf.
        _ => r.registry_proof.index ^= 1 << rng.gen_range(0..16),
    }
    r
}

#[cfg(feature = "sample")]
/// A random epoch of the [`World`] with at most `capacity` receipts under a
/// [`random_policy`], each corrupted with probability 0.35 ([`corrupt`]),
/// and one time in four a broken chain or device signature.
pub fn random_epoch<R: Rng + ?Sized>(rng: &mut R, capacity: usize) -> BandwidthEpoch {
    let w = world();
    let device_id = w.device_id();
    let policy = random_policy(rng);
    let options = [0, SAMPLE_EPOCH, u32::MAX, rng.gen()];
    let epoch: u32 = pick(rng, &options);
    let n = if rng.gen_bool(0.1) || capacity == 0 {
        0
    } else {
        rng.gen_range(1..=capacity)
    };
    let mut receipts: Vec<CoSignedReceipt> = Vec::with_capacity(n);
    for _ in 0..n {
        let c = rng.gen_range(0..N_CLIENTS);
        let options = [0, rng.gen_range(1..=100), u32::MAX, rng.gen(), rng.gen()];
        let duration_s: u32 = pick(rng, &options);
        let allowed = u128::from(duration_s) * u128::from(policy.max_bytes_per_s);
        let allowed = u64::try_from(allowed).unwrap_or(u64::MAX);
        let bytes = match rng.gen_range(0..4) {
            0 => 0,
            1 => allowed,
            _ => rng.gen_range(0..=allowed),
        };
        let receipt = SessionReceipt {
            device_id,
            client_id: w.clients[c].public_key().id(),
            epoch,
            session: if rng.gen_bool(0.7) {
                rng.gen_range(0..3)
            } else {
                rng.gen()
            },
            bytes,
            duration_s,
        };
        let mut r = w.cosigned(receipt, c);
        if rng.gen_bool(0.35) {
            r = corrupt(rng, c, receipt, r, &receipts, allowed);
        }
        receipts.push(r);
    }
    let beacon = Fr::rand(rng);
    let mut e = w.epoch(epoch, beacon, policy, receipts);
    match rng.gen_range(0..16) {
        // A head that is not the chain's, properly signed.
        0 => e.signed_head = sign_head(&w.device, Fr::rand(rng)),
        // Signed by another key.
        1 => e.signed_head.signature = w.clients[0].sign(&e.signed_head.head),
        // S + 1.
        2 => {
            e.signed_head
                .signature
                .s
                .add_with_carry(&BigInt::from(1u64));
        }
        // The head of a truncated chain.
        3 => {
            if let Some(last) = e.receipts.pop() {
                e.sign(&w.device);
                e.receipts.push(last);
            }
        }
        _ => {}
    }
    e
}
