//! Equality, zero tests and conjunctions with every witness pinned, for
//! circuits that must stay satisfiable on every input (a statement excludes
//! a bad record instead of failing the proof), so no hint may be left free.
//!
//! arkworks' `is_eq`/`is_zero` leave the inverse hint unconstrained when the
//! value is zero; the gadgets here add `inv * bit = 0`, which pins it to 0.
//! [`is_equal`] allocates the bit before the inverse, [`is_zero`] the
//! inverse before the bit: both orders are in use by the statement circuits
//! and frozen by their keys (the variable order is part of the proving key),
//! so both are kept.

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, Zero};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::{AllocatedBool, Boolean};
use ark_r1cs_std::fields::{fp::FpVar, FieldVar};
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::SynthesisError;

/// Bits needed to write `n` (0 for 0).
pub const fn bit_width(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()) as usize
}

/// The bit `a == b` for any field elements, with every witness pinned:
/// `d = a - b`, `d * inv = 1 - eq`, `d * eq = 0`, `inv * eq = 0`. For
/// `d != 0` the second gives `eq = 0` and the first `inv = 1/d`; for `d = 0`
/// the first gives `eq = 1` and the third `inv = 0`. 3 constraints (the bit
/// needs no booleanity check: it is 0 or 1 in both cases); the bit is
/// allocated before the inverse.
pub fn is_equal(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    let d = a - b;
    if let FpVar::Constant(v) = &d {
        return Ok(Boolean::constant(v.is_zero()));
    }
    let cs = d.cs();
    let eq = Boolean::from(AllocatedBool::new_witness_without_booleanity_check(
        cs.clone(),
        || Ok(d.value()?.is_zero()),
    )?);
    let inv = FpVar::new_witness(cs, || Ok(d.value()?.inverse().unwrap_or(Fr::ZERO)))?;
    let eq_fp = FpVar::from(eq.clone());
    d.mul_equals(&inv, &(FpVar::one() - &eq_fp))?;
    d.mul_equals(&eq_fp, &FpVar::zero())?;
    inv.mul_equals(&eq_fp, &FpVar::zero())?;
    Ok(eq)
}

/// Whether `x == 0`, with every witness pinned: `x * inv = 1 - out`,
/// `x * out = 0`, `out * inv = 0` (so `out` is boolean and `inv` is `1/x`
/// or 0). 3 constraints; the inverse is allocated before the bit.
pub fn is_zero(x: &FpVar<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    if let FpVar::Constant(c) = x {
        return Ok(Boolean::constant(c.is_zero()));
    }
    let cs = x.cs();
    let inv = FpVar::new_witness(cs.clone(), || Ok(x.value()?.inverse().unwrap_or(Fr::ZERO)))?;
    let out = Boolean::from(AllocatedBool::new_witness_without_booleanity_check(
        cs,
        || Ok(x.value()?.is_zero()),
    )?);
    let out_fp = FpVar::from(out.clone());
    x.mul_equals(&inv, &(FpVar::one() - &out_fp))?;
    x.mul_equals(&out_fp, &FpVar::zero())?;
    out_fp.mul_equals(&inv, &FpVar::zero())?;
    Ok(out)
}

/// Enforces `x != 0` with an inverse (1 constraint: `x * inv = 1`; the
/// inverse is unique).
pub fn enforce_nonzero(x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    let inv = FpVar::new_witness(x.cs(), || Ok(x.value()?.inverse().unwrap_or(Fr::ZERO)))?;
    x.mul_equals(&inv, &FpVar::one())
}

/// `a AND b` (one constraint unless either is a constant).
pub fn and(a: &Boolean<Fr>, b: &Boolean<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    match (a, b) {
        (Boolean::Constant(false), _) | (_, Boolean::Constant(false)) => Ok(Boolean::FALSE),
        (Boolean::Constant(true), x) | (x, Boolean::Constant(true)) => Ok(x.clone()),
        (Boolean::Var(x), Boolean::Var(y)) => Ok(Boolean::Var(x.and(y)?)),
    }
}

/// The AND of `bits`: products for up to three variables, otherwise
/// `n - sum == 0` with [`is_zero`] (3 constraints).
pub fn and_all(bits: &[Boolean<Fr>]) -> Result<Boolean<Fr>, SynthesisError> {
    let mut vars = Vec::with_capacity(bits.len());
    for b in bits {
        match b {
            Boolean::Constant(false) => return Ok(Boolean::FALSE),
            Boolean::Constant(true) => {}
            v => vars.push(v.clone()),
        }
    }
    if vars.len() <= 3 {
        return Ok(vars.iter().fold(Boolean::TRUE, |acc, b| &acc & b));
    }
    let sum = vars
        .iter()
        .fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()));
    is_zero(&(sum - Fr::from(vars.len() as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, R1CS_PREDICATE_LABEL};

    fn var(cs: &ConstraintSystemRef<Fr>, v: u64) -> FpVar<Fr> {
        FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap()
    }

    #[test]
    fn equality_and_zero_bits_are_right_and_satisfiable() {
        for (a, b) in [(0u64, 0u64), (5, 5), (5, 6), (0, 9)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let (x, y) = (var(&cs, a), var(&cs, b));
            let before = cs.num_constraints();
            assert_eq!(is_equal(&x, &y).unwrap().value().unwrap(), a == b);
            assert_eq!(cs.num_constraints() - before, 3);
            assert_eq!(is_zero(&(&x - &y)).unwrap().value().unwrap(), a == b);
            assert!(cs.is_satisfied().unwrap(), "{a} {b}");
        }
    }

    /// Whether every R1CS row holds for the finalized `cs` with witness
    /// `index` replaced by `value`.
    fn holds_with(cs: &ConstraintSystemRef<Fr>, index: usize, value: Fr) -> bool {
        cs.finalize();
        let m = cs.to_matrices().unwrap();
        let [a, b, c] = &m[R1CS_PREDICATE_LABEL][..] else {
            panic!("three R1CS matrices")
        };
        let inner = cs.borrow().unwrap();
        let mut z = inner.instance_assignment().unwrap().to_vec();
        let offset = z.len();
        z.extend_from_slice(inner.witness_assignment().unwrap());
        z[offset + index] = value;
        let dot = |r: &[(Fr, usize)]| r.iter().map(|(k, i)| *k * z[*i]).sum::<Fr>();
        (0..a.len()).all(|r| dot(&a[r]) * dot(&b[r]) == dot(&c[r]))
    }

    #[test]
    fn the_inverse_hint_is_pinned() {
        // Witnesses: x, y, then is_equal's bit and inverse (index 3), then
        // is_zero's inverse (index 4) and bit. With `x - y = 0`, any
        // nonzero inverse breaks `inv * bit = 0`.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (x, y) = (var(&cs, 3), var(&cs, 3));
        assert!(is_equal(&x, &y).unwrap().value().unwrap());
        assert!(is_zero(&(&x - &y)).unwrap().value().unwrap());
        assert!(holds_with(&cs, 3, Fr::ZERO));
        assert!(!holds_with(&cs, 3, Fr::from(7u64)));
        assert!(!holds_with(&cs, 4, Fr::from(7u64)));
    }

    #[test]
    fn conjunctions() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let t = Boolean::new_witness(cs.clone(), || Ok(true)).unwrap();
        let f = Boolean::new_witness(cs.clone(), || Ok(false)).unwrap();
        assert!(and(&t, &t).unwrap().value().unwrap());
        assert!(!and(&t, &f).unwrap().value().unwrap());
        assert!(!and(&Boolean::FALSE, &t).unwrap().value().unwrap());
        let five_true = vec![t.clone(); 5];
        assert!(and_all(&five_true).unwrap().value().unwrap());
        let mut four_and_false = vec![t.clone(); 4];
        four_and_false.push(f);
        assert!(!and_all(&four_and_false).unwrap().value().unwrap());
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(bit_width(0), 0);
        assert_eq!(bit_width(96), 7);
        assert_eq!(bit_width(32), 6);
    }
}
