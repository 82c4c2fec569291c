//! Squared distances and the free-space path-loss bound, the circuit side of
//! [`depin_crypto::geo`].
//!
//! # What is proven
//!
//! - [`distance_sq`]: `(ax - bx)^2 + (ay - by)^2` in the field (2
//!   constraints). The square of the field difference equals the square of
//!   the absolute difference, so no absolute value is needed; with every
//!   coordinate below `2^31` the result is the exact integer, below `2^63`,
//!   equal to the native [`depin_crypto::geo::distance_sq`].
//! - [`check_path_loss`]: a [`PathLossVar`] whose four bits are exactly the
//!   native [`depin_crypto::geo::check_path_loss`] verdict (exactly one is
//!   true), for every input in the domain below. It never makes the system
//!   unsatisfiable on that domain, so a statement can drop a witness whose
//!   verdict is not [`PathLossVar::plausible`]. Cost:
//!   [`PATH_LOSS_CONSTRAINTS`] = 185.
//!
//! # How the path-loss check works
//!
//! With `loss = eirp - rssi` in `(-2^16, 2^16)`:
//!
//! 1. `loss + 2^16` is decomposed in 17 bits; bit 16 is `loss >= 0`, and the
//!    low 16 bits `m` equal `loss` when it is non-negative. `m <= 199` is a
//!    16-bit comparison. This gives `stronger_than_transmitted`,
//!    `below_sensitivity` and `in_range = loss in [0, 199]`.
//! 2. `e = in_range ? m : 0` (so every later witness exists for every input)
//!    is split as `e = 10 q + r` with `q` in 5 boolean bits and `r` as a
//!    one-hot vector over `0..=9` (ten booleans summing to one; `r` and
//!    `T_q20[r]` are then linear in them). Since `r <= 9`, `q >= 0` and
//!    `e <= 199` as integers (no wrap-around, everything is below 400), the
//!    split is Euclidean division: no other `(q, r)` satisfies the
//!    constraints, and `q <= 19` follows.
//! 3. `10^q = prod_i (1 + q_i (10^(2^i) - 1))` (4 products) and
//!    `rhs = k_q32 * 10^q * T_q20[r]` (2 products), an exact integer below
//!    `2^119`; `lhs = dist_sq * 2^52 < 2^115`.
//! 4. `lhs <= rhs` is a 119-bit comparison; `plausible = in_range and
//!    lhs <= rhs`, `too_strong_for_distance = in_range and lhs > rhs`.
//!
//! # Domain (soundness assumptions, the caller range-checks)
//!
//! - `eirp`, `rssi`: signed integers in `[-2^15, 2^15)`, encoded as field
//!   elements ([`crate::range::signed_to_fr`]); check with
//!   [`enforce_signed_dbm`] (or [`crate::range::is_signed_in_range`] to
//!   exclude instead of reject).
//! - `k_q32 < 2^32`: [`enforce_k_q32`].
//! - `dist_sq < 2^63`: holds for [`distance_sq`] of coordinates checked with
//!   [`enforce_coordinate`].
//!
//! [`enforce_path_loss_domain`] checks the first two in 67 constraints.

use crate::range::{self, linear_combination, pow2};
use ark_bn254::Fr;
use ark_ff::{Field, PrimeField};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    GR1CSVar,
};
use ark_relations::gr1cs::SynthesisError;
use depin_crypto::geo::{PathLoss, LHS_SHIFT, MAX_LOSS_DB, TEN_POW_TENTHS_Q20};

/// Bits of a grid coordinate (`< 2^31`).
pub const COORD_BITS: usize = 31;
/// Bits of a squared distance of in-range coordinates (`< 2^63`).
pub const DIST_SQ_BITS: usize = 63;
/// Signed EIRP and RSSI lie in `[-2^DBM_BITS, 2^DBM_BITS)` dBm.
pub const DBM_BITS: usize = 15;
/// Bits of the Q32 constant `K` (`< 2^32`).
pub const K_BITS: usize = 32;
/// Constraints of [`check_path_loss`].
pub const PATH_LOSS_CONSTRAINTS: usize = 185;

/// `|loss| < 2^LOSS_BITS` for in-domain EIRP and RSSI.
const LOSS_BITS: usize = DBM_BITS + 1;
/// Bits of `q` (0 to 19).
const Q_BITS: usize = 5;
/// Both sides of the final comparison are below `2^CMP_BITS`:
/// `K * 10^19 * T[9] < 2^32 * 2^63.2 * 2^23`.
const CMP_BITS: usize = 119;

/// Enforces a grid coordinate below `2^31` (32 constraints).
pub fn enforce_coordinate(x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    range::enforce_bits(x, COORD_BITS)
}

/// Enforces `x` encodes a signed dBm value in `[-2^15, 2^15)` (17
/// constraints).
pub fn enforce_signed_dbm(x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    range::signed_to_offset(x, DBM_BITS).map(|_| ())
}

/// Enforces `k_q32 < 2^32` (33 constraints).
pub fn enforce_k_q32(k_q32: &FpVar<Fr>) -> Result<(), SynthesisError> {
    range::enforce_bits(k_q32, K_BITS)
}

/// Enforces the domain of [`check_path_loss`] on `eirp`, `rssi` and `k_q32`
/// (67 constraints); `dist_sq` is bounded by checking the coordinates.
pub fn enforce_path_loss_domain(
    eirp: &FpVar<Fr>,
    rssi: &FpVar<Fr>,
    k_q32: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    enforce_signed_dbm(eirp)?;
    enforce_signed_dbm(rssi)?;
    enforce_k_q32(k_q32)
}

/// Squared distance between grid points `a` and `b` (2 constraints).
///
/// Exact, and below `2^63`, when every coordinate is below `2^31` (check
/// with [`enforce_coordinate`]).
pub fn distance_sq(
    a: (&FpVar<Fr>, &FpVar<Fr>),
    b: (&FpVar<Fr>, &FpVar<Fr>),
) -> Result<FpVar<Fr>, SynthesisError> {
    let dx = a.0 - b.0;
    let dy = a.1 - b.1;
    Ok(dx.square()? + dy.square()?)
}

/// The verdict of [`check_path_loss`]: exactly one bit is true.
#[derive(Clone, Debug)]
pub struct PathLossVar {
    /// The signal is physically possible at that distance.
    pub plausible: Boolean<Fr>,
    /// `eirp - rssi < 0`.
    pub stronger_than_transmitted: Boolean<Fr>,
    /// `eirp - rssi > 199`.
    pub below_sensitivity: Boolean<Fr>,
    /// The loss is in `0..=199` but below free-space loss at that distance.
    pub too_strong_for_distance: Boolean<Fr>,
}

impl PathLossVar {
    /// The verdict as the native enum; [`SynthesisError::Unsatisfiable`] if
    /// the assignment does not have exactly one bit set.
    pub fn value(&self) -> Result<PathLoss, SynthesisError> {
        let bits = [
            (self.plausible.value()?, PathLoss::Plausible),
            (
                self.stronger_than_transmitted.value()?,
                PathLoss::StrongerThanTransmitted,
            ),
            (self.below_sensitivity.value()?, PathLoss::BelowSensitivity),
            (
                self.too_strong_for_distance.value()?,
                PathLoss::TooStrongForDistance,
            ),
        ];
        let mut set = bits.iter().filter(|(b, _)| *b).map(|(_, v)| *v);
        match (set.next(), set.next()) {
            (Some(v), None) => Ok(v),
            _ => Err(SynthesisError::Unsatisfiable),
        }
    }
}

/// The free-space path-loss verdict for a witness at squared distance
/// `dist_sq` hearing `rssi` dBm from a transmitter of `eirp` dBm, with
/// `k_q32 = (c / (4 pi f))^2` in Q32.
///
/// Agrees with [`depin_crypto::geo::check_path_loss`] on the domain in the
/// module docs (`eirp`, `rssi` signed in `[-2^15, 2^15)`, `k_q32 < 2^32`,
/// `dist_sq < 2^63`), which the caller must have enforced. Costs
/// [`PATH_LOSS_CONSTRAINTS`] constraints.
pub fn check_path_loss(
    dist_sq: &FpVar<Fr>,
    eirp: &FpVar<Fr>,
    rssi: &FpVar<Fr>,
    k_q32: &FpVar<Fr>,
) -> Result<PathLossVar, SynthesisError> {
    check_path_loss_with_split(dist_sq, eirp, rssi, k_q32, &|e| (e / 10, e % 10))
}

/// The low 64 bits of a field element (the honest split only ever sees
/// values below 200).
fn low_u64(f: Fr) -> u64 {
    f.into_bigint().0[0]
}

/// [`check_path_loss`] with the witness `(q, r)` for the clamped loss `e`
/// chosen by `split(e)`; only the Euclidean split satisfies the system.
fn check_path_loss_with_split(
    dist_sq: &FpVar<Fr>,
    eirp: &FpVar<Fr>,
    rssi: &FpVar<Fr>,
    k_q32: &FpVar<Fr>,
    split: &dyn Fn(u64) -> (u64, u64),
) -> Result<PathLossVar, SynthesisError> {
    // 1. Sign and magnitude of the loss.
    let loss = eirp - rssi;
    let shifted = range::to_bits_le(&(loss + pow2(LOSS_BITS)), LOSS_BITS + 1)?;
    let non_negative = shifted[LOSS_BITS].clone();
    let m = range::from_bits_le(&shifted[..LOSS_BITS])?;
    let max_loss = FpVar::Constant(Fr::from(MAX_LOSS_DB.unsigned_abs()));
    let small = range::is_le(&m, &max_loss, LOSS_BITS)?;
    let stronger = !&non_negative;
    let below = &non_negative & &!&small;
    let in_range = &non_negative & &small;

    // 2. e = 10 q + r, the Euclidean split of the clamped loss.
    let e = FpVar::from(in_range.clone()) * &m;
    let cs = e.cs();
    let mode = if e.is_constant() {
        AllocationMode::Constant
    } else {
        AllocationMode::Witness
    };
    let e_val = || e.value().map(low_u64);
    let q_bits = (0..Q_BITS)
        .map(|i| {
            Boolean::new_variable(
                cs.clone(),
                || e_val().map(|v| (split(v).0 >> i) & 1 == 1),
                mode,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let r_hot = (0..TEN_POW_TENTHS_Q20.len() as u64)
        .map(|j| Boolean::new_variable(cs.clone(), || e_val().map(|v| split(v).1 == j), mode))
        .collect::<Result<Vec<_>, _>>()?;
    let hot: Vec<FpVar<Fr>> = r_hot.iter().map(|b| FpVar::from(b.clone())).collect();
    let ones: Vec<(Fr, FpVar<Fr>)> = hot.iter().map(|h| (Fr::ONE, h.clone())).collect();
    linear_combination(&ones)?.enforce_equal(&FpVar::one())?;
    let mut split_terms: Vec<(Fr, FpVar<Fr>)> = hot
        .iter()
        .enumerate()
        .map(|(j, h)| (Fr::from(j as u64), h.clone()))
        .collect();
    split_terms.extend(
        q_bits
            .iter()
            .enumerate()
            .map(|(i, b)| (Fr::from(10u64 << i), FpVar::from(b.clone()))),
    );
    linear_combination(&split_terms)?.enforce_equal(&e)?;

    // 3. rhs = K * 10^q * T[r].
    let mut ten_pow_q = FpVar::one();
    for (i, b) in q_bits.iter().enumerate() {
        let step = Fr::from(10u64).pow([1u64 << i]) - Fr::ONE;
        ten_pow_q *= FpVar::from(b.clone()) * step + Fr::ONE;
    }
    let t_terms: Vec<(Fr, FpVar<Fr>)> = hot
        .iter()
        .zip(TEN_POW_TENTHS_Q20)
        .map(|(h, t)| (Fr::from(t), h.clone()))
        .collect();
    let t = linear_combination(&t_terms)?;
    let rhs = k_q32 * ten_pow_q * t;
    let lhs = dist_sq * pow2(LHS_SHIFT as usize);

    // 4. The bound.
    let fits = range::is_le(&lhs, &rhs, CMP_BITS)?;
    Ok(PathLossVar {
        plausible: &in_range & &fits,
        stronger_than_transmitted: stronger,
        below_sensitivity: below,
        too_strong_for_distance: &in_range & &!&fits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::signed_to_fr;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode};
    use depin_crypto::geo::{self as native, k_q32_for_mhz, max_dist_sq_scaled};
    use proptest::prelude::*;

    const DBM_MIN: i32 = -(1 << 15);
    const DBM_MAX: i32 = (1 << 15) - 1;
    const DIST_MAX: u64 = (1 << 63) - 1;

    struct Inputs {
        cs: ConstraintSystemRef<Fr>,
        dist: FpVar<Fr>,
        eirp: FpVar<Fr>,
        rssi: FpVar<Fr>,
        k: FpVar<Fr>,
    }

    fn alloc(dist_sq: u64, eirp: i32, rssi: i32, k: u32) -> Inputs {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let w = |v: Fr| FpVar::new_witness(cs.clone(), || Ok(v)).unwrap();
        Inputs {
            dist: w(Fr::from(dist_sq)),
            eirp: w(signed_to_fr(eirp.into())),
            rssi: w(signed_to_fr(rssi.into())),
            k: w(Fr::from(k)),
            cs,
        }
    }

    /// The gadget's verdict (asserting satisfiability and one-hotness).
    fn gadget(dist_sq: u64, eirp: i32, rssi: i32, k: u32) -> PathLoss {
        let v = alloc(dist_sq, eirp, rssi, k);
        enforce_path_loss_domain(&v.eirp, &v.rssi, &v.k).unwrap();
        let out = check_path_loss(&v.dist, &v.eirp, &v.rssi, &v.k).unwrap();
        assert!(
            v.cs.is_satisfied().unwrap(),
            "unsatisfiable at d2={dist_sq} eirp={eirp} rssi={rssi} k={k}"
        );
        out.value().unwrap()
    }

    fn agrees(dist_sq: u64, eirp: i32, rssi: i32, k: u32) {
        assert_eq!(
            gadget(dist_sq, eirp, rssi, k),
            native::check_path_loss(dist_sq, eirp, rssi, k),
            "d2={dist_sq} eirp={eirp} rssi={rssi} k={k}"
        );
    }

    /// The largest squared distance still plausible at `loss`, clamped to the
    /// domain.
    fn boundary(loss: u32, k: u32) -> u64 {
        let rhs = max_dist_sq_scaled(loss, k).unwrap();
        u64::try_from(rhs >> LHS_SHIFT)
            .unwrap_or(DIST_MAX)
            .min(DIST_MAX)
    }

    #[test]
    fn distance_matches_native_at_the_edges() {
        let max = (1u32 << 31) - 1;
        let edges = [0u32, 1, 2, max / 2, max - 1, max];
        for &ax in &edges {
            for &by in &edges {
                let (a, b) = ((ax, by), (by, ax));
                let cs = ConstraintSystem::<Fr>::new_ref();
                let w = |v: u32| FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap();
                let (a0, a1, b0, b1) = (w(a.0), w(a.1), w(b.0), w(b.1));
                for c in [&a0, &a1, &b0, &b1] {
                    enforce_coordinate(c).unwrap();
                }
                let d = distance_sq((&a0, &a1), (&b0, &b1)).unwrap();
                assert!(cs.is_satisfied().unwrap());
                assert_eq!(
                    d.value().unwrap(),
                    Fr::from(native::distance_sq(a, b).unwrap())
                );
            }
        }
    }

    #[test]
    fn out_of_range_coordinate_leaves_enforce_coordinate_unsatisfied() {
        for v in [1u64 << 31, (1 << 32) - 1, 1 << 40] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap();
            enforce_coordinate(&x).unwrap();
            assert!(!cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn out_of_domain_inputs_leave_enforce_path_loss_domain_unsatisfied() {
        let ok = |eirp: i64, rssi: i64, k: u64| {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let w = |v: Fr| FpVar::new_witness(cs.clone(), || Ok(v)).unwrap();
            let (e, r, k) = (w(signed_to_fr(eirp)), w(signed_to_fr(rssi)), w(Fr::from(k)));
            enforce_path_loss_domain(&e, &r, &k).unwrap();
            cs.is_satisfied().unwrap()
        };
        assert!(ok(DBM_MIN.into(), DBM_MAX.into(), u32::MAX.into()));
        assert!(!ok(i64::from(DBM_MIN) - 1, 0, 0));
        assert!(!ok(0, i64::from(DBM_MAX) + 1, 0));
        assert!(!ok(0, 0, 1 << 32));
    }

    #[test]
    fn loss_edges_match_native() {
        let k = k_q32_for_mhz(915);
        let eirp = 27;
        for loss in [
            -1i32, 0, 1, 9, 10, 11, 99, 100, 189, 190, 198, 199, 200, 201,
        ] {
            let rssi = eirp - loss;
            let mut dists = vec![0u64, 1, 1_000_000, DIST_MAX];
            if (0..=199).contains(&loss) {
                let b = boundary(loss.unsigned_abs(), k);
                dists.extend([b.saturating_sub(1), b, b.saturating_add(1).min(DIST_MAX)]);
            }
            for d in dists {
                agrees(d, eirp, rssi, k);
            }
        }
    }

    #[test]
    fn every_loss_at_its_boundary_matches_native() {
        // For each loss in 0..=199 the boundary distance is plausible and one
        // more square metre is not (unless the boundary passes the domain).
        for (k, eirp) in [
            (k_q32_for_mhz(915), 36),
            (u32::MAX, DBM_MAX),
            (1, DBM_MIN + 199),
        ] {
            for loss in 0..=199i32 {
                let b = boundary(loss.unsigned_abs(), k);
                agrees(b, eirp, eirp - loss, k);
                if b < DIST_MAX {
                    assert_eq!(
                        gadget(b + 1, eirp, eirp - loss, k),
                        PathLoss::TooStrongForDistance
                    );
                }
            }
        }
    }

    #[test]
    fn domain_extremes_match_native() {
        let ks = [0u32, 1, k_q32_for_mhz(915), u32::MAX];
        let dbm = [DBM_MIN, DBM_MIN + 1, -1, 0, 1, DBM_MAX - 1, DBM_MAX];
        for &k in &ks {
            for &eirp in &dbm {
                for &rssi in &dbm {
                    for d in [0u64, DIST_MAX] {
                        agrees(d, eirp, rssi, k);
                    }
                }
            }
        }
    }

    /// Whether the system is satisfied with `(q, r)` forced as the split.
    fn satisfied_with_split(loss: i32, q: u64, r: u64) -> bool {
        let k = k_q32_for_mhz(915);
        let v = alloc(1_000_000, 27, 27 - loss, k);
        let _ = check_path_loss_with_split(&v.dist, &v.eirp, &v.rssi, &v.k, &|_| (q, r)).unwrap();
        v.cs.is_satisfied().unwrap()
    }

    #[test]
    fn dishonest_loss_split_is_unsatisfiable() {
        // Every (q, r) a 5-bit q and a one-hot r can express, plus r >= 10
        // (no one-hot bit set). Only the Euclidean split of the clamped
        // loss satisfies the system; out-of-range losses clamp to 0.
        for loss in [0i32, 5, 15, 99, 150, 199, 200, -1] {
            let e = if (0..=199).contains(&loss) {
                loss.unsigned_abs().into()
            } else {
                0u64
            };
            for q in 0..32u64 {
                for r in 0..16u64 {
                    let honest = (q, r) == (e / 10, e % 10);
                    assert_eq!(
                        satisfied_with_split(loss, q, r),
                        honest,
                        "loss {loss} q {q} r {r}"
                    );
                }
            }
        }
    }

    #[test]
    fn constant_inputs_fold() {
        let k = k_q32_for_mhz(915);
        for (d, eirp, rssi) in [
            (1_000_000u64, 27, 27 - 93),
            (1_000_000, 27, 27 - 90),
            (0, 0, 1),
        ] {
            let c = |v: Fr| FpVar::Constant(v);
            let out = check_path_loss(
                &c(Fr::from(d)),
                &c(signed_to_fr(eirp.into())),
                &c(signed_to_fr(rssi.into())),
                &c(Fr::from(k)),
            )
            .unwrap();
            assert_eq!(
                out.value().unwrap(),
                native::check_path_loss(d, eirp, rssi, k)
            );
        }
    }

    #[test]
    fn constraint_counts() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        let w = || FpVar::new_witness(cs.clone(), || Ok(Fr::ONE)).unwrap();
        let (x0, y0, x1, y1) = (w(), w(), w(), w());
        let before = cs.num_constraints();
        let d = distance_sq((&x0, &y0), (&x1, &y1)).unwrap();
        assert_eq!(cs.num_constraints() - before, 2);
        let before = cs.num_constraints();
        enforce_coordinate(&x0).unwrap();
        assert_eq!(cs.num_constraints() - before, COORD_BITS + 1);
        let (eirp, rssi, k) = (w(), w(), w());
        let before = cs.num_constraints();
        enforce_path_loss_domain(&eirp, &rssi, &k).unwrap();
        assert_eq!(cs.num_constraints() - before, 67);
        let before = cs.num_constraints();
        let _ = check_path_loss(&d, &eirp, &rssi, &k).unwrap();
        let n = cs.num_constraints() - before;
        println!("path-loss check: {n} constraints");
        assert_eq!(n, PATH_LOSS_CONSTRAINTS);
    }

    fn dbm() -> impl Strategy<Value = i32> {
        prop_oneof![
            DBM_MIN..=DBM_MAX,
            Just(DBM_MIN),
            Just(DBM_MAX),
            -150i32..=50,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_distance_matches_native(
            a in (0u32..1 << 31, 0u32..1 << 31),
            b in (0u32..1 << 31, 0u32..1 << 31),
        ) {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let w = |v: u32| FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap();
            let d = distance_sq((&w(a.0), &w(a.1)), (&w(b.0), &w(b.1))).unwrap();
            prop_assert_eq!(d.value().unwrap(), Fr::from(native::distance_sq(a, b).unwrap()));
        }

        #[test]
        fn prop_path_loss_matches_native_anywhere(
            d in prop_oneof![0u64..=DIST_MAX, 0u64..10_000_000_000, Just(DIST_MAX)],
            eirp in dbm(),
            rssi in dbm(),
            k in prop_oneof![any::<u32>(), Just(0u32), Just(u32::MAX)],
        ) {
            prop_assert_eq!(gadget(d, eirp, rssi, k), native::check_path_loss(d, eirp, rssi, k));
        }

        #[test]
        fn prop_path_loss_matches_native_near_the_boundary(
            loss in -3i32..=202,
            eirp in -20000i32..=20000,
            k in any::<u32>(),
            delta in -2i64..=2,
        ) {
            let rssi = eirp - loss;
            let d = if (0..=199).contains(&loss) {
                let b = i128::from(boundary(loss.unsigned_abs(), k)) + i128::from(delta);
                u64::try_from(b.clamp(0, i128::from(DIST_MAX))).unwrap()
            } else {
                1_000_000
            };
            prop_assert_eq!(gadget(d, eirp, rssi, k), native::check_path_loss(d, eirp, rssi, k));
        }
    }
}
