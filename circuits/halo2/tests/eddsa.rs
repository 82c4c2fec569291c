//! The EdDSA-Poseidon chip against `depin_crypto::eddsa` with halo2's mock
//! prover: for honest signatures and for every way native verification
//! refuses one (wrong message, key or `S`, `S + l`, `S = l`, `S >= p`, `R8`
//! or the key off the curve, small-order key or `R8`, `R8` moved by a
//! torsion point), the chip's bit equals the native verdict, the circuit is
//! satisfied either way, and the enforcing form is satisfied exactly when
//! native verification accepts. Signatures with torsion components that
//! only the cofactored equation accepts are accepted.

mod common;

use ark_ff::{BigInt, BigInteger, Field, PrimeField, UniformRand};
use common::{off_curve, order_two, rng, torsion};
use depin_crypto::babyjubjub::{Point, Scalar, SUBORDER};
use depin_crypto::eddsa::{EddsaError, PrivateKey, PublicKey, Signature};
use depin_crypto::field::Fr as NativeFr;
use depin_crypto::poseidon::hash_n;
use depin_halo2::eddsa::EddsaChip;
use depin_halo2::field::to_halo2;
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::utils::testing::base_test;
use proptest::prelude::*;

fn signed(seed: u64) -> (PublicKey, NativeFr, Signature) {
    let mut r = rng(seed);
    let sk = PrivateKey::generate(&mut r);
    let msg = NativeFr::rand(&mut r);
    (sk.public_key(), msg, sk.sign(&msg))
}

/// Runs the chip on every case in one circuit, each bit constrained to the
/// native verdict (so the circuit is satisfied iff every bit is right), and
/// then, for each case, the enforcing form (satisfied iff native accepts).
fn check(cases: &[(PublicKey, NativeFr, Signature)]) -> Vec<Result<(), EddsaError>> {
    let verdicts: Vec<_> = cases.iter().map(|(pk, m, s)| pk.verify(m, s)).collect();
    base_test().k(17).run_gate(|ctx, gate| {
        let chip = EddsaChip::new(gate).unwrap();
        for ((pk, msg, sig), native) in cases.iter().zip(&verdicts) {
            let a = chip.load_public_key(ctx, pk);
            let m = ctx.load_witness(to_halo2(msg));
            let s = chip.load_signature(ctx, sig);
            let bit = chip.verify(ctx, &a, m, &s).unwrap();
            let expected = Fr::from(u64::from(native.is_ok()));
            assert_eq!(
                *bit.value(),
                expected,
                "chip disagrees with native {native:?}"
            );
            gate.assert_is_const(ctx, &bit, &expected);
        }
    });
    for ((pk, msg, sig), native) in cases.iter().zip(&verdicts) {
        base_test()
            .k(17)
            .expect_satisfied(native.is_ok())
            .run_gate(|ctx, gate| {
                let chip = EddsaChip::new(gate).unwrap();
                let a = chip.load_public_key(ctx, pk);
                let m = ctx.load_witness(to_halo2(msg));
                let s = chip.load_signature(ctx, sig);
                chip.enforce_verify(ctx, &a, m, &s).unwrap();
            });
    }
    verdicts
}

fn add_bigint(a: &BigInt<4>, b: &BigInt<4>) -> BigInt<4> {
    let mut s = *a;
    assert!(!s.add_with_carry(b));
    s
}

/// A signature with a chosen secret `k` (key `k Base8 + tk`) and nonce `r`
/// (`R8 = r Base8 + tr`): `S = r + 8 c k mod l`, which satisfies the
/// cofactored equation whatever the torsion parts.
fn crafted(k: Scalar, r: Scalar, tk: Point, tr: Point, msg: NativeFr) -> (PublicKey, Signature) {
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
fn honest_signatures_verify() {
    let cases: Vec<_> = (0..3).map(signed).collect();
    assert!(check(&cases).iter().all(Result::is_ok));
}

#[test]
fn every_native_refusal_is_a_zero_bit() {
    let (pk, msg, sig) = signed(7);
    let other = signed(8).0;
    let p_minus_one = (-NativeFr::ONE).into_bigint();
    let mut cases = Vec::new();
    let mut why = Vec::new();
    let mut push = |c: (PublicKey, NativeFr, Signature), w: EddsaError| {
        cases.push(c);
        why.push(w);
    };
    push((pk, msg + NativeFr::ONE, sig), EddsaError::Invalid);
    push((other, msg, sig), EddsaError::Invalid);
    let mut s1 = sig;
    s1.s = add_bigint(&sig.s, &BigInt::from(1u64));
    push((pk, msg, s1), EddsaError::Invalid);
    let mut sl = sig;
    sl.s = add_bigint(&sig.s, &SUBORDER);
    push((pk, msg, sl), EddsaError::ScalarOutOfRange);
    let mut s_eq_l = sig;
    s_eq_l.s = SUBORDER;
    push((pk, msg, s_eq_l), EddsaError::ScalarOutOfRange);
    let mut s_p1 = sig;
    s_p1.s = p_minus_one;
    push((pk, msg, s_p1), EddsaError::ScalarOutOfRange);
    // S + p has no field encoding (S mod p would verify).
    let mut s_plus_p = sig;
    s_plus_p.s = add_bigint(&sig.s, &NativeFr::MODULUS);
    push((pk, msg, s_plus_p), EddsaError::ScalarOutOfRange);
    let mut r_off = sig;
    r_off.r8 = off_curve(sig.r8);
    push(
        (pk, msg, r_off),
        EddsaError::Point(depin_crypto::babyjubjub::PointError::NotOnCurve),
    );
    push(
        (PublicKey(off_curve(pk.0)), msg, sig),
        EddsaError::Point(depin_crypto::babyjubjub::PointError::NotOnCurve),
    );
    push(
        (PublicKey(Point::IDENTITY), msg, sig),
        EddsaError::SmallOrderKey,
    );
    push(
        (PublicKey(order_two()), msg, sig),
        EddsaError::SmallOrderKey,
    );
    let mut r_id = sig;
    r_id.r8 = Point::IDENTITY;
    push((pk, msg, r_id), EddsaError::SmallOrderR);
    let mut r_two = sig;
    r_two.r8 = order_two();
    push((pk, msg, r_two), EddsaError::SmallOrderR);
    let mut r_moved = sig;
    r_moved.r8 = sig.r8.add(&order_two()).unwrap();
    push((pk, msg, r_moved), EddsaError::Invalid);
    for chunk in cases.chunks(5).zip(why.chunks(5)) {
        let verdicts = check(chunk.0);
        for (v, w) in verdicts.iter().zip(chunk.1) {
            assert_eq!(v, &Err(*w));
        }
    }
}

#[test]
fn torsion_components_pass_the_cofactored_equation() {
    let mut r = rng(11);
    let t8 = torsion()[1];
    assert_ne!(t8.mul_bigint([4u64]).unwrap(), Point::IDENTITY);
    let msg = NativeFr::rand(&mut r);
    let cases: Vec<_> = [
        (Point::IDENTITY, t8),
        (t8, Point::IDENTITY),
        (order_two(), t8),
    ]
    .into_iter()
    .map(|(tk, tr)| {
        let (pk, sig) = crafted(Scalar::rand(&mut r), Scalar::rand(&mut r), tk, tr, msg);
        (pk, msg, sig)
    })
    .collect();
    assert!(check(&cases).iter().all(Result::is_ok));
}

#[test]
fn key_id_matches_native() {
    let (pk, _, _) = signed(12);
    base_test().k(14).run_gate(|ctx, gate| {
        let chip = EddsaChip::new(gate).unwrap();
        let a = chip.load_public_key(ctx, &pk);
        let id = chip.key_id(ctx, &a).unwrap();
        gate.assert_is_const(ctx, &id, &to_halo2(&pk.id()));
    });
}

#[test]
fn a_wrong_bit_is_refused() {
    let (pk, msg, sig) = signed(13);
    base_test()
        .k(17)
        .expect_satisfied(false)
        .run_gate(|ctx, gate| {
            let chip = EddsaChip::new(gate).unwrap();
            let a = chip.load_public_key(ctx, &pk);
            let m = ctx.load_witness(to_halo2(&(msg + NativeFr::ONE)));
            let s = chip.load_signature(ctx, &sig);
            chip.enforce_verify(ctx, &a, m, &s).unwrap();
        });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn prop_chip_agrees_with_native(seed in any::<u64>(), how in 0u8..6) {
        let (mut pk, mut msg, mut sig) = signed(seed);
        match how {
            0 => {}
            1 => msg += NativeFr::ONE,
            2 => sig.r8 = sig.r8.add(&Point::BASE8).unwrap(),
            3 => sig.r8 = Point { x: -sig.r8.x, y: sig.r8.y },
            4 => pk = PublicKey(off_curve(pk.0)),
            _ => sig.s = add_bigint(&sig.s, &SUBORDER),
        }
        let verdicts = check(&[(pk, msg, sig)]);
        prop_assert_eq!(verdicts[0].is_ok(), how == 0);
    }
}

/// The chip's size (`cargo test -p depin-halo2 --test eddsa -- --nocapture
/// cells` prints it for docs/halo2.md): advice cells of one verification,
/// the same for an honest and a refused signature (the circuit's shape does
/// not depend on the input).
#[test]
fn cells_per_verification() {
    let count = |pk: PublicKey, msg: NativeFr, sig: Signature| {
        base_test().k(17).run_gate(|ctx, gate| {
            let chip = EddsaChip::new(gate).unwrap();
            let before = ctx.advice.len();
            let a = chip.load_public_key(ctx, &pk);
            let m = ctx.load_witness(to_halo2(&msg));
            let s = chip.load_signature(ctx, &sig);
            chip.verify(ctx, &a, m, &s).unwrap();
            ctx.advice.len() - before
        })
    };
    let (pk, msg, sig) = signed(14);
    let honest = count(pk, msg, sig);
    let refused = count(PublicKey(off_curve(pk.0)), msg, sig);
    eprintln!("EdDSA-Poseidon verification: {honest} advice cells");
    assert_eq!(honest, refused);
    assert!(
        honest < 131_072,
        "one verification fits 2^17 rows of one column"
    );
}
