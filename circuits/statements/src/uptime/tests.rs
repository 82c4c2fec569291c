use super::*;
use crate::padding::{pad, unpad};
use crate::records::HashChain;
use crate::testutil::{device_key, uptime_policy, BEACON, EPOCH};
use depin_crypto::eddsa::PrivateKey;

/// Signs `hbs` as the device does and evaluates them.
fn run_with(key: &PrivateKey, policy: UptimePolicy, hbs: &[Heartbeat]) -> Evaluation {
    let device = key.public_key();
    let mut chain = HashChain::uptime(device.id(), EPOCH);
    for hb in hbs {
        chain.push(hb.message());
    }
    let signed_head = SignedHead {
        head: chain.head(),
        signature: key.sign(&chain.head()),
    };
    evaluate(&UptimeInput {
        device,
        epoch: EPOCH,
        beacon: BEACON,
        policy,
        heartbeats: hbs,
        signed_head,
    })
    .unwrap()
}

fn run(hbs: &[Heartbeat]) -> Evaluation {
    run_with(&device_key(), uptime_policy(), hbs)
}

fn honest(slots: impl IntoIterator<Item = u32>) -> Vec<Heartbeat> {
    let id = device_key().public_key().id();
    slots
        .into_iter()
        .map(|s| Heartbeat::answer(BEACON, id, s, 50))
        .collect()
}

/// The test policy pays `100 + 5 * (c - 10)` from 10 counted slots.
fn expected(counted: u64) -> u64 {
    100 + 5 * (counted - 10)
}

fn assert_only_rejected(e: &Evaluation, index: usize, reason: RejectReason) {
    for (i, v) in e.verdicts.iter().enumerate() {
        if i == index {
            assert_eq!(*v, Verdict::Rejected(reason), "record {i}");
        } else {
            assert_eq!(*v, Verdict::Accepted, "record {i}");
        }
    }
}

#[test]
fn uptime_honest_epoch_counts_every_slot() {
    let hbs = honest(0..96);
    let e = run(&hbs);
    assert_eq!(e.verdicts, alloc::vec![Verdict::Accepted; 96]);
    assert_eq!(e.reward, expected(96));
    let id = device_key().public_key().id();
    assert_eq!(
        e.public,
        PublicInputs::common(
            StatementKind::Uptime,
            EPOCH,
            id,
            uptime_policy().hash(),
            BEACON,
            expected(96)
        )
    );
    assert_eq!(e.public.to_field_elements().len(), 5);
    assert_eq!(e.public.registry_root, None);
    assert_eq!(e.public.cell, None);
}

#[test]
fn uptime_gaps_are_allowed() {
    let hbs = honest((0..96).step_by(3));
    let e = run(&hbs);
    assert_eq!(e.accepted(), 32);
    assert_eq!(e.reward, expected(32));
}

#[test]
fn uptime_rejects_slot_out_of_epoch() {
    let mut hbs = honest(0..40);
    hbs.push(Heartbeat::answer(
        BEACON,
        device_key().public_key().id(),
        96,
        50,
    ));
    let e = run(&hbs);
    assert_only_rejected(&e, 40, RejectReason::OutOfEpoch);
    assert_eq!(e.reward, expected(40));
    // The bound is the policy's, not the capacity.
    let short = UptimePolicy {
        slots_per_epoch: 30,
        floor_slots: 10,
        ..uptime_policy()
    };
    let e = run_with(&device_key(), short, &honest(0..31));
    assert_only_rejected(&e, 30, RejectReason::OutOfEpoch);
}

#[test]
fn uptime_rejects_slot_not_increasing() {
    let mut hbs = honest(0..20);
    hbs.insert(10, hbs[5]);
    let e = run(&hbs);
    assert_only_rejected(&e, 10, RejectReason::NotIncreasing);
    assert_eq!(e.reward, expected(20));
}

#[test]
fn uptime_rejects_duplicate_slot() {
    let mut hbs = honest(0..20);
    hbs.insert(10, hbs[9]);
    let e = run(&hbs);
    assert_only_rejected(&e, 10, RejectReason::Duplicate);
    assert_eq!(e.reward, expected(20));
}

#[test]
fn uptime_rejects_wrong_challenge() {
    let mut hbs = honest(0..20);
    // Answered for another beacon (e.g. precomputed before publication).
    hbs[7] = Heartbeat::answer(
        BEACON + Fr::from(1u64),
        device_key().public_key().id(),
        7,
        50,
    );
    let e = run(&hbs);
    assert_only_rejected(&e, 7, RejectReason::WrongChallenge);
    assert_eq!(e.reward, expected(19));
    // Another device's response does not count either.
    let mut hbs = honest(0..20);
    hbs[3].response = challenge(BEACON, Fr::from(99u64), 3);
    assert_only_rejected(&run(&hbs), 3, RejectReason::WrongChallenge);
}

#[test]
fn uptime_rejects_latency_too_high() {
    let mut hbs = honest(0..20);
    hbs[4].latency_ms = uptime_policy().max_latency_ms + 1;
    let e = run(&hbs);
    assert_only_rejected(&e, 4, RejectReason::LatencyTooHigh);
    assert_eq!(e.reward, expected(19));
    // The bound itself counts.
    let mut hbs = honest(0..20);
    hbs[4].latency_ms = uptime_policy().max_latency_ms;
    assert_eq!(run(&hbs).reward, expected(20));
}

#[test]
fn uptime_rejected_heartbeat_does_not_advance_next_slot() {
    // A slot-50 heartbeat with a wrong response does not block slots
    // 10..50 that follow it.
    let id = device_key().public_key().id();
    let mut hbs = honest(0..10);
    let mut bad = Heartbeat::answer(BEACON, id, 50, 50);
    bad.response += Fr::from(1u64);
    hbs.push(bad);
    hbs.extend(honest(10..20));
    let e = run(&hbs);
    assert_only_rejected(&e, 10, RejectReason::WrongChallenge);
    assert_eq!(e.reward, expected(20));
}

#[test]
fn uptime_reward_zero_below_floor() {
    let e = run(&honest(0..9));
    assert_eq!(e.accepted(), 9);
    assert_eq!(e.reward, 0);
    assert_eq!(e.public.reward, 0);
    assert_eq!(run(&honest(0..10)).reward, 100);
}

#[test]
fn uptime_reward_capped() {
    let p = UptimePolicy {
        reward_cap: 200,
        ..uptime_policy()
    };
    assert_eq!(run_with(&device_key(), p, &honest(0..96)).reward, 200);
}

#[test]
fn uptime_bad_head_signature_rejects_every_record() {
    let key = device_key();
    let device = key.public_key();
    let hbs = honest(0..96);
    let mut chain = HashChain::uptime(device.id(), EPOCH);
    for hb in &hbs {
        chain.push(hb.message());
    }
    // Signed by another key.
    let other = PrivateKey::from_bytes([42; 32]);
    let e = evaluate(&UptimeInput {
        device,
        epoch: EPOCH,
        beacon: BEACON,
        policy: uptime_policy(),
        heartbeats: &hbs,
        signed_head: SignedHead {
            head: chain.head(),
            signature: other.sign(&chain.head()),
        },
    })
    .unwrap();
    assert_eq!(
        e.verdicts,
        alloc::vec![Verdict::Rejected(RejectReason::BadSignature); 96]
    );
    assert_eq!(e.reward, 0);
    assert_eq!(e.public.reward, 0);
}

#[test]
fn uptime_broken_chain_rejects_every_record() {
    let key = device_key();
    let device = key.public_key();
    let hbs = honest(0..20);
    let mut chain = HashChain::uptime(device.id(), EPOCH);
    for hb in &hbs {
        chain.push(hb.message());
    }
    let signed_head = SignedHead {
        head: chain.head(),
        signature: key.sign(&chain.head()),
    };
    // A heartbeat dropped, reordered or altered after signing.
    let mut dropped = hbs.clone();
    dropped.remove(3);
    let mut swapped = hbs.clone();
    swapped.swap(1, 2);
    let mut altered = hbs.clone();
    altered[5].latency_ms = 1;
    for tampered in [dropped, swapped, altered] {
        let e = evaluate(&UptimeInput {
            device,
            epoch: EPOCH,
            beacon: BEACON,
            policy: uptime_policy(),
            heartbeats: &tampered,
            signed_head,
        })
        .unwrap();
        assert!(e
            .verdicts
            .iter()
            .all(|v| *v == Verdict::Rejected(RejectReason::ChainBroken)));
        assert_eq!(e.reward, 0);
    }
    // A chain started for another epoch is broken too.
    let e = evaluate(&UptimeInput {
        device,
        epoch: EPOCH + 1,
        beacon: BEACON,
        policy: uptime_policy(),
        heartbeats: &hbs,
        signed_head,
    })
    .unwrap();
    assert_eq!(e.verdicts[0], Verdict::Rejected(RejectReason::ChainBroken));
}

#[test]
fn uptime_empty_epoch_pays_nothing() {
    let e = run(&[]);
    assert!(e.verdicts.is_empty());
    assert_eq!(e.reward, 0);
}

#[test]
fn uptime_capacity_overflow_is_typed_error() {
    let key = device_key();
    let hbs = honest(0..97);
    let err = evaluate(&UptimeInput {
        device: key.public_key(),
        epoch: EPOCH,
        beacon: BEACON,
        policy: uptime_policy(),
        heartbeats: &hbs,
        signed_head: SignedHead {
            head: Fr::from(0u64),
            signature: key.sign(&Fr::from(0u64)),
        },
    })
    .unwrap_err();
    assert_eq!(
        err,
        EvalError::CapacityExceeded {
            kind: StatementKind::Uptime,
            records: 97,
            capacity: 96
        }
    );
}

#[test]
fn uptime_invalid_policy_is_typed_error() {
    let key = device_key();
    let bad = UptimePolicy {
        floor_slots: 0,
        ..uptime_policy()
    };
    let err = evaluate(&UptimeInput {
        device: key.public_key(),
        epoch: EPOCH,
        beacon: BEACON,
        policy: bad,
        heartbeats: &[],
        signed_head: SignedHead {
            head: Fr::from(0u64),
            signature: key.sign(&Fr::from(0u64)),
        },
    })
    .unwrap_err();
    assert_eq!(err, EvalError::Policy(crate::PolicyError::ZeroFloor));
}

#[test]
fn uptime_padding_changes_nothing() {
    let hbs = honest(0..30);
    let mut slots = pad(StatementKind::Uptime, &hbs, &Heartbeat::PADDING).unwrap();
    // Garbage in a disabled slot is ignored.
    slots[90].record = honest([5]).remove(0);
    let unpadded = unpad(StatementKind::Uptime, &slots).unwrap();
    assert_eq!(run(&unpadded), run(&hbs));
}
