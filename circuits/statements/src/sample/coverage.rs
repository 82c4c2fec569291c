//! Coverage epochs for key generation, tests and benchmarks of every
//! backend: the deterministic full-capacity sample epoch, an epoch as the
//! prover holds it with the helpers that sign its claim and reports, small
//! honest epochs, and (feature `sample`) random epochs whose reports break
//! each rule of [`crate::coverage`] (and whose claim breaks the epoch-wide
//! checks) with fixed odds, so that every backend's circuit is checked
//! against the reference on the same inputs.

pub use crate::epoch::CoverageEpoch;
use alloc::vec::Vec;
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::geo::k_q32_for_mhz;
use depin_crypto::Fr;
#[cfg(feature = "sample")]
use {
    ark_ff::{AdditiveGroup, BigInt, BigInteger, Field},
    depin_crypto::babyjubjub::{Point, SUBORDER},
    depin_crypto::eddsa::PublicKey,
    depin_crypto::geo::{check_path_loss, PathLoss, MAX_COORD},
    rand::Rng,
};

use crate::records::{beacon_id, CoverageClaim, Location, SignedWitnessReport, WitnessReport};
use crate::{CoveragePolicy, COVERAGE_CAPACITY};

/// The sample epoch's number and beacon, shared by the three statements.
pub use super::{SAMPLE_BEACON, SAMPLE_EPOCH};

/// The sample device's location.
pub const SAMPLE_HOME: Location = Location {
    x: 1_000_000,
    y: 2_000_000,
};

/// The sample witnesses' RSSI: 110 dB of loss at 27 dBm, plausible up to
/// about 8.2 km at 915 MHz.
pub const SAMPLE_RSSI_DBM: i32 = 27 - 110;

/// The policy of the sample epoch: 3 witnesses minimum, 10 each, cap
/// 1000, 300 m to 20 km, 27 dBm at 915 MHz, 4 km cells.
pub fn sample_policy() -> CoveragePolicy {
    CoveragePolicy {
        min_witnesses: 3,
        reward_per_witness: 10,
        reward_cap: 1000,
        min_distance_m: 300,
        max_distance_m: 20_000,
        eirp_dbm: 27,
        k_q32: k_q32_for_mhz(915),
        cell_bits: 12,
    }
}

/// The sample device key (also the device of [`honest_epoch`] and of the
/// random epochs).
pub fn sample_key() -> PrivateKey {
    PrivateKey::from_bytes([7; 32])
}

/// The key of witness `i` of [`sample_epoch`] (`i < 16`).
pub fn sample_witness_key(i: u32) -> PrivateKey {
    PrivateKey::from_bytes([50u8.wrapping_add(i as u8); 32])
}

/// The key of witness `i` of [`honest_epoch`] and of the random epochs.
pub fn witness_key(i: u32) -> PrivateKey {
    let mut b = [0xa5u8; 32];
    b[..4].copy_from_slice(&i.to_le_bytes());
    PrivateKey::from_bytes(b)
}

/// The point `m` metres east of [`SAMPLE_HOME`].
pub fn east(m: u32) -> Location {
    Location {
        x: SAMPLE_HOME.x.wrapping_add(m),
        y: SAMPLE_HOME.y,
    }
}

/// `report` signed by `key`.
pub fn sign_report(key: &PrivateKey, report: WitnessReport) -> SignedWitnessReport {
    SignedWitnessReport {
        report,
        signature: key.sign(&report.message()),
    }
}

/// Sample constructors of the owned epoch type
/// ([`crate::epoch::CoverageEpoch`]).
impl CoverageEpoch {
    /// An epoch without reports: the device of `key` claims `location`
    /// with its beacon id for `beacon`, and signs the claim.
    pub fn claimed(
        key: &PrivateKey,
        epoch: u32,
        beacon: Fr,
        policy: CoveragePolicy,
        location: Location,
    ) -> Self {
        let device = key.public_key();
        let device_id = device.id();
        let claim = CoverageClaim {
            device_id,
            epoch,
            location,
            beacon_id: beacon_id(beacon, device_id),
        };
        CoverageEpoch {
            device,
            epoch,
            beacon,
            policy,
            claim,
            claim_signature: key.sign(&claim.message()),
            reports: Vec::new(),
        }
    }

    /// The device's id.
    pub fn device_id(&self) -> Fr {
        self.device.id()
    }

    /// The beacon id the device transmits in this epoch.
    pub fn beacon_id(&self) -> Fr {
        beacon_id(self.beacon, self.device_id())
    }

    /// A report signed by `key` with this epoch's beacon id and epoch.
    pub fn report(
        &self,
        key: &PrivateKey,
        location: Location,
        rssi_dbm: i32,
    ) -> SignedWitnessReport {
        sign_report(
            key,
            WitnessReport {
                witness: key.public_key(),
                location,
                rssi_dbm,
                beacon_id: self.beacon_id(),
                epoch: self.epoch,
            },
        )
    }

    /// Signs the claim again with `key` (after a change to it).
    pub fn resign_claim(&mut self, key: &PrivateKey) {
        self.claim_signature = key.sign(&self.claim.message());
    }
}

/// Reports from `keys`, the `i`-th 1000 + 200 i metres east of
/// [`SAMPLE_HOME`], at [`SAMPLE_RSSI_DBM`].
fn east_reports(
    e: &CoverageEpoch,
    keys: impl Iterator<Item = PrivateKey>,
) -> Vec<SignedWitnessReport> {
    (0u32..)
        .zip(keys)
        .map(|(i, k)| e.report(&k, east(1000 + 200 * i), SAMPLE_RSSI_DBM))
        .collect()
}

/// The sample's epoch, device [`sample_key`] at [`SAMPLE_HOME`] under
/// [`sample_policy`], with `n` honest witnesses ([`witness_key`]`(i)`) 1 km
/// to 4 km east: it pays `10 n` for `n >= 3`, nothing below.
pub fn honest_epoch(n: u32) -> CoverageEpoch {
    let mut e = CoverageEpoch::claimed(
        &sample_key(),
        SAMPLE_EPOCH,
        SAMPLE_BEACON,
        sample_policy(),
        SAMPLE_HOME,
    );
    e.reports = east_reports(&e, (0..n).map(witness_key));
    e
}

/// A deterministic honest epoch at full capacity for the device of `key`:
/// 16 witnesses ([`sample_witness_key`]) 1 km to 4 km east of
/// [`SAMPLE_HOME`], 110 dB of loss at 27 dBm and 915 MHz, paying 160 under
/// [`sample_policy`]. Key generation and benchmarks use it.
pub fn sample_epoch(key: &PrivateKey) -> CoverageEpoch {
    let mut e = CoverageEpoch::claimed(
        key,
        SAMPLE_EPOCH,
        SAMPLE_BEACON,
        sample_policy(),
        SAMPLE_HOME,
    );
    e.reports = east_reports(&e, (0..COVERAGE_CAPACITY as u32).map(sample_witness_key));
    e
}

#[cfg(feature = "sample")]
/// How [`random_report`] makes a report: honest, or meant to break one
/// rule (the reference has the last word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportKind {
    /// Honest.
    Honest,
    /// Another epoch.
    OutOfEpoch,
    /// A bad signature or witness key.
    BadSignature,
    /// Signed by the device itself.
    SelfWitness,
    /// Another beacon id.
    WrongBeacon,
    /// A coordinate at or above `2^31`.
    LocationOutOfRange,
    /// An RSSI outside `-2^15..2^15` (or at its ends).
    RssiOutOfRange,
    /// At or within the minimum distance.
    TooClose,
    /// At or beyond the maximum distance.
    TooFar,
    /// Stronger than transmitted, or than free space allows.
    TooStrong,
    /// More than 199 dB of loss.
    TooWeak,
    /// Another report of an earlier witness.
    Duplicate,
}

#[cfg(feature = "sample")]
/// Every [`ReportKind`], [`ReportKind::Honest`] first.
pub const REPORT_KINDS: [ReportKind; 12] = [
    ReportKind::Honest,
    ReportKind::OutOfEpoch,
    ReportKind::BadSignature,
    ReportKind::SelfWitness,
    ReportKind::WrongBeacon,
    ReportKind::LocationOutOfRange,
    ReportKind::RssiOutOfRange,
    ReportKind::TooClose,
    ReportKind::TooFar,
    ReportKind::TooStrong,
    ReportKind::TooWeak,
    ReportKind::Duplicate,
];

#[cfg(feature = "sample")]
/// A valid policy: mostly small minimums, sometimes extreme rewards (up to
/// `u64::MAX`, so that the linear part passes `2^64`), distance bounds
/// from adjacent to the whole grid, any band, EIRP and cell size.
pub fn random_policy<R: Rng>(rng: &mut R) -> CoveragePolicy {
    let min_witnesses = if rng.gen_bool(0.85) {
        rng.gen_range(1..=3)
    } else {
        rng.gen_range(1..=16)
    };
    let reward_per_witness = match rng.gen_range(0..4) {
        0 => rng.gen_range(1..=100),
        1 => rng.gen::<u64>().max(1),
        2 => u64::MAX,
        _ => rng.gen_range(1..=1 << 40),
    };
    let reward_cap = match rng.gen_range(0..4) {
        0 => rng.gen_range(1..=300),
        1 => rng.gen::<u64>().max(1),
        2 => u64::MAX,
        _ => rng.gen_range(1..=1 << 42),
    };
    let (min_distance_m, max_distance_m) = match rng.gen_range(0..4) {
        0 => (300, 20_000),
        1 => {
            let lo = rng.gen_range(0..5_000);
            (lo, lo + rng.gen_range(1..=60_000))
        }
        2 => {
            let lo = rng.gen_range(0..MAX_COORD - 1);
            (lo, rng.gen_range(lo + 1..=MAX_COORD))
        }
        _ => {
            let lo = rng.gen_range(0..2_000);
            (lo, lo + rng.gen_range(1..=3))
        }
    };
    let k_q32 = match rng.gen_range(0..4) {
        0 => k_q32_for_mhz(915),
        1 => k_q32_for_mhz(rng.gen_range(100..=6000)),
        2 => rng.gen::<u32>().max(1),
        _ => [1, u32::MAX][rng.gen_range(0..2)],
    };
    let p = CoveragePolicy {
        min_witnesses,
        reward_per_witness,
        reward_cap,
        min_distance_m,
        max_distance_m,
        eirp_dbm: if rng.gen_bool(0.5) {
            27
        } else {
            rng.gen_range(-100..=100)
        },
        k_q32,
        cell_bits: rng.gen_range(8..=31),
    };
    debug_assert_eq!(p.validate(), Ok(()));
    p
}

#[cfg(feature = "sample")]
/// A point about `d` metres from `from` in a random direction (axis
/// aligned, so exactly `d`, half of the time; otherwise the rounding
/// brings it a little closer).
fn around<R: Rng>(rng: &mut R, from: Location, d: u64) -> Location {
    let (dx, dy) = if rng.gen_bool(0.5) {
        (d, 0)
    } else {
        let dx = rng.gen_range(0..=d);
        let rest = d * d - dx * dx;
        let mut dy = (rest as f64).sqrt() as u64;
        while dy * dy > rest {
            dy -= 1;
        }
        (dx, dy)
    };
    let (dx, dy) = if rng.gen_bool(0.5) {
        (dx, dy)
    } else {
        (dy, dx)
    };
    // A random direction on each axis, turned back from the grid's edge
    // (clamped only if both ways leave the grid).
    let shift = |c: u32, v: u64, rng: &mut R| {
        let v = i64::try_from(v).unwrap_or(i64::MAX);
        let c = i64::from(c);
        let max = i64::from(MAX_COORD);
        let (up, down) = (c.saturating_add(v), c.saturating_sub(v));
        let moved = match (up <= max, down >= 0) {
            (true, true) if rng.gen_bool(0.5) => up,
            (true, true) => down,
            (true, false) => up,
            (false, true) => down,
            (false, false) => up,
        };
        moved.clamp(0, max) as u32
    };
    Location {
        x: shift(from.x, dx, rng),
        y: shift(from.y, dy, rng),
    }
}

#[cfg(feature = "sample")]
/// The smallest plausible loss at `d2`, if any.
fn min_loss(d2: u64, p: &CoveragePolicy) -> Option<i32> {
    (0..=199)
        .find(|l| check_path_loss(d2, p.eirp_dbm, p.eirp_dbm - l, p.k_q32) == PathLoss::Plausible)
}

#[cfg(feature = "sample")]
/// The squared distance, `u64::MAX` out of the grid.
fn d2(a: Location, b: Location) -> u64 {
    depin_crypto::geo::distance_sq((a.x, a.y), (b.x, b.y)).unwrap_or(u64::MAX)
}

#[cfg(feature = "sample")]
/// An honest report from `k`: strictly between the distance bounds, with
/// a plausible signal (when one exists at that distance).
fn honest_report<R: Rng>(rng: &mut R, e: &CoverageEpoch, k: &PrivateKey) -> SignedWitnessReport {
    let p = e.policy;
    let (lo, hi) = (u64::from(p.min_distance_m), u64::from(p.max_distance_m));
    let d = if hi > lo + 1 {
        rng.gen_range(lo + 1..hi)
    } else {
        hi
    };
    let at = around(rng, e.claim.location, d);
    let rssi = plausible_rssi(rng, e, at);
    e.report(k, at, rssi)
}

#[cfg(feature = "sample")]
/// The weakest-but-two plausible signal at `at`, or a random one.
fn plausible_rssi<R: Rng>(rng: &mut R, e: &CoverageEpoch, at: Location) -> i32 {
    let p = e.policy;
    match min_loss(d2(e.claim.location, at), &p) {
        Some(l) => p.eirp_dbm - (l + rng.gen_range(0..=2)).min(199),
        None => p.eirp_dbm - rng.gen_range(0..=199),
    }
}

#[cfg(feature = "sample")]
/// A report with a bad signature or witness key (signed by `k` unless the
/// signature itself is what is broken).
fn bad_signature<R: Rng>(rng: &mut R, r: &mut SignedWitnessReport, k: &PrivateKey) {
    match rng.gen_range(0..8) {
        0 => r.report.location.x ^= 1,
        1 => r.report.rssi_dbm = r.report.rssi_dbm.wrapping_sub(1),
        2 => {
            r.signature.s.add_with_carry(&BigInt::from(1u64));
        }
        3 => {
            r.signature.s.add_with_carry(&SUBORDER);
        }
        4 => r.signature.s = BigInt([u64::MAX; 4]),
        5 => r.signature = witness_key(rng.gen()).sign(&r.report.message()),
        6 => {
            // A witness key off the curve, or of small order.
            r.report.witness = if rng.gen_bool(0.5) {
                PublicKey(Point {
                    x: r.report.witness.0.x,
                    y: r.report.witness.0.y + Fr::ONE,
                })
            } else {
                PublicKey(Point {
                    x: Fr::ZERO,
                    y: -Fr::ONE,
                })
            };
            r.signature = k.sign(&r.report.message());
        }
        _ => r.signature.r8.x += Fr::ONE,
    }
}

#[cfg(feature = "sample")]
/// A report of `e` meant to be of kind `kind` (the reference has the last
/// word), from a fresh [`witness_key`] unless it is a duplicate (the key
/// of one of `seeds`, the key seeds of the earlier reports) or a
/// self-witness (`device`, the device's key). Returns the report and its
/// key's seed (`None` for a self-witness).
pub fn random_report<R: Rng>(
    rng: &mut R,
    e: &CoverageEpoch,
    device: &PrivateKey,
    seeds: &[u32],
    kind: ReportKind,
) -> (SignedWitnessReport, Option<u32>) {
    let p = e.policy;
    let home = e.claim.location;
    let seed: u32 = rng.gen();
    let k = witness_key(seed);
    let (lo, hi) = (u64::from(p.min_distance_m), u64::from(p.max_distance_m));
    let mut r = honest_report(rng, e, &k);
    let mut resign = true;
    match kind {
        ReportKind::Honest => resign = false,
        ReportKind::OutOfEpoch => {
            r.report.epoch = match rng.gen_range(0..3) {
                0 => e.epoch.wrapping_add(1),
                1 => e.epoch.wrapping_sub(1),
                _ => rng.gen(),
            };
        }
        ReportKind::BadSignature => {
            resign = false;
            bad_signature(rng, &mut r, &k);
        }
        ReportKind::SelfWitness => return (honest_report(rng, e, device), None),
        ReportKind::WrongBeacon => {
            r.report.beacon_id = match rng.gen_range(0..3) {
                0 => beacon_id(e.beacon + Fr::ONE, e.device_id()),
                1 => beacon_id(e.beacon, Fr::from(rng.gen::<u64>())),
                _ => Fr::from(rng.gen::<u64>()),
            };
        }
        ReportKind::LocationOutOfRange => {
            let out = [1 << 31, u32::MAX, rng.gen_range(1 << 31..=u32::MAX)][rng.gen_range(0..3)];
            if rng.gen_bool(0.5) {
                r.report.location.x = out;
            } else {
                r.report.location.y = out;
            }
        }
        ReportKind::RssiOutOfRange => {
            r.report.rssi_dbm = [
                -(1 << 15) - 1,
                1 << 15,
                i32::MIN,
                i32::MAX,
                -(1 << 15),
                (1 << 15) - 1,
                rng.gen(),
            ][rng.gen_range(0..7)];
        }
        ReportKind::TooClose | ReportKind::TooFar => {
            let d = match (kind, rng.gen_bool(0.5)) {
                (ReportKind::TooClose, true) => lo,
                (ReportKind::TooClose, false) => rng.gen_range(0..=lo),
                (_, true) => hi,
                _ => rng.gen_range(hi..=hi + 1000),
            };
            r.report.location = around(rng, home, d);
            r.report.rssi_dbm = plausible_rssi(rng, e, r.report.location);
        }
        ReportKind::TooStrong => {
            r.report.rssi_dbm = match min_loss(d2(home, r.report.location), &p) {
                Some(l) if l > 0 && rng.gen_bool(0.7) => p.eirp_dbm - rng.gen_range(0..l),
                _ => p.eirp_dbm + rng.gen_range(1..=50),
            };
        }
        ReportKind::TooWeak => r.report.rssi_dbm = p.eirp_dbm - rng.gen_range(200..=400),
        ReportKind::Duplicate => {
            if let Some(&earlier) = seeds.get(rng.gen_range(0..seeds.len().max(1))) {
                return (honest_report(rng, e, &witness_key(earlier)), Some(earlier));
            }
            resign = false;
        }
    }
    if resign {
        r = sign_report(&k, r.report);
    }
    (r, Some(seed))
}

#[cfg(feature = "sample")]
/// A random epoch of at most `capacity` reports for the device
/// [`sample_key`]: a random valid policy, location, epoch and beacon, each
/// report honest with probability 0.55 and otherwise of a random other
/// [`ReportKind`], and the claim broken with probability 0.15 (another
/// device, epoch or beacon id, a location out of range, another signer,
/// moved after signing).
pub fn random_epoch<R: Rng>(rng: &mut R, capacity: usize) -> CoverageEpoch {
    let device = sample_key();
    let policy = random_policy(rng);
    let epoch = match rng.gen_range(0..4) {
        0 => 0,
        1 => u32::MAX,
        _ => rng.gen(),
    };
    let beacon = Fr::from(rng.gen::<u128>());
    let coord = |rng: &mut R| match rng.gen_range(0..6) {
        0 => 0,
        1 => MAX_COORD,
        _ => rng.gen_range(0..=MAX_COORD),
    };
    let location = Location {
        x: coord(rng),
        y: coord(rng),
    };
    let mut e = CoverageEpoch::claimed(&device, epoch, beacon, policy, location);
    let n = rng.gen_range(0..=capacity);
    let mut seeds = Vec::new();
    for _ in 0..n {
        let kind = if rng.gen_bool(0.55) {
            ReportKind::Honest
        } else {
            REPORT_KINDS[rng.gen_range(1..REPORT_KINDS.len())]
        };
        let (r, seed) = random_report(rng, &e, &device, &seeds, kind);
        e.reports.push(r);
        seeds.extend(seed);
    }
    if rng.gen_bool(0.15) {
        break_claim(rng, &mut e, &device);
    }
    e
}

#[cfg(feature = "sample")]
/// Breaks `e`'s claim (or leaves it be), then re-signs it with `device`,
/// moves it after signing, or neither.
fn break_claim<R: Rng>(rng: &mut R, e: &mut CoverageEpoch, device: &PrivateKey) {
    match rng.gen_range(0..7) {
        0 => e.claim.device_id = Fr::from(rng.gen::<u64>()),
        1 => e.claim.epoch = e.epoch.wrapping_add(1),
        2 => e.claim.beacon_id = beacon_id(e.beacon + Fr::ONE, e.device_id()),
        3 => e.claim.location.x = rng.gen_range(1 << 31..=u32::MAX),
        4 => e.claim.location.y = u32::MAX,
        5 => e.claim_signature = witness_key(rng.gen()).sign(&e.claim.message()),
        _ => {}
    }
    match rng.gen_range(0..3) {
        0 => e.claim.location.x ^= 1, // moved after signing
        1 => {}
        _ => e.resign_claim(device),
    }
}
