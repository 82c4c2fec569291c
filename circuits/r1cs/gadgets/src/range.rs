//! Bit decompositions, range checks and comparisons on bounded integers held
//! in `FpVar<Fr>`.
//!
//! An integer `v` in `[0, 2^n)` is the field element `v`; a signed integer
//! `v` in `[-2^k, 2^k)` is the field element `v mod p` (negative values are
//! `p - |v|`, see [`signed_to_fr`]).
//!
//! # What is proven
//!
//! - [`to_bits_le`] / [`enforce_bits`]: `x = sum b_i 2^i` with `n` boolean
//!   `b_i`, hence `x < 2^n` as an integer. Since `n <= 252` and
//!   `2^252 < p`, the sum cannot wrap around the modulus, so the bits are the
//!   unique binary expansion of `x`. Cost: `n + 1` constraints.
//! - [`is_less_than`] / [`is_le`]: the bit `a < b` (resp. `a <= b`) from the
//!   top bit of `a - b + 2^n`, decomposed in `n + 1` bits. Cost: `n + 2`.
//! - [`enforce_less_than`] / [`enforce_le`]: `b - a - 1` (resp. `b - a`) fits
//!   in `n` bits. Cost: `n + 1`.
//! - [`is_in_range`]: `lo <= x <= hi`. Cost: `2n + 5`.
//! - [`is_zero`] / [`is_nonzero`]: 2 constraints, any field element.
//! - [`fits_in_bits`] / [`is_signed_in_range`]: for an *arbitrary* field
//!   element, whether it is below `2^n` (resp. a signed value in
//!   `[-2^k, 2^k)`), via the unique canonical 254-bit decomposition.
//!   Cost: [`FITS_IN_BITS_CONSTRAINTS`] = 642, for untrusted values that
//!   must be excluded rather than rejected.
//! - [`signed_to_offset`]: enforces a signed `x` in `[-2^k, 2^k)` and returns
//!   `x + 2^k` in `[0, 2^(k+1))`. Cost: `k + 2`.
//!
//! # Soundness assumptions (preconditions)
//!
//! The comparison gadgets ([`is_less_than`], [`is_le`], [`enforce_less_than`],
//! [`enforce_le`], [`is_in_range`]) require every operand to be an integer
//! already known to be `< 2^n` (range-checked by the caller, e.g. with
//! [`enforce_bits`], or produced by a gadget whose output is bounded). With
//! the precondition they are complete (an honest witness always exists, so a
//! `Boolean`-returning gadget never makes the system unsatisfiable) and
//! sound (the returned bit is the true comparison). Without it the result is
//! meaningless and the system may become unsatisfiable.
//!
//! Gadgets that *enforce* (`to_bits_le`, `enforce_*`, `signed_to_offset`)
//! leave the system unsatisfied when the claim is false. Gadgets that return
//! a [`Boolean`] never do so while their preconditions hold, so callers can
//! use the bit to exclude a bad record instead.
//!
//! Widths beyond the documented maxima, and constant inputs that violate the
//! claim, are reported as [`SynthesisError::Unsatisfiable`] at synthesis time.

use ark_bn254::Fr;
use ark_ff::{BigInteger, Field, PrimeField};
use ark_r1cs_std::{
    alloc::AllocVar,
    boolean::Boolean,
    convert::ToBitsGadget,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    GR1CSVar,
};
use ark_relations::gr1cs::SynthesisError;

/// Widest decomposition [`to_bits_le`] accepts (`2^252 < p`).
pub const MAX_BITS: usize = 252;

/// Widest comparison: operands below `2^251`, so that `a - b + 2^n` fits in
/// [`MAX_BITS`] bits.
pub const MAX_CMP_BITS: usize = MAX_BITS - 1;

/// Bits of BN254's scalar field modulus.
const FIELD_BITS: usize = Fr::MODULUS_BIT_SIZE as usize;

/// Constraints of [`fits_in_bits`] and [`is_signed_in_range`] on a variable:
/// a canonical 254-bit decomposition plus a zero test.
pub const FITS_IN_BITS_CONSTRAINTS: usize = 642;

/// `2^n` as a field element.
pub fn pow2(n: usize) -> Fr {
    Fr::from(2u64).pow([n as u64])
}

/// The field encoding of a signed integer: `v` for `v >= 0`, `p - |v|`
/// otherwise.
pub fn signed_to_fr(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v.unsigned_abs())
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

/// `sum c_i x_i` as one linear combination (no constraints).
pub(crate) fn linear_combination(terms: &[(Fr, FpVar<Fr>)]) -> Result<FpVar<Fr>, SynthesisError> {
    let (coeffs, vars): (Vec<FpVar<Fr>>, Vec<FpVar<Fr>>) = terms
        .iter()
        .map(|(c, v)| (FpVar::Constant(*c), v.clone()))
        .unzip();
    FpVar::inner_product(&coeffs, &vars)
}

/// The integer `sum b_i 2^i` of little-endian `bits` (no constraints).
///
/// At most [`MAX_BITS`] bits, so that the sum cannot wrap.
pub fn from_bits_le(bits: &[Boolean<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    if bits.len() > MAX_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let terms: Vec<(Fr, FpVar<Fr>)> = bits
        .iter()
        .enumerate()
        .map(|(i, b)| (pow2(i), FpVar::from(b.clone())))
        .collect();
    linear_combination(&terms)
}

/// The `n` little-endian bits of `x`, enforcing `x < 2^n` (`n <= 252`).
///
/// Costs `n + 1` constraints (`n` booleanity checks and one recomposition);
/// a constant `x` costs nothing and is an error if it does not fit.
pub fn to_bits_le(x: &FpVar<Fr>, n: usize) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    if n > MAX_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    match x {
        FpVar::Constant(c) => {
            let big = c.into_bigint();
            if big.num_bits() as usize > n {
                return Err(SynthesisError::Unsatisfiable);
            }
            Ok((0..n).map(|i| Boolean::constant(big.get_bit(i))).collect())
        }
        FpVar::Var(_) => {
            let cs = x.cs();
            let bits = (0..n)
                .map(|i| {
                    Boolean::new_witness(cs.clone(), || {
                        x.value().map(|v| v.into_bigint().get_bit(i))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            from_bits_le(&bits)?.enforce_equal(x)?;
            Ok(bits)
        }
    }
}

/// Enforces `x < 2^n` (`n <= 252`): [`to_bits_le`] without the bits.
pub fn enforce_bits(x: &FpVar<Fr>, n: usize) -> Result<(), SynthesisError> {
    to_bits_le(x, n).map(|_| ())
}

/// Whether `a < b`, for `a, b` already known to be `< 2^n` (`n <= 251`).
///
/// `a - b + 2^n` lies in `[1, 2^(n+1))` and its bit `n` is set exactly when
/// `a >= b`. Costs `n + 2` constraints.
pub fn is_less_than(a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> Result<Boolean<Fr>, SynthesisError> {
    if n > MAX_CMP_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let shifted = a - b + pow2(n);
    let bits = to_bits_le(&shifted, n + 1)?;
    Ok(!&bits[n])
}

/// Whether `a <= b`, for `a, b` already known to be `< 2^n` (`n <= 251`).
/// Costs `n + 2` constraints.
pub fn is_le(a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> Result<Boolean<Fr>, SynthesisError> {
    Ok(!is_less_than(b, a, n)?)
}

/// Enforces `a < b`, for `a, b` already known to be `< 2^n` (`n <= 251`):
/// `b - a - 1` fits in `n` bits. Costs `n + 1` constraints.
pub fn enforce_less_than(a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> Result<(), SynthesisError> {
    if n > MAX_CMP_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    enforce_bits(&(b - a - Fr::ONE), n)
}

/// Enforces `a <= b`, for `a, b` already known to be `< 2^n` (`n <= 251`):
/// `b - a` fits in `n` bits. Costs `n + 1` constraints.
pub fn enforce_le(a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> Result<(), SynthesisError> {
    if n > MAX_CMP_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    enforce_bits(&(b - a), n)
}

/// Whether `lo <= x <= hi` (inclusive), for `x, lo, hi` already known to be
/// `< 2^n` (`n <= 251`). Costs `2n + 5` constraints.
pub fn is_in_range(
    x: &FpVar<Fr>,
    lo: &FpVar<Fr>,
    hi: &FpVar<Fr>,
    n: usize,
) -> Result<Boolean<Fr>, SynthesisError> {
    let above = is_le(lo, x, n)?;
    let below = is_le(x, hi, n)?;
    Ok(&above & &below)
}

/// Whether `x == 0`, for any field element. Costs 2 constraints.
pub fn is_zero(x: &FpVar<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    x.is_zero()
}

/// Whether `x != 0`, for any field element. Costs 2 constraints.
pub fn is_nonzero(x: &FpVar<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    Ok(!is_zero(x)?)
}

/// Whether an *arbitrary* field element `x` is an integer below `2^n`.
///
/// No precondition: `x` is decomposed into its unique canonical 254 bits
/// (enforced below the modulus) and the bits from `n` up are tested for
/// zero. Costs [`FITS_IN_BITS_CONSTRAINTS`] on a variable (nothing on a
/// constant, or when `n >= 254`); use it to exclude untrusted values, and
/// [`enforce_bits`] when a value out of range may simply make the proof
/// fail.
pub fn fits_in_bits(x: &FpVar<Fr>, n: usize) -> Result<Boolean<Fr>, SynthesisError> {
    match x {
        FpVar::Constant(c) => Ok(Boolean::constant(c.into_bigint().num_bits() as usize <= n)),
        FpVar::Var(_) => {
            if n >= FIELD_BITS {
                return Ok(Boolean::TRUE);
            }
            let bits = x.to_bits_le()?;
            let high = bits.get(n..).unwrap_or(&[]);
            // At most 254 ones: the sum is an exact small integer.
            let terms: Vec<(Fr, FpVar<Fr>)> = high
                .iter()
                .map(|b| (Fr::ONE, FpVar::from(b.clone())))
                .collect();
            is_zero(&linear_combination(&terms)?)
        }
    }
}

/// Enforces that `x` encodes a signed integer in `[-2^k, 2^k)` (`k <= 251`)
/// and returns `x + 2^k`, an integer in `[0, 2^(k+1))` that keeps the order
/// of the signed values. Costs `k + 2` constraints.
pub fn signed_to_offset(x: &FpVar<Fr>, k: usize) -> Result<FpVar<Fr>, SynthesisError> {
    if k > MAX_CMP_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let offset = x + pow2(k);
    enforce_bits(&offset, k + 1)?;
    Ok(offset)
}

/// Whether an *arbitrary* field element `x` encodes a signed integer in
/// `[-2^k, 2^k)` (`k <= 251`). Costs [`FITS_IN_BITS_CONSTRAINTS`].
pub fn is_signed_in_range(x: &FpVar<Fr>, k: usize) -> Result<Boolean<Fr>, SynthesisError> {
    if k > MAX_CMP_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    fits_in_bits(&(x + pow2(k)), k + 1)
}

#[cfg(test)]
mod tests;
