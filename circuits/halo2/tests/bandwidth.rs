//! The bandwidth circuit against the native reference
//! (`depin_statements::bandwidth::evaluate`) and the R1CS circuit, with the
//! mock prover: the same public inputs for random honest and corrupted
//! epochs (`depin_statements::sample::bandwidth::random_epoch`, shared with
//! the R1CS tests), each rule excluding exactly its receipt, nothing paid
//! for a broken chain or a bad device signature, the reward's division and
//! cap, padding, invalid policies, and every other public input refused.

mod common;

use ark_ff::BigInteger;
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::field::Fr as NativeFr;
use depin_halo2::bandwidth::BandwidthCircuit;
use depin_halo2::field::to_halo2;
use depin_halo2::layout::{advice_cells, mock_check};
use depin_halo2::statement::{StatementCircuit, StatementError};
use depin_statements::bandwidth::evaluate;
use depin_statements::sample::bandwidth::{
    cosign, random_epoch, world, BandwidthEpoch, DEVICE_INDEX, SAMPLE_EPOCH, SAMPLE_POLICY,
};
use depin_statements::{
    BandwidthPolicy, EvalError, Evaluation, PolicyError, RejectReason, Verdict, BANDWIDTH_CAPACITY,
};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const K: u32 = 17;
/// Slots of the targeted tests: three receipts.
const CAPACITY: usize = 3;
/// The reward of the three honest receipts (1 + 2 + 3 MiB at one unit per
/// KiB).
const HONEST_REWARD: u64 = 6 * 1024;

/// `2^72`, one unit of reward in the header.
fn reward_unit() -> Fr {
    Fr::from(2u64).pow_vartime([72u64])
}

fn halo2_public(eval: &Evaluation) -> Vec<Fr> {
    eval.public
        .to_field_elements()
        .iter()
        .map(to_halo2)
        .collect()
}

/// Three honest receipts of the world's device.
fn honest() -> BandwidthEpoch {
    world().honest(CAPACITY as u32)
}

/// The world's device signs the head of the current receipts.
fn sign_chain(e: &mut BandwidthEpoch) {
    e.sign(&world().device);
}

/// Builds the circuit at `capacity` and checks it against the reference:
/// the same public inputs, satisfied with them, and, when `tamper`, refused
/// with the reward (header +- 2^72) or any other public input changed.
fn check(e: &BandwidthEpoch, capacity: usize, tamper: bool) -> Evaluation {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = BandwidthCircuit::with_capacity(&input, capacity).expect("circuit");
    let expected = halo2_public(&eval);
    assert_eq!(expected.len(), 6);
    assert_eq!(circuit.public_inputs(), expected);
    assert_eq!(circuit.expected(), &eval.public);
    common::accepts_exactly(&circuit, K, &expected, &eval.verdicts, tamper);
    eval
}

/// The same public inputs as the R1CS circuit of the same epoch: both
/// backends prove the same reward, nullifier and registry root.
fn same_as_r1cs(e: &BandwidthEpoch, capacity: usize) {
    let r1cs =
        depin_statements_r1cs::bandwidth::BandwidthCircuit::with_capacity(&e.as_input(), capacity)
            .expect("r1cs circuit");
    let halo2 = BandwidthCircuit::with_capacity(&e.as_input(), capacity).expect("halo2 circuit");
    common::same_public(&halo2, &r1cs);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random honest and corrupted epochs (every rule, every epoch-wide
    /// fault, extreme policies): the circuit accepts exactly the
    /// reference's public inputs, which are the R1CS circuit's.
    #[test]
    fn bandwidth_circuit_matches_reference(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let capacity = if rng.gen_bool(0.5) { 2 } else { 3 };
        let e = random_epoch(&mut rng, capacity);
        check(&e, capacity, seed % 4 == 0);
        same_as_r1cs(&e, capacity);
    }
}

/// Breaks receipt `index` of the honest epoch with `mutate` (the chain
/// signed again): the reference rejects it for `reason` and accepts the
/// others, the circuit proves exactly the lower reward and not the honest
/// one.
fn assert_excludes(index: usize, reason: RejectReason, mutate: impl FnOnce(&mut BandwidthEpoch)) {
    let mut e = honest();
    mutate(&mut e);
    sign_chain(&mut e);
    let eval = check(&e, CAPACITY, false);
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == index {
            Verdict::Rejected(reason)
        } else {
            Verdict::Accepted
        };
        assert_eq!(*v, want, "receipt {i}");
    }
    assert!(eval.reward < HONEST_REWARD);
    let circuit = BandwidthCircuit::with_capacity(&e.as_input(), CAPACITY).expect("circuit");
    let mut claim = halo2_public(&eval);
    claim[0] += Fr::from(HONEST_REWARD - eval.reward) * reward_unit();
    assert!(mock_check(&circuit, K, claim).expect("layout").is_err());
}

#[test]
fn bandwidth_circuit_pays_an_honest_epoch() {
    let e = honest();
    let eval = check(&e, CAPACITY, true);
    assert_eq!(eval.reward, HONEST_REWARD);
    assert_eq!(eval.accepted(), CAPACITY);
    same_as_r1cs(&e, CAPACITY);
}

#[test]
fn bandwidth_circuit_excludes_wrong_device() {
    assert_excludes(1, RejectReason::WrongDevice, |e| {
        world().resign(e, 1, 1, |r| r.device_id = NativeFr::from(1234u64));
    });
}

#[test]
fn bandwidth_circuit_excludes_out_of_epoch() {
    assert_excludes(2, RejectReason::OutOfEpoch, |e| {
        world().resign(e, 2, 2, |r| r.epoch = SAMPLE_EPOCH - 1);
    });
}

#[test]
fn bandwidth_circuit_excludes_key_mismatch() {
    assert_excludes(0, RejectReason::KeyMismatch, |e| {
        let w = world();
        e.receipts[0] = cosign(e.receipts[0].receipt, &w.clients[3], w.proofs[0]);
    });
}

#[test]
fn bandwidth_circuit_excludes_bad_client_signature() {
    // Altered after signing.
    assert_excludes(1, RejectReason::BadSignature, |e| {
        e.receipts[1].receipt.bytes += 1;
    });
    // S >= l, with an otherwise valid equation.
    assert_excludes(2, RejectReason::BadSignature, |e| {
        e.receipts[2].client_signature.s.add_with_carry(&SUBORDER);
    });
    // R8 off the curve.
    assert_excludes(0, RejectReason::BadSignature, |e| {
        e.receipts[0].client_signature.r8.y += NativeFr::from(1u64);
    });
}

#[test]
fn bandwidth_circuit_excludes_client_not_registered() {
    // A client outside the registry.
    assert_excludes(1, RejectReason::ClientNotRegistered, |e| {
        let w = world();
        let mut receipt = e.receipts[1].receipt;
        receipt.client_id = w.outsider.public_key().id();
        e.receipts[1] = cosign(receipt, &w.outsider, w.proofs[1]);
    });
    // A registered client with another leaf's index.
    assert_excludes(0, RejectReason::ClientNotRegistered, |e| {
        e.receipts[0].registry_proof.index = 2;
    });
}

#[test]
fn bandwidth_circuit_excludes_self_dealing() {
    assert_excludes(2, RejectReason::SelfDealing, |e| {
        let w = world();
        let mut receipt = e.receipts[2].receipt;
        receipt.client_id = w.device_id();
        e.receipts[2] = w.cosigned(receipt, DEVICE_INDEX);
    });
}

#[test]
fn bandwidth_circuit_excludes_implausible_throughput() {
    // 10 s at 1 MB/s allows 10^7 bytes.
    assert_excludes(1, RejectReason::ImplausibleThroughput, |e| {
        world().resign(e, 1, 1, |r| r.bytes = 10_000_001);
    });
    // The bound itself is plausible.
    let mut e = honest();
    world().resign(&mut e, 1, 1, |r| r.bytes = 10_000_000);
    sign_chain(&mut e);
    assert_eq!(check(&e, CAPACITY, false).accepted(), CAPACITY);
}

#[test]
fn bandwidth_circuit_excludes_duplicate_session() {
    assert_excludes(2, RejectReason::Duplicate, |e| {
        world().resign(e, 2, 2, |r| r.session = 0);
    });
}

#[test]
fn bandwidth_circuit_counts_duplicate_of_rejected_receipt() {
    let mut e = honest();
    e.receipts[0].receipt.bytes += 1; // bad signature: session 0 not accepted
    world().resign(&mut e, 2, 2, |r| r.session = 0);
    sign_chain(&mut e);
    let eval = check(&e, CAPACITY, false);
    assert_eq!(
        eval.verdicts,
        [
            Verdict::Rejected(RejectReason::BadSignature),
            Verdict::Accepted,
            Verdict::Accepted
        ]
    );
    assert_eq!(eval.reward, 5 * 1024);
}

#[test]
fn bandwidth_circuit_pays_nothing_on_broken_chain() {
    // The device signed a truncated chain.
    let mut e = honest();
    let last = e.receipts.pop().expect("three receipts");
    sign_chain(&mut e);
    e.receipts.push(last);
    let eval = check(&e, CAPACITY, false);
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::ChainBroken); CAPACITY]
    );
    assert_eq!(eval.reward, 0);
    // A valid signature on the recomputed head, another head value.
    let mut e = honest();
    e.signed_head.head += NativeFr::from(1u64);
    assert_eq!(check(&e, CAPACITY, false).reward, 0);
}

#[test]
fn bandwidth_circuit_pays_nothing_on_bad_device_signature() {
    let mut e = honest();
    e.signed_head.signature = world().clients[0].sign(&e.signed_head.head);
    let eval = check(&e, CAPACITY, true);
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::BadSignature); CAPACITY]
    );
    assert_eq!(eval.reward, 0);
    same_as_r1cs(&e, CAPACITY);
}

#[test]
fn bandwidth_circuit_reward_division_and_cap() {
    for (rate_num, rate_shift, reward_cap, reward) in [
        (1, 10, 1000, 1000),
        (3, 0, u64::MAX, 3 * 6 * (1 << 20)),
        (u32::MAX, 64, u64::MAX, 0),
        (7, 33, 1, 0),
        (7, 20, 1, 1),
    ] {
        let mut e = honest();
        e.policy = BandwidthPolicy {
            rate_num,
            rate_shift,
            reward_cap,
            ..SAMPLE_POLICY
        };
        assert_eq!(check(&e, CAPACITY, false).reward, reward, "{:?}", e.policy);
    }
    // The largest total: three receipts of (2^32 - 1)^2 bytes, at the
    // widest rate, capped at u64::MAX.
    let w = world();
    let mut e = honest();
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
        *r = w.cosigned(receipt, i);
    }
    sign_chain(&mut e);
    let eval = check(&e, CAPACITY, false);
    assert_eq!(eval.accepted(), CAPACITY);
    assert_eq!(eval.reward, u64::MAX);
    same_as_r1cs(&e, CAPACITY);
    // An empty epoch, also in a circuit without slots.
    let empty = w.epoch(
        SAMPLE_EPOCH,
        NativeFr::from(5u64),
        SAMPLE_POLICY,
        Vec::new(),
    );
    assert_eq!(check(&empty, CAPACITY, false).reward, 0);
    check(&empty, 0, true);
}

#[test]
fn bandwidth_circuit_padding_must_be_a_suffix_and_is_ignored() {
    let mut e = honest();
    e.receipts.truncate(2);
    sign_chain(&mut e);
    let mut circuit = BandwidthCircuit::with_capacity(&e.as_input(), CAPACITY).expect("circuit");
    let public = circuit.public_inputs();
    // A disabled slot's contents do not matter.
    circuit.slots_mut()[2].record = honest().receipts[2];
    assert_eq!(
        mock_check(&circuit, K, public.clone()).expect("layout"),
        Ok(())
    );
    // A hole in the enabled prefix is refused, although the chain and the
    // total over the enabled slots are the same.
    circuit.slots_mut().swap(1, 2);
    assert!(!circuit.slots_mut()[1].enabled && circuit.slots_mut()[2].enabled);
    assert!(mock_check(&circuit, K, public).expect("layout").is_err());
}

#[test]
fn bandwidth_circuit_refuses_what_the_reference_refuses() {
    let e = honest();
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.as_input(), 2),
        Err(StatementError::Capacity {
            records: 3,
            capacity: 2
        })
    ));
    // More receipts than the statement's capacity, whatever the circuit's.
    let mut e = honest();
    e.receipts = vec![e.receipts[0]; BANDWIDTH_CAPACITY + 1];
    for circuit in [
        BandwidthCircuit::new(&e.as_input()),
        BandwidthCircuit::with_capacity(&e.as_input(), 40),
    ] {
        assert!(matches!(
            circuit,
            Err(StatementError::Eval(EvalError::CapacityExceeded {
                records: 33,
                ..
            }))
        ));
    }
    // An invalid policy.
    let mut e = honest();
    e.policy.rate_shift = 65;
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.as_input(), CAPACITY),
        Err(StatementError::Eval(EvalError::Policy(
            PolicyError::RateShiftTooLarge { .. }
        )))
    ));
}

#[test]
fn bandwidth_circuit_refuses_a_forged_invalid_policy() {
    // A private policy the reference refuses, with its own hash as the
    // public policy hash and the reward it computes (0 for each): only
    // the in-circuit policy checks refuse it.
    let mut e = honest();
    e.receipts.truncate(1);
    sign_chain(&mut e);
    let eval = evaluate(&e.as_input()).expect("valid input");
    assert!(eval.reward > 0);
    for bad in [
        BandwidthPolicy {
            rate_shift: 65,
            ..SAMPLE_POLICY
        },
        BandwidthPolicy {
            rate_shift: 200,
            ..SAMPLE_POLICY
        },
        BandwidthPolicy {
            rate_num: 0,
            ..SAMPLE_POLICY
        },
        BandwidthPolicy {
            reward_cap: 0,
            ..SAMPLE_POLICY
        },
        BandwidthPolicy {
            max_bytes_per_s: 0,
            ..SAMPLE_POLICY
        },
    ] {
        let mut circuit = BandwidthCircuit::with_capacity(&e.as_input(), 1).expect("circuit");
        *circuit.policy_mut() = bad;
        let mut public = halo2_public(&eval);
        public[0] -= Fr::from(eval.reward) * reward_unit();
        public[2] = to_halo2(&bad.hash());
        assert!(
            mock_check(&circuit, K, public).expect("layout").is_err(),
            "{bad:?}"
        );
    }
}

/// The circuit's size at the statement capacity (`cargo test -p depin-halo2
/// --test bandwidth -- --nocapture cells` prints it).
#[test]
fn bandwidth_cells_at_capacity() {
    let sample = BandwidthCircuit::sample().expect("sample");
    assert_eq!(sample.capacity(), BANDWIDTH_CAPACITY);
    let cells = advice_cells(&sample).expect("layout");
    let small = advice_cells(
        &BandwidthCircuit::with_capacity(&honest().as_input(), CAPACITY).expect("circuit"),
    )
    .expect("layout");
    eprintln!("bandwidth at capacity 32: {cells} advice cells ({small} at capacity {CAPACITY})");
    assert!(cells > small);
    // The sample's public inputs are the reference's.
    let e = depin_statements::sample::bandwidth::sample_epoch(
        &depin_statements::sample::bandwidth::sample_key(),
    );
    let eval = evaluate(&e.as_input()).expect("sample");
    assert_eq!(eval.accepted(), BANDWIDTH_CAPACITY);
    assert_eq!(
        eval.public,
        depin_statements::sample::bandwidth::sample_public_inputs(&e)
    );
    assert_eq!(sample.expected(), &eval.public);
}
