//! The credit gadget against [`Credit::check`]: on honest credits it
//! computes the native tree, and on every tampered credit it is satisfiable
//! exactly when the native check passes.

use super::*;
use ark_ff::Field;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::ConstraintSystem;
use depin_batch::tree::{Credit, RewardsTree};
use proptest::prelude::*;

const DEPTH: usize = 4;

/// Synthesizes `credit` on its claimed old tree with the claimed outputs
/// enforced, and the caller's range checks on epoch and reward; `None` when
/// synthesis refuses the witness outright.
fn satisfied(c: &Credit, depth: usize) -> Option<bool> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let input = |v: Fr| FpVar::new_input(cs.clone(), || Ok(v));
    let old = TreeVar {
        root: input(c.old_root).ok()?,
        size: input(Fr::from(c.old_size)).ok()?,
    };
    let d = FpVar::new_witness(cs.clone(), || Ok(c.device_id)).ok()?;
    let e = FpVar::new_witness(cs.clone(), || Ok(Fr::from(u64::from(c.epoch)))).ok()?;
    let r = FpVar::new_witness(cs.clone(), || Ok(Fr::from(c.reward))).ok()?;
    range::enforce_bits(&e, EPOCH_BITS).ok()?;
    range::enforce_bits(&r, 64).ok()?;
    let w = CreditWitnessVar::new_witness(cs.clone(), depth, Some(&c.witness)).ok()?;
    let (new, cumulative) = credit(&old, &d, &e, &r, &w).ok()?;
    new.root.enforce_equal(&input(c.new_root).ok()?).ok()?;
    new.size
        .enforce_equal(&input(Fr::from(c.new_size)).ok()?)
        .ok()?;
    cumulative
        .enforce_equal(&input(Fr::from(c.cumulative)).ok()?)
        .ok()?;
    Some(cs.is_satisfied().expect("assignment"))
}

/// A tree of `DEPTH` after some credits, and the next credits to test.
fn credits(ops: &[(u64, u32, u64)]) -> Vec<Credit> {
    let mut t = RewardsTree::new(DEPTH).unwrap();
    ops.iter()
        .filter_map(|&(d, e, r)| {
            t.credit(Fr::from(d) * Fr::from(0x51_7cc1_b727u64), e, r)
                .ok()
        })
        .collect()
}

#[test]
fn honest_credits_chain_and_match_the_native_tree() {
    let mut t = RewardsTree::new(DEPTH).unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    let mut tree = TreeVar {
        root: FpVar::new_input(cs.clone(), || Ok(t.root())).unwrap(),
        size: FpVar::new_input(cs.clone(), || Ok(Fr::from(t.size()))).unwrap(),
    };
    let ops = [
        (9, 1, 5),
        (4, 1, 7),
        (12, 1, 0),
        (0, 0, 0),
        (4, 2, 3),
        (7, 2, 1),
    ];
    for (d, e, r) in ops {
        let c = (d != 0).then(|| t.credit(Fr::from(d), e, r).unwrap());
        let w = CreditWitnessVar::new_witness(cs.clone(), DEPTH, c.as_ref().map(|c| &c.witness))
            .unwrap();
        let dv = FpVar::new_witness(cs.clone(), || Ok(Fr::from(d))).unwrap();
        let ev = FpVar::new_witness(cs.clone(), || Ok(Fr::from(u64::from(e)))).unwrap();
        let rv = FpVar::new_witness(cs.clone(), || Ok(Fr::from(r))).unwrap();
        let before = cs.num_constraints();
        let (next, cumulative) = credit(&tree, &dv, &ev, &rv, &w).unwrap();
        assert_eq!(cs.num_constraints() - before, constraints(DEPTH));
        assert_eq!(next.root.value().unwrap(), t.root());
        assert_eq!(next.size.value().unwrap(), Fr::from(t.size()));
        let want = c.map_or(0, |c| c.cumulative);
        assert_eq!(cumulative.value().unwrap(), Fr::from(want));
        tree = next;
    }
    assert_eq!(tree.commitment().unwrap().value().unwrap(), t.commitment());
    assert!(cs.is_satisfied().unwrap());
}

/// The per-position count at two depths gives [`constraints`]' slope and
/// intercept.
#[test]
fn constraint_count_is_linear_in_the_depth() {
    for depth in [1, 4, 20] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let tree = TreeVar {
            root: FpVar::new_input(cs.clone(), || Ok(Fr::ZERO)).unwrap(),
            size: FpVar::new_input(cs.clone(), || Ok(Fr::ONE)).unwrap(),
        };
        let w = CreditWitnessVar::new_witness(cs.clone(), depth, None).unwrap();
        let zero = FpVar::new_witness(cs.clone(), || Ok(Fr::ZERO)).unwrap();
        let before = cs.num_constraints();
        let _ = credit(&tree, &zero, &zero, &zero, &w).unwrap();
        assert_eq!(
            cs.num_constraints() - before,
            constraints(depth),
            "depth {depth}"
        );
    }
}

/// Padding leaves the tree as it was, whatever its witness says.
#[test]
fn padding_changes_nothing_whatever_its_witness() {
    let c = credits(&[(3, 1, 10), (5, 1, 20)]).pop().unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    let root = FpVar::new_input(cs.clone(), || Ok(c.new_root)).unwrap();
    let size = FpVar::new_input(cs.clone(), || Ok(Fr::from(c.new_size))).unwrap();
    let tree = TreeVar {
        root: root.clone(),
        size: size.clone(),
    };
    // Another credit's witness, at device 0.
    let w = CreditWitnessVar::new_witness(cs.clone(), DEPTH, Some(&c.witness)).unwrap();
    let zero = FpVar::new_witness(cs.clone(), || Ok(Fr::ZERO)).unwrap();
    let e = FpVar::new_witness(cs.clone(), || Ok(Fr::from(9u64))).unwrap();
    let (next, cumulative) = credit(&tree, &zero, &e, &e, &w).unwrap();
    next.root.enforce_equal(&root).unwrap();
    next.size.enforce_equal(&size).unwrap();
    cumulative.enforce_equal(&FpVar::zero()).unwrap();
    assert!(cs.is_satisfied().unwrap());
}

/// Each tampering the native check names is refused by the circuit.
#[test]
fn tampered_credits_are_unsatisfiable() {
    let all = credits(&[(10, 1, 3), (30, 1, 3), (10, 2, 4), (20, 2, 4)]);
    let (update, insert) = (all[2].clone(), all[3].clone());
    assert_eq!(satisfied(&update, DEPTH), Some(true));
    assert_eq!(satisfied(&insert, DEPTH), Some(true));
    let tamper: Vec<(&str, Credit)> = vec![
        ("old root", {
            let mut c = update.clone();
            c.old_root += Fr::ONE;
            c
        }),
        ("another device's leaf", {
            let mut c = update.clone();
            c.device_id = all[1].device_id;
            c
        }),
        ("an epoch already credited", {
            let mut c = update.clone();
            c.epoch = 1;
            c
        }),
        ("a larger cumulative", {
            let mut c = update.clone();
            c.cumulative += 1;
            c
        }),
        ("an update passed off as an insertion", {
            let mut c = update.clone();
            c.witness.insert = true;
            c
        }),
        ("an insertion passed off as an update", {
            let mut c = insert.clone();
            c.witness.insert = false;
            c
        }),
        ("inserting a device already present", {
            let mut c = insert.clone();
            c.device_id = all[1].device_id;
            c
        }),
        ("inserting at a taken slot", {
            let mut c = insert.clone();
            c.old_size -= 1;
            c
        }),
        ("a free path of another tree", {
            let mut c = update.clone();
            c.witness.free_path[1] += Fr::ONE;
            c
        }),
        ("a size past the tree", {
            let mut c = insert.clone();
            c.old_size = 1 << DEPTH;
            c
        }),
        ("a larger new size", {
            let mut c = insert.clone();
            c.new_size += 1;
            c
        }),
    ];
    for (what, c) in tamper {
        assert!(c.check(DEPTH).is_err(), "{what}: the native check passes");
        assert_ne!(
            satisfied(&c, DEPTH),
            Some(true),
            "{what}: the circuit accepts"
        );
    }
}

/// A field element drawn to tamper with: small, or anywhere in the field.
fn any_fr() -> impl Strategy<Value = Fr> {
    prop_oneof![
        (0u64..40).prop_map(Fr::from),
        any::<[u64; 4]>()
            .prop_map(|l| Fr::from(l[0]) * Fr::from(l[1]) * Fr::from(l[2]).pow([l[3] % 7])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// For honest credits and every single tampered field, the circuit is
    /// satisfiable exactly when the native check passes.
    #[test]
    fn circuit_accepts_exactly_what_the_native_check_accepts(
        ops in proptest::collection::vec((1u64..8, 1u32..5, 0u64..100), 1..8),
        field in 0usize..15,
        value in any_fr(),
        small in 0u64..20,
        at in 0usize..DEPTH,
    ) {
        let all = credits(&ops);
        prop_assume!(!all.is_empty());
        let mut c = all[all.len() - 1].clone();
        let w = &mut c.witness;
        match field {
            0 => c.old_root = value,
            1 => c.old_size = small,
            2 => c.device_id = value,
            3 => c.epoch = small as u32,
            4 => c.reward = small,
            5 => c.cumulative = u128::from(small),
            6 => c.new_root = value,
            7 => c.new_size = small,
            8 => w.insert = !w.insert,
            9 => w.index = small % (1 << DEPTH),
            10 => w.before.device_id = value,
            11 => w.before.next_id = value,
            12 => w.before.cumulative = u128::from(small),
            13 => w.path[at] = value,
            _ => w.free_path[at] = value,
        }
        let native = c.check(DEPTH).is_ok();
        prop_assert_eq!(satisfied(&c, DEPTH) == Some(true), native, "field {}", field);
    }
}
