use super::*;
use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_relations::gr1cs::{ConstraintSystem, SynthesisMode};
use depin_crypto::babyjubjub::{Scalar, SUBORDER};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0xb7b7)
}

/// A uniformly random point of the whole curve (order dividing `8 l`).
fn random_curve_point(rng: &mut ChaCha20Rng) -> Point {
    loop {
        let y = Fr::rand(rng);
        let y2 = y.square();
        let Some(inv) = (A - D * y2).inverse() else {
            continue;
        };
        if let Some(x) = ((Fr::ONE - y2) * inv).sqrt() {
            let p = Point::new(x, y).unwrap();
            return p;
        }
    }
}

fn random_subgroup_point(rng: &mut ChaCha20Rng) -> Point {
    let k = Scalar::rand(rng);
    Point::BASE8.mul_bigint(k.into_bigint()).unwrap()
}

/// The eight points of order dividing 8, as multiples of one of order 8.
fn torsion() -> Vec<Point> {
    let mut r = rng();
    loop {
        let t = random_curve_point(&mut r).mul_bigint(SUBORDER).unwrap();
        let t4 = t.mul_bigint([4u64]).unwrap();
        if t4 != Point::IDENTITY {
            return (0..8u64).map(|j| t.mul_bigint([j]).unwrap()).collect();
        }
    }
}

fn interesting_points() -> Vec<Point> {
    let mut r = rng();
    let mut v = torsion();
    v.push(Point::BASE8);
    for _ in 0..4 {
        v.push(random_subgroup_point(&mut r));
        v.push(random_curve_point(&mut r));
    }
    v
}

fn witness(cs: &ConstraintSystemRef<Fr>, p: Point) -> PointVar {
    PointVar::new_witness(cs.clone(), || Ok(p)).unwrap()
}

fn bits_of(cs: &ConstraintSystemRef<Fr>, k: &[u64], n: usize) -> Vec<Boolean<Fr>> {
    let big = ark_ff::BigInt::<4>::new(core::array::from_fn(|i| k.get(i).copied().unwrap_or(0)));
    (0..n)
        .map(|i| Boolean::new_witness(cs.clone(), || Ok(big.get_bit(i))).unwrap())
        .collect()
}

#[test]
fn curve_is_complete_a_square_d_not() {
    assert!(A.legendre().is_qr());
    assert!(D.legendre().is_qnr());
}

#[test]
fn torsion_has_eight_distinct_points() {
    let t = torsion();
    let mut s = t.clone();
    s.sort_by_key(|p| (p.x.into_bigint(), p.y.into_bigint()));
    s.dedup();
    assert_eq!(s.len(), 8);
    assert!(t.iter().all(|p| p.has_small_order().unwrap()));
}

#[test]
fn add_matches_native_on_all_pairs_and_costs_6() {
    let pts = interesting_points();
    for p in &pts {
        for q in &pts {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let a = witness(&cs, *p);
            let b = witness(&cs, *q);
            let before = cs.num_constraints();
            let s = a.add(&b).unwrap();
            assert_eq!(cs.num_constraints() - before, ADD_CONSTRAINTS);
            assert_eq!(s.value().unwrap(), p.add(q).unwrap());
            assert!(cs.is_satisfied().unwrap());
        }
    }
}

#[test]
fn add_with_a_constant_costs_3() {
    let mut r = rng();
    let cs = ConstraintSystem::<Fr>::new_ref();
    let p = random_subgroup_point(&mut r);
    let a = witness(&cs, p);
    let before = cs.num_constraints();
    let s = a.add(&PointVar::constant(Point::BASE8)).unwrap();
    assert_eq!(cs.num_constraints() - before, 3);
    assert_eq!(s.value().unwrap(), p.add(&Point::BASE8).unwrap());
    let d = a.sub(&PointVar::constant(p)).unwrap();
    assert_eq!(d.value().unwrap(), Point::IDENTITY);
    assert!(cs.is_satisfied().unwrap());
}

#[test]
fn double_matches_native_and_costs_5() {
    for p in interesting_points() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = witness(&cs, p);
        let before = cs.num_constraints();
        let d = a.double().unwrap();
        assert_eq!(cs.num_constraints() - before, DOUBLE_CONSTRAINTS);
        assert_eq!(d.value().unwrap(), p.add(&p).unwrap());
        let c = a.mul_by_cofactor().unwrap();
        assert_eq!(c.value().unwrap(), p.mul_bigint([8u64]).unwrap());
        assert!(cs.is_satisfied().unwrap());
    }
}

#[test]
fn on_curve_bit_and_enforcement() {
    let mut r = rng();
    let good = random_curve_point(&mut r);
    let bad = Point {
        x: good.x,
        y: good.y + Fr::ONE,
    };
    for (p, on) in [(good, true), (bad, false), (Point::IDENTITY, true)] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = witness(&cs, p);
        let before = cs.num_constraints();
        let bit = a.is_on_curve().unwrap();
        assert_eq!(cs.num_constraints() - before, IS_ON_CURVE_CONSTRAINTS);
        assert_eq!(bit.value().unwrap(), on);
        assert!(cs.is_satisfied().unwrap());
        a.enforce_on_curve().unwrap();
        assert_eq!(cs.num_constraints() - before, IS_ON_CURVE_CONSTRAINTS + 3);
        assert_eq!(cs.is_satisfied().unwrap(), on);
    }
}

#[test]
fn small_order_bit_matches_native() {
    for p in interesting_points() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = witness(&cs, p);
        let before = cs.num_constraints();
        let bit = a.is_small_order().unwrap();
        assert_eq!(cs.num_constraints() - before, IS_SMALL_ORDER_CONSTRAINTS);
        assert_eq!(bit.value().unwrap(), p.has_small_order().unwrap());
        assert!(cs.is_satisfied().unwrap());
    }
}

#[test]
fn select_and_equality() {
    let mut r = rng();
    let (p, q) = (random_curve_point(&mut r), random_curve_point(&mut r));
    for c in [false, true] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (a, b) = (witness(&cs, p), witness(&cs, q));
        let cond = Boolean::new_witness(cs.clone(), || Ok(c)).unwrap();
        let s = PointVar::conditionally_select(&cond, &a, &b).unwrap();
        assert_eq!(s.value().unwrap(), if c { p } else { q });
        assert!(s.is_eq(&a).unwrap().value().unwrap() == c);
        s.enforce_equal(&b).unwrap();
        assert_eq!(cs.is_satisfied().unwrap(), !c);
    }
}

#[test]
fn variable_base_matches_native() {
    let mut r = rng();
    let mut scalars: Vec<ark_ff::BigInt<4>> = vec![
        ark_ff::BigInt::from(0u64),
        ark_ff::BigInt::from(1u64),
        ark_ff::BigInt::from(2u64),
        ark_ff::BigInt::from(3u64),
        SUBORDER,
        Fr::MODULUS,
    ];
    let mut minus_one = Fr::MODULUS;
    minus_one.sub_with_borrow(&ark_ff::BigInt::from(1u64));
    scalars.push(minus_one);
    scalars.push(Fr::rand(&mut r).into_bigint());
    let bases = [
        random_subgroup_point(&mut r),
        random_curve_point(&mut r),
        Point::IDENTITY,
        torsion()[3],
    ];
    for base in bases {
        for k in &scalars {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let p = witness(&cs, base);
            let bits = bits_of(&cs, &k.0, 254);
            let before = cs.num_constraints();
            let out = p.scalar_mul_le(&bits).unwrap();
            assert_eq!(cs.num_constraints() - before, scalar_mul_constraints(254));
            assert_eq!(out.value().unwrap(), base.mul_bigint(k).unwrap(), "{k}");
            assert!(cs.is_satisfied().unwrap());
        }
    }
}

#[test]
fn variable_base_short_scalars() {
    let mut r = rng();
    let base = random_curve_point(&mut r);
    for n in 0..=7usize {
        for k in 0..(1u64 << n) {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let p = witness(&cs, base);
            let bits = bits_of(&cs, &[k], n);
            let before = cs.num_constraints();
            let out = p.scalar_mul_le(&bits).unwrap();
            assert_eq!(cs.num_constraints() - before, scalar_mul_constraints(n));
            assert_eq!(out.value().unwrap(), base.mul_bigint([k]).unwrap());
            assert!(cs.is_satisfied().unwrap());
        }
    }
}

#[test]
fn scalar_mul_cost_for_254_bits() {
    assert_eq!(scalar_mul_constraints(254), 2541);
    assert_eq!(fixed_base_mul_constraints(251), 748);
    println!(
        "babyjubjub: add {ADD_CONSTRAINTS}, double {DOUBLE_CONSTRAINTS}, \
         variable-base 254 bits {}, fixed-base 251 bits {}",
        scalar_mul_constraints(254),
        fixed_base_mul_constraints(251)
    );
}

#[test]
fn fixed_base_matches_native() {
    let mut r = rng();
    let other = random_curve_point(&mut r);
    for base in [Point::BASE8, other] {
        for n in [0usize, 1, 2, 3, 4, 5, 6, 7, 251, 254] {
            let k = Fr::rand(&mut r).into_bigint();
            let mut kk = ark_ff::BigInt::<4>::zero();
            for i in (0..n).filter(|&i| k.get_bit(i)) {
                kk.0[i / 64] |= 1 << (i % 64);
            }
            let cs = ConstraintSystem::<Fr>::new_ref();
            let bits = bits_of(&cs, &kk.0, n);
            let before = cs.num_constraints();
            let out = PointVar::fixed_base_mul_le(&base, &bits).unwrap();
            assert_eq!(
                cs.num_constraints() - before,
                fixed_base_mul_constraints(n),
                "{n}"
            );
            assert_eq!(out.value().unwrap(), base.mul_bigint(kk).unwrap());
            assert!(cs.is_satisfied().unwrap());
        }
    }
    let off = Point {
        x: Fr::ONE,
        y: Fr::ONE,
    };
    assert!(PointVar::fixed_base_mul_le(&off, &[Boolean::TRUE]).is_err());
}

#[test]
fn constants_fold() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let p = PointVar::constant(Point::BASE8);
    let q = p.double().unwrap().add(&p).unwrap();
    assert!(q.is_constant());
    assert_eq!(q.value().unwrap(), Point::BASE8.mul_bigint([3u64]).unwrap());
    assert_eq!(cs.num_constraints(), 0);
    let k = p
        .scalar_mul_le(&[Boolean::TRUE, Boolean::FALSE, Boolean::TRUE])
        .unwrap();
    assert_eq!(k.value().unwrap(), Point::BASE8.mul_bigint([5u64]).unwrap());
}

#[test]
fn synthesizes_without_values() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    let p = PointVar::new_witness(cs.clone(), || {
        Err::<Point, _>(SynthesisError::AssignmentMissing)
    })
    .unwrap();
    let bits: Vec<_> = (0..254)
        .map(|_| {
            Boolean::new_witness(cs.clone(), || {
                Err::<bool, _>(SynthesisError::AssignmentMissing)
            })
            .unwrap()
        })
        .collect();
    p.scalar_mul_le(&bits).unwrap();
    PointVar::fixed_base_mul_le(&Point::BASE8, &bits).unwrap();
    let _ = p.is_on_curve().unwrap();
    let _ = p.is_small_order().unwrap();
    assert_eq!(
        cs.num_constraints(),
        254 + scalar_mul_constraints(254)
            + fixed_base_mul_constraints(254)
            + IS_ON_CURVE_CONSTRAINTS
            + IS_SMALL_ORDER_CONSTRAINTS
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn prop_scalar_mul_matches_native(seed in any::<u64>(), k in any::<[u64; 4]>()) {
        let mut r = ChaCha20Rng::seed_from_u64(seed);
        let base = random_curve_point(&mut r);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let p = witness(&cs, base);
        let bits = bits_of(&cs, &k, 256);
        let out = p.scalar_mul_le(&bits).unwrap();
        let q = random_curve_point(&mut r);
        let sum = out.add(&witness(&cs, q)).unwrap();
        let native = base.mul_bigint(k).unwrap();
        prop_assert_eq!(out.value().unwrap(), native);
        prop_assert_eq!(sum.value().unwrap(), native.add(&q).unwrap());
        prop_assert!(cs.is_satisfied().unwrap());
    }
}
