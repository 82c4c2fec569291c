use super::*;
use ark_ff::AdditiveGroup;
use ark_r1cs_std::alloc::AllocVar;
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode};
use proptest::prelude::*;

fn new_cs() -> ConstraintSystemRef<Fr> {
    ConstraintSystem::<Fr>::new_ref()
}

fn wit(cs: &ConstraintSystemRef<Fr>, v: Fr) -> FpVar<Fr> {
    FpVar::new_witness(cs.clone(), || Ok(v)).unwrap()
}

fn u(v: u128) -> Fr {
    Fr::from(v)
}

/// Runs `to_bits_le` on a witness and reports (satisfied, bits value).
fn bits_of(v: Fr, n: usize) -> (bool, Vec<bool>) {
    let cs = new_cs();
    let x = wit(&cs, v);
    let bits = to_bits_le(&x, n).unwrap();
    let vals = bits.iter().map(|b| b.value().unwrap()).collect();
    (cs.is_satisfied().unwrap(), vals)
}

fn cmp(a: u128, b: u128, n: usize) -> (bool, bool, bool) {
    let cs = new_cs();
    let (x, y) = (wit(&cs, u(a)), wit(&cs, u(b)));
    let lt = is_less_than(&x, &y, n).unwrap().value().unwrap();
    let le = is_le(&x, &y, n).unwrap().value().unwrap();
    (lt, le, cs.is_satisfied().unwrap())
}

fn enforced(a: u128, b: u128, n: usize, strict: bool) -> bool {
    let cs = new_cs();
    let (x, y) = (wit(&cs, u(a)), wit(&cs, u(b)));
    if strict {
        enforce_less_than(&x, &y, n).unwrap();
    } else {
        enforce_le(&x, &y, n).unwrap();
    }
    cs.is_satisfied().unwrap()
}

#[test]
fn to_bits_le_matches_native_at_the_edges() {
    for n in [0usize, 1, 8, 31, 32, 63, 64, 127] {
        let max = if n == 0 { 0 } else { (1u128 << n) - 1 };
        for v in [0u128, 1, max / 2, max.saturating_sub(1), max] {
            if v > max {
                continue;
            }
            let (ok, bits) = bits_of(u(v), n);
            assert!(ok, "n {n} v {v}");
            let back = bits
                .iter()
                .enumerate()
                .fold(0u128, |acc, (i, b)| acc | (u128::from(*b) << i));
            assert_eq!(back, v);
        }
    }
}

#[test]
fn out_of_range_value_leaves_enforce_bits_unsatisfied() {
    for n in [1usize, 8, 31, 63, 64, 100] {
        for v in [u(1u128 << n), u((1u128 << n) + 1), u(u128::MAX), -Fr::ONE] {
            let cs = new_cs();
            let x = wit(&cs, v);
            enforce_bits(&x, n).unwrap();
            assert!(!cs.is_satisfied().unwrap(), "n {n} v {v}");
        }
    }
    // n = 0 admits only zero.
    let cs = new_cs();
    enforce_bits(&wit(&cs, Fr::ONE), 0).unwrap();
    assert!(!cs.is_satisfied().unwrap());
    // The full width: 2^252 does not fit 252 bits, 2^252 - 1 does.
    let (ok, _) = bits_of(pow2(252), 252);
    assert!(!ok);
    let (ok, _) = bits_of(pow2(252) - Fr::ONE, 252);
    assert!(ok);
}

#[test]
fn dishonest_bits_leave_enforce_bits_unsatisfied() {
    // A prover that flips a bit of an honest decomposition is caught by
    // the recomposition constraint.
    let cs = new_cs();
    let x = wit(&cs, u(0b1011));
    let bits: Vec<Boolean<Fr>> = [true, true, true, true]
        .iter()
        .map(|b| Boolean::new_witness(cs.clone(), || Ok(*b)).unwrap())
        .collect();
    from_bits_le(&bits).unwrap().enforce_equal(&x).unwrap();
    assert!(!cs.is_satisfied().unwrap());
}

#[test]
fn constants_and_widths() {
    let bits = to_bits_le(&FpVar::Constant(u(5)), 3).unwrap();
    assert_eq!(
        bits.iter().map(|b| b.value().unwrap()).collect::<Vec<_>>(),
        [true, false, true]
    );
    assert!(to_bits_le(&FpVar::Constant(u(8)), 3).is_err());
    let cs = new_cs();
    let x = wit(&cs, Fr::ONE);
    assert!(to_bits_le(&x, MAX_BITS + 1).is_err());
    assert!(is_less_than(&x, &x, MAX_CMP_BITS + 1).is_err());
    assert!(signed_to_offset(&x, MAX_CMP_BITS + 1).is_err());
    assert!(from_bits_le(&vec![Boolean::FALSE; MAX_BITS + 1]).is_err());
    // Comparisons of constants fold to constants.
    let lt = is_less_than(&FpVar::Constant(u(3)), &FpVar::Constant(u(4)), 8).unwrap();
    assert_eq!(lt, Boolean::TRUE);
}

#[test]
fn comparisons_match_native_at_the_edges() {
    for n in [0usize, 1, 2, 16, 63, 64, 119] {
        let max = if n == 0 { 0 } else { (1u128 << n) - 1 };
        let edges = [0u128, 1, 2, max / 2, max.saturating_sub(1), max];
        for &a in edges.iter().filter(|v| **v <= max) {
            for &b in edges.iter().filter(|v| **v <= max) {
                let (lt, le, ok) = cmp(a, b, n);
                assert!(ok, "n {n} a {a} b {b}");
                assert_eq!(lt, a < b, "n {n} a {a} b {b}");
                assert_eq!(le, a <= b, "n {n} a {a} b {b}");
                assert_eq!(enforced(a, b, n, true), a < b);
                assert_eq!(enforced(a, b, n, false), a <= b);
            }
        }
    }
}

#[test]
fn widest_comparison_is_exact() {
    let n = MAX_CMP_BITS;
    let max = pow2(n) - Fr::ONE;
    for (a, b) in [
        (max, max),
        (Fr::ZERO, max),
        (max, Fr::ZERO),
        (max - Fr::ONE, max),
    ] {
        let cs = new_cs();
        let lt = is_less_than(&wit(&cs, a), &wit(&cs, b), n).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(lt.value().unwrap(), a < b);
    }
}

#[test]
fn is_in_range_matches_native_at_the_edges() {
    let n = 16;
    for (lo, hi) in [
        (0u128, 0u128),
        (0, 65535),
        (10, 20),
        (20, 10),
        (65535, 65535),
    ] {
        for x in [0u128, 1, 9, 10, 11, 19, 20, 21, 65534, 65535] {
            let cs = new_cs();
            let r = is_in_range(&wit(&cs, u(x)), &wit(&cs, u(lo)), &wit(&cs, u(hi)), n).unwrap();
            assert!(cs.is_satisfied().unwrap());
            assert_eq!(r.value().unwrap(), lo <= x && x <= hi, "{lo} {x} {hi}");
        }
    }
    // Constant bounds work the same.
    let cs = new_cs();
    let r = is_in_range(
        &wit(&cs, u(5)),
        &FpVar::Constant(u(5)),
        &FpVar::Constant(u(6)),
        n,
    )
    .unwrap();
    assert!(r.value().unwrap() && cs.is_satisfied().unwrap());
}

#[test]
fn zero_tests() {
    for (v, z) in [(Fr::ZERO, true), (Fr::ONE, false), (-Fr::ONE, false)] {
        let cs = new_cs();
        let x = wit(&cs, v);
        assert_eq!(is_zero(&x).unwrap().value().unwrap(), z);
        assert_eq!(is_nonzero(&x).unwrap().value().unwrap(), !z);
        assert!(cs.is_satisfied().unwrap());
    }
}

#[test]
fn fits_in_bits_accepts_any_field_element() {
    let cases = [
        (Fr::ZERO, 0usize, true),
        (Fr::ONE, 0, false),
        (u(255), 8, true),
        (u(256), 8, false),
        (-Fr::ONE, 253, false),
        (-Fr::ONE, 254, true),
        (pow2(252), 252, false),
        (pow2(252) - Fr::ONE, 252, true),
        (pow2(253), 253, false),
        (pow2(253), 254, true),
    ];
    for (v, n, want) in cases {
        let cs = new_cs();
        let r = fits_in_bits(&wit(&cs, v), n).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(r.value().unwrap(), want, "{v} in {n} bits");
        assert_eq!(
            fits_in_bits(&FpVar::Constant(v), n)
                .unwrap()
                .value()
                .unwrap(),
            want
        );
    }
}

#[test]
fn signed_edges() {
    let k = 15;
    for (v, ok) in [
        (-(1i64 << 15), true),
        (-(1i64 << 15) - 1, false),
        ((1i64 << 15) - 1, true),
        (1i64 << 15, false),
        (0, true),
        (-1, true),
        (i64::MIN + 1, false),
        (i64::MAX, false),
    ] {
        let cs = new_cs();
        let x = wit(&cs, signed_to_fr(v));
        let inside = is_signed_in_range(&x, k).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(inside.value().unwrap(), ok, "{v}");
        let off = signed_to_offset(&x, k).unwrap();
        assert_eq!(cs.is_satisfied().unwrap(), ok, "{v}");
        if ok {
            assert_eq!(off.value().unwrap(), Fr::from((v + (1 << 15)) as u64));
        }
    }
}

#[test]
fn setup_mode_synthesizes_without_values() {
    let cs = new_cs();
    cs.set_mode(SynthesisMode::Setup);
    let a = FpVar::new_witness(cs.clone(), || Ok(Fr::ONE)).unwrap();
    let b = FpVar::new_witness(cs.clone(), || Ok(Fr::ONE)).unwrap();
    enforce_bits(&a, 32).unwrap();
    let _ = is_less_than(&a, &b, 32).unwrap();
    let _ = is_in_range(&a, &b, &b, 32).unwrap();
    let _ = fits_in_bits(&a, 32).unwrap();
    let _ = signed_to_offset(&a, 15).unwrap();
    assert_eq!(
        cs.num_constraints(),
        33 + 34 + (2 * 32 + 5) + FITS_IN_BITS_CONSTRAINTS + 17
    );
}

#[test]
fn constraint_counts() {
    for n in [8usize, 16, 32, 64, 119, 252] {
        let cs = new_cs();
        enforce_bits(&wit(&cs, Fr::ONE), n).unwrap();
        println!(
            "range check of {n} bits: {} constraints",
            cs.num_constraints()
        );
        assert_eq!(cs.num_constraints(), n + 1);
    }
    for n in [8usize, 16, 32, 64, 119, 251] {
        let cs = new_cs();
        let _ = is_less_than(&wit(&cs, Fr::ONE), &wit(&cs, Fr::ONE), n).unwrap();
        println!(
            "comparison of {n} bits: {} constraints",
            cs.num_constraints()
        );
        assert_eq!(cs.num_constraints(), n + 2);
        let cs2 = ConstraintSystem::<Fr>::new_ref();
        enforce_less_than(&wit(&cs2, Fr::ONE), &wit(&cs2, u(2)), n).unwrap();
        assert_eq!(cs2.num_constraints(), n + 1);
    }
    let cs = new_cs();
    let x = wit(&cs, Fr::ONE);
    let _ = is_in_range(&x, &x, &x, 16).unwrap();
    assert_eq!(cs.num_constraints(), 2 * 16 + 5);
    let cs = new_cs();
    let _ = fits_in_bits(&wit(&cs, Fr::ONE), 64).unwrap();
    println!("fits_in_bits: {} constraints", cs.num_constraints());
    assert_eq!(cs.num_constraints(), FITS_IN_BITS_CONSTRAINTS);
    let cs = new_cs();
    let _ = signed_to_offset(&wit(&cs, Fr::ONE), 15).unwrap();
    assert_eq!(cs.num_constraints(), 17);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn prop_to_bits_le_matches_native(v in any::<u64>(), n in 0usize..=70) {
        let fits = n >= 64 || v < (1u64 << n);
        let (ok, bits) = bits_of(Fr::from(v), n);
        prop_assert_eq!(ok, fits);
        if fits {
            for (i, b) in bits.iter().enumerate() {
                prop_assert_eq!(*b, i < 64 && (v >> i) & 1 == 1);
            }
        }
    }

    #[test]
    fn prop_comparisons_match_native(a in any::<u64>(), b in any::<u64>(), n in 1usize..=64) {
        let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        let (a, b) = (a & mask, b & mask);
        let (lt, le, ok) = cmp(a.into(), b.into(), n);
        prop_assert!(ok);
        prop_assert_eq!(lt, a < b);
        prop_assert_eq!(le, a <= b);
        prop_assert_eq!(enforced(a.into(), b.into(), n, true), a < b);
        prop_assert_eq!(enforced(a.into(), b.into(), n, false), a <= b);
    }

    #[test]
    fn prop_is_in_range_matches_native(x in 0u64..1000, lo in 0u64..1000, hi in 0u64..1000) {
        let cs = new_cs();
        let r = is_in_range(
            &wit(&cs, Fr::from(x)),
            &wit(&cs, Fr::from(lo)),
            &wit(&cs, Fr::from(hi)),
            10,
        )
        .unwrap();
        prop_assert!(cs.is_satisfied().unwrap());
        prop_assert_eq!(r.value().unwrap(), lo <= x && x <= hi);
    }

    #[test]
    fn prop_signed_matches_native(v in any::<i32>()) {
        let v = i64::from(v);
        let want = (-(1i64 << 15)..(1i64 << 15)).contains(&v);
        let cs = new_cs();
        let x = wit(&cs, signed_to_fr(v));
        let inside = is_signed_in_range(&x, 15).unwrap();
        prop_assert!(cs.is_satisfied().unwrap());
        prop_assert_eq!(inside.value().unwrap(), want);
        let off = signed_to_offset(&x, 15).unwrap();
        prop_assert_eq!(cs.is_satisfied().unwrap(), want);
        if want {
            prop_assert_eq!(off.value().unwrap(), Fr::from((v + (1 << 15)) as u64));
        }
    }
}
