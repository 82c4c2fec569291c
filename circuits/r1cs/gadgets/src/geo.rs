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
mod tests;
