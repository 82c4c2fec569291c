//! Ingest: checking and durably storing a device's signed records.
//!
//! Each request runs in two phases.
//!
//! 1. **Stateless checks** on blocking threads (one per core): record
//!    messages, chain steps between consecutive records of the batch,
//!    challenge responses, key-to-id matches, and every signature in the
//!    batch with one [`batch_verify`] (falling back to one-by-one checks only
//!    when the batch fails, to name the bad ones).
//! 2. **Stateful rules** against the stored chain: continuity from the
//!    stored head, the per-record rules that depend on earlier records (next
//!    slot, accepted sessions), capacity, duplicates; then one
//!    [`WriteBatch`] to the store, and the reply only once it is durable.
//!    No lock is held: the batch carries the state it was planned on (the
//!    chain's tail, no job closing the epoch, a beacon's report count) as
//!    conditions, the store refuses it when another request changed that
//!    state in between, and phase 2 runs again on the new state. A chain
//!    never forks, on one node or on many.
//!
//! Every per-record rule is the native reference's own function
//! (`depin_statements::uptime::check_heartbeat`,
//! `bandwidth::check_receipt`, `coverage::check_claim` and
//! `coverage::check_report`), given the facts phase 1 computed.
//!
//! What each verdict means is in `docs/service.md`: records the native
//! reference would reject but that are part of the device's signed chain
//! are stored as REJECTED with the reference's reason (the chain needs them
//! and the proof excludes them); records that cannot be stored (they break
//! the chain, carry a bad device signature, exceed the capacity, or arrive
//! for a closed epoch) are REFUSED.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use depin_crypto::eddsa::{batch_verify, BatchItem, PublicKey, Signature};
use depin_proto::convert::{fr_pb, BandwidthIn, Records, UptimeIn};
use depin_statements::bandwidth::{check_receipt, ReceiptFacts};
use depin_statements::coverage::{check_claim, check_report};
use depin_statements::records::{beacon_id, chain_step, challenge, HashChain, SignedWitnessReport};
use depin_statements::uptime::check_heartbeat;
use depin_statements::{Fr, RejectReason, StatementKind, Verdict};
use depin_store::{
    ChainKey, ChainState, Condition, EpochConfig, Mutation, Store, StoreError, StoredClaim,
    StoredHeartbeat, StoredReceipt, StoredRecord, WriteBatch,
};
use tokio::sync::Semaphore;

use super::error::{Result, ServiceError};
use super::metrics::Metrics;

/// Times phase 2 plans again after a conflict before the request gives up
/// (`ABORTED`, which clients retry). Each conflict means another request
/// changed the same chain in between, so this is never reached in practice.
const MAX_CONFLICTS: usize = 64;

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored; passes every rule decidable at ingest.
    Accepted,
    /// Stored (part of the signed chain), rejected by the reference.
    Rejected(RejectReason),
    /// Not stored.
    Refused(RejectReason),
}

impl Outcome {
    fn of(v: Verdict) -> Self {
        match v {
            Verdict::Accepted => Outcome::Accepted,
            Verdict::Rejected(r) => Outcome::Rejected(r),
        }
    }

    /// `(status, reason)` labels.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            Outcome::Accepted => ("accepted", ""),
            Outcome::Rejected(r) => ("rejected", r.as_str()),
            Outcome::Refused(r) => ("refused", r.as_str()),
        }
    }
}

/// Settings of ingest.
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Epochs taken: the latest published and `epoch_window - 1` before it.
    pub epoch_window: u32,
    /// Witness reports kept per beacon.
    pub max_reports_per_beacon: usize,
}

/// The ingest path.
pub struct Ingest {
    store: Arc<dyn Store>,
    limits: IngestLimits,
    in_flight: Semaphore,
    max_in_flight: usize,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest").finish_non_exhaustive()
    }
}

/// Runs `f` on a blocking thread, at most one per core at a time, and
/// awaits it.
///
/// Not on rayon's pool: a rayon worker that waits inside a parallel
/// iterator steals queued jobs onto its own stack, so hundreds of queued
/// requests that each wait on a parallel signature check nest until the
/// stack overflows. Here the callers are plain threads, bounded by a
/// semaphore, and only the leaf work (inside `batch_verify`) goes to rayon.
pub async fn compute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    static PERMITS: std::sync::OnceLock<Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let _permit = permits
        .acquire()
        .await
        .map_err(|_| ServiceError::Internal("compute permits closed".into()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("a compute task failed: {e}")))
}

/// Which signatures of `items` verify, with one batch check when all do.
pub fn verify_all(items: &[(PublicKey, Fr, Signature)]) -> Vec<bool> {
    match items {
        [] => return Vec::new(),
        // One signature (the usual chained batch): no batch machinery.
        [(k, m, s)] => return vec![k.verify(m, s).is_ok()],
        _ => {}
    }
    let batch: Vec<BatchItem<'_>> = items
        .iter()
        .map(|(k, m, s)| BatchItem {
            key: k,
            msg: m,
            sig: s,
        })
        .collect();
    let mut rng = rand_core::OsRng;
    if batch_verify(&batch, &mut rng).is_ok() {
        return vec![true; items.len()];
    }
    items
        .iter()
        .map(|(k, m, s)| k.verify(m, s).is_ok())
        .collect()
}

/// What a commit attempt came to: done, or planned on a state that changed.
enum Attempt<T> {
    Done(T),
    Conflict,
}

/// Commits `batch`; a conflict asks for another plan.
async fn try_commit(store: &dyn Store, batch: WriteBatch) -> Result<Attempt<()>> {
    match store.commit(batch).await {
        Ok(()) => Ok(Attempt::Done(())),
        Err(StoreError::Conflict(_)) => Ok(Attempt::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Runs `plan` (read, decide, commit) until it is not refused for a
/// conflict, at most [`MAX_CONFLICTS`] times.
async fn retry_on_conflict<T, F, Fut>(what: &ChainKey, mut plan: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Attempt<T>>>,
{
    for _ in 0..MAX_CONFLICTS {
        if let Attempt::Done(v) = plan().await? {
            return Ok(v);
        }
    }
    Err(ServiceError::Contended(what.job_id()))
}

/// The facts of one receipt that ingest decided in phase 1 and from the
/// store, for the reference's rule function.
struct IngestFacts<'a> {
    key_matches: bool,
    signature_valid: bool,
    registered: bool,
    session: u32,
    accepted_sessions: &'a [u32],
}

impl ReceiptFacts for IngestFacts<'_> {
    fn key_matches(&mut self) -> bool {
        self.key_matches
    }

    fn signature_valid(&mut self) -> bool {
        self.signature_valid
    }

    fn registered(&mut self) -> bool {
        self.registered
    }

    fn duplicate_session(&mut self) -> bool {
        self.accepted_sessions.contains(&self.session)
    }
}

/// A chained batch after phase 1, in the shape phase 2 plans on.
struct ChainBatch<'a> {
    heads: &'a [Fr],
    messages: Vec<Fr>,
    /// Whether each record follows the one before it in the batch.
    steps: Vec<bool>,
    /// The device's head signature on each record, if sent: whether it
    /// verifies.
    sig_ok: &'a [Option<bool>],
}

impl<'a> ChainBatch<'a> {
    /// The batch of records with `heads`, and phase 1's `(message, step,
    /// ...)` rows and head signature checks.
    fn of<T>(heads: &'a [Fr], rows: &[(Fr, bool, T)], sig_ok: &'a [Option<bool>]) -> Self {
        ChainBatch {
            heads,
            messages: rows.iter().map(|r| r.0).collect(),
            steps: rows.iter().map(|r| r.1).collect(),
            sig_ok,
        }
    }
}

impl Ingest {
    /// The ingest path over `store`.
    pub fn new(
        store: Arc<dyn Store>,
        limits: IngestLimits,
        max_in_flight: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        Ingest {
            store,
            limits,
            in_flight: Semaphore::new(max_in_flight),
            max_in_flight,
            metrics,
        }
    }

    /// Whether `epoch` takes records now.
    async fn epoch_open(&self, epoch: u32) -> Result<Option<EpochConfig>> {
        let Some(latest) = self.store.latest_epoch().await? else {
            return Ok(None);
        };
        if epoch > latest || latest - epoch >= self.limits.epoch_window {
            return Ok(None);
        }
        Ok(self.store.epoch(epoch).await?)
    }

    /// Checks and stores one request's records; one outcome per record.
    pub async fn submit(
        self: &Arc<Self>,
        device_id: Fr,
        epoch: u32,
        records: Records,
    ) -> Result<Vec<Outcome>> {
        let _permit = self
            .in_flight
            .try_acquire()
            .map_err(|_| ServiceError::IngestSaturated(self.max_in_flight))?;
        let start = Instant::now();
        let label = records.label();
        let device = self
            .store
            .device(&device_id)
            .await?
            .ok_or_else(|| ServiceError::UnknownDevice(fr_pb(&device_id)))?;
        let n = records.len();
        let outcomes = match self.epoch_open(epoch).await? {
            None => vec![Outcome::Refused(RejectReason::OutOfEpoch); n],
            Some(cfg) => {
                // Its own task: a caller that goes away (deadline,
                // cancellation) does not stop a batch between its checks
                // and its commit.
                let this = self.clone();
                tokio::spawn(async move { this.dispatch(device, device_id, cfg, records).await })
                    .await
                    .map_err(|e| ServiceError::Internal(format!("ingest task: {e}")))??
            }
        };
        self.metrics
            .batches
            .get_or_create(&vec![("kind", label)])
            .inc();
        for o in &outcomes {
            let (status, reason) = o.labels();
            self.metrics
                .records
                .get_or_create(&vec![
                    ("kind", label),
                    ("status", status),
                    ("reason", reason),
                ])
                .inc();
        }
        self.metrics
            .batch_seconds
            .observe(start.elapsed().as_secs_f64());
        Ok(outcomes)
    }

    async fn dispatch(
        &self,
        device: PublicKey,
        device_id: Fr,
        cfg: EpochConfig,
        records: Records,
    ) -> Result<Vec<Outcome>> {
        match records {
            Records::Uptime(r) => self.uptime(device, device_id, cfg, r).await,
            Records::Bandwidth(r) => self.bandwidth(device, device_id, cfg, r).await,
            Records::Claim(c, s) => self.claim(device, device_id, cfg, c, s).await,
            Records::Reports(r) => self.reports(device_id, cfg, r).await,
        }
    }

    /// A job exists for the chain: the epoch is closed for it.
    async fn sealed(&self, key: &ChainKey) -> Result<bool> {
        Ok(self.store.job(key).await?.is_some())
    }

    /// The chain's stored state (the genesis when empty) and the tail a
    /// commit is conditioned on.
    async fn chain_state(
        &self,
        key: &ChainKey,
        genesis: Fr,
    ) -> Result<(ChainState, Option<(u32, Fr)>)> {
        Ok(match self.store.chain(key).await? {
            Some(s) => {
                let tail = Some((s.len, s.head));
                (s, tail)
            }
            None => (ChainState::new(genesis), None),
        })
    }

    /// Commits a chain's new records (`batch`) with its new tail state,
    /// conditioned on the tail it was planned on and on no job closing the
    /// chain.
    async fn commit_chain(
        &self,
        key: ChainKey,
        tail: Option<(u32, Fr)>,
        mut batch: WriteBatch,
        state: ChainState,
        outcomes: Vec<Outcome>,
    ) -> Result<Attempt<Vec<Outcome>>> {
        batch.push(Mutation::Chain(key, state));
        batch.require(Condition::ChainTail { key, tail });
        batch.require(Condition::Job { key, state: None });
        Ok(match try_commit(self.store.as_ref(), batch).await? {
            Attempt::Done(()) => Attempt::Done(outcomes),
            Attempt::Conflict => Attempt::Conflict,
        })
    }

    /// Plans the chained batch on the stored state (retries, new records,
    /// refusals; a job closes the chain to new records).
    async fn plan(
        &self,
        key: &ChainKey,
        state: &ChainState,
        batch: &ChainBatch<'_>,
    ) -> Result<ChainPlan> {
        let mut plan = self.plan_chain(key, state, batch).await?;
        if !plan.new.is_empty() && self.sealed(key).await? {
            for o in &mut plan.outcomes[plan.new.start..] {
                *o = Outcome::Refused(RejectReason::OutOfEpoch);
            }
            plan.new = plan.new.start..plan.new.start;
        }
        Ok(plan)
    }

    async fn uptime(
        &self,
        device: PublicKey,
        device_id: Fr,
        cfg: EpochConfig,
        recs: Vec<UptimeIn>,
    ) -> Result<Vec<Outcome>> {
        let beacon = cfg.beacon;
        // Phase 1: messages, in-batch chain steps, challenges, signatures.
        let pre = compute(move || {
            let rows: Vec<(Fr, bool, bool)> = recs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let m = r.heartbeat.message();
                    let step = i == 0 || chain_step(recs[i - 1].head, m) == r.head;
                    let chl =
                        r.heartbeat.response == challenge(beacon, device_id, r.heartbeat.slot);
                    (m, step, chl)
                })
                .collect();
            let sigs: Vec<(usize, (PublicKey, Fr, Signature))> = recs
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.signature.map(|s| (i, (device, r.head, s))))
                .collect();
            let items: Vec<_> = sigs.iter().map(|(_, t)| *t).collect();
            let ok = verify_all(&items);
            let mut sig_ok = vec![None; recs.len()];
            for ((i, _), v) in sigs.iter().zip(ok) {
                sig_ok[*i] = Some(v);
            }
            (recs, rows, sig_ok)
        })
        .await?;
        let (recs, rows, sig_ok) = pre;
        let key = ChainKey {
            device: device_id,
            kind: StatementKind::Uptime,
            epoch: cfg.epoch,
        };
        let policy = cfg.uptime;
        let genesis = HashChain::uptime(device_id, cfg.epoch).head();
        let heads: Vec<Fr> = recs.iter().map(|r| r.head).collect();
        let batch_in = &ChainBatch::of(&heads, &rows, &sig_ok);
        let (recs, rows) = (&recs, &rows);
        // Phase 2, planned on the stored tail, again after a conflict.
        retry_on_conflict(&key, || async move {
            let (state, tail) = self.chain_state(&key, genesis).await?;
            let plan = self.plan(&key, &state, batch_in).await?;
            // Per-record rules over the new records, in order.
            let mut next_slot = state.next_slot;
            let mut outcomes = plan.outcomes;
            let mut batch = WriteBatch::default();
            for (j, i) in plan.new.clone().enumerate() {
                let hb = recs[i].heartbeat;
                let reason = check_heartbeat(&policy, next_slot, &hb, || rows[i].2);
                if reason.is_none() {
                    next_slot = u64::from(hb.slot) + 1;
                }
                let verdict = Verdict::from(reason);
                outcomes[i] = Outcome::of(verdict);
                batch.push(Mutation::Record(
                    key,
                    state.len + j as u32,
                    StoredRecord::Heartbeat(StoredHeartbeat {
                        heartbeat: hb,
                        head: recs[i].head,
                        verdict,
                    }),
                ));
            }
            let Some(last) = plan.new.clone().last() else {
                return Ok(Attempt::Done(outcomes));
            };
            let new_state = ChainState {
                len: state.len + plan.new.len() as u32,
                head: recs[last].head,
                signature: recs[last].signature,
                next_slot,
                accepted_sessions: Vec::new(),
                sealed: false,
            };
            self.commit_chain(key, tail, batch, new_state, outcomes)
                .await
        })
        .await
    }

    async fn bandwidth(
        &self,
        device: PublicKey,
        device_id: Fr,
        cfg: EpochConfig,
        recs: Vec<BandwidthIn>,
    ) -> Result<Vec<Outcome>> {
        let pre = compute(move || {
            let rows: Vec<(Fr, bool, bool)> = recs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let m = r.receipt.message();
                    let step = i == 0 || chain_step(recs[i - 1].head, m) == r.head;
                    let key_ok = r.client_key.id() == r.receipt.client_id;
                    (m, step, key_ok)
                })
                .collect();
            // Client signatures and the device's head signatures, together.
            let mut items = Vec::new();
            let mut owners = Vec::new();
            for (i, r) in recs.iter().enumerate() {
                items.push((r.client_key, rows[i].0, r.client_signature));
                owners.push((i, false));
                if let Some(s) = r.signature {
                    items.push((device, r.head, s));
                    owners.push((i, true));
                }
            }
            let ok = verify_all(&items);
            let mut client_ok = vec![false; recs.len()];
            let mut sig_ok = vec![None; recs.len()];
            for ((i, head), v) in owners.into_iter().zip(ok) {
                if head {
                    sig_ok[i] = Some(v);
                } else {
                    client_ok[i] = v;
                }
            }
            (recs, rows, client_ok, sig_ok)
        })
        .await?;
        let (recs, rows, client_ok, sig_ok) = pre;
        let key = ChainKey {
            device: device_id,
            kind: StatementKind::Bandwidth,
            epoch: cfg.epoch,
        };
        let policy = cfg.bandwidth;
        let genesis = HashChain::bandwidth(device_id, cfg.epoch).head();
        let heads: Vec<Fr> = recs.iter().map(|r| r.head).collect();
        let batch_in = &ChainBatch::of(&heads, &rows, &sig_ok);
        let (recs, rows, client_ok) = (&recs, &rows, &client_ok);
        retry_on_conflict(&key, || async move {
            let (state, tail) = self.chain_state(&key, genesis).await?;
            let plan = self.plan(&key, &state, batch_in).await?;
            let mut sessions = state.accepted_sessions.clone();
            let mut outcomes = plan.outcomes;
            let mut batch = WriteBatch::default();
            for (j, i) in plan.new.clone().enumerate() {
                let r = &recs[i];
                let rc = &r.receipt;
                let registered = self
                    .store
                    .client_index(&rc.client_id)
                    .await?
                    .is_some_and(|ix| ix < cfg.registry_size);
                let reason = check_receipt(
                    &policy,
                    cfg.epoch,
                    device_id,
                    rc,
                    &mut IngestFacts {
                        key_matches: rows[i].2,
                        signature_valid: client_ok[i],
                        registered,
                        session: rc.session,
                        accepted_sessions: &sessions,
                    },
                );
                if reason.is_none() {
                    sessions.push(rc.session);
                }
                let verdict = Verdict::from(reason);
                outcomes[i] = Outcome::of(verdict);
                batch.push(Mutation::Record(
                    key,
                    state.len + j as u32,
                    StoredRecord::Receipt(StoredReceipt {
                        receipt: *rc,
                        client_key: r.client_key,
                        client_signature: r.client_signature,
                        head: r.head,
                        verdict,
                    }),
                ));
            }
            let Some(last) = plan.new.clone().last() else {
                return Ok(Attempt::Done(outcomes));
            };
            let new_state = ChainState {
                len: state.len + plan.new.len() as u32,
                head: recs[last].head,
                signature: recs[last].signature,
                next_slot: 0,
                accepted_sessions: sessions,
                sealed: false,
            };
            self.commit_chain(key, tail, batch, new_state, outcomes)
                .await
        })
        .await
    }

    /// Decides which records of a chained batch are retries (already
    /// stored), which are new and stored, and which are refused.
    async fn plan_chain(
        &self,
        key: &ChainKey,
        state: &ChainState,
        batch: &ChainBatch<'_>,
    ) -> Result<ChainPlan> {
        let ChainBatch {
            heads,
            ref messages,
            ref steps,
            sig_ok,
        } = *batch;
        let n = heads.len();
        let mut outcomes = vec![Outcome::Refused(RejectReason::ChainBroken); n];
        // Retries: a prefix of the batch whose heads are already stored. Only
        // looked for when the batch does not continue the stored tail (a
        // chain holds at most its capacity, so reading it is cheap).
        let mut i = 0;
        let continues_tail = n > 0 && chain_step(state.head, messages[0]) == heads[0];
        if !continues_tail && state.len > 0 {
            let stored = self.store.records(key).await?;
            let by_head: HashMap<Fr, &StoredRecord> =
                stored.iter().map(|r| (r.head(), r)).collect();
            while i < n {
                match by_head.get(&heads[i]) {
                    Some(rec) if rec.message() == messages[i] && (i == 0 || steps[i]) => {
                        outcomes[i] = Outcome::of(rec.verdict());
                        i += 1;
                    }
                    _ => break,
                }
            }
        }
        let first_new = i;
        // New records must continue the stored tail.
        let capacity = key.kind.capacity();
        let mut end = first_new; // exclusive end of chain-continuous new records
        let mut cut = None; // why the continuous part ends before the batch does
        while end < n {
            let continues = if end == 0 {
                continues_tail
            } else if end == first_new {
                heads[first_new - 1] == state.head
                    && chain_step(state.head, messages[end]) == heads[end]
            } else {
                steps[end]
            };
            if !continues {
                cut = Some(RejectReason::ChainBroken);
                break;
            }
            if state.len as usize + (end - first_new) >= capacity {
                cut = Some(RejectReason::CapacityExceeded);
                for o in &mut outcomes[end..] {
                    *o = Outcome::Refused(RejectReason::CapacityExceeded);
                }
                break;
            }
            end += 1;
        }
        // Stored: up to the last valid device signature, with no invalid
        // signature before it. Records no valid signature covers are refused
        // for what stopped the cover: a bad signature, or the break in the
        // chain or the capacity that cut off the batch's signed head (or, if
        // the batch has no signature at all, a missing signature).
        let mut stored_end = first_new;
        let mut uncovered = cut.unwrap_or(RejectReason::BadSignature);
        for (j, ok) in sig_ok.iter().enumerate().take(end).skip(first_new) {
            match ok {
                Some(true) => stored_end = j + 1,
                Some(false) => {
                    uncovered = RejectReason::BadSignature;
                    break;
                }
                None => {}
            }
        }
        for o in &mut outcomes[stored_end..end] {
            *o = Outcome::Refused(uncovered);
        }
        Ok(ChainPlan {
            outcomes,
            new: first_new..stored_end,
        })
    }

    async fn claim(
        &self,
        device: PublicKey,
        device_id: Fr,
        cfg: EpochConfig,
        claim: depin_statements::records::CoverageClaim,
        signature: Signature,
    ) -> Result<Vec<Outcome>> {
        let beacon = cfg.beacon;
        let (expected_beacon, sig_ok) = compute(move || {
            (
                beacon_id(beacon, device_id),
                device.verify(&claim.message(), &signature).is_ok(),
            )
        })
        .await?;
        if let Some(reason) = check_claim(&claim, device_id, cfg.epoch, expected_beacon, || sig_ok)
        {
            return Ok(vec![Outcome::Refused(reason)]);
        }
        let key = ChainKey {
            device: device_id,
            kind: StatementKind::Coverage,
            epoch: cfg.epoch,
        };
        let stored = StoredClaim { claim, signature };
        retry_on_conflict(&key, || async move {
            if let Some(existing) = self.store.claim(&device_id, cfg.epoch).await? {
                return Ok(Attempt::Done(vec![if existing == stored {
                    Outcome::Accepted
                } else {
                    Outcome::Refused(RejectReason::Duplicate)
                }]));
            }
            if self.sealed(&key).await? {
                return Ok(Attempt::Done(vec![Outcome::Refused(
                    RejectReason::OutOfEpoch,
                )]));
            }
            let mut batch = WriteBatch::default();
            batch.push(Mutation::Claim(device_id, cfg.epoch, stored));
            batch.require(Condition::NoClaim {
                device: device_id,
                epoch: cfg.epoch,
            });
            batch.require(Condition::Job { key, state: None });
            Ok(match try_commit(self.store.as_ref(), batch).await? {
                Attempt::Done(()) => Attempt::Done(vec![Outcome::Accepted]),
                Attempt::Conflict => Attempt::Conflict,
            })
        })
        .await
    }

    async fn reports(
        &self,
        witness_id: Fr,
        cfg: EpochConfig,
        reports: Vec<SignedWitnessReport>,
    ) -> Result<Vec<Outcome>> {
        let (reports, sig_ok) = compute(move || {
            let items: Vec<_> = reports
                .iter()
                .map(|r| (r.report.witness, r.report.message(), r.signature))
                .collect();
            let ok = verify_all(&items);
            (reports, ok)
        })
        .await?;
        let (outcomes, targets) = self
            .report_targets(witness_id, &cfg, &reports, &sig_ok)
            .await?;
        let Some(first) = targets.iter().flatten().next() else {
            return Ok(outcomes);
        };
        let first_key = ChainKey {
            device: *first,
            kind: StatementKind::Coverage,
            epoch: cfg.epoch,
        };
        self.store_reports(witness_id, &cfg, &reports, &targets, outcomes, &first_key)
            .await
    }

    /// The stateless report rules: an outcome per report, and the device
    /// each report that passes is about (its beacon's owner).
    async fn report_targets(
        &self,
        witness_id: Fr,
        cfg: &EpochConfig,
        reports: &[SignedWitnessReport],
        sig_ok: &[bool],
    ) -> Result<(Vec<Outcome>, Vec<Option<Fr>>)> {
        let n = reports.len();
        let mut outcomes = vec![Outcome::Accepted; n];
        let mut targets: Vec<Option<Fr>> = vec![None; n];
        for (i, r) in reports.iter().enumerate() {
            let rep = &r.report;
            // The submitter must be the witness (a condition of submission,
            // after the epoch as the reference orders it).
            let reason = if rep.epoch == cfg.epoch && rep.witness_id() != witness_id {
                Some(RejectReason::WrongDevice)
            } else {
                let target = if rep.epoch == cfg.epoch && sig_ok[i] {
                    self.store.beacon_device(cfg.epoch, &rep.beacon_id).await?
                } else {
                    None
                };
                targets[i] = target;
                check_report(
                    cfg.epoch,
                    rep,
                    || sig_ok[i],
                    target == Some(witness_id),
                    target.is_some(),
                )
            };
            if let Some(r) = reason {
                outcomes[i] = Outcome::Refused(r);
                targets[i] = None;
            }
        }
        Ok((outcomes, targets))
    }

    /// Stores the reports that passed, each once per witness and beacon, up
    /// to the beacon's limit, while no job closes the target's epoch:
    /// planned on the stored state and committed with it as conditions.
    async fn store_reports(
        &self,
        witness_id: Fr,
        cfg: &EpochConfig,
        reports: &[SignedWitnessReport],
        targets: &[Option<Fr>],
        outcomes: Vec<Outcome>,
        first_key: &ChainKey,
    ) -> Result<Vec<Outcome>> {
        let checked = &outcomes;
        retry_on_conflict(first_key, || async move {
            let mut outcomes = checked.clone();
            let mut batch = WriteBatch::default();
            // Per beacon: reports stored before this batch, and the
            // witnesses this batch adds.
            let mut added: HashMap<Fr, (usize, Vec<Fr>)> = HashMap::new();
            let mut closed: HashMap<Fr, bool> = HashMap::new();
            for (i, r) in reports.iter().enumerate() {
                let Some(target) = targets[i] else { continue };
                let key = ChainKey {
                    device: target,
                    kind: StatementKind::Coverage,
                    epoch: cfg.epoch,
                };
                let rep = &r.report;
                if let Some(existing) = self
                    .store
                    .report(cfg.epoch, &rep.beacon_id, &witness_id)
                    .await?
                {
                    outcomes[i] = if existing == *r {
                        Outcome::Accepted
                    } else {
                        Outcome::Refused(RejectReason::Duplicate)
                    };
                    continue;
                }
                let sealed = match closed.get(&target) {
                    Some(s) => *s,
                    None => {
                        let s = self.sealed(&key).await?;
                        closed.insert(target, s);
                        if !s {
                            batch.require(Condition::Job { key, state: None });
                        }
                        s
                    }
                };
                if sealed {
                    outcomes[i] = Outcome::Refused(RejectReason::OutOfEpoch);
                    continue;
                }
                let entry = match added.get_mut(&rep.beacon_id) {
                    Some(e) => e,
                    None => {
                        let count = self.store.reports(cfg.epoch, &rep.beacon_id).await?.len();
                        batch.require(Condition::ReportCount {
                            epoch: cfg.epoch,
                            beacon_id: rep.beacon_id,
                            count,
                        });
                        added.entry(rep.beacon_id).or_insert((count, Vec::new()))
                    }
                };
                if entry.1.contains(&rep.witness_id()) {
                    outcomes[i] = Outcome::Refused(RejectReason::Duplicate);
                    continue;
                }
                if entry.0 >= self.limits.max_reports_per_beacon {
                    outcomes[i] = Outcome::Refused(RejectReason::CapacityExceeded);
                    continue;
                }
                entry.0 += 1;
                entry.1.push(rep.witness_id());
                batch.require(Condition::NoReport {
                    epoch: cfg.epoch,
                    beacon_id: rep.beacon_id,
                    witness: witness_id,
                });
                batch.push(Mutation::Report(*r));
            }
            if batch.is_empty() {
                return Ok(Attempt::Done(outcomes));
            }
            Ok(match try_commit(self.store.as_ref(), batch).await? {
                Attempt::Done(()) => Attempt::Done(outcomes),
                Attempt::Conflict => Attempt::Conflict,
            })
        })
        .await
    }
}

struct ChainPlan {
    outcomes: Vec<Outcome>,
    /// Indices of the batch's records to append (outcomes to be filled by
    /// the per-record rules).
    new: std::ops::Range<usize>,
}
