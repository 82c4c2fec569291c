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
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, UniformRand};
    use ark_relations::gr1cs::{ConstraintSystem, SynthesisMode};
    use depin_crypto::babyjubjub::Scalar;
    use depin_crypto::eddsa::{EddsaError, PrivateKey};
    use depin_crypto::poseidon::hash_n;
    use proptest::prelude::*;
    use rand::RngCore;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn signed(seed: u64) -> (PublicKey, Fr, Signature) {
        let mut r = rng(seed);
        let sk = PrivateKey::generate(&mut r);
        let msg = Fr::rand(&mut r);
        (sk.public_key(), msg, sk.sign(&msg))
    }

    /// Runs the gadget on `(pk, msg, sig)` and returns its bit, after
    /// checking that the system is satisfied; then checks that
    /// `enforce_verify` is satisfied exactly when native verification
    /// accepts. Returns `(gadget, native)`.
    fn run(pk: &PublicKey, msg: &Fr, sig: &Signature) -> (bool, Result<(), EddsaError>) {
        let native = pk.verify(msg, sig);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let pkv = PublicKeyVar::new_witness(cs.clone(), || Ok(*pk)).unwrap();
        let m = FpVar::new_witness(cs.clone(), || Ok(*msg)).unwrap();
        let sv = SignatureVar::new_witness(cs.clone(), || Ok(*sig)).unwrap();
        let bit = verify(&pkv, &m, &sv).unwrap().value().unwrap();
        assert!(
            cs.is_satisfied().unwrap(),
            "verify made the system unsatisfiable"
        );

        let cs = ConstraintSystem::<Fr>::new_ref();
        let pkv = PublicKeyVar::new_witness(cs.clone(), || Ok(*pk)).unwrap();
        let m = FpVar::new_witness(cs.clone(), || Ok(*msg)).unwrap();
        let sv = SignatureVar::new_witness(cs.clone(), || Ok(*sig)).unwrap();
        enforce_verify(&pkv, &m, &sv).unwrap();
        assert_eq!(cs.is_satisfied().unwrap(), native.is_ok());
        (bit, native)
    }

    fn assert_rejected(pk: &PublicKey, msg: &Fr, sig: &Signature, why: EddsaError) {
        let (bit, native) = run(pk, msg, sig);
        assert_eq!(native, Err(why));
        assert!(!bit, "gadget accepted what native refuses with {why:?}");
    }

    fn order_two() -> Point {
        Point::new(Fr::ZERO, -Fr::ONE).unwrap()
    }

    fn off_curve(p: Point) -> Point {
        Point {
            x: p.x,
            y: p.y + Fr::ONE,
        }
    }

    fn add_bigint(a: &BigInt<4>, b: &BigInt<4>) -> BigInt<4> {
        let mut s = *a;
        assert!(!s.add_with_carry(b));
        s
    }

    /// A signature made with a chosen secret scalar `k` (key `k Base8 + tk`)
    /// and nonce `r` (`R8 = r Base8 + tr`): `S = r + 8 c k mod l`, which
    /// satisfies the cofactored equation whatever the torsion parts.
    fn crafted(k: Scalar, r: Scalar, tk: Point, tr: Point, msg: Fr) -> (PublicKey, Signature) {
        let a = Point::BASE8
            .mul_bigint(k.into_bigint())
            .unwrap()
            .add(&tk)
            .unwrap();
        let r8 = Point::BASE8
            .mul_bigint(r.into_bigint())
            .unwrap()
            .add(&tr)
            .unwrap();
        let c = hash_n(&[r8.x, r8.y, a.x, a.y, msg]);
        let c = Scalar::from_le_bytes_mod_order(&c.into_bigint().to_bytes_le());
        let s = r + c * Scalar::from(8u64) * k;
        (
            PublicKey(a),
            Signature {
                r8,
                s: s.into_bigint(),
            },
        )
    }

    #[test]
    fn valid_signatures_verify_and_cost_is_fixed() {
        for seed in 0..4 {
            let (pk, msg, sig) = signed(seed);
            let (bit, native) = run(&pk, &msg, &sig);
            assert_eq!(native, Ok(()));
            assert!(bit);
        }
        let (pk, msg, sig) = signed(9);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let pkv = PublicKeyVar::new_witness(cs.clone(), || Ok(pk)).unwrap();
        let m = FpVar::new_witness(cs.clone(), || Ok(msg)).unwrap();
        let sv = SignatureVar::new_witness(cs.clone(), || Ok(sig)).unwrap();
        let bit = verify(&pkv, &m, &sv).unwrap();
        println!(
            "eddsa: one verification = {} constraints",
            cs.num_constraints()
        );
        assert_eq!(cs.num_constraints(), VERIFY_CONSTRAINTS);
        assert!(bit.value().unwrap());
    }

    #[test]
    fn circomlibjs_signatures_verify() {
        let json = include_str!("../../crypto/tests/fixtures/circomlibjs.json");
        let eddsa = &json[json.find("\"eddsa\"").unwrap()..];
        // (key, value) pairs of the form `"key": "value"`, in file order.
        let kv: Vec<(&str, &str)> = eddsa
            .lines()
            .filter_map(|l| {
                let mut parts = l.trim().trim_end_matches(',').split("\": \"");
                let k = parts.next()?.trim_start_matches('"');
                let v = parts.next()?.trim_end_matches('"');
                Some((k, v))
            })
            .collect();
        let fr = |s: &str| depin_crypto::fr_from_decimal(s).unwrap();
        let mut cases = 0;
        for c in kv.chunks(8) {
            let get = |i: usize, k: &str| {
                assert_eq!(c[i].0, k);
                c[i].1
            };
            let pk = PublicKey(Point::new(fr(get(1, "x")), fr(get(2, "y"))).unwrap());
            let msg = fr(get(4, "message"));
            let sig = Signature {
                r8: Point::new(fr(get(5, "x")), fr(get(6, "y"))).unwrap(),
                s: get(7, "s").parse().unwrap(),
            };
            let (bit, native) = run(&pk, &msg, &sig);
            assert_eq!(native, Ok(()));
            assert!(bit);
            cases += 1;
        }
        assert_eq!(cases, 12);
    }

    #[test]
    fn rejects_wrong_message() {
        let (pk, msg, sig) = signed(1);
        assert_rejected(&pk, &(msg + Fr::ONE), &sig, EddsaError::Invalid);
    }

    #[test]
    fn rejects_wrong_key() {
        let (_, msg, sig) = signed(1);
        let (other, _, _) = signed(2);
        assert_rejected(&other, &msg, &sig, EddsaError::Invalid);
    }

    #[test]
    fn rejects_wrong_s() {
        let (pk, msg, mut sig) = signed(2);
        sig.s = add_bigint(&sig.s, &BigInt::from(1u64));
        assert_rejected(&pk, &msg, &sig, EddsaError::Invalid);
    }

    #[test]
    fn rejects_s_plus_l_as_scalar_out_of_range() {
        let (pk, msg, mut sig) = signed(3);
        sig.s = add_bigint(&sig.s, &SUBORDER);
        assert_rejected(&pk, &msg, &sig, EddsaError::ScalarOutOfRange);
    }

    #[test]
    fn rejects_s_equal_to_l_and_p_minus_one() {
        let (pk, msg, mut sig) = signed(3);
        sig.s = SUBORDER;
        assert_rejected(&pk, &msg, &sig, EddsaError::ScalarOutOfRange);
        sig.s = (-Fr::ONE).into_bigint();
        assert_rejected(&pk, &msg, &sig, EddsaError::ScalarOutOfRange);
    }

    #[test]
    fn rejects_s_plus_p_which_has_no_field_encoding() {
        // S + p reduces to the valid S modulo p: the gadget must not see it.
        let (pk, msg, mut sig) = signed(4);
        sig.s = add_bigint(&sig.s, &Fr::MODULUS);
        assert_eq!(scalar_to_field(&sig.s), -Fr::ONE);
        assert_rejected(&pk, &msg, &sig, EddsaError::ScalarOutOfRange);
        sig.s = BigInt::new([u64::MAX; 4]);
        assert_rejected(&pk, &msg, &sig, EddsaError::ScalarOutOfRange);
    }

    #[test]
    fn rejects_r8_off_the_curve() {
        let (pk, msg, mut sig) = signed(5);
        sig.r8 = off_curve(sig.r8);
        assert_rejected(
            &pk,
            &msg,
            &sig,
            EddsaError::Point(depin_crypto::babyjubjub::PointError::NotOnCurve),
        );
        // (0, 0) makes the doubling denominators zero if not substituted.
        sig.r8 = Point {
            x: Fr::ZERO,
            y: Fr::ZERO,
        };
        assert_rejected(
            &pk,
            &msg,
            &sig,
            EddsaError::Point(depin_crypto::babyjubjub::PointError::NotOnCurve),
        );
    }

    #[test]
    fn rejects_a_off_the_curve() {
        let (pk, msg, sig) = signed(6);
        let not_on = EddsaError::Point(depin_crypto::babyjubjub::PointError::NotOnCurve);
        assert_rejected(&PublicKey(off_curve(pk.0)), &msg, &sig, not_on);
        let zero = Point {
            x: Fr::ZERO,
            y: Fr::ZERO,
        };
        assert_rejected(&PublicKey(zero), &msg, &sig, not_on);
    }

    #[test]
    fn rejects_identity_key_as_small_order() {
        let (_, msg, sig) = signed(7);
        assert_rejected(
            &PublicKey(Point::IDENTITY),
            &msg,
            &sig,
            EddsaError::SmallOrderKey,
        );
    }

    #[test]
    fn rejects_order_two_key_as_small_order() {
        let (_, msg, sig) = signed(7);
        assert_rejected(
            &PublicKey(order_two()),
            &msg,
            &sig,
            EddsaError::SmallOrderKey,
        );
    }

    #[test]
    fn rejects_identity_r8_as_small_order() {
        let (pk, msg, mut sig) = signed(8);
        sig.r8 = Point::IDENTITY;
        assert_rejected(&pk, &msg, &sig, EddsaError::SmallOrderR);
        sig.r8 = order_two();
        assert_rejected(&pk, &msg, &sig, EddsaError::SmallOrderR);
    }

    #[test]
    fn rejects_r8_plus_order_two_point() {
        // The torsion part vanishes from 8 (S B - R8 - c 8A), but the
        // challenge hashes the new R8, so the equation fails (native:
        // Invalid).
        let (pk, msg, mut sig) = signed(10);
        sig.r8 = sig.r8.add(&order_two()).unwrap();
        assert_rejected(&pk, &msg, &sig, EddsaError::Invalid);
    }

    #[test]
    fn accepts_torsion_components_under_the_cofactored_equation() {
        // Torsion in R8 survives in S B - R8 - c 8A, so such signatures
        // satisfy only the cofactored equation; torsion in A vanishes in 8A.
        // Native accepts all of them (neither point has small order), so
        // must the gadget.
        let mut r = rng(11);
        let t8 = torsion_of_order_eight(&mut r);
        let msg = Fr::rand(&mut r);
        for (tk, tr) in [
            (Point::IDENTITY, t8),
            (t8, Point::IDENTITY),
            (order_two(), t8),
        ] {
            let (pk, sig) = crafted(Scalar::rand(&mut r), Scalar::rand(&mut r), tk, tr, msg);
            let c = hash_n(&[sig.r8.x, sig.r8.y, pk.0.x, pk.0.y, msg]);
            let lhs = Point::BASE8.mul_bigint(sig.s).unwrap();
            let a8 = pk.0.mul_bigint([8u64]).unwrap();
            let rhs = sig
                .r8
                .add(&a8.mul_bigint(c.into_bigint()).unwrap())
                .unwrap();
            // Cofactorless S B = R8 + c 8A holds iff R8 has no torsion.
            assert_eq!(lhs == rhs, tr == Point::IDENTITY);
            let (bit, native) = run(&pk, &msg, &sig);
            assert_eq!(native, Ok(()));
            assert!(bit);
        }
    }

    /// A point of order 8 (a random curve point times `l`, retried).
    fn torsion_of_order_eight(r: &mut ChaCha20Rng) -> Point {
        loop {
            let y = Fr::rand(r);
            let y2 = y.square();
            let Some(inv) =
                (depin_crypto::babyjubjub::A - depin_crypto::babyjubjub::D * y2).inverse()
            else {
                continue;
            };
            let Some(x) = ((Fr::ONE - y2) * inv).sqrt() else {
                continue;
            };
            let t = Point::new(x, y).unwrap().mul_bigint(SUBORDER).unwrap();
            if t.mul_bigint([4u64]).unwrap() != Point::IDENTITY {
                return t;
            }
        }
    }

    #[test]
    fn cost_breakdown_matches_the_docs() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let mut last = 0;
        let mut step = |expected: usize| {
            let n = cs.num_constraints();
            assert_eq!(n - last, expected);
            last = n;
        };
        let v: Vec<FpVar<Fr>> = (0..5u64)
            .map(|i| FpVar::new_witness(cs.clone(), || Ok(Fr::from(i + 7))).unwrap())
            .collect();
        let pt = PointVar::new_witness(cs.clone(), || Ok(Point::BASE8)).unwrap();
        let c = poseidon::hash(&v).unwrap();
        step(321);
        let s_bits = canonical_bits(&v[0]).unwrap();
        step(420);
        let _ = is_less_than_const(&s_bits, &SUBORDER).unwrap();
        step(188);
        let _ = PointVar::fixed_base_mul_le(&Point::BASE8, &s_bits[..SUBORDER_BITS]).unwrap();
        step(748);
        let c_bits = canonical_bits(&c).unwrap();
        step(420);
        let _ = pt.scalar_mul_le(&c_bits).unwrap();
        step(2541);
        assert_eq!(
            321 + 420 + 188 + 748 + 420 + 2541 + 43 + 26,
            VERIFY_CONSTRAINTS
        );
    }

    #[test]
    fn comparison_with_constants_is_exact() {
        let mut r = rng(12);
        let ks = [
            SUBORDER,
            Fr::MODULUS,
            BigInt::from(1u64),
            BigInt::from(0b1011_0001u64),
        ];
        for k in ks {
            let mut vals = vec![k, BigInt::from(0u64)];
            let mut km1 = k;
            if !km1.is_zero() {
                km1.sub_with_borrow(&BigInt::from(1u64));
                vals.push(km1);
            }
            let mut kp1 = k;
            kp1.add_with_carry(&BigInt::from(1u64));
            vals.push(kp1);
            for _ in 0..8 {
                let mut v = Fr::rand(&mut r).into_bigint();
                v.0[3] &= (1 << 62) - 1;
                vals.push(v);
                let mut near = k;
                near.0[0] ^= r.next_u64() & 0xff;
                vals.push(near);
            }
            for v in vals {
                let cs = ConstraintSystem::<Fr>::new_ref();
                let bits: Vec<_> = (0..FIELD_BITS)
                    .map(|i| Boolean::new_witness(cs.clone(), || Ok(v.get_bit(i))).unwrap())
                    .collect();
                let lt = is_less_than_const(&bits, &k).unwrap();
                let mut v254 = v;
                v254.0[3] &= (1 << 62) - 1;
                assert_eq!(lt.value().unwrap(), v254 < k, "{v} < {k}");
                assert!(cs.is_satisfied().unwrap());
            }
        }
    }

    #[test]
    fn canonical_bits_refuse_the_alias() {
        // x + p < 2^254 for small x: the alias decomposition must fail.
        let x = Fr::from(5u64);
        let mut alias = Fr::MODULUS;
        alias.add_with_carry(&BigInt::from(5u64));
        let cs = ConstraintSystem::<Fr>::new_ref();
        let xv = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        let bits = canonical_bits(&xv).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(le_bits_sum(&bits).value().unwrap(), x);
        // Same constraints with the alias bits assigned.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let xv = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        let bits: Vec<_> = (0..FIELD_BITS)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(alias.get_bit(i))).unwrap())
            .collect();
        le_bits_sum(&bits).enforce_equal(&xv).unwrap();
        assert!(cs.is_satisfied().unwrap());
        is_less_than_const(&bits, &Fr::MODULUS)
            .unwrap()
            .enforce_equal(&Boolean::TRUE)
            .unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn constant_inputs_fold_to_the_native_answer() {
        let (pk, msg, sig) = signed(14);
        let cases = [
            (pk, msg, sig),
            (pk, msg + Fr::ONE, sig),
            (PublicKey(Point::IDENTITY), msg, sig),
            (PublicKey(off_curve(pk.0)), msg, sig),
        ];
        for (pk, msg, sig) in cases {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let pkv = PublicKeyVar::new_constant(cs.clone(), pk).unwrap();
            let m = FpVar::new_constant(cs.clone(), msg).unwrap();
            let sv = SignatureVar::new_constant(cs.clone(), sig).unwrap();
            let bit = verify(&pkv, &m, &sv).unwrap();
            assert!(bit.is_constant());
            assert_eq!(bit.value().unwrap(), pk.verify(&msg, &sig).is_ok());
            assert_eq!(cs.num_constraints(), 0);
        }
    }

    #[test]
    fn public_key_id_matches_native() {
        let (pk, _, _) = signed(13);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let pkv = PublicKeyVar::new_witness(cs.clone(), || Ok(pk)).unwrap();
        assert_eq!(pkv.id().unwrap().value().unwrap(), pk.id());
        assert_eq!(pkv.value().unwrap(), pk);
    }

    #[test]
    fn synthesizes_without_values_at_the_same_cost() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        let missing = SynthesisError::AssignmentMissing;
        let pkv = PublicKeyVar::new_witness(cs.clone(), || Err::<PublicKey, _>(missing)).unwrap();
        let m = FpVar::new_witness(cs.clone(), || Err::<Fr, _>(missing)).unwrap();
        let sv = SignatureVar::new_witness(cs.clone(), || Err::<Signature, _>(missing)).unwrap();
        enforce_verify(&pkv, &m, &sv).unwrap();
        assert_eq!(cs.num_constraints(), VERIFY_CONSTRAINTS + 1);
    }

    #[derive(Debug, Clone, Copy)]
    enum Corruption {
        None,
        Message,
        S,
        SPlusL,
        R8Moved,
        R8Negated,
        R8OffCurve,
        KeyOffCurve,
        OtherKey,
        SmallKey,
    }

    fn corruption() -> impl Strategy<Value = Corruption> {
        prop_oneof![
            Just(Corruption::None),
            Just(Corruption::None),
            Just(Corruption::Message),
            Just(Corruption::S),
            Just(Corruption::SPlusL),
            Just(Corruption::R8Moved),
            Just(Corruption::R8Negated),
            Just(Corruption::R8OffCurve),
            Just(Corruption::KeyOffCurve),
            Just(Corruption::OtherKey),
            Just(Corruption::SmallKey),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn prop_gadget_agrees_with_native(seed in any::<u64>(), how in corruption()) {
            let (mut pk, mut msg, mut sig) = signed(seed);
            match how {
                Corruption::None => {}
                Corruption::Message => msg += Fr::ONE,
                Corruption::S => sig.s = add_bigint(&sig.s, &BigInt::from(1u64)),
                Corruption::SPlusL => sig.s = add_bigint(&sig.s, &SUBORDER),
                Corruption::R8Moved => sig.r8 = sig.r8.add(&Point::BASE8).unwrap(),
                Corruption::R8Negated => sig.r8 = Point { x: -sig.r8.x, y: sig.r8.y },
                Corruption::R8OffCurve => sig.r8 = off_curve(sig.r8),
                Corruption::KeyOffCurve => pk = PublicKey(off_curve(pk.0)),
                Corruption::OtherKey => pk = signed(seed.wrapping_add(1)).0,
                Corruption::SmallKey => pk = PublicKey(order_two()),
            }
            let (bit, native) = run(&pk, &msg, &sig);
            prop_assert_eq!(bit, native.is_ok());
            prop_assert_eq!(native.is_ok(), matches!(how, Corruption::None));
        }
    }
}
