//! The Baby Jubjub chip against `depin_crypto::babyjubjub` with halo2's
//! mock prover: addition, doubling, negation, the on-curve and small-order
//! bits and both scalar multiplications on torsion, identity, subgroup and
//! whole-curve points; a wrong result refused; off-curve points and a
//! fixed base off the curve refused as the docs say.

mod common;

use ark_ff::{BigInteger, PrimeField, UniformRand};
use common::{off_curve, random_curve_point, random_subgroup_point, rng, torsion};
use depin_crypto::babyjubjub::{Point, PointError, Scalar, SUBORDER};
use depin_halo2::babyjubjub::{AssignedPoint, BabyJubjubChip, CurveChipError, FixedBase};
use depin_halo2::field::to_halo2;
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field as _;
use halo2_base::utils::testing::base_test;
use halo2_base::{AssignedValue, Context};

/// Constrains `p` to equal the native `expected` (a mismatch leaves the
/// circuit unsatisfied).
fn assert_point(ctx: &mut Context<Fr>, gate: &GateChip<Fr>, p: &AssignedPoint, expected: &Point) {
    gate.assert_is_const(ctx, &p.x, &to_halo2(&expected.x));
    gate.assert_is_const(ctx, &p.y, &to_halo2(&expected.y));
}

fn bits(ctx: &mut Context<Fr>, k: &[u64; 4], n: usize) -> Vec<AssignedValue<Fr>> {
    let k = ark_ff::BigInt::new(*k);
    (0..n)
        .map(|i| ctx.load_witness(Fr::from(u64::from(k.get_bit(i)))))
        .collect()
}

fn interesting_points() -> Vec<Point> {
    let mut r = rng(1);
    let mut v = torsion();
    v.push(Point::BASE8);
    for _ in 0..3 {
        v.push(random_subgroup_point(&mut r));
        v.push(random_curve_point(&mut r));
    }
    v
}

#[test]
fn add_double_negate_match_native_on_all_pairs() {
    let points = interesting_points();
    base_test().k(16).run_gate(|ctx, gate| {
        let chip = BabyJubjubChip::new(gate);
        for p in &points {
            let pc = chip.load_witness(ctx, p);
            let doubled = chip.double(ctx, &pc);
            assert_point(ctx, gate, &doubled, &p.add(p).unwrap());
            let neg = chip.negate(ctx, &pc);
            let zero = chip.add(ctx, &pc, &neg);
            assert_point(ctx, gate, &zero, &Point::IDENTITY);
            for q in &points {
                let qc = chip.load_witness(ctx, q);
                let sum = chip.add(ctx, &pc, &qc);
                assert_point(ctx, gate, &sum, &p.add(q).unwrap());
                let constant_sum = chip.add_constant(ctx, &pc, q);
                assert_point(ctx, gate, &constant_sum, &p.add(q).unwrap());
            }
        }
    });
}

#[test]
fn a_wrong_sum_is_refused() {
    let mut r = rng(2);
    let (p, q) = (random_subgroup_point(&mut r), random_subgroup_point(&mut r));
    let wrong = p.add(&q).unwrap().add(&Point::BASE8).unwrap();
    base_test()
        .k(10)
        .expect_satisfied(false)
        .run_gate(|ctx, gate| {
            let chip = BabyJubjubChip::new(gate);
            let (pc, qc) = (chip.load_witness(ctx, &p), chip.load_witness(ctx, &q));
            let sum = chip.add(ctx, &pc, &qc);
            assert_point(ctx, gate, &sum, &wrong);
        });
}

#[test]
fn on_curve_and_small_order_bits_match_native() {
    let mut points = interesting_points();
    let off: Vec<Point> = points.iter().take(4).map(|p| off_curve(*p)).collect();
    points.extend(off);
    base_test().k(14).run_gate(|ctx, gate| {
        let chip = BabyJubjubChip::new(gate);
        for p in &points {
            let pc = chip.load_witness(ctx, p);
            let on = chip.is_on_curve(ctx, &pc);
            gate.assert_is_const(ctx, &on, &Fr::from(u64::from(p.is_on_curve())));
            if p.is_on_curve() {
                let small = chip.is_small_order(ctx, &pc);
                let native = p.has_small_order().unwrap();
                gate.assert_is_const(ctx, &small, &Fr::from(u64::from(native)));
            }
        }
    });
}

#[test]
fn an_off_curve_point_with_a_zero_denominator_is_unsatisfied_not_a_panic() {
    // x = y = 1: the doubling denominator a x^2 + y^2 is nonzero, but for
    // (x, y) with a x^2 = -y^2 it vanishes; pick y = 1, x^2 = -1/a.
    use ark_ff::Field;
    let a = depin_crypto::babyjubjub::A;
    let x2 = -(a.inverse().unwrap());
    let x = x2
        .sqrt()
        .expect("-1/a is a square in the BN254 scalar field");
    let p = Point {
        x,
        y: depin_crypto::field::Fr::from(1u64),
    };
    assert!(!p.is_on_curve());
    base_test()
        .k(10)
        .expect_satisfied(false)
        .run_gate(|ctx, gate| {
            let chip = BabyJubjubChip::new(gate);
            let pc = chip.load_witness(ctx, &p);
            let d = chip.double(ctx, &pc);
            assert_eq!(*d.x.value(), Fr::ZERO);
        });
}

#[test]
fn scalar_multiplications_match_native() {
    let mut r = rng(3);
    let mut cases: Vec<(Point, [u64; 4])> = Vec::new();
    let order_l_minus_1 = {
        let mut l = SUBORDER;
        l.sub_with_borrow(&ark_ff::BigInt::from(1u64));
        l.0
    };
    for p in [
        Point::BASE8,
        random_subgroup_point(&mut r),
        random_curve_point(&mut r),
        torsion()[3],
        Point::IDENTITY,
    ] {
        for k in [
            Scalar::rand(&mut r).into_bigint().0,
            [0, 0, 0, 0],
            [1, 0, 0, 0],
            SUBORDER.0,
            order_l_minus_1,
            [u64::MAX, u64::MAX, u64::MAX, u64::MAX >> 2],
        ] {
            cases.push((p, k));
        }
    }
    let table = FixedBase::new(&Point::BASE8, 254).unwrap();
    for chunk in cases.chunks(10) {
        base_test().k(17).run_gate(|ctx, gate| {
            let chip = BabyJubjubChip::new(gate);
            for (p, k) in chunk {
                let kb = bits(ctx, k, 254);
                for b in &kb {
                    gate.assert_bit(ctx, *b);
                }
                let pc = chip.load_witness(ctx, p);
                let kp = chip.scalar_mul(ctx, &pc, &kb);
                assert_point(ctx, gate, &kp, &p.mul_bigint(k).unwrap());
                if *p == Point::BASE8 {
                    let kb8 = chip.fixed_base_mul(ctx, &table, &kb).unwrap();
                    assert_point(ctx, gate, &kb8, &p.mul_bigint(k).unwrap());
                }
            }
        });
    }
}

#[test]
fn short_scalars_and_the_empty_scalar() {
    let p = random_subgroup_point(&mut rng(4));
    let table = FixedBase::new(&p, 8).unwrap();
    base_test().k(12).run_gate(|ctx, gate| {
        let chip = BabyJubjubChip::new(gate);
        let pc = chip.load_witness(ctx, &p);
        for k in [0u64, 1, 2, 3, 5, 200, 255] {
            for n in 1..=8 {
                if k >> n != 0 {
                    continue;
                }
                let kb = bits(ctx, &[k, 0, 0, 0], n);
                let expected = p.mul_bigint([k]).unwrap();
                let kp = chip.scalar_mul(ctx, &pc, &kb);
                assert_point(ctx, gate, &kp, &expected);
                let kt = chip.fixed_base_mul(ctx, &table, &kb).unwrap();
                assert_point(ctx, gate, &kt, &expected);
            }
        }
        let none = chip.scalar_mul(ctx, &pc, &[]);
        assert_point(ctx, gate, &none, &Point::IDENTITY);
    });
}

#[test]
fn fixed_base_refuses_a_base_off_the_curve_and_too_many_bits() {
    assert_eq!(
        FixedBase::new(&off_curve(Point::BASE8), 4).unwrap_err(),
        PointError::NotOnCurve
    );
    let table = FixedBase::new(&Point::BASE8, 4).unwrap();
    base_test().k(10).run_gate(|ctx, gate| {
        let chip = BabyJubjubChip::new(gate);
        let kb = bits(ctx, &[0, 0, 0, 0], 5);
        assert_eq!(
            chip.fixed_base_mul(ctx, &table, &kb).unwrap_err(),
            CurveChipError::FixedBaseWidth { bits: 5, table: 4 }
        );
    });
}

/// Advice cells per operation (`cargo test -p depin-halo2 --test babyjubjub
/// -- --nocapture cells` prints them for docs/halo2.md).
#[test]
fn cells_per_operation() {
    let p = random_subgroup_point(&mut rng(5));
    let table = FixedBase::new(&Point::BASE8, 254).unwrap();
    base_test().k(17).run_gate(|ctx, gate| {
        let chip = BabyJubjubChip::new(gate);
        let pc = chip.load_witness(ctx, &p);
        let kb = bits(ctx, &[7, 7, 7, 7], 254);
        let measure = |name: &str, ctx: &mut Context<Fr>, f: &dyn Fn(&mut Context<Fr>)| {
            let before = ctx.advice.len();
            f(ctx);
            let cells = ctx.advice.len() - before;
            eprintln!("{name}: {cells} advice cells");
            cells
        };
        let add = measure("add", ctx, &|ctx| {
            chip.add(ctx, &pc, &pc);
        });
        let double = measure("double", ctx, &|ctx| {
            chip.double(ctx, &pc);
        });
        measure("is_on_curve", ctx, &|ctx| {
            chip.is_on_curve(ctx, &pc);
        });
        let var = measure("scalar_mul, 254 bits", ctx, &|ctx| {
            chip.scalar_mul(ctx, &pc, &kb);
        });
        let fixed = measure("fixed_base_mul, 254 bits", ctx, &|ctx| {
            chip.fixed_base_mul(ctx, &table, &kb).unwrap();
        });
        assert!(double < add && fixed < var);
    });
}
