//! Squared distances and the free-space path-loss bound as halo2-base
//! gates, the circuit side of `depin_crypto::geo` (the same computation as
//! the R1CS gadget `depin_gadgets::geo`).
//!
//! # What is proven
//!
//! - [`GeoGates::distance_sq`]: `(ax - bx)^2 + (ay - by)^2` in the field.
//!   The square of the field difference is the square of the absolute
//!   difference; with every coordinate below `2^31` the result is the exact
//!   integer, below `2^63`, that `depin_crypto::geo::distance_sq` returns.
//! - [`GeoGates::check_path_loss`]: four bits, exactly one of them one,
//!   equal to the native `depin_crypto::geo::check_path_loss` verdict for
//!   every input in the domain below, never unsatisfied on that domain.
//!
//! # How the check works
//!
//! With `loss = eirp - rssi` in `(-2^16, 2^16)`:
//!
//! 1. `loss + 2^16` in 17 bits: bit 16 is `loss >= 0`, the low 16 bits `m`
//!    equal `loss` when it is non-negative; `m <= 199` is a 16-bit
//!    comparison. This gives "stronger than transmitted", "below
//!    sensitivity" and `in_range = loss in [0, 199]`.
//! 2. `e = in_range ? m : 0` is split as `e = 10 q + r`, `q` in 5 bits and
//!    `r` one-hot over `0..=9` (ten bits summing to one). As integers
//!    everything is below 400, so only the Euclidean split satisfies the
//!    gates.
//! 3. `10^q = prod_i (1 + q_i (10^(2^i) - 1))` and
//!    `rhs = k_q32 * 10^q * T_q20[r] < 2^119`; `lhs = dist_sq * 2^52`.
//! 4. `lhs <= rhs` is a 119-bit comparison; plausible is `in_range` and
//!    the bound, too strong for the distance is `in_range` and not.
//!
//! # Domain (the caller range-checks)
//!
//! `eirp`, `rssi` signed in `[-2^15, 2^15)` ([`GeoGates::enforce_signed_dbm`]),
//! `k_q32 < 2^32`, `dist_sq < 2^63` (coordinates below `2^31`,
//! [`GeoGates::enforce_coordinate`]).

use depin_crypto::geo::{PathLoss, LHS_SHIFT, MAX_LOSS_DB, TEN_POW_TENTHS_Q20};
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_base::{
    AssignedValue, Context,
    QuantumCell::{Constant, Existing},
};

use crate::range::{pow2, RangeError, RangeGates};

/// Bits of a grid coordinate (`< 2^31`).
pub const COORD_BITS: usize = 31;
/// Signed EIRP and RSSI lie in `[-2^DBM_BITS, 2^DBM_BITS)` dBm.
pub const DBM_BITS: usize = 15;
/// Bits of the Q32 constant `K`.
pub const K_BITS: usize = 32;
/// `|loss| < 2^LOSS_BITS` in the domain.
const LOSS_BITS: usize = DBM_BITS + 1;
/// Bits of `q` (0 to 19).
const Q_BITS: usize = 5;
/// Both sides of the bound are below `2^CMP_BITS`.
const CMP_BITS: usize = 119;

/// The verdict as cells: exactly one is one.
#[derive(Clone, Copy, Debug)]
pub struct AssignedPathLoss {
    /// The signal is physically possible at that distance.
    pub plausible: AssignedValue<Fr>,
    /// `eirp - rssi < 0`.
    pub stronger_than_transmitted: AssignedValue<Fr>,
    /// `eirp - rssi > 199`.
    pub below_sensitivity: AssignedValue<Fr>,
    /// The loss is in `0..=199` but below free-space loss at that distance.
    pub too_strong_for_distance: AssignedValue<Fr>,
}

impl AssignedPathLoss {
    /// The verdict as the native enum, `None` unless exactly one bit is one.
    pub fn value(&self) -> Option<PathLoss> {
        let bits = [
            (self.plausible, PathLoss::Plausible),
            (
                self.stronger_than_transmitted,
                PathLoss::StrongerThanTransmitted,
            ),
            (self.below_sensitivity, PathLoss::BelowSensitivity),
            (self.too_strong_for_distance, PathLoss::TooStrongForDistance),
        ];
        let mut set = bits
            .iter()
            .filter(|(b, _)| *b.value() == Fr::ONE)
            .map(|(_, v)| *v);
        match (set.next(), set.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    }
}

/// Geometry and the path-loss bound over a halo2-base gate.
#[derive(Clone, Copy, Debug)]
pub struct GeoGates<'g, G: GateInstructions<Fr>> {
    gate: &'g G,
    range: RangeGates<'g, G>,
}

/// The low 64 bits of a field element.
fn low_u64(f: &Fr) -> u64 {
    let repr = f.to_repr();
    let mut w = [0u8; 8];
    w.copy_from_slice(&repr[..8]);
    u64::from_le_bytes(w)
}

impl<'g, G: GateInstructions<Fr>> GeoGates<'g, G> {
    /// The gates over `gate`.
    pub fn new(gate: &'g G) -> Self {
        GeoGates {
            gate,
            range: RangeGates::new(gate),
        }
    }

    /// Enforces a grid coordinate below `2^31`.
    pub fn enforce_coordinate(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
    ) -> Result<(), RangeError> {
        self.range.enforce_bits(ctx, x, COORD_BITS)
    }

    /// Enforces that `x` encodes a signed dBm value in `[-2^15, 2^15)`.
    pub fn enforce_signed_dbm(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
    ) -> Result<(), RangeError> {
        self.range.signed_to_offset(ctx, x, DBM_BITS).map(drop)
    }

    /// Enforces `k_q32 < 2^32`.
    pub fn enforce_k_q32(
        &self,
        ctx: &mut Context<Fr>,
        k: AssignedValue<Fr>,
    ) -> Result<(), RangeError> {
        self.range.enforce_bits(ctx, k, K_BITS)
    }

    /// The squared distance between grid points `a` and `b`.
    pub fn distance_sq(
        &self,
        ctx: &mut Context<Fr>,
        a: (AssignedValue<Fr>, AssignedValue<Fr>),
        b: (AssignedValue<Fr>, AssignedValue<Fr>),
    ) -> AssignedValue<Fr> {
        let g = self.gate;
        let dx = g.sub(ctx, a.0, b.0);
        let dy = g.sub(ctx, a.1, b.1);
        let dy2 = g.mul(ctx, dy, dy);
        g.mul_add(ctx, dx, dx, dy2)
    }

    /// The path-loss verdict for a witness at squared distance `dist_sq`
    /// hearing `rssi` dBm from a transmitter of `eirp` dBm, with
    /// `k_q32 = (c / (4 pi f))^2` in Q32. The inputs must be in the domain
    /// of the module docs.
    pub fn check_path_loss(
        &self,
        ctx: &mut Context<Fr>,
        dist_sq: AssignedValue<Fr>,
        eirp: AssignedValue<Fr>,
        rssi: AssignedValue<Fr>,
        k_q32: AssignedValue<Fr>,
    ) -> Result<AssignedPathLoss, RangeError> {
        self.check_path_loss_with_split(ctx, dist_sq, eirp, rssi, k_q32, &|e| (e / 10, e % 10))
    }

    /// [`GeoGates::check_path_loss`] with the witness `(q, r)` for the
    /// clamped loss `e` chosen by `split(e)`; only the Euclidean split
    /// satisfies the gates (the tests try others).
    fn check_path_loss_with_split(
        &self,
        ctx: &mut Context<Fr>,
        dist_sq: AssignedValue<Fr>,
        eirp: AssignedValue<Fr>,
        rssi: AssignedValue<Fr>,
        k_q32: AssignedValue<Fr>,
        split: &dyn Fn(u64) -> (u64, u64),
    ) -> Result<AssignedPathLoss, RangeError> {
        let g = self.gate;

        // 1. Sign and magnitude.
        let loss = g.sub(ctx, eirp, rssi);
        let shifted = g.add(ctx, loss, Constant(pow2(LOSS_BITS)));
        let bits = self.range.to_bits_le(ctx, shifted, LOSS_BITS + 1)?;
        let non_negative = bits[LOSS_BITS];
        let m = g.inner_product(
            ctx,
            bits[..LOSS_BITS].iter().copied(),
            (0..LOSS_BITS).map(|i| Constant(pow2(i))),
        );
        let max_loss = ctx.load_constant(Fr::from(MAX_LOSS_DB.unsigned_abs()));
        let small = self.range.is_le(ctx, m, max_loss, LOSS_BITS)?;
        let stronger = g.not(ctx, non_negative);
        let below = g.mul_not(ctx, small, non_negative);
        let in_range = g.and(ctx, non_negative, small);

        // 2. e = 10 q + r, the Euclidean split of the clamped loss.
        let e = g.mul(ctx, in_range, m);
        let (q, r) = split(low_u64(e.value()));
        let q_bits: Vec<AssignedValue<Fr>> = (0..Q_BITS)
            .map(|i| ctx.load_witness(Fr::from((q >> i) & 1)))
            .collect();
        let hot: Vec<AssignedValue<Fr>> = (0..TEN_POW_TENTHS_Q20.len() as u64)
            .map(|j| ctx.load_witness(Fr::from(u64::from(r == j))))
            .collect();
        for b in q_bits.iter().chain(&hot) {
            g.assert_bit(ctx, *b);
        }
        let ones = g.sum(ctx, hot.iter().copied());
        g.assert_is_const(ctx, &ones, &Fr::ONE);
        let split_sum = g.inner_product(
            ctx,
            hot.iter().chain(&q_bits).map(|c| Existing(*c)),
            (0..hot.len() as u64)
                .map(Fr::from)
                .chain((0..Q_BITS).map(|i| Fr::from(10u64 << i)))
                .map(Constant),
        );
        ctx.constrain_equal(&split_sum, &e);

        // 3. rhs = K * 10^q * T[r].
        let mut ten_pow_q = ctx.load_constant(Fr::ONE);
        for (i, b) in q_bits.iter().enumerate() {
            let step = Fr::from(10u64).pow_vartime([1u64 << i]) - Fr::ONE;
            let factor = g.mul_add(ctx, *b, Constant(step), Constant(Fr::ONE));
            ten_pow_q = g.mul(ctx, ten_pow_q, factor);
        }
        let t = g.inner_product(
            ctx,
            hot.iter().map(|c| Existing(*c)),
            TEN_POW_TENTHS_Q20.iter().map(|t| Constant(Fr::from(*t))),
        );
        let k_ten = g.mul(ctx, k_q32, ten_pow_q);
        let rhs = g.mul(ctx, k_ten, t);
        let lhs = g.mul(ctx, dist_sq, Constant(pow2(LHS_SHIFT as usize)));

        // 4. The bound.
        let fits = self.range.is_le(ctx, lhs, rhs, CMP_BITS)?;
        Ok(AssignedPathLoss {
            plausible: g.and(ctx, in_range, fits),
            stronger_than_transmitted: stronger,
            below_sensitivity: below,
            too_strong_for_distance: g.mul_not(ctx, fits, in_range),
        })
    }
}

#[cfg(test)]
mod tests;
