//! Uptime epochs for key generation, tests and benchmarks of every backend:
//! the deterministic full-capacity sample epoch, an epoch as the prover
//! holds it, signed by a key, and (feature `sample`) random epochs that
//! break each rule of [`crate::uptime`] (and the epoch-wide checks) with
//! fixed odds, so that every backend's circuit is checked against the
//! reference on the same inputs.

pub use crate::epoch::UptimeEpoch;
use alloc::vec::Vec;
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::Fr;
#[cfg(feature = "sample")]
use {
    crate::records::challenge,
    ark_ff::{BigInteger, Field, UniformRand},
    depin_crypto::babyjubjub::{Point, SUBORDER},
    rand::Rng,
    rand_chacha::ChaCha20Rng,
};

use crate::records::{HashChain, Heartbeat, SignedHead};
use crate::{UptimePolicy, UPTIME_CAPACITY};

/// The policy of the sample epoch: 96 slots, floor 10, 200 ms,
/// `100 + 5 * (c - 10)` capped at 100,000.
pub const SAMPLE_POLICY: UptimePolicy = UptimePolicy {
    slots_per_epoch: 96,
    floor_slots: 10,
    max_latency_ms: 200,
    base_reward: 100,
    reward_per_slot: 5,
    reward_cap: 100_000,
};

/// The sample epoch's number and beacon, shared by the three statements.
pub use super::{SAMPLE_BEACON, SAMPLE_EPOCH};

/// The sample device key.
pub fn sample_key() -> PrivateKey {
    PrivateKey::from_bytes([0x75; 32])
}

/// A deterministic honest epoch at full capacity for the device of `key`:
/// 96 heartbeats answering every slot under [`SAMPLE_POLICY`] (reward
/// 530). Key generation and benchmarks use it.
pub fn sample_epoch(key: &PrivateKey) -> UptimeEpoch {
    let id = key.public_key().id();
    let heartbeats = (0..UPTIME_CAPACITY as u32)
        .map(|slot| Heartbeat::answer(SAMPLE_BEACON, id, slot, 20 + slot % 150))
        .collect();
    UptimeEpoch::signed(key, SAMPLE_EPOCH, SAMPLE_BEACON, SAMPLE_POLICY, heartbeats)
}

/// The head of the uptime chain of `device_id` over `hbs`.
pub fn chain_head(device_id: Fr, epoch: u32, hbs: &[Heartbeat]) -> Fr {
    let mut chain = HashChain::uptime(device_id, epoch);
    for hb in hbs {
        chain.push(hb.message());
    }
    chain.head()
}

/// `head` signed by `key`.
pub fn sign_head(key: &PrivateKey, head: Fr) -> SignedHead {
    SignedHead {
        head,
        signature: key.sign(&head),
    }
}

/// Sample constructors of the owned epoch type
/// ([`crate::epoch::UptimeEpoch`]).
impl UptimeEpoch {
    /// `hbs` chained and signed by `key`.
    pub fn signed(
        key: &PrivateKey,
        epoch: u32,
        beacon: Fr,
        policy: UptimePolicy,
        hbs: Vec<Heartbeat>,
    ) -> Self {
        let device = key.public_key();
        let head = chain_head(device.id(), epoch, &hbs);
        UptimeEpoch {
            device,
            epoch,
            beacon,
            policy,
            heartbeats: hbs,
            signed_head: sign_head(key, head),
        }
    }
}

#[cfg(feature = "sample")]
/// A valid policy: mostly small epochs and floors, sometimes extreme
/// latencies and rewards (up to `u64::MAX`, so that the linear part passes
/// `2^64`).
pub fn random_policy(rng: &mut ChaCha20Rng) -> UptimePolicy {
    let slots_per_epoch = if rng.gen_bool(0.7) {
        rng.gen_range(1..=8)
    } else {
        rng.gen_range(1..=96)
    };
    let floor_slots = if rng.gen_bool(0.8) {
        rng.gen_range(1..=slots_per_epoch.min(2))
    } else {
        rng.gen_range(1..=slots_per_epoch)
    };
    let max_latency_ms = match rng.gen_range(0..5) {
        0 => 1,
        1 => u32::MAX,
        2 => rng.gen_range(1..=u32::MAX),
        _ => rng.gen_range(1..=500),
    };
    let (mut base_reward, mut reward_per_slot, reward_cap) = match rng.gen_range(0..4) {
        0 => {
            let cap = rng.gen_range(1..=1000u64);
            (rng.gen_range(0..=cap), rng.gen_range(0..=300u64), cap)
        }
        1 => {
            let cap = rng.gen::<u64>().max(1);
            (rng.gen_range(0..=cap), rng.gen::<u64>(), cap)
        }
        2 => (
            if rng.gen_bool(0.5) {
                u64::MAX
            } else {
                rng.gen()
            },
            u64::MAX - rng.gen_range(0..3u64),
            u64::MAX,
        ),
        _ => {
            let cap = rng.gen_range(1..=1_000_000u64);
            (rng.gen_range(0..=cap), rng.gen_range(0..=cap / 2), cap)
        }
    };
    if base_reward == 0 && reward_per_slot == 0 {
        reward_per_slot = 1;
    }
    base_reward = base_reward.min(reward_cap);
    let p = UptimePolicy {
        slots_per_epoch,
        floor_slots,
        max_latency_ms,
        base_reward,
        reward_per_slot,
        reward_cap,
    };
    debug_assert_eq!(p.validate(), Ok(()));
    p
}

#[cfg(feature = "sample")]
/// Up to `capacity` heartbeats, each honest or breaking one rule, and
/// sometimes an epoch-wide fault (broken chain, bad signature).
pub fn random_epoch(rng: &mut ChaCha20Rng, capacity: usize) -> UptimeEpoch {
    let key = PrivateKey::from_bytes(rng.gen());
    let device = key.public_key();
    let id = device.id();
    let policy = random_policy(rng);
    let epoch = match rng.gen_range(0..6) {
        0 => 0,
        1 => u32::MAX,
        _ => rng.gen(),
    };
    let beacon = Fr::rand(rng);
    let spe = policy.slots_per_epoch;
    let max = policy.max_latency_ms;
    let n = rng.gen_range(0..=capacity);
    let mut hbs = Vec::with_capacity(n);
    let mut last: Option<u32> = None;
    for _ in 0..n {
        let mut slot = match last {
            None => rng.gen_range(0..3),
            Some(l) => l.saturating_add(rng.gen_range(1..3)),
        };
        let mut latency = rng.gen_range(0..=max.min(1000));
        let mut response = None;
        match rng.gen_range(0..14) {
            // Rule 1.
            0 => {
                slot = match rng.gen_range(0..3) {
                    0 => spe,
                    1 => u32::MAX,
                    _ => rng.gen_range(spe..=u32::MAX),
                }
            }
            // Rule 2, duplicate and not increasing.
            1 => slot = last.unwrap_or(0),
            2 | 7 => slot = rng.gen_range(0..=last.unwrap_or(0)),
            // Rule 3.
            3 => {
                response = Some(match rng.gen_range(0..4) {
                    0 => Fr::rand(rng),
                    1 => challenge(beacon + Fr::ONE, id, slot),
                    2 => challenge(beacon, id + Fr::ONE, slot),
                    _ => challenge(beacon, id, slot.wrapping_add(1)),
                })
            }
            // Rule 4.
            4 if max < u32::MAX => {
                latency = if rng.gen_bool(0.5) {
                    max + 1
                } else {
                    rng.gen_range(max + 1..=u32::MAX)
                }
            }
            // Boundaries that count.
            5 => latency = max,
            6 => slot = spe.saturating_sub(1).max(slot.min(spe - 1)),
            _ => {}
        }
        let mut hb = Heartbeat::answer(beacon, id, slot, latency);
        if let Some(r) = response {
            hb.response = r;
        }
        if slot < spe && last.is_none_or(|l| slot > l) {
            last = Some(slot);
        }
        hbs.push(hb);
    }
    let mut e = UptimeEpoch::signed(&key, epoch, beacon, policy, hbs);
    match rng.gen_range(0..32) {
        // Signed by another key.
        0 => {
            let other = PrivateKey::from_bytes(rng.gen());
            e.signed_head = sign_head(&other, e.signed_head.head);
        }
        // The device signed another head.
        1 => e.signed_head = sign_head(&key, Fr::rand(rng)),
        // A signature on the recomputed head, with another head value.
        2 => e.signed_head.head = Fr::rand(rng),
        // A heartbeat altered after signing.
        3 => {
            if let Some(hb) = e.heartbeats.last_mut() {
                hb.latency_ms = hb.latency_ms.wrapping_add(1);
            }
        }
        // A chain signed for another epoch.
        4 => {
            let head = chain_head(id, epoch.wrapping_add(1), &e.heartbeats);
            e.signed_head = sign_head(&key, head);
        }
        // S + l (not reduced): refused.
        5 => {
            let mut s = e.signed_head.signature.s;
            s.add_with_carry(&SUBORDER);
            e.signed_head.signature.s = s;
        }
        // R8 off the curve, or of small order.
        6 => {
            e.signed_head.signature.r8 = if rng.gen_bool(0.5) {
                Point {
                    x: Fr::rand(rng),
                    y: Fr::rand(rng),
                }
            } else {
                Point::IDENTITY
            }
        }
        _ => {}
    }
    e
}
