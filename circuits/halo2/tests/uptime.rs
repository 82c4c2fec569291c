//! The uptime circuit against the native reference
//! (`depin_statements::uptime::evaluate`) and the R1CS circuit, with the
//! mock prover: the same public inputs for random honest and corrupted
//! epochs (`depin_statements::sample::uptime::random_epoch`, shared with
//! the R1CS tests), each rule excluding exactly its heartbeat, nothing paid
//! for a broken chain or a bad signature, the reward's floor and cap, and
//! every other public input refused.

mod common;

use depin_crypto::eddsa::PrivateKey;
use depin_crypto::field::Fr as NativeFr;
use depin_halo2::field::to_halo2;
use depin_halo2::layout::mock_check;
use depin_halo2::statement::{StatementCircuit, StatementError};
use depin_halo2::uptime::UptimeCircuit;
use depin_statements::records::Heartbeat;
use depin_statements::sample::uptime::{random_epoch, UptimeEpoch};
use depin_statements::uptime::evaluate;
use depin_statements::{EvalError, Evaluation, PolicyError, RejectReason, UptimePolicy, Verdict};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const K: u32 = 17;
const EPOCH: u32 = 20_250;
const SMALL_CAPACITY: usize = 4;

fn beacon() -> NativeFr {
    NativeFr::from(918_273_645_546_372_819u64)
}

fn device_key() -> PrivateKey {
    PrivateKey::from_bytes([7; 32])
}

/// 16 slots, floor 2, 200 ms, `100 + 7 * (c - 2)`.
const SMALL_POLICY: UptimePolicy = UptimePolicy {
    slots_per_epoch: 16,
    floor_slots: 2,
    max_latency_ms: 200,
    base_reward: 100,
    reward_per_slot: 7,
    reward_cap: 1_000_000,
};
/// The reward of 4 counted heartbeats, and of 3.
const HONEST_REWARD: u64 = 114;
const ONE_EXCLUDED_REWARD: u64 = 107;

fn honest(slots: impl IntoIterator<Item = u32>) -> Vec<Heartbeat> {
    let id = device_key().public_key().id();
    slots
        .into_iter()
        .map(|s| Heartbeat::answer(beacon(), id, s, 50))
        .collect()
}

fn small_epoch(hbs: Vec<Heartbeat>) -> UptimeEpoch {
    UptimeEpoch::signed(&device_key(), EPOCH, beacon(), SMALL_POLICY, hbs)
}

/// Builds the circuit at `capacity` and checks it against the reference:
/// the same public inputs, satisfied with them, and, when `tamper`, refused
/// with the reward (header +- 2^72) or any other public input changed.
fn check(e: &UptimeEpoch, capacity: usize, tamper: bool) -> Evaluation {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = UptimeCircuit::with_capacity(&input, capacity).expect("circuit");
    let expected: Vec<Fr> = eval
        .public
        .to_field_elements()
        .iter()
        .map(to_halo2)
        .collect();
    assert_eq!(circuit.public_inputs(), expected);
    assert_eq!(circuit.expected(), &eval.public);
    common::accepts_exactly(&circuit, K, &expected, &eval.verdicts, tamper);
    eval
}

/// The same public inputs as the R1CS circuit of the same epoch: both
/// backends prove the same reward and nullifier.
fn same_as_r1cs(e: &UptimeEpoch, capacity: usize) {
    let r1cs = depin_statements_r1cs::uptime::UptimeCircuit::with_capacity(&e.as_input(), capacity)
        .expect("r1cs circuit");
    let halo2 = UptimeCircuit::with_capacity(&e.as_input(), capacity).expect("halo2 circuit");
    common::same_public(&halo2, &r1cs);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random honest and corrupted epochs (every rule, every epoch-wide
    /// fault, extreme policies): the circuit accepts exactly the
    /// reference's public inputs, which are the R1CS circuit's.
    #[test]
    fn uptime_circuit_matches_reference(seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let e = random_epoch(&mut rng, SMALL_CAPACITY);
        check(&e, SMALL_CAPACITY, seed % 4 == 0);
        same_as_r1cs(&e, SMALL_CAPACITY);
    }
}

fn assert_excludes(hbs: Vec<Heartbeat>, index: usize, reason: RejectReason) {
    let eval = check(&small_epoch(hbs), SMALL_CAPACITY, false);
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == index {
            Verdict::Rejected(reason)
        } else {
            Verdict::Accepted
        };
        assert_eq!(*v, want, "heartbeat {i}");
    }
    assert_eq!(eval.reward, ONE_EXCLUDED_REWARD);
}

#[test]
fn uptime_circuit_counts_an_honest_epoch() {
    let eval = check(&small_epoch(honest(0..4)), SMALL_CAPACITY, true);
    assert_eq!(eval.reward, HONEST_REWARD);
    same_as_r1cs(&small_epoch(honest(0..4)), SMALL_CAPACITY);
}

#[test]
fn uptime_circuit_excludes_each_broken_rule() {
    let mut out_of_epoch = honest(0..4);
    out_of_epoch[2] = honest([16])[0];
    assert_excludes(out_of_epoch, 2, RejectReason::OutOfEpoch);
    assert_excludes(honest([0, 1, 1, 2]), 2, RejectReason::Duplicate);
    assert_excludes(honest([0, 3, 2, 4]), 2, RejectReason::NotIncreasing);
    let mut wrong = honest(0..4);
    wrong[1].response += NativeFr::from(1u64);
    assert_excludes(wrong, 1, RejectReason::WrongChallenge);
    let mut slow = honest(0..4);
    slow[3].latency_ms = SMALL_POLICY.max_latency_ms + 1;
    assert_excludes(slow, 3, RejectReason::LatencyTooHigh);
}

#[test]
fn uptime_circuit_pays_nothing_for_a_broken_chain_or_signature() {
    // A heartbeat altered after signing.
    let mut e = small_epoch(honest(0..4));
    e.heartbeats[1].latency_ms += 1;
    assert_eq!(check(&e, SMALL_CAPACITY, false).reward, 0);
    // Signed by another key.
    let mut e = small_epoch(honest(0..4));
    e.signed_head.signature = PrivateKey::from_bytes([8; 32]).sign(&e.signed_head.head);
    assert_eq!(check(&e, SMALL_CAPACITY, false).reward, 0);
    // A valid signature on the recomputed head, another head value.
    let mut e = small_epoch(honest(0..4));
    e.signed_head.head += NativeFr::from(1u64);
    assert_eq!(check(&e, SMALL_CAPACITY, false).reward, 0);
}

#[test]
fn uptime_circuit_reward_floor_and_cap() {
    assert_eq!(
        check(&small_epoch(honest(0..1)), SMALL_CAPACITY, false).reward,
        0
    );
    assert_eq!(
        check(&small_epoch(honest(0..2)), SMALL_CAPACITY, false).reward,
        100
    );
    let capped = UptimePolicy {
        reward_cap: 110,
        ..SMALL_POLICY
    };
    let e = UptimeEpoch::signed(&device_key(), EPOCH, beacon(), capped, honest(0..4));
    assert_eq!(check(&e, SMALL_CAPACITY, false).reward, 110);
    let huge = UptimePolicy {
        base_reward: u64::MAX - 1,
        reward_per_slot: u64::MAX,
        reward_cap: u64::MAX,
        ..SMALL_POLICY
    };
    let e = UptimeEpoch::signed(&device_key(), EPOCH, beacon(), huge, honest(0..4));
    assert_eq!(check(&e, SMALL_CAPACITY, false).reward, u64::MAX);
    // An empty epoch, also in a circuit without slots.
    assert_eq!(
        check(&small_epoch(Vec::new()), SMALL_CAPACITY, false).reward,
        0
    );
    check(&small_epoch(Vec::new()), 0, true);
}

#[test]
fn uptime_circuit_padding_must_be_a_suffix_and_is_ignored() {
    let e = small_epoch(honest(0..2));
    let mut circuit = UptimeCircuit::with_capacity(&e.as_input(), SMALL_CAPACITY).expect("circuit");
    let public = circuit.public_inputs();
    // Disabled slots' contents do not matter.
    circuit.slots_mut()[2].record = honest([2])[0];
    circuit.slots_mut()[3].record = Heartbeat {
        slot: u32::MAX,
        response: NativeFr::from(5u64),
        latency_ms: u32::MAX,
    };
    assert_eq!(
        mock_check(&circuit, K, public.clone()).expect("layout"),
        Ok(())
    );
    // An enabled slot after a disabled one is refused.
    circuit.slots_mut()[3].enabled = true;
    assert!(mock_check(&circuit, K, public).expect("layout").is_err());
}

#[test]
fn uptime_circuit_refuses_what_the_reference_refuses() {
    let e = small_epoch(honest(0..5));
    assert!(matches!(
        UptimeCircuit::with_capacity(&e.as_input(), 4),
        Err(StatementError::Capacity {
            records: 5,
            capacity: 4
        })
    ));
    let e = small_epoch(honest((0..97).map(|s| s % 16)));
    assert!(matches!(
        UptimeCircuit::new(&e.as_input()),
        Err(StatementError::Eval(EvalError::CapacityExceeded { .. }))
    ));
    let mut e = small_epoch(honest(0..2));
    e.policy.floor_slots = 0;
    assert!(matches!(
        UptimeCircuit::new(&e.as_input()),
        Err(StatementError::Eval(EvalError::Policy(
            PolicyError::ZeroFloor
        )))
    ));
}

/// The circuit's size at the statement capacity (`cargo test -p depin-halo2
/// --test uptime -- --nocapture cells` prints it for docs/halo2.md).
#[test]
fn uptime_cells_at_capacity() {
    let sample = UptimeCircuit::sample().expect("sample");
    assert_eq!(sample.capacity(), depin_statements::UPTIME_CAPACITY);
    let cells = depin_halo2::layout::advice_cells(&sample).expect("layout");
    let small = depin_halo2::layout::advice_cells(
        &UptimeCircuit::with_capacity(&small_epoch(honest(0..4)).as_input(), SMALL_CAPACITY)
            .expect("circuit"),
    )
    .expect("layout");
    eprintln!("uptime at capacity 96: {cells} advice cells ({small} at capacity 4)");
    assert!(cells > small);
}
