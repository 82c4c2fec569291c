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
    let json = include_str!("../../../../crypto/tests/fixtures/circomlibjs.json");
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
        let Some(inv) = (depin_crypto::babyjubjub::A - depin_crypto::babyjubjub::D * y2).inverse()
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
