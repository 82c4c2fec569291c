//! The Poseidon chip against the native circomlib Poseidon
//! (`depin_crypto::poseidon::hash`), with halo2's mock prover: every arity
//! on random inputs and on edge values (0, 1, -1), the output constrained to
//! the native hash (satisfied) and to anything else (refused).

use ark_ff::{AdditiveGroup, Field, UniformRand};
use depin_crypto::field::Fr as NativeFr;
use depin_halo2::field::to_halo2;
use depin_halo2::poseidon::{PoseidonChip, PoseidonChipError};
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field as _;
use halo2_base::utils::testing::base_test;

/// Runs the chip on `inputs` in a mock circuit whose output is constrained
/// to `expected`; whether the circuit is satisfied is asserted by
/// `satisfied`.
fn check(inputs: &[NativeFr], expected: Fr, satisfied: bool) {
    let chip = PoseidonChip::new(inputs.len()).unwrap();
    let inputs: Vec<Fr> = inputs.iter().map(to_halo2).collect();
    base_test()
        .k(14)
        .expect_satisfied(satisfied)
        .run_gate(|ctx, gate| {
            let cells = ctx.assign_witnesses(inputs.iter().copied());
            let out = chip.hash(ctx, gate, &cells).unwrap();
            assert_eq!(*out.value() == expected, satisfied);
            gate.assert_is_const(ctx, &out, &expected);
        });
}

#[test]
fn every_arity_equals_the_native_hash() {
    let mut rng = ark_std::test_rng();
    for n in 1..=16 {
        let inputs: Vec<NativeFr> = (0..n).map(|_| NativeFr::rand(&mut rng)).collect();
        let native = depin_crypto::poseidon::hash(&inputs).unwrap();
        check(&inputs, to_halo2(&native), true);
    }
}

#[test]
fn edge_values_equal_the_native_hash() {
    let edges = [NativeFr::ZERO, NativeFr::ONE, -NativeFr::ONE];
    for n in [1usize, 2, 5] {
        for e in edges {
            let inputs = vec![e; n];
            let native = depin_crypto::poseidon::hash(&inputs).unwrap();
            check(&inputs, to_halo2(&native), true);
        }
    }
}

#[test]
fn a_wrong_output_is_refused() {
    let inputs = [NativeFr::from(1u64), NativeFr::from(2u64)];
    let native = to_halo2(&depin_crypto::poseidon::hash(&inputs).unwrap());
    check(&inputs, native + Fr::ONE, false);
    // Another input's hash is not this input's.
    let other = to_halo2(
        &depin_crypto::poseidon::hash(&[NativeFr::from(2u64), NativeFr::from(1u64)]).unwrap(),
    );
    check(&inputs, other, false);
}

#[test]
fn arities_outside_circomlib_are_refused() {
    assert_eq!(
        PoseidonChip::new(0).unwrap_err(),
        PoseidonChipError::Arity(0)
    );
    assert_eq!(
        PoseidonChip::new(17).unwrap_err(),
        PoseidonChipError::Arity(17)
    );
    let chip = PoseidonChip::new(2).unwrap();
    base_test().k(10).run_gate(|ctx, gate| {
        let one = ctx.load_witness(Fr::ONE);
        assert_eq!(
            chip.hash(ctx, gate, &[one]).unwrap_err(),
            PoseidonChipError::Arity(1)
        );
    });
}

/// The chip's size (`cargo test -p depin-halo2 --test poseidon --
/// --nocapture cells` prints it for docs/halo2.md): advice cells of one
/// hash per arity, growing with the arity, and the two-input hash (the
/// Merkle and chain step) within the budget the docs give.
#[test]
fn cells_per_hash() {
    let mut last = 0;
    for n in [1usize, 2, 4, 5, 16] {
        let chip = PoseidonChip::new(n).unwrap();
        let cells = base_test().k(14).run_gate(|ctx, gate| {
            let inputs = ctx.assign_witnesses((0..n as u64).map(Fr::from));
            let before = ctx.advice.len();
            chip.hash(ctx, gate, &inputs).unwrap();
            ctx.advice.len() - before
        });
        eprintln!("Poseidon({n}): {cells} advice cells");
        assert!(cells > last, "Poseidon({n}): {cells} cells");
        if n == 2 {
            assert!(cells <= 4_000, "Poseidon(2): {cells} cells");
        }
        last = cells;
    }
}
