//! The Merkle chip against `depin_crypto::merkle` with halo2's mock prover:
//! every leaf of a tree folds to the native root, a wrong leaf, index or
//! sibling gives a zero membership bit (and an unsatisfied enforcement),
//! and depths outside `1..=32` or mismatched slices are typed errors.

use ark_ff::UniformRand;
use depin_crypto::field::Fr as NativeFr;
use depin_crypto::merkle::MerkleTree;
use depin_halo2::field::to_halo2;
use depin_halo2::merkle::{MerkleChip, MerkleChipError};
use depin_halo2::range::RangeGates;
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::utils::testing::base_test;
use halo2_base::{AssignedValue, Context};

const DEPTH: usize = 4;

fn tree() -> (MerkleTree, Vec<NativeFr>) {
    let mut rng = ark_std::test_rng();
    let leaves: Vec<NativeFr> = (0..11).map(|_| NativeFr::rand(&mut rng)).collect();
    (MerkleTree::new(DEPTH, &leaves).unwrap(), leaves)
}

fn load(ctx: &mut Context<Fr>, xs: &[NativeFr]) -> Vec<AssignedValue<Fr>> {
    ctx.assign_witnesses(xs.iter().map(to_halo2))
}

#[test]
fn every_leaf_folds_to_the_native_root() {
    let (tree, leaves) = tree();
    base_test().k(16).run_gate(|ctx, gate| {
        let chip = MerkleChip::new(gate).unwrap();
        let range = RangeGates::new(gate);
        let root = ctx.load_witness(to_halo2(&tree.root()));
        // Every filled leaf and one empty leaf.
        for index in 0..=leaves.len() as u64 {
            let leaf = leaves.get(index as usize).copied().unwrap_or_default();
            let siblings = load(ctx, &tree.siblings(index).unwrap());
            let leaf = ctx.load_witness(to_halo2(&leaf));
            let idx = ctx.load_witness(Fr::from(index));
            let bits = range.to_bits_le(ctx, idx, DEPTH).unwrap();
            let folded = chip.root_from_path(ctx, leaf, &bits, &siblings).unwrap();
            ctx.constrain_equal(&folded, &root);
            chip.enforce_member(ctx, root, leaf, &bits, &siblings)
                .unwrap();
        }
    });
}

#[test]
fn a_wrong_leaf_index_or_sibling_is_not_a_member() {
    let (tree, leaves) = tree();
    let index = 5u64;
    let good = tree.siblings(index).unwrap();
    let mut bad_sibling = good.clone();
    bad_sibling[2] += NativeFr::from(1u64);
    let cases = [
        (leaves[5], index, good.clone(), true),
        (leaves[6], index, good.clone(), false),
        (leaves[5], 4, good.clone(), false),
        (leaves[5], index, bad_sibling, false),
    ];
    for (leaf, index, siblings, member) in cases {
        assert_eq!(
            depin_crypto::merkle::verify_membership(&tree.root(), leaf, index, &siblings),
            member
        );
        base_test().k(15).run_gate(|ctx, gate| {
            let chip = MerkleChip::new(gate).unwrap();
            let root = ctx.load_witness(to_halo2(&tree.root()));
            let leaf = ctx.load_witness(to_halo2(&leaf));
            let idx = ctx.load_witness(Fr::from(index));
            let bits = RangeGates::new(gate).to_bits_le(ctx, idx, DEPTH).unwrap();
            let sibs = load(ctx, &siblings);
            let bit = chip.is_member(ctx, root, leaf, &bits, &sibs).unwrap();
            gate.assert_is_const(ctx, &bit, &Fr::from(u64::from(member)));
        });
        base_test()
            .k(15)
            .expect_satisfied(member)
            .run_gate(|ctx, gate| {
                let chip = MerkleChip::new(gate).unwrap();
                let root = ctx.load_witness(to_halo2(&tree.root()));
                let leaf = ctx.load_witness(to_halo2(&leaf));
                let idx = ctx.load_witness(Fr::from(index));
                let bits = RangeGates::new(gate).to_bits_le(ctx, idx, DEPTH).unwrap();
                let sibs = load(ctx, &siblings);
                chip.enforce_member(ctx, root, leaf, &bits, &sibs).unwrap();
            });
    }
}

#[test]
fn an_index_beyond_the_depth_is_refused() {
    base_test()
        .k(10)
        .expect_satisfied(false)
        .run_gate(|ctx, gate| {
            let idx = ctx.load_witness(Fr::from(1u64 << DEPTH));
            RangeGates::new(gate).enforce_bits(ctx, idx, DEPTH).unwrap();
        });
}

#[test]
fn bad_shapes_are_typed_errors() {
    base_test().k(10).run_gate(|ctx, gate| {
        let chip = MerkleChip::new(gate).unwrap();
        let x = ctx.load_witness(Fr::ONE);
        assert_eq!(
            chip.root_from_path(ctx, x, &[], &[]).unwrap_err(),
            MerkleChipError::Depth {
                siblings: 0,
                bits: 0
            }
        );
        assert_eq!(
            chip.root_from_path(ctx, x, &[x], &[x, x]).unwrap_err(),
            MerkleChipError::Depth {
                siblings: 2,
                bits: 1
            }
        );
        let many = vec![x; 33];
        assert_eq!(
            chip.root_from_path(ctx, x, &many, &many).unwrap_err(),
            MerkleChipError::Depth {
                siblings: 33,
                bits: 33
            }
        );
    });
}
