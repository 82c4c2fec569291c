use super::*;
use crate::testing::{delta, R1cs};
use ark_ff::BigInteger;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal};
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::eddsa::Signature;
use depin_statements::records::challenge;
use depin_statements::sample::uptime::{chain_head, random_epoch, sign_head, UptimeEpoch as Epoch};
use depin_statements::{EvalError, Evaluation, PolicyError, RejectReason, Verdict};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::cell::Cell;
use std::rc::Rc;

const EPOCH: u32 = 20_250;

fn beacon() -> Fr {
    Fr::from(918_273_645_546_372_819u64)
}

fn device_key() -> PrivateKey {
    PrivateKey::from_bytes([7; 32])
}

/// `2^72`, one unit of reward in the header.
fn reward_unit() -> Fr {
    range::pow2(72)
}

/// Builds the circuit at `capacity` and checks it against the
/// reference: the same public inputs, satisfied with them, unsatisfied
/// (with the same witness) when any public input changes.
fn check(e: &Epoch, capacity: usize) -> (Evaluation, R1cs) {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = UptimeCircuit::with_capacity(&input, capacity).expect("circuit");
    let expected = eval.public.to_field_elements();
    assert_eq!(circuit.public_inputs(), expected);
    assert_eq!(circuit.expected(), &eval.public);
    let mut r1cs = R1cs::synthesize(circuit).expect("synthesis");
    assert_eq!(r1cs.public_inputs(), &expected[..]);
    assert!(
        r1cs.is_satisfied(),
        "unsatisfied; reference verdicts {:?}, reward {}",
        eval.verdicts,
        eval.reward
    );
    let changes = [
        (0, reward_unit()),
        (0, -reward_unit()),
        (1, Fr::ONE),
        (2, Fr::ONE),
        (3, Fr::ONE),
        (4, Fr::ONE),
    ];
    for (i, d) in changes {
        let mut other = expected.clone();
        other[i] += d;
        assert!(
            !r1cs.is_satisfied_with_public(&other),
            "public input {i} changed by {d} is still satisfied"
        );
    }
    (eval, r1cs)
}

/// The public inputs of `eval` with another reward.
fn with_reward(eval: &Evaluation, reward: u64) -> Vec<Fr> {
    let mut p = eval.public;
    p.reward = reward;
    p.to_field_elements()
}

// -----------------------------------------------------------------
// Random epochs.

const PROPTEST_CAPACITY: usize = 4;

/// Synthesizes the circuit of `e` (arkworks' constraint system, not
/// finalized: several times cheaper than [`R1cs::synthesize`]) and
/// checks it against the reference value by value: satisfied, the
/// same public inputs, each heartbeat's bit equal to its verdict, the
/// epoch-wide bit and the reward.
fn check_values(e: &Epoch, capacity: usize) {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = UptimeCircuit::with_capacity(&input, capacity).expect("circuit");
    let expected = eval.public.to_field_elements();
    assert_eq!(circuit.public_inputs(), expected);
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let trace = circuit.synthesize(cs.clone()).expect("synthesis");
    assert!(
        cs.is_satisfied().expect("satisfied?"),
        "{:?}",
        cs.which_is_unsatisfied()
    );
    assert_eq!(
        cs.instance_assignment().expect("instance")[1..],
        expected[..]
    );
    // The reference's epoch-wide check (its verdicts say it only when
    // there are heartbeats).
    let head = e.signed_head.head;
    let valid = head == chain_head(e.device.id(), e.epoch, &e.heartbeats)
        && e.device.verify(&head, &e.signed_head.signature).is_ok();
    assert_eq!(trace.valid.value().expect("value"), valid);
    if valid {
        let bits: Vec<bool> = trace
            .counted
            .iter()
            .map(|b| b.value().expect("value"))
            .collect();
        let mut want: Vec<bool> = eval.verdicts.iter().map(|v| v.is_accepted()).collect();
        want.resize(capacity, false);
        assert_eq!(bits, want, "verdicts {:?}", eval.verdicts);
    }
    assert_eq!(trace.reward.value().expect("value"), Fr::from(eval.reward));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The circuit computes exactly the reference's verdict bits, reward
    /// and public inputs on random honest and corrupted epochs.
    #[test]
    fn uptime_circuit_matches_reference(seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let e = random_epoch(&mut rng, PROPTEST_CAPACITY);
        check_values(&e, PROPTEST_CAPACITY);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The same on the finalized matrices with the independent checker:
    /// satisfied with the reference's public inputs, unsatisfied with
    /// the reward (header +- 2^72), the nullifier or any other public
    /// input changed.
    #[test]
    fn uptime_circuit_matches_reference_in_r1cs(seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x005e_ed0f_21c5);
        let e = random_epoch(&mut rng, PROPTEST_CAPACITY);
        check(&e, PROPTEST_CAPACITY);
    }
}

/// The random epochs of the proptest exercise every rule and every
/// branch of the reward (checked on the reference only, so cheaply).
#[test]
fn uptime_random_epochs_cover_every_rule() {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for seed in 0..1000u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let e = random_epoch(&mut rng, PROPTEST_CAPACITY);
        let eval = evaluate(&e.as_input()).expect("valid");
        for v in &eval.verdicts {
            let name = v.reason().map_or("accepted", RejectReason::as_str);
            *seen.entry(name).or_default() += 1;
        }
        let counted = eval.accepted() as u32;
        let invalid = eval.verdicts.iter().any(|v| {
            matches!(
                v.reason(),
                Some(RejectReason::ChainBroken | RejectReason::BadSignature)
            )
        });
        let branch = if invalid {
            "zero: invalid epoch"
        } else if counted < e.policy.floor_slots {
            "zero: below floor"
        } else if eval.reward == e.policy.reward_cap {
            "capped"
        } else {
            "linear"
        };
        *seen.entry(branch).or_default() += 1;
        if counted >= e.policy.floor_slots
            && u128::from(e.policy.base_reward)
                + u128::from(e.policy.reward_per_slot) * u128::from(counted - e.policy.floor_slots)
                >= 1u128 << 64
        {
            *seen.entry("linear above 2^64").or_default() += 1;
        }
    }
    println!("{seen:#?}");
    for name in [
        "accepted",
        "out_of_epoch",
        "duplicate",
        "not_increasing",
        "wrong_challenge",
        "latency_too_high",
        "chain_broken",
        "bad_signature",
        "zero: invalid epoch",
        "zero: below floor",
        "capped",
        "linear",
        "linear above 2^64",
    ] {
        assert!(
            seen.get(name).copied().unwrap_or(0) >= 10,
            "{name}: {seen:?}"
        );
    }
}

// -----------------------------------------------------------------
// One rule at a time, on an epoch of 8 heartbeats.

const SMALL_CAPACITY: usize = 8;

/// 16 slots, floor 3, 200 ms, `100 + 7 * (c - 3)`.
const SMALL_POLICY: UptimePolicy = UptimePolicy {
    slots_per_epoch: 16,
    floor_slots: 3,
    max_latency_ms: 200,
    base_reward: 100,
    reward_per_slot: 7,
    reward_cap: 1_000_000,
};

/// The reward of 8 counted heartbeats, and of 7.
const HONEST_REWARD: u64 = 135;
const ONE_EXCLUDED_REWARD: u64 = 128;

fn honest(slots: impl IntoIterator<Item = u32>) -> Vec<Heartbeat> {
    let id = device_key().public_key().id();
    slots
        .into_iter()
        .map(|s| Heartbeat::answer(beacon(), id, s, 50))
        .collect()
}

fn small_epoch(hbs: Vec<Heartbeat>) -> Epoch {
    Epoch::signed(&device_key(), EPOCH, beacon(), SMALL_POLICY, hbs)
}

/// Breaks one rule in one heartbeat: the reference rejects exactly that
/// one, and the circuit proves the reference's (lower) reward.
fn assert_excludes(hbs: Vec<Heartbeat>, index: usize, reason: RejectReason) {
    let (eval, mut r1cs) = check(&small_epoch(hbs), SMALL_CAPACITY);
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == index {
            Verdict::Rejected(reason)
        } else {
            Verdict::Accepted
        };
        assert_eq!(*v, want, "heartbeat {i}");
    }
    assert_eq!(eval.reward, ONE_EXCLUDED_REWARD);
    assert!(r1cs.is_satisfied());
    assert!(!r1cs.is_satisfied_with_public(&with_reward(&eval, HONEST_REWARD)));
}

#[test]
fn uptime_circuit_counts_an_honest_epoch() {
    let (eval, _) = check(&small_epoch(honest(0..8)), SMALL_CAPACITY);
    assert_eq!(eval.reward, HONEST_REWARD);
    // With padding, gaps and both boundaries.
    let mut hbs = honest([0, 3, 4, 15]);
    hbs[1].latency_ms = SMALL_POLICY.max_latency_ms;
    let (eval, _) = check(&small_epoch(hbs), SMALL_CAPACITY);
    assert_eq!(eval.reward, 107);
}

#[test]
fn uptime_circuit_excludes_slot_out_of_epoch() {
    let mut hbs = honest(0..8);
    hbs[7] = honest([SMALL_POLICY.slots_per_epoch])[0];
    assert_excludes(hbs, 7, RejectReason::OutOfEpoch);
    let mut hbs = honest(0..8);
    hbs[7] = honest([u32::MAX])[0];
    assert_excludes(hbs, 7, RejectReason::OutOfEpoch);
}

#[test]
fn uptime_circuit_excludes_slot_not_increasing() {
    let mut hbs = honest(0..8);
    hbs[5] = hbs[2];
    assert_excludes(hbs, 5, RejectReason::NotIncreasing);
}

#[test]
fn uptime_circuit_excludes_duplicate_slot() {
    let mut hbs = honest(0..8);
    hbs[5] = hbs[4];
    assert_excludes(hbs, 5, RejectReason::Duplicate);
}

#[test]
fn uptime_circuit_excludes_wrong_challenge() {
    let id = device_key().public_key().id();
    let mut hbs = honest(0..8);
    hbs[3].response = challenge(beacon() + Fr::ONE, id, 3);
    assert_excludes(hbs, 3, RejectReason::WrongChallenge);
    let mut hbs = honest(0..8);
    hbs[3].response = challenge(beacon(), id + Fr::ONE, 3);
    assert_excludes(hbs, 3, RejectReason::WrongChallenge);
}

#[test]
fn uptime_circuit_excludes_latency_too_high() {
    let mut hbs = honest(0..8);
    hbs[2].latency_ms = SMALL_POLICY.max_latency_ms + 1;
    assert_excludes(hbs, 2, RejectReason::LatencyTooHigh);
    let mut hbs = honest(0..8);
    hbs[2].latency_ms = u32::MAX;
    assert_excludes(hbs, 2, RejectReason::LatencyTooHigh);
}

#[test]
fn uptime_circuit_rejected_heartbeat_does_not_advance_next_slot() {
    // A slot-12 heartbeat with a wrong response does not block 2..8.
    let mut hbs = honest(0..8);
    let mut bad = honest([12])[0];
    bad.response += Fr::ONE;
    hbs.insert(2, bad);
    hbs.pop();
    assert_excludes(hbs, 2, RejectReason::WrongChallenge);
}

/// An epoch-wide fault: every heartbeat rejected with `reason`, reward
/// 0, and the honest reward unsatisfiable.
fn assert_pays_nothing(e: &Epoch, reason: RejectReason) {
    let (eval, mut r1cs) = check(e, SMALL_CAPACITY);
    assert!(eval
        .verdicts
        .iter()
        .all(|v| *v == Verdict::Rejected(reason)));
    assert_eq!(eval.reward, 0);
    assert!(!r1cs.is_satisfied_with_public(&with_reward(&eval, HONEST_REWARD)));
}

#[test]
fn uptime_circuit_pays_nothing_on_broken_chain() {
    let honest_epoch = small_epoch(honest(0..8));
    let mut altered = honest_epoch.clone();
    altered.heartbeats[5].latency_ms = 1;
    assert_pays_nothing(&altered, RejectReason::ChainBroken);
    let mut dropped = honest_epoch.clone();
    dropped.heartbeats.remove(3);
    assert_pays_nothing(&dropped, RejectReason::ChainBroken);
    let mut swapped = honest_epoch.clone();
    swapped.heartbeats.swap(1, 2);
    assert_pays_nothing(&swapped, RejectReason::ChainBroken);
    let mut other_epoch = honest_epoch;
    other_epoch.epoch += 1;
    assert_pays_nothing(&other_epoch, RejectReason::ChainBroken);
}

#[test]
fn uptime_circuit_pays_nothing_on_bad_signature() {
    let mut e = small_epoch(honest(0..8));
    e.signed_head = sign_head(&PrivateKey::from_bytes([42; 32]), e.signed_head.head);
    assert_pays_nothing(&e, RejectReason::BadSignature);
    let mut e = small_epoch(honest(0..8));
    e.signed_head.signature.s.add_with_carry(&SUBORDER);
    assert_pays_nothing(&e, RejectReason::BadSignature);
}

#[test]
fn uptime_circuit_pays_nothing_when_signed_head_differs() {
    // The signature is valid on the recomputed head but the prover's
    // head value differs: the reference says `ChainBroken`.
    let mut e = small_epoch(honest(0..8));
    e.signed_head.head += Fr::ONE;
    assert_pays_nothing(&e, RejectReason::ChainBroken);
}

#[test]
fn uptime_circuit_reward_floor_and_cap() {
    // Below the floor.
    let (eval, _) = check(&small_epoch(honest(0..2)), SMALL_CAPACITY);
    assert_eq!(eval.reward, 0);
    let (eval, _) = check(&small_epoch(honest(0..3)), SMALL_CAPACITY);
    assert_eq!(eval.reward, 100);
    // Capped.
    let capped = UptimePolicy {
        reward_cap: 120,
        ..SMALL_POLICY
    };
    let e = Epoch::signed(&device_key(), EPOCH, beacon(), capped, honest(0..8));
    let (eval, _) = check(&e, SMALL_CAPACITY);
    assert_eq!(eval.reward, 120);
    // A linear part far above 2^64.
    let huge = UptimePolicy {
        base_reward: u64::MAX - 1,
        reward_per_slot: u64::MAX,
        reward_cap: u64::MAX,
        ..SMALL_POLICY
    };
    let e = Epoch::signed(&device_key(), EPOCH, beacon(), huge, honest(0..8));
    let (eval, _) = check(&e, SMALL_CAPACITY);
    assert_eq!(eval.reward, u64::MAX);
    let e = Epoch::signed(&device_key(), EPOCH, beacon(), huge, honest(0..3));
    let (eval, _) = check(&e, SMALL_CAPACITY);
    assert_eq!(eval.reward, u64::MAX - 1);
    // Empty epoch, also in a circuit without slots.
    let (eval, _) = check(&small_epoch(Vec::new()), SMALL_CAPACITY);
    assert_eq!(eval.reward, 0);
    check(&small_epoch(Vec::new()), 0);
}

#[test]
fn uptime_circuit_synthesizes_in_setup_mode() {
    // Key generation synthesizes without witness values.
    let circuit =
        UptimeCircuit::with_capacity(&small_epoch(honest(0..3)).as_input(), 4).expect("circuit");
    let setup = ConstraintSystem::<Fr>::new_ref();
    setup.set_optimization_goal(OptimizationGoal::Constraints);
    setup.set_mode(ark_relations::gr1cs::SynthesisMode::Setup);
    circuit
        .clone()
        .generate_constraints(setup.clone())
        .expect("setup synthesis");
    setup.finalize();
    let prove = R1cs::synthesize(circuit).expect("synthesis");
    assert_eq!(setup.num_constraints(), prove.num_constraints());
    assert_eq!(setup.num_instance_variables(), 6);
}

#[test]
fn uptime_circuit_padding_must_be_a_suffix() {
    let e = small_epoch(honest(0..3));
    let mut circuit = UptimeCircuit::with_capacity(&e.as_input(), 5).expect("circuit");
    assert!(R1cs::synthesize(circuit.clone())
        .expect("synthesis")
        .is_satisfied());
    circuit.slots[4].enabled = true;
    assert!(!R1cs::synthesize(circuit).expect("synthesis").is_satisfied());
}

#[test]
fn uptime_circuit_ignores_disabled_slot_contents() {
    let e = small_epoch(honest(0..3));
    let mut circuit = UptimeCircuit::with_capacity(&e.as_input(), 5).expect("circuit");
    circuit.slots[3].record = honest([3])[0];
    circuit.slots[4].record = Heartbeat {
        slot: u32::MAX,
        response: Fr::from(5u64),
        latency_ms: u32::MAX,
    };
    let r1cs = R1cs::synthesize(circuit.clone()).expect("synthesis");
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.public_inputs(), &circuit.public_inputs()[..]);
}

#[test]
fn uptime_circuit_refuses_other_public_inputs() {
    let e = small_epoch(honest(0..4));
    let circuit = UptimeCircuit::with_capacity(&e.as_input(), 4).expect("circuit");
    let good = circuit.public_inputs();
    assert!(R1cs::synthesize(circuit.clone())
        .expect("synthesis")
        .is_satisfied());
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] += Fr::ONE;
        let r1cs =
            R1cs::synthesize(circuit.clone().with_public_override(bad.clone())).expect("synthesis");
        assert_eq!(r1cs.public_inputs(), &bad[..]);
        assert!(!r1cs.is_satisfied(), "public input {i}");
    }
}

#[test]
fn uptime_circuit_refuses_what_the_reference_refuses() {
    let e = small_epoch(honest(0..5));
    assert!(matches!(
        UptimeCircuit::with_capacity(&e.as_input(), 4),
        Err(CircuitError::Capacity {
            records: 5,
            capacity: 4
        })
    ));
    let e = small_epoch(honest((0..97).map(|s| s % 16)));
    assert!(matches!(
        UptimeCircuit::new(&e.as_input()),
        Err(CircuitError::Eval(EvalError::CapacityExceeded { .. }))
    ));
    let mut e = small_epoch(honest(0..2));
    e.policy.floor_slots = 0;
    assert!(matches!(
        UptimeCircuit::new(&e.as_input()),
        Err(CircuitError::Eval(EvalError::Policy(
            PolicyError::ZeroFloor
        )))
    ));
}

// -----------------------------------------------------------------
// Every witness is constrained.

/// The circuit, recording the witness range of the signature check.
struct Traced(UptimeCircuit, Rc<Cell<(usize, usize)>>);

impl ConstraintSynthesizer<Fr> for Traced {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let r = self.0.synthesize(cs)?.eddsa_witnesses;
        self.1.set((r.start, r.end));
        Ok(())
    }
}

/// A bare `eddsa::verify` on witnesses, recording where its own
/// witnesses start.
struct BareVerify(PublicKey, Fr, Signature, Rc<Cell<usize>>);

impl ConstraintSynthesizer<Fr> for BareVerify {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let key = PublicKeyVar::new_witness(cs.clone(), || Ok(self.0))?;
        let msg = FpVar::new_witness(cs.clone(), || Ok(self.1))?;
        let sig = SignatureVar::new_witness(cs.clone(), || Ok(self.2))?;
        self.3.set(cs.num_witness_variables());
        let _bit = eddsa::verify(&key, &msg, &sig)?;
        Ok(())
    }
}

/// The free witnesses of the circuit of `e` at `capacity`, which must
/// be exactly those of the bare EdDSA gadget on the same inputs (inverse
/// hints of its equality tests that hold), shifted to where the circuit
/// allocates it. Returns them as offsets in the gadget.
fn free_witnesses_are_the_gadgets(e: &Epoch, capacity: usize) -> Vec<usize> {
    let circuit = UptimeCircuit::with_capacity(&e.as_input(), capacity).expect("circuit");
    let head = chain_head(e.device.id(), e.epoch, &e.heartbeats);
    let range = Rc::new(Cell::new((0, 0)));
    let mut r1cs = R1cs::synthesize(Traced(circuit, range.clone())).expect("synthesis");
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.unused_witnesses(), Vec::<usize>::new());
    let free = r1cs.free_witnesses(delta());
    let (start, end) = range.get();
    assert_eq!(end - start, bare_witness_count());

    let bare_start = Rc::new(Cell::new(0));
    let bare = BareVerify(e.device, head, e.signed_head.signature, bare_start.clone());
    let mut bare = R1cs::synthesize(bare).expect("synthesis");
    assert!(bare.is_satisfied());
    let bare_free: Vec<usize> = bare
        .free_witnesses(delta())
        .into_iter()
        .map(|w| w - bare_start.get())
        .collect();
    let offsets: Vec<usize> = free.iter().map(|w| w.wrapping_sub(start)).collect();
    assert!(
        free.iter().all(|w| (start..end).contains(w)),
        "free witnesses outside the EdDSA gadget: {free:?} (gadget at {start}..{end})"
    );
    assert_eq!(offsets, bare_free);
    offsets
}

/// Witnesses one `eddsa::verify` allocates.
fn bare_witness_count() -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let key = device_key();
    let msg = Fr::from(1u64);
    let pk = PublicKeyVar::new_witness(cs.clone(), || Ok(key.public_key())).expect("alloc");
    let m = FpVar::new_witness(cs.clone(), || Ok(msg)).expect("alloc");
    let sig = SignatureVar::new_witness(cs.clone(), || Ok(key.sign(&msg))).expect("alloc");
    let start = cs.num_witness_variables();
    let _bit = eddsa::verify(&pk, &m, &sig).expect("verify");
    cs.num_witness_variables() - start
}

#[test]
fn uptime_circuit_every_witness_is_constrained() {
    // Honest, with a padded slot.
    let honest_epoch = small_epoch(honest(0..3));
    let free = free_witnesses_are_the_gadgets(&honest_epoch, 4);
    println!("honest epoch: free EdDSA witnesses at offsets {free:?}");
    // The valid signature leaves the gadget's hints of its true
    // equalities free (on-curve tests, x(4D) = 0, the final AND).
    assert!(!free.is_empty());

    // Rejected heartbeats of every kind, full.
    let id = device_key().public_key().id();
    let mut hbs = honest([0, 1, 1, 40]);
    hbs[1].response += Fr::ONE;
    hbs[3] = Heartbeat::answer(beacon(), id, 40, 50);
    let mut hbs2 = honest([0, 2, 1, 3]);
    hbs2[3].latency_ms = 1000;
    for e in [small_epoch(hbs), small_epoch(hbs2)] {
        let eval = evaluate(&e.as_input()).expect("valid");
        assert!(eval.accepted() < e.heartbeats.len());
        let free = free_witnesses_are_the_gadgets(&e, 4);
        println!("rejected heartbeats: free EdDSA witnesses at offsets {free:?}");
    }

    // Invalid epochs: broken chain (the signature is still valid on
    // the signed head, not on the recomputed one) and a bad signature.
    let mut broken = small_epoch(honest(0..3));
    broken.heartbeats[0].latency_ms += 1;
    let mut bad_sig = small_epoch(honest(0..3));
    bad_sig.signed_head = sign_head(&PrivateKey::from_bytes([9; 32]), bad_sig.signed_head.head);
    for e in [broken, bad_sig] {
        let free = free_witnesses_are_the_gadgets(&e, 4);
        println!("invalid epoch: free EdDSA witnesses at offsets {free:?}");
    }
}

// -----------------------------------------------------------------
// Full capacity.

#[test]
fn uptime_circuit_sample_at_full_capacity() {
    let circuit = UptimeCircuit::sample();
    assert_eq!(circuit.capacity(), UPTIME_CAPACITY);
    let heartbeats: Vec<Heartbeat> = circuit.slots.iter().map(|s| s.record).collect();
    let eval = evaluate(&UptimeInput {
        device: circuit.device,
        epoch: circuit.public.epoch,
        beacon: circuit.public.beacon,
        policy: circuit.policy,
        heartbeats: &heartbeats,
        signed_head: circuit.signed_head,
    })
    .expect("valid");
    assert_eq!(eval.accepted(), UPTIME_CAPACITY);
    assert_eq!(eval.reward, 530);
    assert_eq!(circuit.expected(), &eval.public);
    let r1cs = R1cs::synthesize(circuit).expect("synthesis");
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.public_inputs(), &eval.public.to_field_elements()[..]);
    println!(
        "uptime circuit at capacity 96: {} constraints",
        r1cs.num_constraints()
    );
    assert_eq!(r1cs.num_constraints(), CONSTRAINTS_AT_CAPACITY);
}

#[test]
fn uptime_circuit_cost_per_heartbeat() {
    let e = small_epoch(honest(0..2));
    let count = |capacity| {
        R1cs::synthesize(UptimeCircuit::with_capacity(&e.as_input(), capacity).expect("circuit"))
            .expect("synthesis")
            .num_constraints()
    };
    // Capacities with the same reward comparison width (7 bits).
    let (a, b) = (count(2), count(3));
    println!("per heartbeat: {}, fixed: {}", b - a, a - 2 * (b - a));
    assert_eq!(b - a, CONSTRAINTS_PER_HEARTBEAT);
    assert_eq!(
        a - 2 * CONSTRAINTS_PER_HEARTBEAT + UPTIME_CAPACITY * CONSTRAINTS_PER_HEARTBEAT,
        CONSTRAINTS_AT_CAPACITY
    );
}
