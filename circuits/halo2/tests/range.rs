//! The range gates against plain integer arithmetic with halo2's mock
//! prover: decompositions accept exactly the values that fit, comparisons
//! return the true bit at the edges of their width, the canonical expansion
//! refuses the alias `x + p`, comparisons with constants are exact at and
//! around the constant, and widths outside the limits are typed errors.

use ark_ff::{BigInt, BigInteger, PrimeField};
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::field::Fr as NativeFr;
use depin_halo2::range::{pow2, RangeError, RangeGates, FIELD_BITS, MAX_BITS, MAX_CMP_BITS};
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::utils::testing::base_test;

fn bit(b: bool) -> Fr {
    Fr::from(u64::from(b))
}

#[test]
fn decompositions_accept_exactly_what_fits() {
    for (x, n, fits) in [
        (0u64, 1, true),
        (1, 1, true),
        (2, 1, false),
        (255, 8, true),
        (256, 8, false),
        (u64::MAX, 64, true),
    ] {
        base_test()
            .k(10)
            .expect_satisfied(fits)
            .run_gate(|ctx, gate| {
                let range = RangeGates::new(gate);
                let cell = ctx.load_witness(Fr::from(x));
                let bits = range.to_bits_le(ctx, cell, n).unwrap();
                assert_eq!(bits.len(), n);
            });
    }
    // -1 = p - 1 does not fit 252 bits.
    base_test()
        .k(11)
        .expect_satisfied(false)
        .run_gate(|ctx, gate| {
            let cell = ctx.load_witness(-Fr::ONE);
            RangeGates::new(gate)
                .enforce_bits(ctx, cell, MAX_BITS)
                .unwrap();
        });
}

#[test]
fn comparisons_are_exact_at_the_edges() {
    let n = 16;
    let top = (1u64 << n) - 1;
    let values = [0u64, 1, 2, top / 2, top - 1, top];
    base_test().k(14).run_gate(|ctx, gate| {
        let range = RangeGates::new(gate);
        for a in values {
            for b in values {
                let (ac, bc) = (ctx.load_witness(Fr::from(a)), ctx.load_witness(Fr::from(b)));
                let lt = range.is_less_than(ctx, ac, bc, n).unwrap();
                gate.assert_is_const(ctx, &lt, &bit(a < b));
                let le = range.is_le(ctx, ac, bc, n).unwrap();
                gate.assert_is_const(ctx, &le, &bit(a <= b));
                let lo = ctx.load_witness(Fr::from(1u64));
                let inside = range.is_in_range(ctx, lo, ac, bc, n).unwrap();
                gate.assert_is_const(ctx, &inside, &bit(1 <= a && a <= b));
            }
        }
    });
}

#[test]
fn enforce_le_refuses_a_greater_value() {
    for (a, b, ok) in [(3u64, 3u64, true), (2, 3, true), (4, 3, false)] {
        base_test()
            .k(10)
            .expect_satisfied(ok)
            .run_gate(|ctx, gate| {
                let (ac, bc) = (ctx.load_witness(Fr::from(a)), ctx.load_witness(Fr::from(b)));
                RangeGates::new(gate).enforce_le(ctx, ac, bc, 8).unwrap();
            });
    }
}

#[test]
fn comparison_with_constants_is_exact() {
    let l = SUBORDER;
    let mut below = l;
    below.sub_with_borrow(&BigInt::from(1u64));
    let mut above = l;
    above.add_with_carry(&BigInt::from(1u64));
    let p_minus_one = (-NativeFr::from(1u64)).into_bigint();
    base_test().k(14).run_gate(|ctx, gate| {
        let range = RangeGates::new(gate);
        for (v, expected) in [
            (BigInt::from(0u64), true),
            (below, true),
            (l, false),
            (above, false),
            (p_minus_one, false),
        ] {
            let cell = ctx.load_witness(depin_halo2::field::to_halo2(
                &NativeFr::from_bigint(v).unwrap(),
            ));
            let bits = range.canonical_bits(ctx, cell);
            let lt = range.is_less_than_const(ctx, &bits, &l);
            gate.assert_is_const(ctx, &lt, &bit(expected));
        }
    });
}

#[test]
fn canonical_bits_refuse_the_alias() {
    // x = 5 has the 254-bit alias 5 + p < 2^254: the same sum modulo p but
    // not below p. A prover that supplies the alias is refused.
    let p = NativeFr::MODULUS;
    let mut alias = p;
    alias.add_with_carry(&BigInt::from(5u64));
    base_test()
        .k(11)
        .expect_satisfied(false)
        .run_gate(|ctx, gate| {
            let x = ctx.load_witness(Fr::from(5u64));
            let bits: Vec<_> = (0..FIELD_BITS)
                .map(|i| ctx.load_witness(bit(alias.get_bit(i))))
                .collect();
            for b in &bits {
                gate.assert_bit(ctx, *b);
            }
            let sum = gate.inner_product(
                ctx,
                bits.iter().copied(),
                (0..FIELD_BITS).map(|i| halo2_base::QuantumCell::Constant(pow2(i))),
            );
            ctx.constrain_equal(&sum, &x);
            let range = RangeGates::new(gate);
            let below_p = range.is_less_than_const(ctx, &bits, &p);
            gate.assert_is_const(ctx, &below_p, &Fr::ONE);
        });
    // The honest expansion passes.
    base_test().k(11).run_gate(|ctx, gate| {
        let x = ctx.load_witness(Fr::from(5u64));
        let bits = RangeGates::new(gate).canonical_bits(ctx, x);
        let back = gate.inner_product(
            ctx,
            bits.iter().copied(),
            (0..FIELD_BITS).map(|i| halo2_base::QuantumCell::Constant(pow2(i))),
        );
        gate.assert_is_const(ctx, &back, &Fr::from(5u64));
    });
}

#[test]
fn fits_in_bits_for_any_field_element() {
    base_test().k(14).run_gate(|ctx, gate| {
        let range = RangeGates::new(gate);
        for (x, n, expected) in [
            (Fr::from(255u64), 8, true),
            (Fr::from(256u64), 8, false),
            (-Fr::ONE, 64, false),
            (-Fr::ONE, FIELD_BITS, true),
            (pow2(200), 201, true),
            (pow2(200), 200, false),
        ] {
            let cell = ctx.assign_witnesses([x])[0];
            let fits = range.fits_in_bits(ctx, cell, n).unwrap();
            gate.assert_is_const(ctx, &fits, &bit(expected));
        }
    });
}

#[test]
fn widths_outside_the_limits_are_errors() {
    base_test().k(10).run_gate(|ctx, gate| {
        let range = RangeGates::new(gate);
        let x = ctx.load_witness(Fr::ONE);
        assert_eq!(
            range.to_bits_le(ctx, x, 0).unwrap_err(),
            RangeError::Width {
                bits: 0,
                max: MAX_BITS
            }
        );
        assert_eq!(
            range.to_bits_le(ctx, x, MAX_BITS + 1).unwrap_err(),
            RangeError::Width {
                bits: MAX_BITS + 1,
                max: MAX_BITS
            }
        );
        assert_eq!(
            range.is_less_than(ctx, x, x, MAX_CMP_BITS + 1).unwrap_err(),
            RangeError::Width {
                bits: MAX_CMP_BITS + 1,
                max: MAX_CMP_BITS
            }
        );
        assert_eq!(
            range.fits_in_bits(ctx, x, FIELD_BITS + 1).unwrap_err(),
            RangeError::Width {
                bits: FIELD_BITS + 1,
                max: FIELD_BITS
            }
        );
    });
}
