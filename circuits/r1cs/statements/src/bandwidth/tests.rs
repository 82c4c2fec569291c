use super::*;
use crate::testing::{delta, R1cs};
use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::eddsa::Signature;
use depin_crypto::merkle::MerkleTree;
use depin_statements::public::HEADER_REWARD_SHIFT;
use depin_statements::records::SessionReceipt;
use depin_statements::sample::bandwidth::{
    cosign, random_epoch, registry, sample_epoch, sample_key, sample_public_inputs, world,
    BandwidthEpoch as Epoch, DEVICE_INDEX, SAMPLE_EPOCH as EPOCH, SAMPLE_POLICY,
};
use depin_statements::{Evaluation, RejectReason, Verdict};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::time::Instant;

fn policy() -> BandwidthPolicy {
    SAMPLE_POLICY
}

/// What these tests do with a shared epoch of the world's device.
trait EpochExt {
    /// `n` honest receipts ([`depin_statements::sample::bandwidth::World::honest`]).
    fn honest(n: u32) -> Self;
    /// The world's device signs the head of the current receipts.
    fn sign_chain(&mut self);
    /// The reference's evaluation.
    fn evaluate(&self) -> Evaluation;
    /// The circuit with `capacity` slots.
    fn circuit(&self, capacity: usize) -> BandwidthCircuit;
}

impl EpochExt for Epoch {
    fn honest(n: u32) -> Self {
        world().honest(n)
    }

    fn sign_chain(&mut self) {
        self.sign(&world().device);
    }

    fn evaluate(&self) -> Evaluation {
        evaluate(&self.as_input()).unwrap()
    }

    fn circuit(&self, capacity: usize) -> BandwidthCircuit {
        BandwidthCircuit::with_capacity(&self.as_input(), capacity).unwrap()
    }
}

fn header_shift() -> Fr {
    range::pow2(HEADER_REWARD_SHIFT as usize)
}

/// The circuit is satisfied with exactly the reference's public inputs,
/// and not with another reward or nullifier. Returns the number of
/// constraints.
fn check_equivalent(circuit: BandwidthCircuit, eval: &Evaluation) -> usize {
    let expected = eval.public.to_field_elements();
    assert_eq!(circuit.public_inputs(), expected);
    assert_eq!(circuit.expected(), &eval.public);
    let mut r1cs = R1cs::synthesize(circuit).unwrap();
    assert_eq!(r1cs.public_inputs(), &expected[..]);
    assert!(r1cs.is_satisfied(), "reference {:?}", eval);
    for (i, d) in [(0usize, header_shift()), (0, -header_shift()), (4, Fr::ONE)] {
        let mut wrong = expected.clone();
        wrong[i] += d;
        assert!(!r1cs.is_satisfied_with_public(&wrong), "input {i} + {d}");
    }
    r1cs.num_constraints()
}

// ------------------------------------------------------------------
// Random epochs (`depin_statements::sample::bandwidth::random_epoch`).

fn pick<T: Copy>(rng: &mut ChaCha8Rng, options: &[T]) -> T {
    options[rng.gen_range(0..options.len())]
}

/// Statistics over the random cases, to see that the generator reaches
/// every outcome.
#[derive(Default, Debug)]
struct Stats {
    cases: usize,
    paid: usize,
    capped: usize,
    epoch_rejected: usize,
    verdicts: std::collections::BTreeMap<String, usize>,
}

fn run_random_case(seed: u64, stats: &mut Stats) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let capacity = pick(&mut rng, &[2, 3, 3]);
    let e = random_epoch(&mut rng, capacity);
    let eval = e.evaluate();
    let mut circuit = e.circuit(capacity);
    if rng.gen_bool(0.25) {
        // Disabled slots' contents never matter.
        let honest = Epoch::honest(capacity as u32).receipts;
        for (slot, r) in circuit.slots.iter_mut().zip(honest) {
            if !slot.enabled {
                slot.record = r;
            }
        }
    }
    check_equivalent(circuit, &eval);
    stats.cases += 1;
    stats.paid += usize::from(eval.reward > 0);
    stats.capped += usize::from(eval.reward == e.policy.reward_cap);
    for v in &eval.verdicts {
        if matches!(
            v,
            Verdict::Rejected(RejectReason::ChainBroken)
                | Verdict::Rejected(RejectReason::BadSignature)
        ) && eval.verdicts.iter().all(|x| x == v)
            && eval.verdicts.len() > 1
        {
            stats.epoch_rejected += 1;
            break;
        }
    }
    for v in &eval.verdicts {
        *stats.verdicts.entry(format!("{v:?}")).or_default() += 1;
    }
}

#[test]
fn bandwidth_circuit_equivalent_on_random_epochs() {
    // Few cases per run (each synthesizes ~40k constraints); the
    // proptest below adds more with shrinking-friendly seeds.
    let start = Instant::now();
    let mut stats = Stats::default();
    for seed in 0..64u64 {
        run_random_case(seed, &mut stats);
    }
    println!("{stats:#?} in {:?}", start.elapsed());
    assert!(stats.paid > 10 && stats.paid < stats.cases);
    for reason in [
        "WrongDevice",
        "OutOfEpoch",
        "KeyMismatch",
        "BadSignature",
        "ClientNotRegistered",
        "SelfDealing",
        "ImplausibleThroughput",
        "Duplicate",
        "ChainBroken",
        "Accepted",
    ] {
        assert!(
            stats.verdicts.keys().any(|k| k.contains(reason)),
            "{reason} never reached: {stats:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn prop_bandwidth_circuit_matches_reference(seed in any::<u64>()) {
        let mut stats = Stats::default();
        run_random_case(seed, &mut stats);
    }
}

// ------------------------------------------------------------------
// One rule at a time.

/// Breaks one receipt of an honest 3-receipt epoch with `mutate`, checks
/// the reference's verdict, that the reward dropped, and that the
/// circuit proves exactly the reference's reward.
fn assert_excluded(index: usize, reason: RejectReason, mutate: impl FnOnce(&mut Epoch)) {
    let honest = Epoch::honest(3);
    let honest_reward = honest.evaluate().reward;
    let mut e = honest.clone();
    mutate(&mut e);
    e.sign_chain();
    let eval = e.evaluate();
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == index {
            Verdict::Rejected(reason)
        } else {
            Verdict::Accepted
        };
        assert_eq!(*v, want, "receipt {i}");
    }
    assert_ne!(eval.reward, honest_reward);
    check_equivalent(e.circuit(3), &eval);
    // The honest reward is not provable for the broken epoch.
    let mut r1cs = R1cs::synthesize(e.circuit(3)).unwrap();
    let mut claim = eval.public.to_field_elements();
    claim[0] += Fr::from(honest_reward - eval.reward) * header_shift();
    assert!(!r1cs.is_satisfied_with_public(&claim));
}

fn resign(e: &mut Epoch, index: usize, client: usize, f: impl FnOnce(&mut SessionReceipt)) {
    world().resign(e, index, client, f);
}

#[test]
fn bandwidth_circuit_excludes_wrong_device() {
    assert_excluded(1, RejectReason::WrongDevice, |e| {
        resign(e, 1, 1, |r| r.device_id = Fr::from(1234u64));
    });
}

#[test]
fn bandwidth_circuit_excludes_out_of_epoch() {
    assert_excluded(2, RejectReason::OutOfEpoch, |e| {
        resign(e, 2, 2, |r| r.epoch = EPOCH - 1);
    });
}

#[test]
fn bandwidth_circuit_excludes_key_mismatch() {
    assert_excluded(0, RejectReason::KeyMismatch, |e| {
        let w = world();
        e.receipts[0] = cosign(e.receipts[0].receipt, &w.clients[3], w.proofs[0]);
    });
}

#[test]
fn bandwidth_circuit_excludes_bad_client_signature() {
    assert_excluded(1, RejectReason::BadSignature, |e| {
        e.receipts[1].receipt.bytes += 1;
    });
    // S >= l, with an otherwise valid equation.
    assert_excluded(2, RejectReason::BadSignature, |e| {
        e.receipts[2].client_signature.s.add_with_carry(&SUBORDER);
    });
    // R8 off the curve.
    assert_excluded(0, RejectReason::BadSignature, |e| {
        e.receipts[0].client_signature.r8.y += Fr::ONE;
    });
}

#[test]
fn bandwidth_circuit_excludes_client_not_registered() {
    assert_excluded(1, RejectReason::ClientNotRegistered, |e| {
        let w = world();
        let mut receipt = e.receipts[1].receipt;
        receipt.client_id = w.outsider.public_key().id();
        e.receipts[1] = cosign(receipt, &w.outsider, w.proofs[1]);
    });
    assert_excluded(0, RejectReason::ClientNotRegistered, |e| {
        e.receipts[0].registry_proof.index = 2;
    });
}

#[test]
fn bandwidth_circuit_excludes_self_dealing() {
    assert_excluded(2, RejectReason::SelfDealing, |e| {
        let w = world();
        let mut receipt = e.receipts[2].receipt;
        receipt.client_id = w.device.public_key().id();
        e.receipts[2] = cosign(receipt, &w.device, w.proofs[DEVICE_INDEX]);
    });
}

#[test]
fn bandwidth_circuit_excludes_implausible_throughput() {
    // 10 s at 1 MB/s allows 10^7 bytes.
    assert_excluded(1, RejectReason::ImplausibleThroughput, |e| {
        resign(e, 1, 1, |r| r.bytes = 10_000_001);
    });
    // The bound itself is plausible.
    let mut e = Epoch::honest(3);
    resign(&mut e, 1, 1, |r| r.bytes = 10_000_000);
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(eval.accepted(), 3);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_excludes_duplicate_session() {
    assert_excluded(2, RejectReason::Duplicate, |e| {
        resign(e, 2, 2, |r| r.session = 0);
    });
}

#[test]
fn bandwidth_circuit_counts_duplicate_of_rejected_receipt() {
    let mut e = Epoch::honest(3);
    e.receipts[0].receipt.bytes += 1; // bad signature: session 0 not accepted
    resign(&mut e, 2, 2, |r| r.session = 0);
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [
            Verdict::Rejected(RejectReason::BadSignature),
            Verdict::Accepted,
            Verdict::Accepted
        ]
    );
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_pays_nothing_on_broken_chain() {
    let mut e = Epoch::honest(3);
    let last = e.receipts.pop().unwrap();
    e.sign_chain();
    e.receipts.push(last);
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::ChainBroken); 3]
    );
    assert_eq!(eval.reward, 0);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_pays_nothing_on_bad_device_signature() {
    let mut e = Epoch::honest(3);
    e.signed_head.signature = world().clients[0].sign(&e.signed_head.head);
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::BadSignature); 3]
    );
    assert_eq!(eval.reward, 0);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_caps_and_floors_the_reward() {
    for (rate_num, rate_shift, reward_cap) in [
        (1, 10, 1000),
        (3, 0, u64::MAX),
        (u32::MAX, 64, u64::MAX),
        (7, 33, 1),
    ] {
        let mut e = Epoch::honest(3);
        e.policy = BandwidthPolicy {
            rate_num,
            rate_shift,
            reward_cap,
            ..policy()
        };
        let eval = e.evaluate();
        check_equivalent(e.circuit(3), &eval);
    }
    // The largest total: three receipts of 2^64 - 1 bytes.
    let w = world();
    let mut e = Epoch::honest(3);
    e.policy = BandwidthPolicy {
        max_bytes_per_s: u32::MAX,
        rate_num: u32::MAX,
        rate_shift: 0,
        reward_cap: u64::MAX,
    };
    let most = u64::from(u32::MAX) * u64::from(u32::MAX);
    for (i, r) in e.receipts.iter_mut().enumerate() {
        let mut receipt = r.receipt;
        receipt.bytes = most;
        receipt.duration_s = u32::MAX;
        *r = cosign(receipt, &w.clients[i], w.proofs[i]);
    }
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(eval.accepted(), 3);
    assert_eq!(eval.reward, u64::MAX);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_binds_every_public_input() {
    let e = Epoch::honest(2);
    let eval = e.evaluate();
    let mut r1cs = R1cs::synthesize(e.circuit(2)).unwrap();
    let good = eval.public.to_field_elements();
    assert!(r1cs.is_satisfied_with_public(&good));
    for i in 0..good.len() {
        let mut wrong = good.clone();
        wrong[i] += Fr::from(3u64);
        assert!(!r1cs.is_satisfied_with_public(&wrong), "input {i}");
    }
    // The override path: another reward is not provable.
    let mut circuit = e.circuit(2);
    let mut other = good.clone();
    other[0] += header_shift();
    circuit.public_override = Some(other.clone());
    assert_eq!(circuit.public_inputs(), other);
    assert!(!R1cs::synthesize(circuit).unwrap().is_satisfied());
}

#[test]
fn bandwidth_circuit_refuses_too_many_receipts() {
    let e = Epoch::honest(3);
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.as_input(), 2),
        Err(CircuitError::Capacity {
            records: 3,
            capacity: 2
        })
    ));
    let mut e = Epoch::honest(1);
    e.receipts = vec![e.receipts[0]; 33];
    assert!(matches!(
        BandwidthCircuit::new(&e.as_input()),
        Err(CircuitError::Capacity {
            records: 33,
            capacity: 32
        })
    ));
    // A larger circuit does not lift the statement's capacity.
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.as_input(), 40),
        Err(CircuitError::Eval(_))
    ));
    // An invalid policy is refused like the reference refuses it.
    let mut e = Epoch::honest(1);
    e.policy.rate_shift = 65;
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.as_input(), 1),
        Err(CircuitError::Eval(_))
    ));
}

#[test]
fn bandwidth_circuit_refuses_padding_not_a_suffix() {
    let e = Epoch::honest(2);
    let eval = e.evaluate();
    let mut circuit = e.circuit(3);
    assert!(R1cs::synthesize(circuit.clone()).unwrap().is_satisfied());
    // A hole in the enabled prefix (the chain and the count would skip
    // the receipt in slot 1).
    circuit.slots.swap(1, 2);
    assert!(circuit.slots[2].enabled && !circuit.slots[1].enabled);
    assert_eq!(circuit.public_inputs(), eval.public.to_field_elements());
    assert!(!R1cs::synthesize(circuit).unwrap().is_satisfied());
}

#[test]
fn bandwidth_circuit_unsatisfiable_for_invalid_policy() {
    // Forge a circuit whose private policy is invalid but whose public
    // policy hash matches it: the in-circuit checks refuse it.
    for bad in [
        BandwidthPolicy {
            rate_shift: 65,
            ..policy()
        },
        BandwidthPolicy {
            rate_num: 0,
            ..policy()
        },
        BandwidthPolicy {
            reward_cap: 0,
            ..policy()
        },
        BandwidthPolicy {
            max_bytes_per_s: 0,
            ..policy()
        },
    ] {
        let e = Epoch::honest(1);
        let mut circuit = e.circuit(1);
        circuit.policy = bad;
        circuit.public.policy_hash = bad.hash();
        let r1cs = R1cs::synthesize(circuit);
        assert!(r1cs.map_or(true, |r| !r.is_satisfied()), "{bad:?}");
    }
}

// ------------------------------------------------------------------
// Every witness is determined.

/// Only the EdDSA gadget's verification.
struct VerifyOnly {
    key: PublicKey,
    msg: Fr,
    sig: Signature,
}

/// Witnesses [`VerifyOnly`] allocates before the gadget.
const VERIFY_INPUTS: usize = 6;

impl ConstraintSynthesizer<Fr> for VerifyOnly {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let key = PublicKeyVar::new_witness(cs.clone(), || Ok(self.key))?;
        let msg = FpVar::new_witness(cs.clone(), || Ok(self.msg))?;
        let sig = SignatureVar::new_witness(cs.clone(), || Ok(self.sig))?;
        assert_eq!(cs.num_witness_variables(), VERIFY_INPUTS);
        eddsa::verify(&key, &msg, &sig).map(|_| ())
    }
}

/// The witnesses `eddsa::verify` leaves free on these inputs, as offsets
/// into its own witnesses, with its witness count.
fn verify_free_offsets(key: PublicKey, msg: Fr, sig: Signature) -> (Vec<usize>, usize) {
    let mut r1cs = R1cs::synthesize(VerifyOnly { key, msg, sig }).unwrap();
    assert!(r1cs.is_satisfied());
    let total = r1cs.z.len() - r1cs.num_instance;
    let free = r1cs.free_witnesses(delta());
    assert!(free.iter().all(|f| *f >= VERIFY_INPUTS));
    (
        free.iter().map(|f| f - VERIFY_INPUTS).collect(),
        total - VERIFY_INPUTS,
    )
}

/// Asserts that the only free witnesses are those `eddsa::verify` leaves
/// free on the same inputs. Returns how many there are.
fn assert_only_gadget_witnesses_free(circuit: &BandwidthCircuit) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let layout = circuit.synthesize(cs.clone()).unwrap();
    assert!(cs.is_satisfied().unwrap());
    let mut r1cs = R1cs::synthesize(circuit.clone()).unwrap();
    assert!(r1cs.is_satisfied());
    assert!(r1cs.unused_witnesses().is_empty());
    let free: BTreeSet<usize> = r1cs.free_witnesses(delta()).into_iter().collect();

    let mut calls: Vec<(PublicKey, Fr, Signature)> = circuit
        .slots
        .iter()
        .map(|s| {
            let r = &s.record;
            (r.client_key, r.receipt.message(), r.client_signature)
        })
        .collect();
    calls.push((
        circuit.device,
        circuit.signed_head.head,
        circuit.signed_head.signature,
    ));
    assert_eq!(layout.verify_ranges.len(), calls.len());
    let mut expected = BTreeSet::new();
    for (range, (key, msg, sig)) in layout.verify_ranges.iter().zip(calls) {
        let (offsets, len) = verify_free_offsets(key, msg, sig);
        assert_eq!(range.len(), len);
        expected.extend(offsets.into_iter().map(|o| range.start + o));
    }
    assert_eq!(free, expected);
    free.len()
}

#[test]
fn bandwidth_circuit_every_witness_constrained_honest() {
    let e = Epoch::honest(2);
    let n = assert_only_gadget_witnesses_free(&e.circuit(3));
    println!("{n} free witnesses, all inside eddsa::verify");
}

#[test]
fn bandwidth_circuit_every_witness_constrained_with_rejections() {
    let w = world();
    let mut e = Epoch::honest(3);
    e.receipts[0].receipt.bytes += 1; // bad signature
    resign(&mut e, 1, 1, |r| r.bytes = u64::MAX); // implausible
    resign(&mut e, 2, 2, |r| r.session = 1); // accepted: receipt 1 is rejected
    let mut receipt = e.receipts[2].receipt;
    receipt.client_id = w.outsider.public_key().id();
    e.receipts.push(cosign(receipt, &w.outsider, w.proofs[0])); // unregistered
    let mut receipt = e.receipts[2].receipt;
    receipt.client_id = w.clients[3].public_key().id();
    e.receipts.push(cosign(receipt, &w.clients[3], w.proofs[3])); // duplicate
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [
            Verdict::Rejected(RejectReason::BadSignature),
            Verdict::Rejected(RejectReason::ImplausibleThroughput),
            Verdict::Accepted,
            Verdict::Rejected(RejectReason::ClientNotRegistered),
            Verdict::Rejected(RejectReason::Duplicate),
        ]
    );
    check_equivalent(e.circuit(6), &eval);
    assert_only_gadget_witnesses_free(&e.circuit(6));
    // A broken epoch too.
    e.signed_head.signature = w.clients[0].sign(&e.signed_head.head);
    assert_only_gadget_witnesses_free(&e.circuit(6));
}

// ------------------------------------------------------------------
// Full capacity, setup mode, sample.

#[test]
fn bandwidth_registry_helper_matches_merkle_tree() {
    let leaves: Vec<Fr> = (1..=5u64).map(Fr::from).collect();
    let (root, proofs) = registry(&leaves);
    let tree = MerkleTree::new(REGISTRY_DEPTH, &leaves).unwrap();
    assert_eq!(root, tree.root());
    for (i, p) in proofs.iter().enumerate() {
        assert_eq!(p.siblings.to_vec(), tree.proof(i as u64).unwrap().siblings);
        assert!(p.verifies(&root, leaves[i]));
    }
}

#[test]
fn bandwidth_setup_mode_has_the_same_shape() {
    let circuit = Epoch::honest(2).circuit(3);
    let prove = ConstraintSystem::<Fr>::new_ref();
    circuit.clone().generate_constraints(prove.clone()).unwrap();
    let setup = ConstraintSystem::<Fr>::new_ref();
    setup.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(setup.clone()).unwrap();
    assert_eq!(setup.num_constraints(), prove.num_constraints());
    assert_eq!(setup.num_witness_variables(), prove.num_witness_variables());
    assert_eq!(setup.num_instance_variables(), 7);
}

fn count(capacity: usize) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    Epoch::honest(0)
        .circuit(capacity)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.num_constraints()
}

#[test]
fn bandwidth_constraint_counts() {
    for capacity in 1..=5 {
        let n = count(capacity);
        println!("capacity {capacity}: {n} constraints");
        assert_eq!(n, constraint_count(capacity));
    }
    assert_eq!(FULL_CAPACITY_CONSTRAINTS, 318_703);
    // Capacity 0 synthesizes too (no slot; the total is the constant 0).
    assert!(count(0) > 0);
}

#[test]
fn bandwidth_sample_is_satisfied_at_full_capacity() {
    let start = Instant::now();
    let circuit = BandwidthCircuit::sample();
    assert_eq!(circuit.capacity(), BANDWIDTH_CAPACITY);
    // The sample's public inputs are the reference's.
    let e = sample_epoch(&sample_key());
    let public = sample_public_inputs(&e);
    let eval = evaluate(&e.as_input()).unwrap();
    assert_eq!(eval.public, public);
    assert_eq!(eval.accepted(), BANDWIDTH_CAPACITY);
    assert!(eval.reward > 0);
    let n = check_equivalent(circuit, &eval);
    println!(
        "bandwidth at capacity {BANDWIDTH_CAPACITY}: {n} constraints ({:?})",
        start.elapsed()
    );
    assert_eq!(n, FULL_CAPACITY_CONSTRAINTS);
}
