//! EdDSA-Poseidon verification on Baby Jubjub as an R1CS gadget that returns
//! a bit.
//!
//! The scheme is circomlibjs's `signPoseidon` / `verifyPoseidon` (an EdDSA,
//! Bernstein, Duif, Lange, Schwabe, Yang, "High-speed high-security
//! signatures", CHES 2011, over Baby Jubjub, Bellés-Muñoz et al.,
//! Mathematics 2021 / EIP-2494), verified exactly as
//! [`depin_crypto::eddsa::PublicKey::verify`] verifies it.
//!
//! # What is proven
//!
//! [`verify`] returns a [`Boolean`] that is true if and only if native
//! verification accepts `(A, msg, (R8, S))`, that is, all of:
//!
//! 1. `S < l` (`l` = [`SUBORDER`]), from the unique canonical 254-bit
//!    decomposition of `S` (bits below `p`, enforced) compared with `l`;
//! 2. `A` on the curve and 3. `R8` on the curve;
//! 4. `8A != O` and 5. `8 R8 != O` (neither has small order);
//! 6. the cofactored equation `8 (S Base8 - R8 - c 8A) = O`, with
//!    `c = Poseidon(R8.x, R8.y, A.x, A.y, msg)` decomposed into its unique
//!    canonical 254 bits.
//!
//! It never makes the constraint system unsatisfiable, whatever values the
//! key, the message and the signature hold, so a statement can use the bit
//! to exclude a bad record and still prove the good ones. To get there, an
//! off-curve `A` or `R8` is replaced by the constant `Base8` before any
//! addition (the complete formulas only avoid zero denominators for points
//! on the curve; the result is false anyway), every other witness exists for
//! every input, and each check is computed as a bit. The hash `c` is taken
//! over the coordinates as given. [`enforce_verify`] additionally enforces
//! the bit, for statements that must reject a bad signature outright.
//!
//! The equation is checked as `x(4 D) = 0` for
//! `D = S Base8 - (R8 + c 8A)`: for a point on the curve this holds iff
//! `8 D = O` (see [`crate::babyjubjub`]). `S Base8` uses only the low 251
//! bits of `S` (`l < 2^251`, so the high bits are zero whenever check 1
//! holds, and the result does not matter otherwise).
//!
//! # Cost
//!
//! One verification is [`VERIFY_CONSTRAINTS`] = 4,707 constraints (the
//! tests assert the total and each row):
//!
//! | part | constraints |
//! |---|---|
//! | `c` = Poseidon of 5 inputs | 321 |
//! | `S`: 254 bits, their sum, `< p` enforced | 420 |
//! | the bit `S < l` | 188 |
//! | `S Base8`, 251 bits, 3-bit windows of constants | 748 |
//! | `c`: 254 bits, their sum, `< p` enforced | 420 |
//! | `c 8A`, 254 bits, signed 2-bit windows | 2,541 |
//! | on-curve bits, substitutions, `4A`, `8A`, `4 R8`, small-order bits | 43 |
//! | `R8 + c 8A`, `D`, `x(4D) = 0`, the final AND | 26 |
//!
//! circomlib's `EdDSAPoseidonVerifier` costs 4,217. It enforces its checks
//! (when `enabled`) instead of returning a bit, and checks less: it takes
//! `S` as 253 bits (a larger `S` makes the system unsatisfiable) compared
//! with `l` by `CompConstant`, where we need the strict 254-bit
//! decomposition with its in-field check so that every `S` gets the right
//! bit; it refuses `8A = O` but neither a small-order `R8` nor points off
//! the curve, where we compute two on-curve bits, substitute a safe point
//! and add the small-order bit of `R8`; it compares `S Base8` with
//! `R8 + c 8A` directly (cofactorless), where we compute the difference and
//! two doublings for the cofactored equation of the native verifier. Its
//! scalar multiplications use Montgomery-form additions whose exceptional
//! cases do not occur for honest inputs; ours use the complete twisted
//! Edwards formulas (Bernstein, Birkner, Joye, Lange, Peters, "Twisted
//! Edwards Curves", AFRICACRYPT 2008) throughout, with signed windows, at
//! about 10 constraints per scalar bit, so no input reaches an exceptional
//! case.
//!
//! # Scalars at or above `p`
//!
//! [`Signature::s`] is an integer below `2^256`; the gadget holds `S` as a
//! field element. A native `S >= p` is refused natively (`S >= l`) and has no
//! faithful field encoding (`S mod p` could be a valid scalar), so
//! [`scalar_to_field`] (used by the [`AllocVar`] implementation) encodes it
//! as `p - 1`, which is at least `l` and makes [`verify`] return false, as
//! native verification does.

use std::borrow::Borrow;

use ark_bn254::Fr;
use ark_ff::{BigInt, BigInteger, Field, PrimeField};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    select::CondSelectGadget,
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSystemRef, Namespace, SynthesisError};
use depin_crypto::babyjubjub::{Point, SUBORDER};
use depin_crypto::eddsa::{PublicKey, Signature};

use crate::babyjubjub::PointVar;
use crate::poseidon;

/// Constraints of one [`verify`] with variable key, message and signature.
pub const VERIFY_CONSTRAINTS: usize = 4707;

/// Bits of the canonical decomposition of a BN254 scalar field element.
const FIELD_BITS: usize = Fr::MODULUS_BIT_SIZE as usize;
/// `l < 2^251`: the bits of `S` that `S Base8` uses.
const SUBORDER_BITS: usize = 251;

/// A public key `A` as a point variable (not checked on allocation).
#[derive(Clone, Debug)]
pub struct PublicKeyVar(pub PointVar);

/// A signature `(R8, S)` with `S` as a BN254 field element (not checked on
/// allocation).
#[derive(Clone, Debug)]
pub struct SignatureVar {
    /// The nonce commitment `R8`.
    pub r8: PointVar,
    /// The response `S` (see [`scalar_to_field`] for `S >= p`).
    pub s: FpVar<Fr>,
}

/// The field element that stands for a native `S`: `S` itself when
/// `S < p`, otherwise `p - 1`, which is at least `l`, so that the gadget
/// refuses it exactly as native verification does.
pub fn scalar_to_field(s: &BigInt<4>) -> Fr {
    Fr::from_bigint(*s).unwrap_or(-Fr::ONE)
}

impl PublicKeyVar {
    /// `Poseidon(A.x, A.y)`, the identifier of [`PublicKey::id`]. 240
    /// constraints.
    pub fn id(&self) -> Result<FpVar<Fr>, SynthesisError> {
        poseidon::hash2(&self.0.x, &self.0.y)
    }
}

impl AllocVar<PublicKey, Fr> for PublicKeyVar {
    /// Allocates `A` in `mode` without checking it.
    fn new_variable<T: Borrow<PublicKey>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let p = f().map(|pk| pk.borrow().0);
        Ok(PublicKeyVar(PointVar::new_variable(cs, || p, mode)?))
    }
}

impl GR1CSVar<Fr> for PublicKeyVar {
    type Value = PublicKey;

    fn cs(&self) -> ConstraintSystemRef<Fr> {
        self.0.cs()
    }

    fn value(&self) -> Result<PublicKey, SynthesisError> {
        Ok(PublicKey(self.0.value()?))
    }
}

impl AllocVar<Signature, Fr> for SignatureVar {
    /// Allocates `R8` and `S` (through [`scalar_to_field`]) in `mode`
    /// without checking them.
    fn new_variable<T: Borrow<Signature>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let ns = cs.into();
        let cs = ns.cs();
        let sig = f().map(|s| *s.borrow());
        let r8 = PointVar::new_variable(cs.clone(), || sig.map(|s| s.r8), mode)?;
        let s = FpVar::new_variable(cs, || sig.map(|s| scalar_to_field(&s.s)), mode)?;
        Ok(SignatureVar { r8, s })
    }
}

impl GR1CSVar<Fr> for SignatureVar {
    type Value = Signature;

    fn cs(&self) -> ConstraintSystemRef<Fr> {
        self.r8.cs().or(self.s.cs())
    }

    fn value(&self) -> Result<Signature, SynthesisError> {
        Ok(Signature {
            r8: self.r8.value()?,
            s: self.s.value()?.into_bigint(),
        })
    }
}

/// The AND of `items`, folding constants: `n - 1` constraints for up to 3
/// variables, 2 beyond.
fn and_all(items: &[Boolean<Fr>]) -> Result<Boolean<Fr>, SynthesisError> {
    let mut vars = Vec::with_capacity(items.len());
    for b in items {
        match b {
            Boolean::Constant(false) => return Ok(Boolean::FALSE),
            Boolean::Constant(true) => {}
            v => vars.push(v.clone()),
        }
    }
    match vars.len() {
        0 => Ok(Boolean::TRUE),
        1 => Ok(vars.swap_remove(0)),
        _ => Boolean::kary_and(&vars),
    }
}

/// The bit `sum bits[i] 2^i < k`, scanning runs of equal bits of `k` from
/// the least significant end. With `r` the comparison of the bits below a
/// run, a run of ones gives `NOT(AND(run) AND NOT r)` and a run of zeros
/// gives `AND(NOT run) AND r`: at most 2 constraints per run.
fn is_less_than_const(bits: &[Boolean<Fr>], k: &BigInt<4>) -> Result<Boolean<Fr>, SynthesisError> {
    let mut r = Boolean::FALSE;
    let mut i = 0;
    while i < bits.len() {
        let one = k.get_bit(i);
        let mut j = i;
        while j < bits.len() && k.get_bit(j) == one {
            j += 1;
        }
        if one {
            let mut items: Vec<_> = bits[i..j].to_vec();
            items.push(!&r);
            r = !and_all(&items)?;
        } else {
            let mut items: Vec<_> = bits[i..j].iter().map(|b| !b).collect();
            items.push(r);
            r = and_all(&items)?;
        }
        i = j;
    }
    Ok(r)
}

/// `sum bits[i] 2^i` as a linear combination, free (`Boolean::le_bits_to_fp`
/// would add its own in-field check for 254 bits).
fn le_bits_sum(bits: &[Boolean<Fr>]) -> FpVar<Fr> {
    let mut sum = FpVar::zero();
    let mut power = Fr::ONE;
    for b in bits {
        sum += FpVar::from(b.clone()) * power;
        power += power;
    }
    sum
}

/// The unique little-endian 254-bit decomposition of `x`: 254 booleans, the
/// sum, and `bits < p` enforced.
fn canonical_bits(x: &FpVar<Fr>) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    if let FpVar::Constant(v) = x {
        let v = v.into_bigint();
        return Ok((0..FIELD_BITS)
            .map(|i| Boolean::Constant(v.get_bit(i)))
            .collect());
    }
    let cs = x.cs();
    let bits = (0..FIELD_BITS)
        .map(|i| Boolean::new_witness(cs.clone(), || Ok(x.value()?.into_bigint().get_bit(i))))
        .collect::<Result<Vec<_>, _>>()?;
    le_bits_sum(&bits).enforce_equal(x)?;
    is_less_than_const(&bits, &Fr::MODULUS)?.enforce_equal(&Boolean::TRUE)?;
    Ok(bits)
}

/// The bit "native `PublicKey::verify(msg, sig)` accepts"; never makes the
/// system unsatisfiable (see the module docs). [`VERIFY_CONSTRAINTS`]
/// constraints.
pub fn verify(
    pk: &PublicKeyVar,
    msg: &FpVar<Fr>,
    sig: &SignatureVar,
) -> Result<Boolean<Fr>, SynthesisError> {
    let base8 = PointVar::constant(Point::BASE8);

    // Checks 2 and 3, and safe stand-ins for the arithmetic.
    let a_on = pk.0.is_on_curve()?;
    let r_on = sig.r8.is_on_curve()?;
    let a = PointVar::conditionally_select(&a_on, &pk.0, &base8)?;
    let r8 = PointVar::conditionally_select(&r_on, &sig.r8, &base8)?;

    // Checks 4 and 5: 8P = O iff x(4P) = 0.
    let a4 = a.double()?.double()?;
    let a_small = a4.x.is_zero()?;
    let a8 = a4.double()?;
    let r_small = r8.double()?.double()?.x.is_zero()?;

    // Check 1, and S Base8 from the low bits.
    let s_bits = canonical_bits(&sig.s)?;
    let s_ok = is_less_than_const(&s_bits, &SUBORDER)?;
    let sb = PointVar::fixed_base_mul_le(&Point::BASE8, &s_bits[..SUBORDER_BITS])?;

    // Check 6.
    let c = poseidon::hash(&[
        sig.r8.x.clone(),
        sig.r8.y.clone(),
        pk.0.x.clone(),
        pk.0.y.clone(),
        msg.clone(),
    ])?;
    let c_bits = canonical_bits(&c)?;
    let ca = a8.scalar_mul_le(&c_bits)?;
    let d = sb.sub(&r8.add(&ca)?)?;
    let eq = d.double()?.double()?.x.is_zero()?;

    and_all(&[a_on, r_on, !a_small, !r_small, s_ok, eq])
}

/// [`verify`], with the bit enforced true.
pub fn enforce_verify(
    pk: &PublicKeyVar,
    msg: &FpVar<Fr>,
    sig: &SignatureVar,
) -> Result<(), SynthesisError> {
    verify(pk, msg, sig)?.enforce_equal(&Boolean::TRUE)
}

#[cfg(test)]
mod tests;
