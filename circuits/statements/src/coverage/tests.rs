use super::*;
use crate::padding::{pad, unpad};
use crate::records::{Location, WitnessReport};
use crate::testutil::{coverage_policy, device_key, BEACON, EPOCH};
use depin_crypto::eddsa::PrivateKey;

const HOME: Location = Location {
    x: 1_000_000,
    y: 2_000_000,
};
/// Loss of 110 dB at 27 dBm EIRP: plausible up to about 8.2 km at 915 MHz.
const RSSI: i32 = 27 - 110;

fn witness_key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes([50 + i; 32])
}

fn report(key: &PrivateKey, location: Location, rssi_dbm: i32) -> SignedWitnessReport {
    let report = WitnessReport {
        witness: key.public_key(),
        location,
        rssi_dbm,
        beacon_id: beacon_id(BEACON, device_key().public_key().id()),
        epoch: EPOCH,
    };
    sign(key, report)
}

fn sign(key: &PrivateKey, report: WitnessReport) -> SignedWitnessReport {
    SignedWitnessReport {
        report,
        signature: key.sign(&report.message()),
    }
}

fn east(m: u32) -> Location {
    Location {
        x: HOME.x + m,
        y: HOME.y,
    }
}

/// `n` honest witnesses, 1 km to 4 km east.
fn honest(n: u8) -> Vec<SignedWitnessReport> {
    (0..n)
        .map(|i| report(&witness_key(i), east(1000 + 200 * u32::from(i)), RSSI))
        .collect()
}

fn claim_for(location: Location) -> CoverageClaim {
    let id = device_key().public_key().id();
    CoverageClaim {
        device_id: id,
        epoch: EPOCH,
        location,
        beacon_id: beacon_id(BEACON, id),
    }
}

fn input_with(claim: CoverageClaim, reports: &[SignedWitnessReport]) -> CoverageInput<'_> {
    let key = device_key();
    CoverageInput {
        device: key.public_key(),
        epoch: EPOCH,
        beacon: BEACON,
        policy: coverage_policy(),
        claim,
        claim_signature: key.sign(&claim.message()),
        reports,
    }
}

fn run(reports: &[SignedWitnessReport]) -> Evaluation {
    evaluate(&input_with(claim_for(HOME), reports)).unwrap()
}

fn assert_only_rejected(e: &Evaluation, index: usize, reason: RejectReason) {
    for (i, v) in e.verdicts.iter().enumerate() {
        if i == index {
            assert_eq!(*v, Verdict::Rejected(reason), "report {i}");
        } else {
            assert_eq!(*v, Verdict::Accepted, "report {i}");
        }
    }
}

/// Replaces report 3 of 6 honest ones and checks it alone is rejected:
/// 5 valid witnesses pay 50.
fn assert_rule(replacement: SignedWitnessReport, reason: RejectReason) {
    let mut rs = honest(6);
    rs[3] = replacement;
    let e = run(&rs);
    assert_only_rejected(&e, 3, reason);
    assert_eq!(e.reward, 50);
}

#[test]
fn coverage_honest_epoch_counts_every_witness() {
    let rs = honest(16);
    let e = run(&rs);
    assert_eq!(e.verdicts, alloc::vec![Verdict::Accepted; 16]);
    assert_eq!(e.reward, 160);
    let mut expected = PublicInputs::common(
        StatementKind::Coverage,
        EPOCH,
        device_key().public_key().id(),
        coverage_policy().hash(),
        BEACON,
        160,
    );
    expected.cell = Some(HOME.cell(12));
    assert_eq!(e.public, expected);
    assert_eq!(e.public.to_field_elements().len(), 6);
}

#[test]
fn coverage_cell_is_coarse_location() {
    let e = run(&honest(3));
    // 1_000_000 >> 12 = 244, 2_000_000 >> 12 = 488.
    assert_eq!(e.public.cell, Some((244u64 << 32) | 488));
    // Moving within the cell does not change it.
    let nearby = Location {
        x: HOME.x + 1,
        y: HOME.y + 1,
    };
    let e2 = evaluate(&input_with(claim_for(nearby), &honest(3))).unwrap();
    assert_eq!(e2.public.cell, e.public.cell);
}

#[test]
fn coverage_rejects_report_out_of_epoch() {
    let mut r = report(&witness_key(3), east(1600), RSSI).report;
    r.epoch = EPOCH + 1;
    assert_rule(sign(&witness_key(3), r), RejectReason::OutOfEpoch);
}

#[test]
fn coverage_rejects_bad_witness_signature() {
    let mut r = report(&witness_key(3), east(1600), RSSI);
    // The prover moved the witness after it signed.
    r.report.location = east(1700);
    assert_rule(r, RejectReason::BadSignature);
}

#[test]
fn coverage_rejects_self_witness() {
    assert_rule(
        report(&device_key(), east(1600), RSSI),
        RejectReason::SelfWitness,
    );
}

#[test]
fn coverage_rejects_wrong_beacon() {
    let mut r = report(&witness_key(3), east(1600), RSSI).report;
    r.beacon_id = beacon_id(BEACON + Fr::from(1u64), device_key().public_key().id());
    assert_rule(sign(&witness_key(3), r), RejectReason::WrongBeacon);
    // Another device's beacon for this epoch.
    let mut r = report(&witness_key(3), east(1600), RSSI).report;
    r.beacon_id = beacon_id(BEACON, Fr::from(5u64));
    assert_rule(sign(&witness_key(3), r), RejectReason::WrongBeacon);
}

#[test]
fn coverage_rejects_witness_location_out_of_range() {
    let far = Location { x: 1 << 31, y: 0 };
    assert_rule(
        report(&witness_key(3), far, RSSI),
        RejectReason::LocationOutOfRange,
    );
}

#[test]
fn coverage_rejects_rssi_out_of_range() {
    for rssi in [i32::MIN, -(1 << 15) - 1, 1 << 15, i32::MAX] {
        assert_rule(
            report(&witness_key(3), east(1600), rssi),
            RejectReason::RssiOutOfRange,
        );
    }
    // The domain's ends are in it (and then too weak / too strong).
    assert_rule(
        report(&witness_key(3), east(1600), -(1 << 15)),
        RejectReason::SignalTooWeak,
    );
    assert_rule(
        report(&witness_key(3), east(1600), (1 << 15) - 1),
        RejectReason::SignalTooStrong,
    );
}

#[test]
fn coverage_rejects_too_close() {
    // Strictly farther than 300 m is required.
    assert_rule(
        report(&witness_key(3), east(300), RSSI),
        RejectReason::TooClose,
    );
    let mut rs = honest(6);
    rs[3] = report(&witness_key(3), east(301), RSSI);
    assert_eq!(run(&rs).accepted(), 6);
}

#[test]
fn coverage_rejects_too_far() {
    // Strictly closer than 20 km is required (checked before the signal).
    assert_rule(
        report(&witness_key(3), east(20_000), 27 - 199),
        RejectReason::TooFar,
    );
}

#[test]
fn coverage_rejects_signal_too_strong() {
    // 77 dB of loss is possible only within about 184 m at 915 MHz.
    assert_rule(
        report(&witness_key(3), east(5000), 27 - 77),
        RejectReason::SignalTooStrong,
    );
    // Stronger than transmitted.
    assert_rule(
        report(&witness_key(3), east(5000), 28),
        RejectReason::SignalTooStrong,
    );
}

#[test]
fn coverage_rejects_signal_too_weak() {
    assert_rule(
        report(&witness_key(3), east(5000), 27 - 200),
        RejectReason::SignalTooWeak,
    );
}

#[test]
fn coverage_rejects_duplicate_witness() {
    let mut rs = honest(6);
    rs.push(report(&witness_key(2), east(2500), RSSI));
    let e = run(&rs);
    assert_only_rejected(&e, 6, RejectReason::Duplicate);
    assert_eq!(e.reward, 60);
}

#[test]
fn coverage_duplicate_of_rejected_report_is_accepted() {
    let mut rs = honest(6);
    rs[2] = report(&witness_key(2), east(100), RSSI); // too close
    rs.push(report(&witness_key(2), east(2500), RSSI));
    let e = run(&rs);
    assert_only_rejected(&e, 2, RejectReason::TooClose);
    assert_eq!(e.reward, 60);
}

#[test]
fn coverage_zero_below_min_witnesses() {
    assert_eq!(run(&honest(2)).reward, 0);
    assert_eq!(run(&honest(3)).reward, 30);
    assert_eq!(run(&[]).reward, 0);
}

#[test]
fn coverage_reward_capped() {
    let rs = honest(16);
    let mut input = input_with(claim_for(HOME), &rs);
    input.policy.reward_cap = 125;
    assert_eq!(evaluate(&input).unwrap().reward, 125);
}

fn assert_claim_rejects_all(input: &CoverageInput<'_>, reason: RejectReason) {
    let e = evaluate(input).unwrap();
    assert_eq!(e.verdicts.len(), input.reports.len());
    assert!(e.verdicts.iter().all(|v| *v == Verdict::Rejected(reason)));
    assert_eq!(e.reward, 0);
    assert_eq!(e.public.reward, 0);
}

#[test]
fn coverage_bad_claim_signature_rejects_every_report() {
    let rs = honest(6);
    let mut input = input_with(claim_for(HOME), &rs);
    // The prover moves the device after it signed its claim.
    input.claim.location = east(50);
    assert_claim_rejects_all(&input, RejectReason::BadSignature);
}

#[test]
fn coverage_claim_with_wrong_fields_rejects_every_report() {
    let rs = honest(6);
    let id = device_key().public_key().id();
    let mut c = claim_for(HOME);
    c.device_id = Fr::from(1u64);
    assert_claim_rejects_all(&input_with(c, &rs), RejectReason::WrongDevice);
    let mut c = claim_for(HOME);
    c.epoch = EPOCH + 1;
    assert_claim_rejects_all(&input_with(c, &rs), RejectReason::OutOfEpoch);
    let mut c = claim_for(HOME);
    c.beacon_id = beacon_id(BEACON + Fr::from(1u64), id);
    assert_claim_rejects_all(&input_with(c, &rs), RejectReason::WrongBeacon);
    let c = claim_for(Location { x: 0, y: 1 << 31 });
    assert_claim_rejects_all(&input_with(c, &rs), RejectReason::LocationOutOfRange);
}

#[test]
fn coverage_capacity_overflow_is_typed_error() {
    let rs = alloc::vec![honest(1)[0]; 17];
    assert_eq!(
        evaluate(&input_with(claim_for(HOME), &rs)),
        Err(EvalError::CapacityExceeded {
            kind: StatementKind::Coverage,
            records: 17,
            capacity: 16
        })
    );
}

#[test]
fn coverage_invalid_policy_is_typed_error() {
    let rs = honest(3);
    let mut input = input_with(claim_for(HOME), &rs);
    input.policy.min_distance_m = input.policy.max_distance_m;
    assert!(matches!(
        evaluate(&input),
        Err(EvalError::Policy(
            crate::PolicyError::MinDistanceNotBelowMax { .. }
        ))
    ));
}

#[test]
fn coverage_padding_changes_nothing() {
    let rs = honest(4);
    let mut slots = pad(StatementKind::Coverage, &rs, &SignedWitnessReport::PADDING).unwrap();
    slots[15].record = rs[0];
    let unpadded = unpad(StatementKind::Coverage, &slots).unwrap();
    assert_eq!(run(&unpadded), run(&rs));
}
