use super::*;
use crate::range;
use ark_ff::{AdditiveGroup, Field, UniformRand};
use ark_r1cs_std::{alloc::AllocVar, GR1CSVar};
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode};
use depin_crypto::merkle::{self as native, MerkleTree};
use proptest::prelude::*;

struct Vars {
    cs: ConstraintSystemRef<Fr>,
    root: FpVar<Fr>,
    leaf: FpVar<Fr>,
    bits: Vec<Boolean<Fr>>,
    sibs: Vec<FpVar<Fr>>,
}

/// Allocates root (public), leaf, index and siblings (witnesses); the
/// index is a field element decomposed in `depth` bits.
fn alloc(root: Fr, leaf: Fr, index: u64, siblings: &[Fr]) -> Vars {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let root = FpVar::new_input(cs.clone(), || Ok(root)).unwrap();
    let leaf = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
    let idx = FpVar::new_witness(cs.clone(), || Ok(Fr::from(index))).unwrap();
    let bits = range::to_bits_le(&idx, siblings.len()).unwrap();
    let sibs = siblings
        .iter()
        .map(|s| FpVar::new_witness(cs.clone(), || Ok(*s)).unwrap())
        .collect();
    Vars {
        cs,
        root,
        leaf,
        bits,
        sibs,
    }
}

/// (is_member value, satisfied with enforce_member).
fn check(root: Fr, leaf: Fr, index: u64, siblings: &[Fr]) -> (bool, bool) {
    let v = alloc(root, leaf, index, siblings);
    let got = root_from_path(&v.leaf, &v.bits, &v.sibs).unwrap();
    if let Ok(r) = native::root_from_path(leaf, index, siblings) {
        assert_eq!(got.value().unwrap(), r);
    }
    let member = is_member(&v.root, &v.leaf, &v.bits, &v.sibs).unwrap();
    assert!(
        v.cs.is_satisfied().unwrap(),
        "is_member must stay satisfiable"
    );
    enforce_member(&v.root, &v.leaf, &v.bits, &v.sibs).unwrap();
    (member.value().unwrap(), v.cs.is_satisfied().unwrap())
}

fn tree(depth: usize, n: u64) -> (MerkleTree, Vec<Fr>) {
    let leaves: Vec<Fr> = (0..n).map(|i| Fr::from(1000 + i)).collect();
    (MerkleTree::new(depth, &leaves).unwrap(), leaves)
}

#[test]
fn every_leaf_is_a_member() {
    let (t, leaves) = tree(4, 11);
    for (i, leaf) in leaves.iter().enumerate() {
        let p = t.proof(i as u64).unwrap();
        assert_eq!(check(t.root(), *leaf, p.index, &p.siblings), (true, true));
    }
}

#[test]
fn wrong_leaf_leaves_enforce_member_unsatisfied() {
    let (t, leaves) = tree(4, 11);
    let p = t.proof(5).unwrap();
    let got = check(t.root(), leaves[5] + Fr::ONE, p.index, &p.siblings);
    assert_eq!(got, (false, false));
}

#[test]
fn wrong_sibling_leaves_enforce_member_unsatisfied() {
    let (t, leaves) = tree(4, 11);
    let p = t.proof(6).unwrap();
    for level in 0..4 {
        let mut sibs = p.siblings.clone();
        sibs[level] += Fr::ONE;
        assert_eq!(check(t.root(), leaves[6], p.index, &sibs), (false, false));
    }
}

#[test]
fn wrong_index_leaves_enforce_member_unsatisfied() {
    let (t, leaves) = tree(4, 11);
    let p = t.proof(6).unwrap();
    for flip in 0..4 {
        let got = check(t.root(), leaves[6], p.index ^ (1 << flip), &p.siblings);
        assert_eq!(got, (false, false), "flipped bit {flip}");
    }
}

#[test]
fn index_past_the_tree_leaves_enforce_member_unsatisfied() {
    // index = 6 + 16 has the same low bits as 6; the range check on the
    // index rejects it, as the native code does.
    let (t, leaves) = tree(4, 11);
    let p = t.proof(6).unwrap();
    let v = alloc(t.root(), leaves[6], 6 + 16, &p.siblings);
    enforce_member(&v.root, &v.leaf, &v.bits, &v.sibs).unwrap();
    assert!(!v.cs.is_satisfied().unwrap());
    assert!(!native::verify_membership(
        &t.root(),
        leaves[6],
        6 + 16,
        &p.siblings
    ));
}

#[test]
fn wrong_root_leaves_enforce_member_unsatisfied() {
    let (t, leaves) = tree(3, 8);
    let p = t.proof(7).unwrap();
    let got = check(t.root() + Fr::ONE, leaves[7], p.index, &p.siblings);
    assert_eq!(got, (false, false));
}

#[test]
fn empty_leaf_of_a_padded_tree_is_a_member() {
    let (t, _) = tree(5, 3);
    let p = t.proof(2).unwrap();
    // The zero leaf at position 3 shares leaf 2's upper path.
    let mut sibs = p.siblings.clone();
    sibs[0] = Fr::from(1002u64);
    assert_eq!(check(t.root(), Fr::ZERO, 3, &sibs), (true, true));
}

#[test]
fn bad_shapes_are_errors() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let x = FpVar::new_witness(cs.clone(), || Ok(Fr::ONE)).unwrap();
    assert!(root_from_path(&x, &[], &[]).is_err());
    assert!(root_from_path(&x, &[Boolean::TRUE], &[x.clone(), x.clone()]).is_err());
    let deep = vec![x.clone(); MAX_DEPTH + 1];
    let bits = vec![Boolean::FALSE; MAX_DEPTH + 1];
    assert!(root_from_path(&x, &bits, &deep).is_err());
}

#[test]
fn constraint_counts() {
    for depth in [1usize, 2, 8, 20] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        let w = || FpVar::new_witness(cs.clone(), || Ok(Fr::ONE)).unwrap();
        let root = w();
        let leaf = w();
        let sibs: Vec<_> = (0..depth).map(|_| w()).collect();
        let bits: Vec<_> = (0..depth)
            .map(|_| Boolean::new_witness(cs.clone(), || Ok(false)).unwrap())
            .collect();
        let before = cs.num_constraints();
        let _ = root_from_path(&leaf, &bits, &sibs).unwrap();
        let per = (cs.num_constraints() - before) / depth;
        println!("Merkle depth {depth}: {per} constraints per level");
        assert_eq!(cs.num_constraints() - before, CONSTRAINTS_PER_LEVEL * depth);
        let before = cs.num_constraints();
        let _ = is_member(&root, &leaf, &bits, &sibs).unwrap();
        assert_eq!(
            cs.num_constraints() - before,
            CONSTRAINTS_PER_LEVEL * depth + 2
        );
        let before = cs.num_constraints();
        enforce_member(&root, &leaf, &bits, &sibs).unwrap();
        assert_eq!(
            cs.num_constraints() - before,
            CONSTRAINTS_PER_LEVEL * depth + 1
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_root_matches_native(
        seed in any::<u64>(),
        depth in 1usize..=6,
        index in any::<u64>(),
    ) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let leaf = Fr::rand(&mut rng);
        let sibs: Vec<Fr> = (0..depth).map(|_| Fr::rand(&mut rng)).collect();
        let index = index & ((1u64 << depth) - 1);
        let root = native::root_from_path(leaf, index, &sibs).unwrap();
        prop_assert_eq!(check(root, leaf, index, &sibs), (true, true));
        // Any other index under the same root fails, natively too.
        let other = index ^ 1;
        prop_assert_eq!(check(root, leaf, other, &sibs), (false, false));
        prop_assert!(!native::verify_membership(&root, leaf, other, &sibs));
    }
}
