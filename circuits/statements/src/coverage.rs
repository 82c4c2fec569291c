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
use crate::records::{beacon_id, CoverageClaim, Location, SignedWitnessReport, WitnessReport};
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
    let global = check_claim(claim, device_id, input.epoch, expected_beacon, || {
        input
            .device
            .verify(&claim.message(), &input.claim_signature)
            .is_ok()
    });

    let mut verdicts: Vec<Verdict> = Vec::with_capacity(input.reports.len());
    let mut valid: u32 = 0;
    match global {
        Some(reason) => verdicts.resize(input.reports.len(), Verdict::Rejected(reason)),
        None => {
            for (j, r) in input.reports.iter().enumerate() {
                let witness_id = r.report.witness_id();
                let rep = &r.report;
                let reason = check_report(
                    input.epoch,
                    rep,
                    || rep.witness.verify(&rep.message(), &r.signature).is_ok(),
                    witness_id == device_id,
                    rep.beacon_id == expected_beacon,
                )
                .or_else(|| check_report_geometry(&input.policy, &claim.location, rep))
                .or_else(|| {
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

/// The epoch-wide rules 1 to 5 on the device's claim, in order: the first
/// rule `claim` breaks, if any. `signature_valid` says whether the device's
/// signature on the claim verifies (asked only when rules 1 to 3 pass). The
/// reference and the prover's ingest both judge claims with this function.
pub fn check_claim(
    claim: &CoverageClaim,
    device_id: Fr,
    epoch: u32,
    expected_beacon: Fr,
    signature_valid: impl FnOnce() -> bool,
) -> Option<RejectReason> {
    if claim.device_id != device_id {
        Some(RejectReason::WrongDevice)
    } else if claim.epoch != epoch {
        Some(RejectReason::OutOfEpoch)
    } else if claim.beacon_id != expected_beacon {
        Some(RejectReason::WrongBeacon)
    } else if !signature_valid() {
        Some(RejectReason::BadSignature)
    } else if !claim.location.in_range() {
        Some(RejectReason::LocationOutOfRange)
    } else {
        None
    }
}

/// The per-report rules 1 to 6, in order, which need nothing of the claim
/// but whose beacon it answers: the first rule `report` breaks, if any.
/// `signature_valid` says whether the witness's signature verifies (asked
/// only when rule 1 passes), `self_witness` whether the witness is the
/// beaconing device, `beacon_matches` whether `report.beacon_id` is that
/// device's beacon id. The prover's ingest decides these at submission;
/// the rest ([`check_report_geometry`]) needs the device's private
/// location and is decided when proving.
pub fn check_report(
    epoch: u32,
    report: &WitnessReport,
    signature_valid: impl FnOnce() -> bool,
    self_witness: bool,
    beacon_matches: bool,
) -> Option<RejectReason> {
    if report.epoch != epoch {
        Some(RejectReason::OutOfEpoch)
    } else if !signature_valid() {
        Some(RejectReason::BadSignature)
    } else if self_witness {
        Some(RejectReason::SelfWitness)
    } else if !beacon_matches {
        Some(RejectReason::WrongBeacon)
    } else if !report.location.in_range() {
        Some(RejectReason::LocationOutOfRange)
    } else if !dbm_in_domain(report.rssi_dbm) {
        Some(RejectReason::RssiOutOfRange)
    } else {
        None
    }
}

/// The per-report rules 7 to 9: distance bounds and the free-space
/// path-loss bound between the claimed location and the report's. Only
/// meaningful for a report that passes [`check_report`] (both locations in
/// range).
pub fn check_report_geometry(
    policy: &CoveragePolicy,
    claimed: &Location,
    report: &WitnessReport,
) -> Option<RejectReason> {
    // Both locations are in range here, so the distance exists.
    let Some(d2) = distance_sq(
        (claimed.x, claimed.y),
        (report.location.x, report.location.y),
    ) else {
        return Some(RejectReason::LocationOutOfRange);
    };
    if d2 <= policy.min_distance_sq() {
        return Some(RejectReason::TooClose);
    }
    if d2 >= policy.max_distance_sq() {
        return Some(RejectReason::TooFar);
    }
    match check_path_loss(d2, policy.eirp_dbm, report.rssi_dbm, policy.k_q32) {
        PathLoss::Plausible => None,
        PathLoss::StrongerThanTransmitted | PathLoss::TooStrongForDistance => {
            Some(RejectReason::SignalTooStrong)
        }
        PathLoss::BelowSensitivity => Some(RejectReason::SignalTooWeak),
    }
}

#[cfg(test)]
mod tests;
