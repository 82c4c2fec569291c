//! The coverage statement's native reference.
//!
//! Inputs: the device key, the epoch, the epoch beacon, the policy, the
//! device's signed claim (its private location and the beacon id it
//! transmitted) and the witness reports in submission order (at most
//! [`COVERAGE_CAPACITY`]). Public: the coarse cell of the claimed location,
//! `claim.location.cell(policy.cell_bits)`.
//!
//! Let `beacon_id = Poseidon(BEACON_ID, beacon, device_id)`.
//!
//! **Epoch-wide check** on the claim; the first broken rule rejects every
//! report with its reason and the reward is 0:
//!
//! 1. `claim.device_id == device_id`, else `WrongDevice`;
//! 2. `claim.epoch == epoch`, else `OutOfEpoch`;
//! 3. `claim.beacon_id == beacon_id`, else `WrongBeacon`;
//! 4. the device's signature on the claim's message verifies, else
//!    `BadSignature`;
//! 5. both claimed coordinates are below `2^31`, else `LocationOutOfRange`.
//!
//! **Per report**, in order; the first broken rule is the verdict, with
//! `d2` the squared distance between the claimed and the reported location:
//!
//! 1. `report.epoch == epoch`, else `OutOfEpoch`;
//! 2. the witness's signature on the report's message verifies, else
//!    `BadSignature`;
//! 3. `witness_id != device_id`, else `SelfWitness`;
//! 4. `report.beacon_id == beacon_id`, else `WrongBeacon`;
//! 5. both reported coordinates are below `2^31`, else `LocationOutOfRange`;
//! 6. `-2^15 <= rssi_dbm < 2^15`, else `RssiOutOfRange`;
//! 7. `d2 > min_distance_m^2`, else `TooClose`;
//! 8. `d2 < max_distance_m^2`, else `TooFar`;
//! 9. `check_path_loss(d2, eirp_dbm, rssi_dbm, k_q32)` is `Plausible`, else
//!    `SignalTooStrong` (stronger than transmitted, or than free space
//!    allows at `d2`) or `SignalTooWeak` (loss above 199 dB);
//! 10. no earlier **accepted** report has the same `witness_id`, else
//!     `Duplicate`;
//! 11. otherwise `Accepted`.
//!
//! The reward is [`CoveragePolicy::reward`] of the number accepted.

use crate::eval::{check_capacity, EvalError, Evaluation};
use crate::policy::CoveragePolicy;
use crate::public::{PublicInputs, StatementKind};
use crate::reason::{RejectReason, Verdict};
use crate::records::{beacon_id, CoverageClaim, SignedWitnessReport};
use crate::COVERAGE_CAPACITY;
use alloc::vec::Vec;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::geo::{check_path_loss, dbm_in_domain, distance_sq, PathLoss};
use depin_crypto::Fr;

/// Capacity of the statement.
pub const CAPACITY: usize = COVERAGE_CAPACITY;

/// One device's coverage epoch, as the prover holds it.
#[derive(Debug, Clone, Copy)]
pub struct CoverageInput<'a> {
    /// The device's public key.
    pub device: PublicKey,
    /// Epoch number.
    pub epoch: u32,
    /// The epoch beacon.
    pub beacon: Fr,
    /// The network's policy.
    pub policy: CoveragePolicy,
    /// The device's claim (private location, transmitted beacon id).
    pub claim: CoverageClaim,
    /// The device's signature on `claim.message()`.
    pub claim_signature: Signature,
    /// Witness reports in submission order.
    pub reports: &'a [SignedWitnessReport],
}

/// Evaluates a coverage epoch: one verdict per report, the reward and the
/// public inputs.
pub fn evaluate(input: &CoverageInput<'_>) -> Result<Evaluation, EvalError> {
    input.policy.validate()?;
    check_capacity(StatementKind::Coverage, input.reports.len())?;
    let device_id = input.device.id();
    let expected_beacon = beacon_id(input.beacon, device_id);

    let claim = &input.claim;
    let global = if claim.device_id != device_id {
        Some(RejectReason::WrongDevice)
    } else if claim.epoch != input.epoch {
        Some(RejectReason::OutOfEpoch)
    } else if claim.beacon_id != expected_beacon {
        Some(RejectReason::WrongBeacon)
    } else if input
        .device
        .verify(&claim.message(), &input.claim_signature)
        .is_err()
    {
        Some(RejectReason::BadSignature)
    } else if !claim.location.in_range() {
        Some(RejectReason::LocationOutOfRange)
    } else {
        None
    };

    let mut verdicts: Vec<Verdict> = Vec::with_capacity(input.reports.len());
    let mut valid: u32 = 0;
    match global {
        Some(reason) => verdicts.resize(input.reports.len(), Verdict::Rejected(reason)),
        None => {
            for (j, r) in input.reports.iter().enumerate() {
                let witness_id = r.report.witness_id();
                let reason =
                    check(input, device_id, expected_beacon, witness_id, r).or_else(|| {
                        // Pairwise against earlier accepted reports.
                        let dup = input.reports[..j]
                            .iter()
                            .zip(&verdicts)
                            .any(|(e, v)| v.is_accepted() && e.report.witness_id() == witness_id);
                        dup.then_some(RejectReason::Duplicate)
                    });
                if reason.is_none() {
                    valid += 1;
                }
                verdicts.push(Verdict::from(reason));
            }
        }
    }

    let reward = input.policy.reward(valid);
    let mut public = PublicInputs::common(
        StatementKind::Coverage,
        input.epoch,
        device_id,
        input.policy.hash(),
        input.beacon,
        reward,
    );
    public.cell = Some(claim.location.cell(input.policy.cell_bits));
    Ok(Evaluation {
        verdicts,
        reward,
        public,
    })
}

/// The first rule among 1 to 9 that `r` breaks, if any.
fn check(
    input: &CoverageInput<'_>,
    device_id: Fr,
    expected_beacon: Fr,
    witness_id: Fr,
    r: &SignedWitnessReport,
) -> Option<RejectReason> {
    let rep = &r.report;
    let policy = &input.policy;
    if rep.epoch != input.epoch {
        return Some(RejectReason::OutOfEpoch);
    }
    if rep.witness.verify(&rep.message(), &r.signature).is_err() {
        return Some(RejectReason::BadSignature);
    }
    if witness_id == device_id {
        return Some(RejectReason::SelfWitness);
    }
    if rep.beacon_id != expected_beacon {
        return Some(RejectReason::WrongBeacon);
    }
    if !rep.location.in_range() {
        return Some(RejectReason::LocationOutOfRange);
    }
    if !dbm_in_domain(rep.rssi_dbm) {
        return Some(RejectReason::RssiOutOfRange);
    }
    // Both locations are in range here, so the distance exists.
    let Some(d2) = distance_sq(
        (input.claim.location.x, input.claim.location.y),
        (rep.location.x, rep.location.y),
    ) else {
        return Some(RejectReason::LocationOutOfRange);
    };
    if d2 <= policy.min_distance_sq() {
        return Some(RejectReason::TooClose);
    }
    if d2 >= policy.max_distance_sq() {
        return Some(RejectReason::TooFar);
    }
    match check_path_loss(d2, policy.eirp_dbm, rep.rssi_dbm, policy.k_q32) {
        PathLoss::Plausible => None,
        PathLoss::StrongerThanTransmitted | PathLoss::TooStrongForDistance => {
            Some(RejectReason::SignalTooStrong)
        }
        PathLoss::BelowSensitivity => Some(RejectReason::SignalTooWeak),
    }
}

#[cfg(test)]
mod tests {
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
}
