//! The submit loop: drains a [`Recorder`]'s spool to the prover service.
//!
//! [`drain`] reads the oldest unacknowledged records
//! ([`Recorder::peek_batch`]), groups consecutive records of the same kind,
//! epoch and submitter into one `SubmitRecordsRequest` ([`to_request`]),
//! sends it with the [`ProverClient`]'s deadline, and acknowledges the group
//! ([`Recorder::ack`]) only once the service answered it with one verdict
//! per record. While the service is unreachable, overloaded or slow
//! (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED) the same
//! request is sent again after an exponential backoff, for up to
//! [`DrainOptions::retry_for`].
//!
//! Delivery is exactly once as far as the service's store is concerned:
//! the service answers a resent record with the verdict it gave the first
//! time and stores nothing, so a crash (or a lost answer) between the
//! answer and the acknowledgement only resends.
//!
//! Every answered record is acknowledged, whatever its verdict: ACCEPTED
//! and REJECTED records are stored by the service; a REFUSED record was
//! judged and would be refused again, so keeping it would block the queue
//! (the verdicts are counted in the [`DrainReport`]). Entries that do not
//! decode as records cannot be sent; they are acknowledged
//! and counted as `undecodable` (see [`crate::wire::WireError`]). Any other error (an unregistered device,
//! a malformed request) stops the loop without acknowledging the batch.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use depin_crypto::field::fr_to_string;
use depin_statements::RejectReason;

use depin_proto::convert;

use crate::client::{pb, BadVerdict, ClientError, ProverClient, RecordOutcome};
use crate::recorder::{Recorder, RecorderError};
use crate::wire::{RecordKind, SignedRecord};

/// How the loop batches and retries.
#[derive(Debug, Clone, Copy)]
pub struct DrainOptions {
    /// Most records per request (at most the service's
    /// `max_batch_records`, 1024 by default).
    pub batch_size: usize,
    /// How long one request is retried while the service is unavailable;
    /// `None` retries forever.
    pub retry_for: Option<Duration>,
    /// First backoff between attempts; doubled after each, up to
    /// `max_backoff`.
    pub backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions {
            batch_size: 64,
            retry_for: Some(Duration::from_secs(300)),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Why [`to_request`] cannot build a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// No records.
    #[error("no records to send")]
    Empty,
    /// The records differ in kind, epoch or submitter.
    #[error("a request holds records of one kind, epoch and submitter")]
    Mixed,
    /// More than one coverage claim (a request holds one).
    #[error("a request holds one coverage claim")]
    SeveralClaims,
}

/// Why [`drain`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// The recorder (spool or checkpoints) failed.
    #[error(transparent)]
    Recorder(#[from] RecorderError),
    /// The service refused the request for good (e.g. NOT_FOUND: the
    /// device is not registered; INVALID_ARGUMENT). Nothing of the batch
    /// was acknowledged.
    #[error("the prover refused the batch starting at record {first_seq}: {source}")]
    Refused {
        /// Sequence number of the batch's first record.
        first_seq: u64,
        /// The error.
        source: ClientError,
    },
    /// The service stayed unavailable for longer than
    /// [`DrainOptions::retry_for`].
    #[error("the prover was unavailable for {:.1} s: {source}", waited.as_secs_f64())]
    GaveUp {
        /// How long the batch was retried.
        waited: Duration,
        /// The last error.
        source: ClientError,
    },
    /// The answer does not have one valid verdict per record.
    #[error("malformed answer to the batch starting at record {first_seq}: {reason}")]
    BadAnswer {
        /// Sequence number of the batch's first record.
        first_seq: u64,
        /// What is wrong.
        reason: String,
    },
}

/// What [`drain`] delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Requests answered.
    pub batches: u64,
    /// Records answered (and acknowledged).
    pub records: u64,
    /// Records the service accepted.
    pub accepted: u64,
    /// Records stored but rejected, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Records refused (not stored), by reason.
    pub refused: BTreeMap<RejectReason, u64>,
    /// Spool entries that are not records (acknowledged, not sent).
    pub undecodable: u64,
    /// Attempts that failed with a transient error and were retried.
    pub retries: u64,
    /// The last sequence number acknowledged, if any.
    pub last_acked: Option<u64>,
}

/// What happened in the loop, for progress displays.
#[derive(Debug)]
pub enum DrainEvent<'a> {
    /// A batch was answered and acknowledged.
    Delivered {
        /// The records' kind.
        kind: RecordKind,
        /// Their epoch.
        epoch: u32,
        /// First and last sequence numbers of the batch.
        seqs: (u64, u64),
        /// The verdicts, in order.
        outcomes: &'a [RecordOutcome],
    },
    /// An attempt failed with a transient error; the next one is in
    /// `backoff`.
    Retrying {
        /// The error.
        error: &'a ClientError,
        /// Wait before the next attempt.
        backoff: Duration,
        /// Time spent on this batch so far.
        waited: Duration,
    },
}

fn heartbeat_pb(r: &SignedRecord, sign: bool) -> Option<pb::UptimeRecord> {
    let SignedRecord::Heartbeat(h) = r else {
        return None;
    };
    Some(convert::uptime_record_pb(
        &h.heartbeat,
        &h.head,
        sign.then_some(&h.signature),
    ))
}

fn receipt_pb(r: &SignedRecord, sign: bool) -> Option<pb::BandwidthRecord> {
    let SignedRecord::Receipt(r) = r else {
        return None;
    };
    let c = &r.co_signed;
    Some(convert::bandwidth_record_pb(
        &c.receipt,
        &c.client_key,
        &c.client_signature,
        &r.head,
        sign.then_some(&r.head_signature),
    ))
}

fn report_pb(r: &SignedRecord) -> Option<pb::SignedWitnessReport> {
    let SignedRecord::Witness(w) = r else {
        return None;
    };
    Some(convert::witness_report_pb(w))
}

/// The request that submits `records`: all of one kind, epoch and
/// submitter (at most one coverage claim). Every record carries its own
/// signature, but only the last head of an uptime or bandwidth batch is
/// sent signed: the hash chain authenticates the records before it.
pub fn to_request(records: &[SignedRecord]) -> Result<pb::SubmitRecordsRequest, BatchError> {
    use pb::submit_records_request::Records;
    let first = records.first().ok_or(BatchError::Empty)?;
    let key = |r: &SignedRecord| (r.kind(), r.epoch(), r.submitter_id());
    if records.iter().any(|r| key(r) != key(first)) {
        return Err(BatchError::Mixed);
    }
    let n = records.len();
    let body = match first {
        SignedRecord::Heartbeat(_) => Records::Uptime(pb::UptimeBatch {
            records: records
                .iter()
                .enumerate()
                .filter_map(|(i, r)| heartbeat_pb(r, i + 1 == n))
                .collect(),
        }),
        SignedRecord::Receipt(_) => Records::Bandwidth(pb::BandwidthBatch {
            records: records
                .iter()
                .enumerate()
                .filter_map(|(i, r)| receipt_pb(r, i + 1 == n))
                .collect(),
        }),
        SignedRecord::Claim(c) => {
            if n > 1 {
                return Err(BatchError::SeveralClaims);
            }
            Records::CoverageClaim(convert::coverage_claim_pb(&c.claim, &c.signature))
        }
        SignedRecord::Witness(_) => Records::WitnessReports(pb::WitnessBatch {
            reports: records.iter().filter_map(report_pb).collect(),
        }),
    };
    Ok(pb::SubmitRecordsRequest {
        device_id: fr_to_string(&first.submitter_id()),
        epoch: first.epoch(),
        records: Some(body),
    })
}

/// Sends `req`, retrying transient failures with exponential backoff for
/// up to `opts.retry_for`; `retries` counts the failed attempts.
pub async fn submit_with_backoff(
    client: &mut ProverClient,
    req: &pb::SubmitRecordsRequest,
    opts: &DrainOptions,
    retries: &mut u64,
    mut on_retry: impl FnMut(&ClientError, Duration, Duration),
) -> Result<pb::SubmitRecordsResponse, (ClientError, Duration)> {
    let started = Instant::now();
    let mut backoff = opts.backoff;
    loop {
        match client.submit(req).await {
            Ok(r) => return Ok(r),
            Err(e) => {
                let waited = started.elapsed();
                let in_time = opts.retry_for.is_none_or(|d| waited < d);
                if !(e.is_retryable() && in_time) {
                    return Err((e, waited));
                }
                *retries += 1;
                on_retry(&e, backoff, waited);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.max_backoff);
            }
        }
    }
}

fn outcomes(
    resp: &pb::SubmitRecordsResponse,
    n: usize,
    first_seq: u64,
) -> Result<Vec<RecordOutcome>, DrainError> {
    let bad = |reason: String| DrainError::BadAnswer { first_seq, reason };
    if resp.verdicts.len() != n {
        return Err(bad(format!(
            "{} verdicts for {n} records",
            resp.verdicts.len()
        )));
    }
    resp.verdicts
        .iter()
        .map(|v| RecordOutcome::try_from(v).map_err(|e: BadVerdict| bad(e.to_string())))
        .collect()
}

/// Drains the recorder's spool to the service: see the module docs.
/// Returns when the spool is empty; `on_event` sees every delivered batch
/// and every retry.
pub async fn drain(
    rec: &mut Recorder,
    client: &mut ProverClient,
    opts: &DrainOptions,
    mut on_event: impl FnMut(&DrainEvent<'_>),
) -> Result<DrainReport, DrainError> {
    let batch_size = opts.batch_size.max(1);
    let mut report = DrainReport::default();
    loop {
        let entries = rec.peek_batch(batch_size)?;
        let Some(first) = entries.first() else {
            return Ok(report);
        };
        // Entries that are not records: acknowledge them so they do not
        // block the queue.
        let skip = entries.iter().take_while(|e| e.record.is_err()).count();
        if skip > 0 {
            let upto = entries[skip - 1].seq;
            rec.ack(upto)?;
            report.undecodable += skip as u64;
            report.last_acked = Some(upto);
            continue;
        }
        let first_seq = first.seq;
        let mut group: Vec<SignedRecord> = Vec::new();
        let mut last_seq = first_seq;
        for e in &entries {
            let Ok(r) = e.record else { break };
            if let Some(g) = group.first() {
                let same = r.kind() == g.kind()
                    && r.epoch() == g.epoch()
                    && r.submitter_id() == g.submitter_id();
                if !same || r.kind() == RecordKind::Claim {
                    break;
                }
            }
            group.push(r);
            last_seq = e.seq;
        }
        let req = to_request(&group).map_err(|e| DrainError::BadAnswer {
            first_seq,
            reason: e.to_string(),
        })?;
        let resp = submit_with_backoff(
            client,
            &req,
            opts,
            &mut report.retries,
            |error, backoff, waited| {
                on_event(&DrainEvent::Retrying {
                    error,
                    backoff,
                    waited,
                })
            },
        )
        .await
        .map_err(|(source, waited)| {
            if source.is_retryable() {
                DrainError::GaveUp { waited, source }
            } else {
                DrainError::Refused { first_seq, source }
            }
        })?;
        let outs = outcomes(&resp, group.len(), first_seq)?;
        rec.ack(last_seq)?;
        report.batches += 1;
        report.records += outs.len() as u64;
        report.last_acked = Some(last_seq);
        for o in &outs {
            match o {
                RecordOutcome::Accepted => report.accepted += 1,
                RecordOutcome::Rejected(r) => *report.rejected.entry(*r).or_default() += 1,
                RecordOutcome::Refused(r) => *report.refused.entry(*r).or_default() += 1,
            }
        }
        on_event(&DrainEvent::Delivered {
            kind: group[0].kind(),
            epoch: group[0].epoch(),
            seqs: (first_seq, last_seq),
            outcomes: &outs,
        });
    }
}
