//! The coverage circuit against the native reference
//! (`depin_statements::coverage::evaluate`) and the R1CS circuit, with the
//! mock prover: the same public inputs for random honest and corrupted
//! epochs (`depin_statements::sample::coverage::random_epoch`, shared with
//! the R1CS tests), each per-report rule excluding exactly its report,
//! nothing paid for a broken claim, the reward's minimum, cap and overflow,
//! the public cell, padding, invalid policies, and every other public input
//! refused.

mod common;

use ark_ff::BigInteger;
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::field::Fr as NativeFr;
use depin_crypto::geo::MAX_COORD;
use depin_halo2::coverage::CoverageCircuit;
use depin_halo2::field::to_halo2;
use depin_halo2::layout::mock_check;
use depin_halo2::statement::{StatementCircuit, StatementError};
use depin_statements::coverage::evaluate;
use depin_statements::records::{beacon_id, Location, SignedWitnessReport};
use depin_statements::sample::coverage::{
    east, honest_epoch, random_epoch, sample_key, sample_policy, sign_report, witness_key,
    CoverageEpoch, SAMPLE_BEACON, SAMPLE_EPOCH, SAMPLE_HOME, SAMPLE_RSSI_DBM as RSSI,
};
use depin_statements::{
    CoveragePolicy, EvalError, Evaluation, PolicyError, PublicInputs, RejectReason, Verdict,
};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Rows per column: up to about 330,000 advice cells (capacity 4) in
/// three columns.
const K: u32 = 17;
const SMALL_CAPACITY: usize = 4;

/// The sample policy paying from one witness on (10 each).
fn min_one() -> CoveragePolicy {
    CoveragePolicy {
        min_witnesses: 1,
        ..sample_policy()
    }
}

/// The sample device's claim at home under `policy`, with `reports`
/// made by `make`.
fn epoch_with(
    policy: CoveragePolicy,
    make: impl FnOnce(&CoverageEpoch) -> Vec<SignedWitnessReport>,
) -> CoverageEpoch {
    let mut e = CoverageEpoch::claimed(
        &sample_key(),
        SAMPLE_EPOCH,
        SAMPLE_BEACON,
        policy,
        SAMPLE_HOME,
    );
    e.reports = make(&e);
    e
}

fn halo2_public(public: &PublicInputs) -> Vec<Fr> {
    public.to_field_elements().iter().map(to_halo2).collect()
}

/// Builds the circuit at `capacity` and checks it against the reference:
/// the same public inputs, satisfied with them, and, when `tamper`, refused
/// with the reward (header +- 2^72) or any other public input changed.
fn check(e: &CoverageEpoch, capacity: usize, tamper: bool) -> Evaluation {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = CoverageCircuit::with_capacity(&input, capacity).expect("circuit");
    let expected = halo2_public(&eval.public);
    assert_eq!(circuit.public_inputs(), expected);
    assert_eq!(circuit.expected(), &eval.public);
    common::accepts_exactly(&circuit, K, &expected, &eval.verdicts, tamper);
    eval
}

/// The circuit of `e` refuses the reference's public inputs with the
/// reward replaced by `reward`.
fn refuses_reward(e: &CoverageEpoch, capacity: usize, reward: u64) {
    let circuit = CoverageCircuit::with_capacity(&e.as_input(), capacity).expect("circuit");
    assert_ne!(circuit.expected().reward, reward);
    let other = PublicInputs {
        reward,
        ..*circuit.expected()
    };
    assert!(
        mock_check(&circuit, K, halo2_public(&other))
            .expect("layout")
            .is_err(),
        "reward {reward} accepted"
    );
}

/// The same public inputs as the R1CS circuit of the same epoch: both
/// backends prove the same reward, nullifier and cell.
fn same_as_r1cs(e: &CoverageEpoch, capacity: usize) {
    let r1cs =
        depin_statements_r1cs::coverage::CoverageCircuit::with_capacity(&e.as_input(), capacity)
            .expect("r1cs circuit");
    let halo2 = CoverageCircuit::with_capacity(&e.as_input(), capacity).expect("halo2 circuit");
    common::same_public(&halo2, &r1cs);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random honest and corrupted epochs (every rule, every claim fault,
    /// extreme policies): the circuit accepts exactly the reference's
    /// public inputs, which are the R1CS circuit's.
    #[test]
    fn coverage_circuit_matches_reference(seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let e = random_epoch(&mut rng, SMALL_CAPACITY);
        check(&e, SMALL_CAPACITY, seed % 4 == 0);
        same_as_r1cs(&e, SMALL_CAPACITY);
    }
}

/// One honest report (witness 0, 1 km east), then the reports `make`
/// builds, each of which the reference rejects with `reason`; the circuit
/// agrees (it pays 10 and refuses the reward of counting them all).
fn assert_excluded(
    make: impl FnOnce(&CoverageEpoch) -> Vec<SignedWitnessReport>,
    reason: RejectReason,
) {
    let e = epoch_with(min_one(), |e| {
        let mut reports = vec![e.report(&witness_key(0), east(1000), RSSI)];
        reports.extend(make(e));
        reports
    });
    let n = e.reports.len();
    let eval = check(&e, n, false);
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == 0 {
            Verdict::Accepted
        } else {
            Verdict::Rejected(reason)
        };
        assert_eq!(*v, want, "report {i}");
    }
    assert_eq!(eval.reward, 10);
    refuses_reward(&e, n, 10 * n as u64);
}

/// A report by witness `i` (`10 + i`, distinct from the honest one) at
/// `location` with `rssi`.
fn by(e: &CoverageEpoch, i: u32, location: Location, rssi: i32) -> SignedWitnessReport {
    e.report(&witness_key(10 + i), location, rssi)
}

#[test]
fn coverage_circuit_pays_an_honest_epoch() {
    let e = honest_epoch(4);
    assert_eq!(check(&e, SMALL_CAPACITY, true).reward, 40);
    same_as_r1cs(&e, SMALL_CAPACITY);
    for n in 0..3 {
        assert_eq!(check(&honest_epoch(n), 3, false).reward, 0);
    }
    assert_eq!(check(&honest_epoch(3), 3, false).reward, 30);
}

#[test]
fn coverage_circuit_excludes_report_out_of_epoch() {
    assert_excluded(
        |e| {
            let mut r = by(e, 0, east(1600), RSSI).report;
            r.epoch = SAMPLE_EPOCH + 1;
            vec![sign_report(&witness_key(10), r)]
        },
        RejectReason::OutOfEpoch,
    );
}

#[test]
fn coverage_circuit_excludes_bad_witness_signature() {
    assert_excluded(
        |e| {
            // Moved after signing.
            let mut moved = by(e, 0, east(1600), RSSI);
            moved.report.location = east(1700);
            // S + l: the same S modulo l, refused as non-canonical.
            let mut unreduced = by(e, 1, east(1600), RSSI);
            assert!(!unreduced.signature.s.add_with_carry(&SUBORDER));
            // Signed by another key.
            let mut other = by(e, 2, east(1600), RSSI);
            other.signature = witness_key(99).sign(&other.report.message());
            // A witness key off the curve.
            let mut off = by(e, 3, east(1600), RSSI).report;
            off.witness.0.y += NativeFr::from(1u64);
            vec![moved, unreduced, other, sign_report(&witness_key(13), off)]
        },
        RejectReason::BadSignature,
    );
}

#[test]
fn coverage_circuit_excludes_self_witness() {
    assert_excluded(
        |e| vec![e.report(&sample_key(), east(1600), RSSI)],
        RejectReason::SelfWitness,
    );
}

#[test]
fn coverage_circuit_excludes_wrong_beacon() {
    assert_excluded(
        |e| {
            let mut r = by(e, 0, east(1600), RSSI).report;
            r.beacon_id = beacon_id(e.beacon + NativeFr::from(1u64), e.device_id());
            vec![sign_report(&witness_key(10), r)]
        },
        RejectReason::WrongBeacon,
    );
}

#[test]
fn coverage_circuit_excludes_witness_location_out_of_range() {
    assert_excluded(
        |e| {
            vec![
                by(e, 0, Location { x: 1 << 31, y: 0 }, RSSI),
                by(
                    e,
                    1,
                    Location {
                        x: SAMPLE_HOME.x,
                        y: u32::MAX,
                    },
                    RSSI,
                ),
            ]
        },
        RejectReason::LocationOutOfRange,
    );
}

#[test]
fn coverage_circuit_excludes_rssi_out_of_range() {
    assert_excluded(
        |e| {
            [i32::MIN, -(1 << 15) - 1, 1 << 15, i32::MAX]
                .into_iter()
                .zip(0..)
                .map(|(rssi, i)| by(e, i, east(1600), rssi))
                .collect()
        },
        RejectReason::RssiOutOfRange,
    );
}

#[test]
fn coverage_circuit_excludes_too_close() {
    // Strictly farther than 300 m is required; 301 m counts.
    assert_excluded(
        |e| {
            [0, 1, 300]
                .into_iter()
                .zip(0..)
                .map(|(m, i)| by(e, i, east(m), RSSI))
                .collect()
        },
        RejectReason::TooClose,
    );
    let e = epoch_with(min_one(), |e| vec![by(e, 0, east(301), RSSI)]);
    assert_eq!(check(&e, 1, false).reward, 10);
}

#[test]
fn coverage_circuit_excludes_too_far() {
    // Strictly closer than 20 km is required; 19,999 m counts.
    assert_excluded(
        |e| vec![by(e, 0, east(20_000), 27 - 199)],
        RejectReason::TooFar,
    );
    let e = epoch_with(min_one(), |e| vec![by(e, 0, east(19_999), 27 - 199)]);
    assert_eq!(check(&e, 1, false).reward, 10);
}

#[test]
fn coverage_circuit_excludes_signal_too_strong() {
    assert_excluded(
        |e| {
            vec![
                // 77 dB of loss is possible only within about 184 m.
                by(e, 0, east(5000), 27 - 77),
                // Stronger than transmitted.
                by(e, 1, east(5000), 28),
                // The RSSI domain's top end.
                by(e, 2, east(1600), (1 << 15) - 1),
            ]
        },
        RejectReason::SignalTooStrong,
    );
}

#[test]
fn coverage_circuit_excludes_signal_too_weak() {
    assert_excluded(
        |e| {
            vec![
                by(e, 0, east(5000), 27 - 200),
                // The RSSI domain's bottom end.
                by(e, 1, east(1600), -(1 << 15)),
            ]
        },
        RejectReason::SignalTooWeak,
    );
}

#[test]
fn coverage_circuit_excludes_duplicate_witness() {
    // Witness 1 twice, then witness 0 again: both repeats are duplicates.
    let e = epoch_with(min_one(), |e| {
        vec![
            e.report(&witness_key(0), east(1000), RSSI),
            e.report(&witness_key(1), east(1200), RSSI),
            e.report(&witness_key(1), east(2500), RSSI),
            e.report(&witness_key(0), east(2600), RSSI),
        ]
    });
    let eval = check(&e, 4, false);
    let dup = Verdict::Rejected(RejectReason::Duplicate);
    assert_eq!(
        eval.verdicts,
        [Verdict::Accepted, Verdict::Accepted, dup, dup]
    );
    assert_eq!(eval.reward, 20);
    refuses_reward(&e, 4, 40);
}

#[test]
fn coverage_circuit_counts_duplicate_of_rejected_report() {
    let e = epoch_with(min_one(), |e| {
        vec![
            e.report(&witness_key(1), east(100), RSSI),
            e.report(&witness_key(1), east(2500), RSSI),
        ]
    });
    let eval = check(&e, 2, false);
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::TooClose), Verdict::Accepted]
    );
    assert_eq!(eval.reward, 10);
    refuses_reward(&e, 2, 0);
}

/// Two honest reports, the claim broken by `f`: every report is rejected
/// with `reason`, nothing is paid, and the circuit refuses paying 20.
fn assert_claim_rejected(f: impl FnOnce(&mut CoverageEpoch), reason: RejectReason) {
    let mut e = epoch_with(min_one(), |e| {
        vec![
            e.report(&witness_key(0), east(1000), RSSI),
            e.report(&witness_key(1), east(1200), RSSI),
        ]
    });
    f(&mut e);
    let eval = check(&e, 2, false);
    assert_eq!(eval.verdicts, [Verdict::Rejected(reason); 2]);
    assert_eq!(eval.reward, 0);
    refuses_reward(&e, 2, 20);
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_of_wrong_device() {
    assert_claim_rejected(
        |e| {
            e.claim.device_id = NativeFr::from(1u64);
            e.resign_claim(&sample_key());
        },
        RejectReason::WrongDevice,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_out_of_epoch() {
    assert_claim_rejected(
        |e| {
            e.claim.epoch = SAMPLE_EPOCH - 1;
            e.resign_claim(&sample_key());
        },
        RejectReason::OutOfEpoch,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_with_wrong_beacon() {
    assert_claim_rejected(
        |e| {
            e.claim.beacon_id = beacon_id(e.beacon + NativeFr::from(1u64), e.device_id());
            e.resign_claim(&sample_key());
        },
        RejectReason::WrongBeacon,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_bad_claim_signature() {
    // Moved after signing.
    assert_claim_rejected(|e| e.claim.location = east(50), RejectReason::BadSignature);
    // Signed by another key.
    assert_claim_rejected(
        |e| e.resign_claim(&witness_key(5)),
        RejectReason::BadSignature,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_location_out_of_range() {
    for location in [
        Location { x: 0, y: 1 << 31 },
        Location {
            x: u32::MAX,
            y: SAMPLE_HOME.y,
        },
    ] {
        assert_claim_rejected(
            |e| {
                e.claim.location = location;
                e.resign_claim(&sample_key());
            },
            RejectReason::LocationOutOfRange,
        );
    }
}

#[test]
fn coverage_circuit_reward_minimum_cap_and_overflow() {
    // Three witnesses: 30 from a minimum of 3, nothing from 4.
    let mut e = honest_epoch(3);
    assert_eq!(check(&e, 3, false).reward, 30);
    e.policy.min_witnesses = 4;
    assert_eq!(check(&e, 3, false).reward, 0);
    refuses_reward(&e, 3, 30);
    e.policy.min_witnesses = 3;
    // The cap, below and at the linear reward.
    e.policy.reward_cap = 25;
    assert_eq!(check(&e, 3, false).reward, 25);
    refuses_reward(&e, 3, 30);
    e.policy.reward_cap = 30;
    assert_eq!(check(&e, 3, false).reward, 30);
    // The product passes 64 bits: the cap applies.
    e.policy.reward_per_witness = u64::MAX;
    e.policy.reward_cap = u64::MAX;
    assert_eq!(check(&e, 3, false).reward, u64::MAX);
    refuses_reward(&e, 3, 0);
    e.policy.reward_per_witness = u64::MAX / 5;
    assert_eq!(check(&e, 3, false).reward, u64::MAX / 5 * 3);
    refuses_reward(&e, 3, u64::MAX);
    // An empty epoch, also in a circuit without slots.
    assert_eq!(check(&honest_epoch(0), SMALL_CAPACITY, false).reward, 0);
    check(&honest_epoch(0), 0, true);
}

#[test]
fn coverage_circuit_cell_is_coarse_location() {
    let mut e = honest_epoch(0);
    for bits in [8, 12, 19, 31] {
        for location in [
            SAMPLE_HOME,
            Location { x: MAX_COORD, y: 0 },
            // Out of range (the claim is rejected), the cell still public.
            Location {
                x: u32::MAX,
                y: (1 << 31) + 12345,
            },
            Location {
                x: 0x1234_5678,
                y: 0x0765_4321,
            },
        ] {
            e.policy.cell_bits = bits;
            e.claim.location = location;
            e.resign_claim(&sample_key());
            let eval = check(&e, 0, bits == 19);
            assert_eq!(eval.public.cell, Some(location.cell(bits)));
        }
    }
}

#[test]
fn coverage_circuit_padding_must_be_a_suffix_and_is_ignored() {
    let e = honest_epoch(3);
    let mut circuit = CoverageCircuit::with_capacity(&e.as_input(), 4).expect("circuit");
    let public = circuit.public_inputs();
    // A valid report in the disabled slot never counts.
    circuit.slots_mut()[3].record = e.report(&witness_key(3), east(2000), RSSI);
    assert_eq!(
        mock_check(&circuit, K, public.clone()).expect("layout"),
        Ok(())
    );
    let more = PublicInputs {
        reward: 40,
        ..*circuit.expected()
    };
    assert!(mock_check(&circuit, K, halo2_public(&more))
        .expect("layout")
        .is_err());
    // An enabled slot after a disabled one is refused, whatever it pays.
    let mut circuit = CoverageCircuit::with_capacity(&e.as_input(), 4).expect("circuit");
    circuit.slots_mut()[1].enabled = false;
    for reward in [0, 20, 30] {
        let other = PublicInputs {
            reward,
            ..*circuit.expected()
        };
        assert!(
            mock_check(&circuit, K, halo2_public(&other))
                .expect("layout")
                .is_err(),
            "{reward}"
        );
    }
}

#[test]
fn coverage_circuit_refuses_invalid_policy() {
    let e = honest_epoch(0);
    let circuit = CoverageCircuit::with_capacity(&e.as_input(), 0).expect("circuit");
    let p = sample_policy();
    let bad = [
        CoveragePolicy {
            min_witnesses: 0,
            ..p
        },
        CoveragePolicy {
            min_witnesses: 17,
            ..p
        },
        CoveragePolicy {
            reward_per_witness: 0,
            ..p
        },
        CoveragePolicy { reward_cap: 0, ..p },
        CoveragePolicy {
            min_distance_m: 20_000,
            ..p
        },
        CoveragePolicy {
            min_distance_m: 1 << 31,
            max_distance_m: (1 << 31) + 1,
            ..p
        },
        CoveragePolicy { eirp_dbm: 101, ..p },
        CoveragePolicy {
            eirp_dbm: -101,
            ..p
        },
        CoveragePolicy { k_q32: 0, ..p },
        CoveragePolicy { cell_bits: 7, ..p },
        CoveragePolicy { cell_bits: 32, ..p },
    ];
    for policy in bad {
        assert!(policy.validate().is_err());
        let mut c = circuit.clone();
        *c.policy_mut() = policy;
        let public = PublicInputs {
            policy_hash: policy.hash(),
            cell: Some(e.claim.location.cell(policy.cell_bits)),
            ..*c.expected()
        };
        assert!(
            mock_check(&c, K, halo2_public(&public))
                .expect("layout")
                .is_err(),
            "{policy:?}"
        );
    }
    // The extremes of a valid policy are satisfiable.
    let mut e = epoch_with(min_one(), |e| {
        vec![e.report(&witness_key(0), east(1000), RSSI)]
    });
    e.policy.cell_bits = 31;
    e.policy.eirp_dbm = -100;
    e.policy.min_witnesses = 16;
    e.policy.min_distance_m = MAX_COORD - 1;
    e.policy.max_distance_m = MAX_COORD;
    check(&e, 1, false);
    e.policy.cell_bits = 8;
    e.policy.eirp_dbm = 100;
    e.policy.min_witnesses = 1;
    e.policy.k_q32 = u32::MAX;
    e.policy.min_distance_m = 0;
    e.policy.max_distance_m = 1;
    check(&e, 1, false);
}

#[test]
fn coverage_circuit_refuses_what_the_reference_refuses() {
    let mut e = honest_epoch(4);
    assert!(matches!(
        CoverageCircuit::with_capacity(&e.as_input(), 3),
        Err(StatementError::Capacity {
            records: 4,
            capacity: 3
        })
    ));
    e.reports = vec![e.reports[0]; 17];
    assert!(matches!(
        CoverageCircuit::new(&e.as_input()),
        Err(StatementError::Eval(EvalError::CapacityExceeded { .. }))
    ));
    let mut e = honest_epoch(1);
    e.policy.cell_bits = 7;
    assert!(matches!(
        CoverageCircuit::new(&e.as_input()),
        Err(StatementError::Eval(EvalError::Policy(
            PolicyError::CellBitsOutOfRange { bits: 7 }
        )))
    ));
}

/// The circuit's size at the statement capacity (`cargo test -p depin-halo2
/// --test coverage -- --nocapture cells` prints it for docs/halo2.md).
#[test]
fn coverage_cells_at_capacity() {
    let sample = CoverageCircuit::sample().expect("sample");
    assert_eq!(sample.capacity(), depin_statements::COVERAGE_CAPACITY);
    assert_eq!(sample.expected().reward, 160);
    let cells = depin_halo2::layout::advice_cells(&sample).expect("layout");
    let small = depin_halo2::layout::advice_cells(
        &CoverageCircuit::with_capacity(&honest_epoch(4).as_input(), SMALL_CAPACITY)
            .expect("circuit"),
    )
    .expect("layout");
    eprintln!("coverage at capacity 16: {cells} advice cells ({small} at capacity 4)");
    assert!(cells > small);
}
