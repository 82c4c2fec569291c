//! Bit decompositions, range checks and comparisons as halo2-base gates,
//! with the meaning of the R1CS range gadgets (`depin_gadgets::range`).
//!
//! An integer `v` in `[0, 2^n)` is the field element `v`.
//!
//! # What is proven
//!
//! - [`RangeGates::to_bits_le`]: `x = sum b_i 2^i` with `n` bits each
//!   constrained boolean, hence `x < 2^n`; with `n <= 252` (`2^252 < p`)
//!   the sum cannot wrap, so the bits are the unique expansion of `x`. An
//!   `x` at or above `2^n` leaves the circuit unsatisfied.
//! - [`RangeGates::canonical_bits`]: the unique 254-bit expansion of *any*
//!   field element: the bits, their sum, and the bit string below `p`
//!   enforced.
//! - [`RangeGates::is_less_than_const`]: the bit `sum b_i 2^i < k` for
//!   boolean cells and a constant `k`, scanned from the least significant
//!   bit (`r' = b < k_i or (b = k_i and r)`).
//! - [`RangeGates::is_less_than`] / [`RangeGates::is_le`]: the bit `a < b`
//!   (`a <= b`) for integers known to be below `2^n`, from the top bit of
//!   `a - b + 2^n` decomposed in `n + 1` bits.
//! - [`RangeGates::fits_in_bits`]: for an arbitrary field element, whether
//!   it is below `2^n`, through its canonical bits;
//!   [`RangeGates::is_signed_in_range`] likewise for a signed value in
//!   `[-2^k, 2^k)` (negative values are `p - |v|`), and
//!   [`RangeGates::signed_to_offset`] enforces it and returns `x + 2^k`.
//!
//! Comparisons use the flex gate only, no lookup table, so a circuit built
//! from them keeps one advice column; a lookup-based range check
//! (halo2-base's `RangeChip`, `lookup_bits`-wide limbs) would cut a
//! `n`-bit decomposition from about `7 n` cells to about `n / lookup_bits`
//! lookups, at the price of a lookup column.
//!
//! # Preconditions
//!
//! [`RangeGates::is_less_than`] and [`RangeGates::is_le`] need both
//! operands below `2^n` (range-checked by the caller); with it they never
//! make the circuit unsatisfiable and return the true comparison.

use ark_ff::{BigInt, BigInteger, PrimeField};
use depin_crypto::field::Fr as NativeFr;
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField as _};
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

/// Widest decomposition [`RangeGates::to_bits_le`] accepts (`2^252 < p`).
pub const MAX_BITS: usize = 252;
/// Widest comparison (`n + 1 <= MAX_BITS`).
pub const MAX_CMP_BITS: usize = MAX_BITS - 1;
/// Bits of the canonical decomposition of a BN254 scalar field element.
pub const FIELD_BITS: usize = 254;

/// Why a range gate cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The requested width is zero or above the gate's maximum.
    #[error("a width of {bits} bits is outside 1..={max}")]
    Width {
        /// The width asked for.
        bits: usize,
        /// The widest the gate takes.
        max: usize,
    },
}

fn check_width(bits: usize, max: usize) -> Result<(), RangeError> {
    if bits == 0 || bits > max {
        Err(RangeError::Width { bits, max })
    } else {
        Ok(())
    }
}

/// The field encoding of a signed integer: `v` for `v >= 0`, `p - |v|`
/// otherwise.
pub fn signed_to_fr(v: i64) -> Fr {
    let m = Fr::from(v.unsigned_abs());
    if v >= 0 {
        m
    } else {
        -m
    }
}

/// `2^n` in the field.
pub fn pow2(n: usize) -> Fr {
    Fr::from(2u64).pow_vartime([n as u64])
}

/// Range checks and comparisons over a halo2-base gate.
#[derive(Clone, Copy, Debug)]
pub struct RangeGates<'g, G: GateInstructions<Fr>> {
    gate: &'g G,
}

impl<'g, G: GateInstructions<Fr>> RangeGates<'g, G> {
    /// The gates over `gate`.
    pub fn new(gate: &'g G) -> Self {
        RangeGates { gate }
    }

    /// The `n` little-endian bits of `x`, enforcing `x < 2^n`
    /// (`1 <= n <= 252`).
    pub fn to_bits_le(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        n: usize,
    ) -> Result<Vec<AssignedValue<Fr>>, RangeError> {
        check_width(n, MAX_BITS)?;
        Ok(self.gate.num_to_bits(ctx, x, n))
    }

    /// Enforces `x < 2^n` (`1 <= n <= 252`).
    pub fn enforce_bits(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        n: usize,
    ) -> Result<(), RangeError> {
        self.to_bits_le(ctx, x, n).map(drop)
    }

    /// The unique little-endian 254-bit expansion of any `x`.
    pub fn canonical_bits(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
    ) -> Vec<AssignedValue<Fr>> {
        let g = self.gate;
        let repr = x.value().to_repr();
        let bits: Vec<AssignedValue<Fr>> = (0..FIELD_BITS)
            .map(|i| ctx.load_witness(Fr::from(u64::from((repr[i / 8] >> (i % 8)) & 1))))
            .collect();
        for b in &bits {
            g.assert_bit(ctx, *b);
        }
        let sum = g.inner_product(
            ctx,
            bits.iter().copied(),
            (0..FIELD_BITS).map(|i| Constant(pow2(i))),
        );
        ctx.constrain_equal(&sum, &x);
        let below_p = self.is_less_than_const(ctx, &bits, &NativeFr::MODULUS);
        g.assert_is_const(ctx, &below_p, &Fr::ONE);
        bits
    }

    /// The bit `sum bits[i] 2^i < k` for boolean `bits` and a constant `k`
    /// (bits of `k` beyond `bits.len()` must be zero for the comparison to
    /// mean what it says; they are ignored).
    pub fn is_less_than_const(
        &self,
        ctx: &mut Context<Fr>,
        bits: &[AssignedValue<Fr>],
        k: &BigInt<4>,
    ) -> AssignedValue<Fr> {
        let g = self.gate;
        let mut r = ctx.load_zero();
        for (i, b) in bits.iter().enumerate() {
            r = if k.get_bit(i) {
                // b = 0, or b = 1 and r: 1 - b (1 - r).
                let b_and_not_r = g.mul_not(ctx, r, *b);
                g.not(ctx, b_and_not_r)
            } else {
                // b = 0 and r.
                g.mul_not(ctx, *b, r)
            };
        }
        r
    }

    /// The bit `a < b` for `a, b < 2^n` (`1 <= n <= 251`).
    pub fn is_less_than(
        &self,
        ctx: &mut Context<Fr>,
        a: AssignedValue<Fr>,
        b: AssignedValue<Fr>,
        n: usize,
    ) -> Result<AssignedValue<Fr>, RangeError> {
        check_width(n, MAX_CMP_BITS)?;
        let g = self.gate;
        // a - b + 2^n is in [1, 2^(n+1)); its bit n is set iff a >= b.
        let diff = g.sub(ctx, a, b);
        let shifted = g.add(ctx, diff, Constant(pow2(n)));
        let bits = g.num_to_bits(ctx, shifted, n + 1);
        Ok(g.not(ctx, bits[n]))
    }

    /// The bit `a <= b` for `a, b < 2^n` (`1 <= n <= 251`).
    pub fn is_le(
        &self,
        ctx: &mut Context<Fr>,
        a: AssignedValue<Fr>,
        b: AssignedValue<Fr>,
        n: usize,
    ) -> Result<AssignedValue<Fr>, RangeError> {
        let lt = self.is_less_than(ctx, b, a, n)?;
        Ok(self.gate.not(ctx, lt))
    }

    /// Enforces `a <= b` for `a, b < 2^n` (`b - a` fits in `n` bits).
    pub fn enforce_le(
        &self,
        ctx: &mut Context<Fr>,
        a: AssignedValue<Fr>,
        b: AssignedValue<Fr>,
        n: usize,
    ) -> Result<(), RangeError> {
        check_width(n, MAX_BITS)?;
        let diff = self.gate.sub(ctx, b, a);
        self.enforce_bits(ctx, diff, n)
    }

    /// The bit `lo <= x <= hi` for `lo, x, hi < 2^n`.
    pub fn is_in_range(
        &self,
        ctx: &mut Context<Fr>,
        lo: AssignedValue<Fr>,
        x: AssignedValue<Fr>,
        hi: AssignedValue<Fr>,
        n: usize,
    ) -> Result<AssignedValue<Fr>, RangeError> {
        let above = self.is_le(ctx, lo, x, n)?;
        let below = self.is_le(ctx, x, hi, n)?;
        Ok(self.gate.and(ctx, above, below))
    }

    /// For any field element `x`, the bit `x < 2^n` (`1 <= n <= 254`),
    /// through its canonical bits: never unsatisfied.
    pub fn fits_in_bits(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        n: usize,
    ) -> Result<AssignedValue<Fr>, RangeError> {
        check_width(n, FIELD_BITS)?;
        let bits = self.canonical_bits(ctx, x);
        if n == FIELD_BITS {
            return Ok(ctx.load_constant(Fr::ONE));
        }
        let high = self.gate.sum(ctx, bits[n..].iter().copied());
        Ok(self.gate.is_zero(ctx, high))
    }

    /// Enforces that `x` encodes a signed integer in `[-2^k, 2^k)`
    /// (`1 <= k <= 251`, negative values as `p - |v|`) and returns `x + 2^k`,
    /// an integer in `[0, 2^(k+1))` that keeps the order of the signed
    /// values.
    pub fn signed_to_offset(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        k: usize,
    ) -> Result<AssignedValue<Fr>, RangeError> {
        check_width(k, MAX_CMP_BITS)?;
        let offset = self.gate.add(ctx, x, Constant(pow2(k)));
        self.enforce_bits(ctx, offset, k + 1)?;
        Ok(offset)
    }

    /// For any field element `x`, the bit "`x` encodes a signed integer in
    /// `[-2^k, 2^k)`" (`1 <= k <= 251`); never unsatisfied.
    pub fn is_signed_in_range(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        k: usize,
    ) -> Result<AssignedValue<Fr>, RangeError> {
        check_width(k, MAX_CMP_BITS)?;
        let offset = self.gate.add(ctx, x, Constant(pow2(k)));
        self.fits_in_bits(ctx, offset, k + 1)
    }
}
