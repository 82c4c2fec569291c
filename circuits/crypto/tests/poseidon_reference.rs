//! The optimised Poseidon permutation (`poseidon::hash`, `hash_n`, `hash2`)
//! against the plain round-by-round one (`poseidon::reference`) on every
//! arity, 1 to 16 inputs.

use ark_ff::PrimeField;
use depin_crypto::field::Fr;
use depin_crypto::poseidon::{self, reference, MAX_INPUTS};
use proptest::prelude::*;

/// Random field elements, mixing uniform values with the edge cases 0, 1
/// and p - 1.
fn field_element() -> impl Strategy<Value = Fr> {
    prop_oneof![
        6 => any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
        1 => Just(Fr::from(0u64)),
        1 => Just(Fr::from(1u64)),
        1 => Just(-Fr::from(1u64)),
    ]
}

fn inputs() -> impl Strategy<Value = Vec<Fr>> {
    (1usize..=MAX_INPUTS).prop_flat_map(|n| prop::collection::vec(field_element(), n))
}

/// `hash_n::<N>` and `reference::hash_n::<N>` on the first `N` of `xs`.
fn fixed<const N: usize>(xs: &[Fr; MAX_INPUTS]) -> (Fr, Fr) {
    let ys: [Fr; N] = core::array::from_fn(|i| xs[i]);
    (poseidon::hash_n(&ys), reference::hash_n(&ys))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn optimised_matches_reference(xs in inputs()) {
        let want = reference::hash(&xs);
        prop_assert!(want.is_ok());
        prop_assert_eq!(poseidon::hash(&xs), want);
    }

    #[test]
    fn fixed_arities_match_reference(xs in prop::array::uniform16(field_element())) {
        let pairs = [
            fixed::<1>(&xs), fixed::<2>(&xs), fixed::<3>(&xs), fixed::<4>(&xs),
            fixed::<5>(&xs), fixed::<6>(&xs), fixed::<7>(&xs), fixed::<8>(&xs),
            fixed::<9>(&xs), fixed::<10>(&xs), fixed::<11>(&xs), fixed::<12>(&xs),
            fixed::<13>(&xs), fixed::<14>(&xs), fixed::<15>(&xs), fixed::<16>(&xs),
        ];
        for (n, (fast, plain)) in pairs.into_iter().enumerate() {
            prop_assert_eq!(fast, plain, "arity {}", n + 1);
        }
        prop_assert_eq!(poseidon::hash2(xs[0], xs[1]), reference::hash2(xs[0], xs[1]));
    }
}

#[test]
fn every_arity_matches_reference_on_edge_inputs() {
    for n in 1..=MAX_INPUTS {
        for x in [Fr::from(0u64), Fr::from(1u64), -Fr::from(1u64)] {
            let xs = vec![x; n];
            assert_eq!(poseidon::hash(&xs), reference::hash(&xs), "arity {n}");
        }
    }
    for n in [0, MAX_INPUTS + 1] {
        let xs = vec![Fr::from(0u64); n];
        assert_eq!(poseidon::hash(&xs), reference::hash(&xs), "arity {n}");
        assert!(poseidon::hash(&xs).is_err());
    }
}
