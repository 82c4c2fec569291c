use super::*;
use crate::testing::{delta, R1cs};
use ark_ff::BigInteger;
use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::geo::MAX_COORD;
use depin_statements::records::beacon_id;
use depin_statements::sample::coverage::{
    east, honest_epoch as honest, random_epoch, sample_key as device_key, sample_policy as policy,
    sign_report as sign, witness_key as key, CoverageEpoch as Epoch, SAMPLE_EPOCH, SAMPLE_HOME,
    SAMPLE_RSSI_DBM,
};
use depin_statements::{Evaluation, RejectReason, Verdict};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

const EPOCH: u32 = SAMPLE_EPOCH;
const HOME: Location = SAMPLE_HOME;
const RSSI: i32 = SAMPLE_RSSI_DBM;
/// Small capacity of the tests.
const CAP: usize = 4;

fn reward_header(public: &PublicInputs, reward: u64) -> Fr {
    PublicInputs { reward, ..*public }.header()
}

/// Synthesizes the circuit of `e` at `capacity` and checks it against the
/// reference: satisfied with exactly the reference's public inputs,
/// unsatisfied with the reward, the nullifier or the cell changed.
fn check(e: &Epoch, capacity: usize) -> (Evaluation, R1cs) {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = CoverageCircuit::with_capacity(&input, capacity).expect("circuit");
    let public = eval.public.to_field_elements();
    assert_eq!(circuit.public_inputs(), public);
    assert_eq!(circuit.expected(), &eval.public);
    let mut r1cs = R1cs::synthesize(circuit).expect("synthesis");
    assert_eq!(r1cs.public_inputs(), &public[..]);
    assert!(r1cs.is_satisfied(), "unsatisfied on {e:?}");
    let shift = range::pow2(72);
    let mut tweaks = Vec::new();
    for (i, d) in [
        (0, shift),
        (0, -shift),
        (4, Fr::ONE),
        (5, Fr::ONE),
        (5, -Fr::ONE),
    ] {
        let mut t = public.clone();
        t[i] += d;
        tweaks.push(t);
    }
    for t in tweaks {
        assert!(!r1cs.is_satisfied_with_public(&t), "accepts {t:?}");
    }
    (eval, r1cs)
}

/// Checks `e` and asserts that it pays `reward` while the honest
/// epoch's reward `honest` is refused.
fn assert_pays(e: &Epoch, reward: u64, honest: u64) -> Evaluation {
    assert_ne!(reward, honest);
    let (eval, mut r1cs) = check(e, CAP);
    assert_eq!(eval.reward, reward);
    let mut other = eval.public.to_field_elements();
    other[0] = reward_header(&eval.public, honest);
    assert!(!r1cs.is_satisfied_with_public(&other));
    eval
}

/// Replaces report 2 of 4 honest ones by `replacement` and checks that
/// the reference rejects it alone, with `reason`, and the circuit agrees:
/// 3 witnesses pay 30 instead of 40.
fn assert_excluded(make: impl Fn(&Epoch) -> SignedWitnessReport, reason: RejectReason) {
    let mut e = honest(4);
    e.reports[2] = make(&e);
    let eval = assert_pays(&e, 30, 40);
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == 2 {
            Verdict::Rejected(reason)
        } else {
            Verdict::Accepted
        };
        assert_eq!(*v, want, "report {i}");
    }
}

/// Breaks the claim with `f` and checks that every report is rejected
/// with `reason`, the reward is 0 and the circuit agrees.
fn assert_claim_rejected(f: impl Fn(&mut Epoch), reason: RejectReason) {
    let mut e = honest(4);
    f(&mut e);
    let eval = assert_pays(&e, 0, 40);
    assert!(eval
        .verdicts
        .iter()
        .all(|v| *v == Verdict::Rejected(reason)));
}

#[test]
fn coverage_circuit_pays_honest_epoch() {
    let (eval, _) = check(&honest(4), CAP);
    assert_eq!(eval.reward, 40);
    assert_eq!(eval.accepted(), 4);
    for n in 0..CAP as u32 {
        let (eval, _) = check(&honest(n), CAP);
        assert_eq!(eval.reward, if n < 3 { 0 } else { 10 * u64::from(n) });
    }
}

#[test]
fn coverage_circuit_excludes_report_out_of_epoch() {
    assert_excluded(
        |e| {
            let mut r = e.report(&key(2), east(1600), RSSI).report;
            r.epoch = EPOCH + 1;
            sign(&key(2), r)
        },
        RejectReason::OutOfEpoch,
    );
}

#[test]
fn coverage_circuit_excludes_bad_witness_signature() {
    // Moved after signing.
    assert_excluded(
        |e| {
            let mut r = e.report(&key(2), east(1600), RSSI);
            r.report.location = east(1700);
            r
        },
        RejectReason::BadSignature,
    );
    // S + l: the same S modulo l, refused as non-canonical.
    assert_excluded(
        |e| {
            let mut r = e.report(&key(2), east(1600), RSSI);
            assert!(!r.signature.s.add_with_carry(&SUBORDER));
            r
        },
        RejectReason::BadSignature,
    );
    // Signed by another key.
    assert_excluded(
        |e| {
            let mut r = e.report(&key(2), east(1600), RSSI);
            r.signature = key(9).sign(&r.report.message());
            r
        },
        RejectReason::BadSignature,
    );
    // A witness key off the curve.
    assert_excluded(
        |e| {
            let mut r = e.report(&key(2), east(1600), RSSI).report;
            r.witness.0.y += Fr::ONE;
            sign(&key(2), r)
        },
        RejectReason::BadSignature,
    );
}

#[test]
fn coverage_circuit_excludes_self_witness() {
    assert_excluded(
        |e| e.report(&device_key(), east(1600), RSSI),
        RejectReason::SelfWitness,
    );
}

#[test]
fn coverage_circuit_excludes_wrong_beacon() {
    assert_excluded(
        |e| {
            let mut r = e.report(&key(2), east(1600), RSSI).report;
            r.beacon_id = beacon_id(e.beacon + Fr::ONE, e.device_id());
            sign(&key(2), r)
        },
        RejectReason::WrongBeacon,
    );
}

#[test]
fn coverage_circuit_excludes_witness_location_out_of_range() {
    for far in [
        Location { x: 1 << 31, y: 0 },
        Location {
            x: HOME.x,
            y: u32::MAX,
        },
    ] {
        assert_excluded(
            |e| e.report(&key(2), far, RSSI),
            RejectReason::LocationOutOfRange,
        );
    }
}

#[test]
fn coverage_circuit_excludes_rssi_out_of_range() {
    for rssi in [i32::MIN, -(1 << 15) - 1, 1 << 15, i32::MAX] {
        assert_excluded(
            |e| e.report(&key(2), east(1600), rssi),
            RejectReason::RssiOutOfRange,
        );
    }
    // The domain's ends are in it (and then too weak / too strong).
    assert_excluded(
        |e| e.report(&key(2), east(1600), -(1 << 15)),
        RejectReason::SignalTooWeak,
    );
    assert_excluded(
        |e| e.report(&key(2), east(1600), (1 << 15) - 1),
        RejectReason::SignalTooStrong,
    );
}

#[test]
fn coverage_circuit_excludes_too_close() {
    // Strictly farther than 300 m is required.
    for m in [0, 1, 300] {
        assert_excluded(|e| e.report(&key(2), east(m), RSSI), RejectReason::TooClose);
    }
    let mut e = honest(4);
    e.reports[2] = e.report(&key(2), east(301), RSSI);
    assert_eq!(check(&e, CAP).0.reward, 40);
}

#[test]
fn coverage_circuit_excludes_too_far() {
    // Strictly closer than 20 km is required.
    assert_excluded(
        |e| e.report(&key(2), east(20_000), 27 - 199),
        RejectReason::TooFar,
    );
    let mut e = honest(4);
    e.reports[2] = e.report(&key(2), east(19_999), 27 - 199);
    assert_eq!(check(&e, CAP).0.reward, 40);
}

#[test]
fn coverage_circuit_excludes_signal_too_strong() {
    // 77 dB of loss is possible only within about 184 m at 915 MHz.
    assert_excluded(
        |e| e.report(&key(2), east(5000), 27 - 77),
        RejectReason::SignalTooStrong,
    );
    // Stronger than transmitted.
    assert_excluded(
        |e| e.report(&key(2), east(5000), 28),
        RejectReason::SignalTooStrong,
    );
}

#[test]
fn coverage_circuit_excludes_signal_too_weak() {
    assert_excluded(
        |e| e.report(&key(2), east(5000), 27 - 200),
        RejectReason::SignalTooWeak,
    );
}

#[test]
fn coverage_circuit_excludes_duplicate_witness() {
    let mut e = honest(4);
    e.reports[3] = e.report(&key(1), east(2500), RSSI);
    let eval = assert_pays(&e, 30, 40);
    assert_eq!(eval.verdicts[3], Verdict::Rejected(RejectReason::Duplicate));
    // A third report of the same witness is a duplicate too.
    let mut e = honest(4);
    e.reports[2] = e.report(&key(0), east(2500), RSSI);
    e.reports[3] = e.report(&key(0), east(2600), RSSI);
    let eval = assert_pays(&e, 0, 40);
    assert_eq!(eval.accepted(), 2);
}

#[test]
fn coverage_circuit_counts_duplicate_of_rejected_report() {
    let mut e = honest(4);
    e.reports[1] = e.report(&key(1), east(100), RSSI); // too close
    e.reports[3] = e.report(&key(1), east(2500), RSSI);
    let eval = assert_pays(&e, 30, 40);
    assert_eq!(eval.verdicts[1], Verdict::Rejected(RejectReason::TooClose));
    assert_eq!(eval.verdicts[3], Verdict::Accepted);
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_of_wrong_device() {
    assert_claim_rejected(
        |e| {
            e.claim.device_id = Fr::from(1u64);
            e.resign_claim(&device_key());
        },
        RejectReason::WrongDevice,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_out_of_epoch() {
    assert_claim_rejected(
        |e| {
            e.claim.epoch = EPOCH - 1;
            e.resign_claim(&device_key());
        },
        RejectReason::OutOfEpoch,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_with_wrong_beacon() {
    assert_claim_rejected(
        |e| {
            e.claim.beacon_id = beacon_id(e.beacon + Fr::ONE, e.device_id());
            e.resign_claim(&device_key());
        },
        RejectReason::WrongBeacon,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_bad_claim_signature() {
    // The prover moves the device after it signed its claim.
    assert_claim_rejected(|e| e.claim.location = east(50), RejectReason::BadSignature);
    // Signed by another key.
    assert_claim_rejected(
        |e| e.claim_signature = key(5).sign(&e.claim.message()),
        RejectReason::BadSignature,
    );
}

#[test]
fn coverage_circuit_pays_nothing_for_claim_location_out_of_range() {
    for location in [
        Location { x: 0, y: 1 << 31 },
        Location {
            x: u32::MAX,
            y: HOME.y,
        },
    ] {
        assert_claim_rejected(
            |e| {
                e.claim.location = location;
                e.resign_claim(&device_key());
            },
            RejectReason::LocationOutOfRange,
        );
    }
}

#[test]
fn coverage_circuit_pays_nothing_below_min_witnesses() {
    let mut e = honest(4);
    e.policy.min_witnesses = 4;
    e.reports[0] = e.report(&key(0), east(100), RSSI);
    assert_pays(&e, 0, 30);
    e.policy.min_witnesses = 3;
    assert_pays(&e, 30, 0);
}

#[test]
fn coverage_circuit_caps_reward() {
    let mut e = honest(4);
    e.policy.reward_cap = 25;
    assert_pays(&e, 25, 40);
    e.policy.reward_cap = 40;
    assert_pays(&e, 40, 39);
    // The product passes 64 bits: the cap applies.
    e.policy.reward_per_witness = u64::MAX;
    e.policy.reward_cap = u64::MAX;
    assert_pays(&e, u64::MAX, 0);
    e.policy.reward_per_witness = u64::MAX / 5;
    assert_pays(&e, u64::MAX / 5 * 4, u64::MAX);
}

#[test]
fn coverage_circuit_cell_is_coarse_location() {
    // No report slot: only the claim, the policy and the cell.
    let mut e = honest(0);
    let mut template =
        R1cs::synthesize(CoverageCircuit::with_capacity(&e.as_input(), 0).unwrap()).unwrap();
    for bits in 8..=31 {
        for location in [
            HOME,
            Location { x: MAX_COORD, y: 0 },
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
            e.resign_claim(&device_key());
            let eval = check_with(&mut template, &e, 0);
            assert_eq!(eval.public.cell, Some(location.cell(bits)));
        }
    }
}

#[test]
fn coverage_circuit_ignores_disabled_slots() {
    let e = honest(3);
    let input = e.as_input();
    let mut circuit = CoverageCircuit::with_capacity(&input, CAP).unwrap();
    let public = circuit.public_inputs();
    // A valid report in the disabled slot never counts.
    circuit.slots[3].record = e.report(&key(3), east(2000), RSSI);
    let r1cs = R1cs::synthesize(circuit.clone()).unwrap();
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.public_inputs(), &public[..]);
    let mut more = public.clone();
    more[0] = reward_header(circuit.expected(), 40);
    circuit.public_override = Some(more);
    assert!(!R1cs::synthesize(circuit).unwrap().is_satisfied());
}

#[test]
fn coverage_circuit_refuses_padding_not_a_suffix() {
    let e = honest(4);
    let input = e.as_input();
    let mut circuit = CoverageCircuit::with_capacity(&input, CAP + 1).unwrap();
    circuit.slots[1].enabled = false;
    let mut public = circuit.expected().to_owned();
    for reward in [0, 30, 40] {
        public.reward = reward;
        let mut c = circuit.clone();
        c.public_override = Some(public.to_field_elements());
        assert!(!R1cs::synthesize(c).unwrap().is_satisfied(), "{reward}");
    }
}

#[test]
fn coverage_circuit_refuses_invalid_policy() {
    let e = honest(3);
    let input = e.as_input();
    let circuit = CoverageCircuit::with_capacity(&input, 3).unwrap();
    let p = policy();
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
        c.policy = policy;
        let mut public = *c.expected();
        public.policy_hash = policy.hash();
        public.cell = Some(e.claim.location.cell(policy.cell_bits));
        c.public_override = Some(public.to_field_elements());
        let r1cs = R1cs::synthesize(c).unwrap();
        assert!(!r1cs.is_satisfied(), "{policy:?}");
    }
    // The extremes of a valid policy are satisfiable.
    let mut e = e;
    e.policy.cell_bits = 31;
    e.policy.eirp_dbm = -100;
    e.policy.min_witnesses = 16;
    e.policy.min_distance_m = MAX_COORD - 1;
    e.policy.max_distance_m = MAX_COORD;
    check(&e, 3);
    e.policy.cell_bits = 8;
    e.policy.eirp_dbm = 100;
    e.policy.min_witnesses = 1;
    e.policy.k_q32 = u32::MAX;
    e.policy.min_distance_m = 0;
    e.policy.max_distance_m = 1;
    check(&e, 3);
}

#[test]
fn coverage_circuit_construction_errors() {
    let mut e = honest(4);
    assert!(matches!(
        CoverageCircuit::with_capacity(&e.as_input(), 3),
        Err(CircuitError::Capacity {
            records: 4,
            capacity: 3
        })
    ));
    e.reports = vec![e.reports[0]; 17];
    assert!(matches!(
        CoverageCircuit::new(&e.as_input()),
        Err(CircuitError::Eval(_))
    ));
    let mut e = honest(1);
    e.policy.cell_bits = 7;
    assert!(matches!(
        CoverageCircuit::new(&e.as_input()),
        Err(CircuitError::Eval(_))
    ));
}

/// The EdDSA gadget alone on `(pk, msg, sig)`, inputs allocated first.
struct VerifyOnly {
    pk: PublicKey,
    msg: Fr,
    sig: Signature,
}

/// Witnesses [`VerifyOnly`] allocates before the gadget.
const VERIFY_INPUTS: usize = 6;

impl ConstraintSynthesizer<Fr> for VerifyOnly {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let pk = PublicKeyVar::new_witness(cs.clone(), || Ok(self.pk))?;
        let msg = FpVar::new_witness(cs.clone(), || Ok(self.msg))?;
        let sig = SignatureVar::new_witness(cs.clone(), || Ok(self.sig))?;
        assert_eq!(cs.num_witness_variables(), VERIFY_INPUTS);
        let _ = eddsa::verify(&pk, &msg, &sig)?;
        Ok(())
    }
}

/// The witnesses the EdDSA gadget leaves free on its own, relative to
/// its first witness.
fn eddsa_free(pk: PublicKey, msg: Fr, sig: Signature) -> Vec<usize> {
    let mut r1cs = R1cs::synthesize(VerifyOnly { pk, msg, sig }).unwrap();
    assert!(r1cs.is_satisfied());
    let free = r1cs.free_witnesses(delta());
    assert!(free.iter().all(|&w| w >= VERIFY_INPUTS));
    free.iter().map(|w| w - VERIFY_INPUTS).collect()
}

/// The free witnesses of `circuit` must be exactly those of its EdDSA
/// verifications, each as the gadget leaves them on its own.
fn assert_only_eddsa_free(circuit: &CoverageCircuit) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    let mut ranges = Vec::new();
    circuit.clone().synthesize(cs, &mut ranges).unwrap();
    let mut calls = vec![(
        circuit.device,
        circuit.claim.message(),
        circuit.claim_signature,
    )];
    calls.extend(circuit.slots.iter().map(|s| {
        (
            s.record.report.witness,
            s.record.report.message(),
            s.record.signature,
        )
    }));
    assert_eq!(ranges.len(), calls.len());
    let mut expected = Vec::new();
    for (range, (pk, msg, sig)) in ranges.iter().zip(calls) {
        let free = eddsa_free(pk, msg, sig);
        assert!(free.iter().all(|o| range.start + o < range.end));
        expected.extend(free.iter().map(|o| range.start + o));
    }
    let mut r1cs = R1cs::synthesize(circuit.clone()).unwrap();
    assert!(r1cs.is_satisfied());
    assert!(r1cs.unused_witnesses().is_empty());
    let free = r1cs.free_witnesses(delta());
    println!(
        "{} free witnesses, all inside the EdDSA gadget, of {}",
        free.len(),
        r1cs.z.len() - r1cs.num_instance
    );
    assert_eq!(free, expected);
}

#[test]
fn coverage_circuit_constrains_every_witness() {
    // Honest, with a disabled slot.
    let e = honest(2);
    assert_only_eddsa_free(&CoverageCircuit::with_capacity(&e.as_input(), 3).unwrap());
    // Rejected reports: bad signature, out-of-range location and RSSI
    // (the stand-ins), a duplicate.
    let mut e = honest(4);
    e.reports[0].report.location = east(1700);
    e.reports[1] = e.report(
        &key(1),
        Location {
            x: u32::MAX,
            y: 1 << 31,
        },
        i32::MIN,
    );
    e.reports[3] = e.report(&key(2), east(2500), RSSI);
    let eval = evaluate(&e.as_input()).unwrap();
    assert_eq!(eval.accepted(), 1);
    assert_only_eddsa_free(&CoverageCircuit::with_capacity(&e.as_input(), 4).unwrap());
    // A rejected claim out of range.
    let mut e = honest(2);
    e.claim.location = Location {
        x: u32::MAX,
        y: u32::MAX,
    };
    e.resign_claim(&device_key());
    assert_only_eddsa_free(&CoverageCircuit::with_capacity(&e.as_input(), 2).unwrap());
}

#[test]
fn coverage_circuit_sample_at_full_capacity() {
    let circuit = CoverageCircuit::sample().unwrap();
    assert_eq!(circuit.capacity(), CAPACITY);
    assert_eq!(circuit.expected().reward, 160);
    let public = circuit.public_inputs();
    let r1cs = R1cs::synthesize(circuit.clone()).unwrap();
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.public_inputs(), &public[..]);
    println!("coverage circuit: {} constraints", r1cs.num_constraints());
    assert_eq!(r1cs.num_constraints(), COVERAGE_CONSTRAINTS);
    // Key generation synthesizes without values, to the same shape.
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone()).unwrap();
    assert_eq!(cs.num_constraints(), COVERAGE_CONSTRAINTS);
}

#[test]
fn coverage_circuit_cost_per_slot() {
    let count = |cap: usize| {
        let e = honest(0);
        R1cs::synthesize(CoverageCircuit::with_capacity(&e.as_input(), cap).unwrap())
            .unwrap()
            .num_constraints()
    };
    let (c0, c1, c2, c3) = (count(0), count(1), count(2), count(3));
    println!(
        "coverage: {c0} at capacity 0, slot 0 costs {}, slot 1 {}, slot 2 {}",
        c1 - c0,
        c2 - c1,
        c3 - c2
    );
    // Slot j >= 1 adds j factors, j - 1 products, a zero test and an
    // AND to the duplicate check, and the enabled-prefix constraint.
    assert_eq!(c3 - c2, c2 - c1 + 2);
    let slot = |j: usize| {
        if j == 0 {
            c1 - c0
        } else {
            c2 - c1 + 2 * (j - 1)
        }
    };
    assert_eq!(
        (0..CAPACITY).map(slot).sum::<usize>() + c0,
        COVERAGE_CONSTRAINTS
    );
}

// -----------------------------------------------------------------
// Random epochs (depin_statements::sample::coverage).

#[test]
fn random_epochs_break_every_rule() {
    // The generator reaches every verdict and both sides of the reward
    // function (checked natively, cheaply).
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut seen: BTreeMap<Option<RejectReason>, usize> = BTreeMap::new();
    let (mut paid, mut capped, mut below) = (0, 0, 0);
    for _ in 0..1000 {
        let e = random_epoch(&mut rng, CAP);
        let eval = evaluate(&e.as_input()).unwrap();
        for v in &eval.verdicts {
            *seen.entry(v.reason()).or_default() += 1;
        }
        let v = eval.accepted() as u32;
        if eval.reward > 0 {
            paid += 1;
            capped += usize::from(eval.reward == e.policy.reward_cap && v > 0);
        } else if v > 0 && v < e.policy.min_witnesses {
            below += 1;
        }
    }
    println!("verdicts {seen:?}; paid {paid}, capped {capped}, below min {below}");
    for reason in [
        None,
        Some(RejectReason::WrongDevice),
        Some(RejectReason::OutOfEpoch),
        Some(RejectReason::WrongBeacon),
        Some(RejectReason::BadSignature),
        Some(RejectReason::LocationOutOfRange),
        Some(RejectReason::SelfWitness),
        Some(RejectReason::RssiOutOfRange),
        Some(RejectReason::TooClose),
        Some(RejectReason::TooFar),
        Some(RejectReason::SignalTooStrong),
        Some(RejectReason::SignalTooWeak),
        Some(RejectReason::Duplicate),
    ] {
        assert!(seen.get(&reason).copied().unwrap_or(0) >= 10, "{reason:?}");
    }
    assert!(paid >= 100 && capped >= 20 && below >= 20);
}

/// The assignment `[1, instance..., witness...]` of `circuit`,
/// synthesized without building matrices (the structure does not depend
/// on the values, so it fits the matrices of any circuit of the same
/// capacity).
fn assignment(circuit: CoverageCircuit) -> Vec<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit.generate_constraints(cs.clone()).expect("synthesis");
    let inner = cs.borrow().expect("constraint system");
    let mut z = inner.instance_assignment().expect("instance").to_vec();
    z.extend_from_slice(inner.witness_assignment().expect("witness"));
    z
}

/// [`check`] against the matrices of `template` (built once by
/// [`R1cs::synthesize`] at the same capacity): the assignment of `e`'s
/// circuit satisfies them with exactly the reference's public inputs and
/// not with the reward, the nullifier or the cell changed.
fn check_with(template: &mut R1cs, e: &Epoch, capacity: usize) -> Evaluation {
    let input = e.as_input();
    let eval = evaluate(&input).expect("valid input");
    let circuit = CoverageCircuit::with_capacity(&input, capacity).expect("circuit");
    let public = eval.public.to_field_elements();
    assert_eq!(circuit.public_inputs(), public);
    let z = assignment(circuit);
    assert_eq!(z.len(), template.z.len());
    template.z = z;
    assert_eq!(template.public_inputs(), &public[..]);
    assert!(template.is_satisfied(), "unsatisfied on {e:?}");
    let shift = range::pow2(72);
    for (i, d) in [
        (0, shift),
        (0, -shift),
        (4, Fr::ONE),
        (5, Fr::ONE),
        (5, -Fr::ONE),
    ] {
        let mut t = public.clone();
        t[i] += d;
        assert!(
            !template.is_satisfied_with_public(&t),
            "accepts {t:?} on {e:?}"
        );
    }
    eval
}

#[test]
fn assignment_matches_full_synthesis() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..3 {
        let e = random_epoch(&mut rng, CAP);
        let c = CoverageCircuit::with_capacity(&e.as_input(), CAP).unwrap();
        assert_eq!(assignment(c.clone()), R1cs::synthesize(c).unwrap().z);
    }
}

/// Random epochs checked against the reference (about 0.13 s each in
/// the dev profile).
const CASES: u32 = 500;

#[test]
fn coverage_circuit_matches_reference() {
    let template = R1cs::synthesize(
        CoverageCircuit::with_capacity(&honest(0).as_input(), CAP).expect("circuit"),
    )
    .expect("synthesis");
    let template = std::cell::RefCell::new(template);
    let stats = std::cell::RefCell::new((0usize, 0usize, 0usize));
    let mut runner = TestRunner::new(ProptestConfig::with_cases(CASES));
    runner
        .run(&any::<u64>(), |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let e = random_epoch(&mut rng, CAP);
            let eval = check_with(&mut template.borrow_mut(), &e, CAP);
            let mut s = stats.borrow_mut();
            s.0 += usize::from(eval.reward > 0);
            s.1 += eval.accepted();
            s.2 += eval.verdicts.len() - eval.accepted();
            Ok(())
        })
        .expect("equivalence");
    let (paid, accepted, rejected) = stats.into_inner();
    println!("{CASES} epochs: {paid} paid, {accepted} reports accepted, {rejected} rejected");
    assert!(paid > 0 && accepted > 0 && rejected > 0);
}
