//! Poseidon cross-checked against `light-poseidon`'s independent circom
//! instantiation (its own constants, same ark-bn254 `Fr`).

use ark_ff::PrimeField;
use depin_crypto::field::Fr;
use depin_crypto::poseidon;
use light_poseidon::{Poseidon, PoseidonHasher};
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
    (1usize..=12).prop_flat_map(|n| prop::collection::vec(field_element(), n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_light_poseidon(xs in inputs()) {
        let mut light = Poseidon::<Fr>::new_circom(xs.len()).expect("light-poseidon arity");
        let want = light.hash(&xs).expect("light-poseidon hash");
        prop_assert_eq!(poseidon::hash(&xs), Ok(want));
    }
}

#[test]
fn every_arity_matches_light_poseidon_on_a_fixed_input() {
    for n in 1..=12usize {
        let xs: Vec<Fr> = (0..n).map(|i| Fr::from(i as u64 + 1)).collect();
        let mut light = Poseidon::<Fr>::new_circom(n).expect("light-poseidon arity");
        assert_eq!(
            poseidon::hash(&xs),
            Ok(light.hash(&xs).expect("hash")),
            "arity {n}"
        );
    }
}
