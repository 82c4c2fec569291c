//! Between the wire (`depin.prover.v1` messages, decimal strings) and the
//! native types of `depin-statements`, both ways, written once for the
//! server and the clients, with errors that name the offending field.
//!
//! Malformed values (a non-decimal or non-canonical field element, a
//! missing message) refuse the whole request with INVALID_ARGUMENT. Values
//! that parse but are wrong (a point off the curve in a signature, a key
//! that does not match its id) are left to the per-record rules, exactly as
//! the native references treat them.

use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_decimal, fr_to_string, u256_from_decimal};
use depin_statements::records::{
    CoverageClaim, Heartbeat, Location, SessionReceipt, SignedWitnessReport, WitnessReport,
};
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, Fr, PolicyError, RejectReason, StatementKind, UptimePolicy,
};

use crate::v1 as pb;

/// Why a message could not be converted to native values (the server
/// answers each with `INVALID_ARGUMENT`).
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A field is missing or malformed.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The offending field, as a path (`records[3].head`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A batch has more records than the limit of one request.
    #[error("batch of {records} records exceeds the limit of {limit} per request")]
    BatchTooLarge {
        /// Records sent.
        records: usize,
        /// The limit.
        limit: usize,
    },
    /// A policy is invalid.
    #[error("{kind} policy: {source}", kind = kind.as_str())]
    InvalidPolicy {
        /// The statement.
        kind: StatementKind,
        /// Why.
        source: PolicyError,
    },
}

impl ConvertError {
    /// An [`ConvertError::InvalidArgument`] for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        ConvertError::InvalidArgument {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}

type Result<T, E = ConvertError> = std::result::Result<T, E>;

/// Characters of an input an error message quotes, at most.
pub const MAX_QUOTED_CHARS: usize = 100;

/// `s` for an error message: quoted whole when short, else its first
/// [`MAX_QUOTED_CHARS`] characters and how long it was, so that an error
/// never echoes a huge input (`"123…" (100000 characters)`).
pub fn quote(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_QUOTED_CHARS {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(MAX_QUOTED_CHARS).collect();
    let head = format!("{head:?}");
    // `"…"` with the closing quote after the ellipsis.
    format!("{}…\" ({n} characters)", &head[..head.len() - 1])
}

/// A field element from its decimal string.
pub fn fr(field: impl FnOnce() -> String, s: &str) -> Result<Fr> {
    fr_from_decimal(s).map_err(|e| {
        ConvertError::invalid(
            field(),
            format!(
                "{e} (expected a canonical decimal field element, got {})",
                quote(s)
            ),
        )
    })
}

/// A required sub-message.
pub fn required<T>(field: impl FnOnce() -> String, v: Option<&T>) -> Result<&T> {
    v.ok_or_else(|| ConvertError::invalid(field(), "missing"))
}

/// A point's coordinates (not checked to be on the curve).
pub fn raw_point(field: &dyn Fn() -> String, p: Option<&pb::Point>) -> Result<Point> {
    let p = required(field, p)?;
    Ok(Point {
        x: fr(|| format!("{}.x", field()), &p.x)?,
        y: fr(|| format!("{}.y", field()), &p.y)?,
    })
}

/// A public key that must be valid (registration).
pub fn valid_key(field: &dyn Fn() -> String, p: Option<&pb::Point>) -> Result<PublicKey> {
    let pt = raw_point(field, p)?;
    PublicKey::new(pt.x, pt.y).map_err(|e| ConvertError::invalid(field(), e))
}

/// A signature (its validity is a per-record verdict).
pub fn signature(field: &dyn Fn() -> String, s: Option<&pb::Signature>) -> Result<Signature> {
    let sig = required(field, s)?;
    let r8 = raw_point(&|| format!("{}.r8", field()), sig.r8.as_ref())?;
    let s = u256_from_decimal(&sig.s).map_err(|e| {
        ConvertError::invalid(
            format!("{}.s", field()),
            format!("{e} (got {})", quote(&sig.s)),
        )
    })?;
    Ok(Signature { r8, s })
}

/// An optional signature.
pub fn opt_signature(
    field: &dyn Fn() -> String,
    s: Option<&pb::Signature>,
) -> Result<Option<Signature>> {
    s.map(|_| signature(field, s)).transpose()
}

/// A statement kind.
pub fn kind(field: &str, k: i32) -> Result<StatementKind> {
    match pb::StatementKind::try_from(k) {
        Ok(pb::StatementKind::Uptime) => Ok(StatementKind::Uptime),
        Ok(pb::StatementKind::Bandwidth) => Ok(StatementKind::Bandwidth),
        Ok(pb::StatementKind::Coverage) => Ok(StatementKind::Coverage),
        _ => Err(ConvertError::invalid(
            field,
            format!("{k} is not a statement kind (1 uptime, 2 bandwidth, 3 coverage)"),
        )),
    }
}

/// A statement kind on the wire.
pub fn kind_to_pb(k: StatementKind) -> pb::StatementKind {
    match k {
        StatementKind::Uptime => pb::StatementKind::Uptime,
        StatementKind::Bandwidth => pb::StatementKind::Bandwidth,
        StatementKind::Coverage => pb::StatementKind::Coverage,
    }
}

/// A reject reason on the wire.
pub fn reason_to_pb(r: RejectReason) -> pb::RejectReason {
    pb::RejectReason::from_code(r.code()).unwrap_or(pb::RejectReason::Unspecified)
}

/// A field element on the wire.
pub fn fr_pb(x: &Fr) -> String {
    fr_to_string(x)
}

/// A point on the wire.
pub fn point_pb(p: &Point) -> pb::Point {
    pb::Point {
        x: fr_to_string(&p.x),
        y: fr_to_string(&p.y),
    }
}

/// A signature on the wire.
pub fn signature_pb(s: &Signature) -> pb::Signature {
    pb::Signature {
        r8: Some(point_pb(&s.r8)),
        s: s.s.to_string(),
    }
}

/// One uptime record off the wire.
#[derive(Debug, Clone, Copy)]
pub struct UptimeIn {
    /// The heartbeat.
    pub heartbeat: Heartbeat,
    /// The head after it, as the device claims.
    pub head: Fr,
    /// The device's signature on `head`, if sent.
    pub signature: Option<Signature>,
}

/// One bandwidth record off the wire.
#[derive(Debug, Clone, Copy)]
pub struct BandwidthIn {
    /// The receipt.
    pub receipt: SessionReceipt,
    /// The client's key.
    pub client_key: PublicKey,
    /// The client's signature.
    pub client_signature: Signature,
    /// The head after it, as the device claims.
    pub head: Fr,
    /// The device's signature on `head`, if sent.
    pub signature: Option<Signature>,
}

/// The records of one request.
#[derive(Debug, Clone)]
pub enum Records {
    /// Heartbeats.
    Uptime(Vec<UptimeIn>),
    /// Receipts.
    Bandwidth(Vec<BandwidthIn>),
    /// The device's coverage claim.
    Claim(CoverageClaim, Signature),
    /// Reports by the device as a witness.
    Reports(Vec<SignedWitnessReport>),
}

impl Records {
    /// Number of records.
    pub fn len(&self) -> usize {
        match self {
            Records::Uptime(v) => v.len(),
            Records::Bandwidth(v) => v.len(),
            Records::Claim(..) => 1,
            Records::Reports(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Records::Uptime(_) => "uptime",
            Records::Bandwidth(_) => "bandwidth",
            Records::Claim(..) => "coverage_claim",
            Records::Reports(_) => "witness_report",
        }
    }
}

fn location(field: &dyn Fn() -> String, l: Option<&pb::Location>) -> Result<Location> {
    let l = required(field, l)?;
    Ok(Location { x: l.x, y: l.y })
}

/// The records of a `SubmitRecords` request, refusing more than `limit`.
pub fn records(req: &pb::SubmitRecordsRequest, limit: usize) -> Result<Records> {
    use pb::submit_records_request::Records as R;
    let check = |n: usize| {
        if n > limit {
            Err(ConvertError::BatchTooLarge { records: n, limit })
        } else if n == 0 {
            Err(ConvertError::invalid("records", "the batch is empty"))
        } else {
            Ok(())
        }
    };
    match req.records.as_ref() {
        None => Err(ConvertError::invalid(
            "records",
            "missing (one of uptime, bandwidth, coverage_claim, witness_reports)",
        )),
        Some(R::Uptime(b)) => {
            check(b.records.len())?;
            let mut out = Vec::with_capacity(b.records.len());
            for (i, r) in b.records.iter().enumerate() {
                let f = |s: &str| format!("uptime.records[{i}].{s}");
                let hb = required(|| f("heartbeat"), r.heartbeat.as_ref())?;
                out.push(UptimeIn {
                    heartbeat: Heartbeat {
                        slot: hb.slot,
                        response: fr(|| f("heartbeat.response"), &hb.response)?,
                        latency_ms: hb.latency_ms,
                    },
                    head: fr(|| f("head"), &r.head)?,
                    signature: opt_signature(&|| f("head_signature"), r.head_signature.as_ref())?,
                });
            }
            Ok(Records::Uptime(out))
        }
        Some(R::Bandwidth(b)) => {
            check(b.records.len())?;
            let mut out = Vec::with_capacity(b.records.len());
            for (i, r) in b.records.iter().enumerate() {
                let f = |s: &str| format!("bandwidth.records[{i}].{s}");
                let rc = required(|| f("receipt"), r.receipt.as_ref())?;
                out.push(BandwidthIn {
                    receipt: SessionReceipt {
                        device_id: fr(|| f("receipt.device_id"), &rc.device_id)?,
                        client_id: fr(|| f("receipt.client_id"), &rc.client_id)?,
                        epoch: rc.epoch,
                        session: rc.session,
                        bytes: rc.bytes,
                        duration_s: rc.duration_s,
                    },
                    client_key: PublicKey(raw_point(&|| f("client_key"), r.client_key.as_ref())?),
                    client_signature: signature(
                        &|| f("client_signature"),
                        r.client_signature.as_ref(),
                    )?,
                    head: fr(|| f("head"), &r.head)?,
                    signature: opt_signature(&|| f("head_signature"), r.head_signature.as_ref())?,
                });
            }
            Ok(Records::Bandwidth(out))
        }
        Some(R::CoverageClaim(c)) => {
            let claim = required(|| "coverage_claim.claim".into(), c.claim.as_ref())?;
            let f = |s: &str| format!("coverage_claim.claim.{s}");
            Ok(Records::Claim(
                CoverageClaim {
                    device_id: fr(|| f("device_id"), &claim.device_id)?,
                    epoch: claim.epoch,
                    location: location(&|| f("location"), claim.location.as_ref())?,
                    beacon_id: fr(|| f("beacon_id"), &claim.beacon_id)?,
                },
                signature(&|| "coverage_claim.signature".into(), c.signature.as_ref())?,
            ))
        }
        Some(R::WitnessReports(b)) => {
            check(b.reports.len())?;
            let mut out = Vec::with_capacity(b.reports.len());
            for (i, r) in b.reports.iter().enumerate() {
                let f = |s: &str| format!("witness_reports.reports[{i}].{s}");
                let rep = required(|| f("report"), r.report.as_ref())?;
                out.push(SignedWitnessReport {
                    report: WitnessReport {
                        witness: PublicKey(raw_point(
                            &|| f("report.witness"),
                            rep.witness.as_ref(),
                        )?),
                        location: location(&|| f("report.location"), rep.location.as_ref())?,
                        rssi_dbm: rep.rssi_dbm,
                        beacon_id: fr(|| f("report.beacon_id"), &rep.beacon_id)?,
                        epoch: rep.epoch,
                    },
                    signature: signature(&|| f("signature"), r.signature.as_ref())?,
                });
            }
            Ok(Records::Reports(out))
        }
    }
}

/// An uptime policy off the wire (not validated).
pub fn uptime_policy(u: &pb::UptimePolicy) -> UptimePolicy {
    UptimePolicy {
        slots_per_epoch: u.slots_per_epoch,
        floor_slots: u.floor_slots,
        max_latency_ms: u.max_latency_ms,
        base_reward: u.base_reward,
        reward_per_slot: u.reward_per_slot,
        reward_cap: u.reward_cap,
    }
}

/// A bandwidth policy off the wire (not validated).
pub fn bandwidth_policy(b: &pb::BandwidthPolicy) -> BandwidthPolicy {
    BandwidthPolicy {
        max_bytes_per_s: b.max_bytes_per_s,
        rate_num: b.rate_num,
        rate_shift: b.rate_shift,
        reward_cap: b.reward_cap,
    }
}

/// A coverage policy off the wire (not validated).
pub fn coverage_policy(c: &pb::CoveragePolicy) -> CoveragePolicy {
    CoveragePolicy {
        min_witnesses: c.min_witnesses,
        reward_per_witness: c.reward_per_witness,
        reward_cap: c.reward_cap,
        min_distance_m: c.min_distance_m,
        max_distance_m: c.max_distance_m,
        eirp_dbm: c.eirp_dbm,
        k_q32: c.k_q32,
        cell_bits: c.cell_bits,
    }
}

/// The policies of a `PublishEpoch` request, validated.
pub fn policies(
    req: &pb::PublishEpochRequest,
) -> Result<(UptimePolicy, BandwidthPolicy, CoveragePolicy)> {
    let uptime = uptime_policy(required(|| "uptime".into(), req.uptime.as_ref())?);
    let bandwidth = bandwidth_policy(required(|| "bandwidth".into(), req.bandwidth.as_ref())?);
    let coverage = coverage_policy(required(|| "coverage".into(), req.coverage.as_ref())?);
    let bad = |kind, source| ConvertError::InvalidPolicy { kind, source };
    uptime
        .validate()
        .map_err(|e| bad(StatementKind::Uptime, e))?;
    bandwidth
        .validate()
        .map_err(|e| bad(StatementKind::Bandwidth, e))?;
    coverage
        .validate()
        .map_err(|e| bad(StatementKind::Coverage, e))?;
    Ok((uptime, bandwidth, coverage))
}

/// Policies on the wire.
pub fn uptime_policy_pb(p: &UptimePolicy) -> pb::UptimePolicy {
    pb::UptimePolicy {
        slots_per_epoch: p.slots_per_epoch,
        floor_slots: p.floor_slots,
        max_latency_ms: p.max_latency_ms,
        base_reward: p.base_reward,
        reward_per_slot: p.reward_per_slot,
        reward_cap: p.reward_cap,
    }
}

/// Policies on the wire.
pub fn bandwidth_policy_pb(p: &BandwidthPolicy) -> pb::BandwidthPolicy {
    pb::BandwidthPolicy {
        max_bytes_per_s: p.max_bytes_per_s,
        rate_num: p.rate_num,
        rate_shift: p.rate_shift,
        reward_cap: p.reward_cap,
    }
}

/// Policies on the wire.
pub fn coverage_policy_pb(p: &CoveragePolicy) -> pb::CoveragePolicy {
    pb::CoveragePolicy {
        min_witnesses: p.min_witnesses,
        reward_per_witness: p.reward_per_witness,
        reward_cap: p.reward_cap,
        min_distance_m: p.min_distance_m,
        max_distance_m: p.max_distance_m,
        eirp_dbm: p.eirp_dbm,
        k_q32: p.k_q32,
        cell_bits: p.cell_bits,
    }
}

/// A `PublishEpoch` request for `epoch` with `beacon` and the policies.
pub fn publish_epoch_pb(
    epoch: u32,
    beacon: &Fr,
    uptime: &UptimePolicy,
    bandwidth: &BandwidthPolicy,
    coverage: &CoveragePolicy,
) -> pb::PublishEpochRequest {
    pb::PublishEpochRequest {
        epoch,
        beacon: fr_to_string(beacon),
        uptime: Some(uptime_policy_pb(uptime)),
        bandwidth: Some(bandwidth_policy_pb(bandwidth)),
        coverage: Some(coverage_policy_pb(coverage)),
    }
}

/// A location on the wire.
pub fn location_pb(l: &Location) -> pb::Location {
    pb::Location { x: l.x, y: l.y }
}

/// An uptime record on the wire: the heartbeat, the chain head after it
/// and, when sent, the device's signature on that head.
pub fn uptime_record_pb(
    heartbeat: &Heartbeat,
    head: &Fr,
    head_signature: Option<&Signature>,
) -> pb::UptimeRecord {
    pb::UptimeRecord {
        heartbeat: Some(pb::Heartbeat {
            slot: heartbeat.slot,
            response: fr_to_string(&heartbeat.response),
            latency_ms: heartbeat.latency_ms,
        }),
        head: fr_to_string(head),
        head_signature: head_signature.map(signature_pb),
    }
}

/// A bandwidth record on the wire: the receipt with its client's key and
/// signature, the chain head after it and, when sent, the device's
/// signature on that head.
pub fn bandwidth_record_pb(
    receipt: &SessionReceipt,
    client_key: &PublicKey,
    client_signature: &Signature,
    head: &Fr,
    head_signature: Option<&Signature>,
) -> pb::BandwidthRecord {
    pb::BandwidthRecord {
        receipt: Some(pb::SessionReceipt {
            device_id: fr_to_string(&receipt.device_id),
            client_id: fr_to_string(&receipt.client_id),
            epoch: receipt.epoch,
            session: receipt.session,
            bytes: receipt.bytes,
            duration_s: receipt.duration_s,
        }),
        client_key: Some(point_pb(&client_key.0)),
        client_signature: Some(signature_pb(client_signature)),
        head: fr_to_string(head),
        head_signature: head_signature.map(signature_pb),
    }
}

/// A device's signed coverage claim on the wire.
pub fn coverage_claim_pb(claim: &CoverageClaim, signature: &Signature) -> pb::SignedCoverageClaim {
    pb::SignedCoverageClaim {
        claim: Some(pb::CoverageClaim {
            device_id: fr_to_string(&claim.device_id),
            epoch: claim.epoch,
            location: Some(location_pb(&claim.location)),
            beacon_id: fr_to_string(&claim.beacon_id),
        }),
        signature: Some(signature_pb(signature)),
    }
}

/// A witness's signed report on the wire.
pub fn witness_report_pb(r: &SignedWitnessReport) -> pb::SignedWitnessReport {
    let rep = &r.report;
    pb::SignedWitnessReport {
        report: Some(pb::WitnessReport {
            witness: Some(point_pb(&rep.witness.0)),
            location: Some(location_pb(&rep.location)),
            rssi_dbm: rep.rssi_dbm,
            beacon_id: fr_to_string(&rep.beacon_id),
            epoch: rep.epoch,
        }),
        signature: Some(signature_pb(&r.signature)),
    }
}

/// A reject reason off the wire (`None` for an unknown or unspecified
/// code).
pub fn reason(code: i32) -> Option<RejectReason> {
    u8::try_from(code)
        .ok()
        .and_then(|c| RejectReason::try_from(c).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_inputs_are_quoted_in_part() {
        assert_eq!(quote("12"), "\"12\"");
        let long = "9".repeat(100_000);
        let q = quote(&long);
        assert!(q.len() < 130, "{q}");
        assert!(q.ends_with("…\" (100000 characters)"), "{q}");
        let e = fr(|| "device_id".into(), &long).unwrap_err().to_string();
        assert!(e.len() < 300 && e.contains("100000 characters"), "{e}");
        // Multi-byte characters are counted, never cut.
        let q = quote(&"é".repeat(150));
        assert!(q.contains("150 characters"), "{q}");
    }

    #[test]
    fn signature_scalar_prints_in_decimal() {
        let sk = depin_crypto::eddsa::PrivateKey::from_bytes([9; 32]);
        let sig = sk.sign(&Fr::from(3u64));
        let pb = signature_pb(&sig);
        assert_eq!(u256_from_decimal(&pb.s).unwrap(), sig.s);
    }

    #[test]
    fn records_built_for_the_wire_parse_back() {
        let device = depin_crypto::eddsa::PrivateKey::from_bytes([4; 32]);
        let client = depin_crypto::eddsa::PrivateKey::from_bytes([5; 32]);
        let hb = Heartbeat {
            slot: 3,
            response: Fr::from(77u64),
            latency_ms: 12,
        };
        let head = Fr::from(99u64);
        let sig = device.sign(&head);
        let up = pb::SubmitRecordsRequest {
            device_id: fr_pb(&device.public_key().id()),
            epoch: 1,
            records: Some(pb::submit_records_request::Records::Uptime(
                pb::UptimeBatch {
                    records: vec![uptime_record_pb(&hb, &head, Some(&sig))],
                },
            )),
        };
        match records(&up, 8).unwrap() {
            Records::Uptime(r) => {
                assert_eq!(r[0].heartbeat, hb);
                assert_eq!((r[0].head, r[0].signature), (head, Some(sig)));
            }
            other => panic!("{other:?}"),
        }
        let rc = SessionReceipt {
            device_id: device.public_key().id(),
            client_id: client.public_key().id(),
            epoch: 1,
            session: 2,
            bytes: 3,
            duration_s: 4,
        };
        let csig = client.sign(&rc.message());
        let bw = pb::SubmitRecordsRequest {
            records: Some(pb::submit_records_request::Records::Bandwidth(
                pb::BandwidthBatch {
                    records: vec![bandwidth_record_pb(
                        &rc,
                        &client.public_key(),
                        &csig,
                        &head,
                        None,
                    )],
                },
            )),
            ..up.clone()
        };
        match records(&bw, 8).unwrap() {
            Records::Bandwidth(r) => {
                assert_eq!(r[0].receipt, rc);
                assert_eq!(r[0].client_key, client.public_key());
                assert_eq!((r[0].client_signature, r[0].signature), (csig, None));
            }
            other => panic!("{other:?}"),
        }
        let claim = CoverageClaim {
            device_id: device.public_key().id(),
            epoch: 1,
            location: Location { x: 5, y: 6 },
            beacon_id: Fr::from(8u64),
        };
        let cv = pb::SubmitRecordsRequest {
            records: Some(pb::submit_records_request::Records::CoverageClaim(
                coverage_claim_pb(&claim, &sig),
            )),
            ..up.clone()
        };
        match records(&cv, 8).unwrap() {
            Records::Claim(c, s) => assert_eq!((c, s), (claim, sig)),
            other => panic!("{other:?}"),
        }
        let report = SignedWitnessReport {
            report: WitnessReport {
                witness: client.public_key(),
                location: Location { x: 1, y: 2 },
                rssi_dbm: -80,
                beacon_id: Fr::from(8u64),
                epoch: 1,
            },
            signature: csig,
        };
        let wr = pb::SubmitRecordsRequest {
            records: Some(pb::submit_records_request::Records::WitnessReports(
                pb::WitnessBatch {
                    reports: vec![witness_report_pb(&report)],
                },
            )),
            ..up
        };
        match records(&wr, 8).unwrap() {
            Records::Reports(r) => assert_eq!(r, vec![report]),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            reason(RejectReason::Duplicate.code().into()),
            Some(RejectReason::Duplicate)
        );
        assert_eq!(reason(0), None);
        assert_eq!(reason(-1), None);
    }

    #[test]
    fn malformed_fields_are_named() {
        let e = fr(|| "uptime.records[3].head".into(), "12x").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("uptime.records[3].head: "), "{msg}");
        assert!(matches!(e, ConvertError::InvalidArgument { .. }));
    }
}
