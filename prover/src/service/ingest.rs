//! Ingest: checking and durably storing a device's signed records.
//!
//! Each request runs in two phases.
//!
//! 1. **Stateless checks** on blocking threads (one per core), before any lock:
//!    record messages, chain steps between consecutive records of the batch,
//!    challenge responses, key-to-id matches, and every signature in the
//!    batch with one [`batch_verify`] (falling back to one-by-one checks only
//!    when the batch fails, to name the bad ones).
//! 2. **Stateful rules** under the lock of the device's chain (device, kind,
//!    epoch): continuity from the stored head, the per-record rules that
//!    depend on earlier records (next slot, accepted sessions), capacity,
//!    duplicates; then one [`WriteBatch`] to the store, and the reply only
//!    once it is durable. The lock is held until then, so the next batch of
//!    the same chain sees this one.
//!
//! What each verdict means is in `docs/service.md`: records the native
//! reference would reject but that are part of the device's signed chain
//! are stored as REJECTED with the reference's reason (the chain needs them
//! and the proof excludes them); records that cannot be stored (they break
//! the chain, carry a bad device signature, exceed the capacity, or arrive
//! for a closed epoch) are REFUSED.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use depin_crypto::eddsa::{batch_verify, BatchItem, PublicKey, Signature};
use depin_statements::records::{beacon_id, chain_step, challenge, HashChain, SignedWitnessReport};
use depin_statements::{Fr, RejectReason, StatementKind, Verdict};
use tokio::sync::{Mutex, MutexGuard, Semaphore};

use super::convert::{BandwidthIn, Records, UptimeIn};
use super::error::{Result, ServiceError};
use super::metrics::Metrics;
use super::model::{
    ChainKey, ChainState, EpochConfig, StoredClaim, StoredHeartbeat, StoredReceipt, StoredRecord,
};
use super::store::{Mutation, Store, WriteBatch};

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

/// Striped locks over chain keys: one device's chain (or coverage epoch) is
/// changed by one request at a time; proving requests take the same lock to
/// close it.
pub struct ChainLocks {
    stripes: Vec<Mutex<()>>,
}

impl std::fmt::Debug for ChainLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainLocks")
            .field("stripes", &self.stripes.len())
            .finish()
    }
}

impl ChainLocks {
    /// `n` stripes.
    pub fn new(n: usize) -> Self {
        ChainLocks {
            stripes: (0..n.max(1)).map(|_| Mutex::new(())).collect(),
        }
    }

    fn stripe(&self, key: &ChainKey) -> usize {
        let mut h = DefaultHasher::new();
        key.to_bytes().hash(&mut h);
        (h.finish() % self.stripes.len() as u64) as usize
    }

    /// Locks one chain.
    pub async fn lock(&self, key: &ChainKey) -> MutexGuard<'_, ()> {
        self.stripes[self.stripe(key)].lock().await
    }

    /// Locks several chains (in a fixed order, so two requests never wait
    /// on each other).
    pub async fn lock_many(&self, keys: &[ChainKey]) -> Vec<MutexGuard<'_, ()>> {
        let mut idx: Vec<usize> = keys.iter().map(|k| self.stripe(k)).collect();
        idx.sort_unstable();
        idx.dedup();
        let mut guards = Vec::with_capacity(idx.len());
        for i in idx {
            guards.push(self.stripes[i].lock().await);
        }
        guards
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
    locks: Arc<ChainLocks>,
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

impl Ingest {
    /// The ingest path over `store`.
    pub fn new(
        store: Arc<dyn Store>,
        locks: Arc<ChainLocks>,
        limits: IngestLimits,
        max_in_flight: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        Ingest {
            store,
            locks,
            limits,
            in_flight: Semaphore::new(max_in_flight),
            max_in_flight,
            metrics,
        }
    }

    /// Whether `epoch` takes records now.
    fn epoch_open(&self, epoch: u32) -> Result<Option<EpochConfig>> {
        let Some(latest) = self.store.latest_epoch()? else {
            return Ok(None);
        };
        if epoch > latest || latest - epoch >= self.limits.epoch_window {
            return Ok(None);
        }
        Ok(self.store.epoch(epoch)?)
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
            .device(&device_id)?
            .ok_or_else(|| ServiceError::UnknownDevice(super::convert::fr_pb(&device_id)))?;
        let n = records.len();
        let outcomes = match self.epoch_open(epoch)? {
            None => vec![Outcome::Refused(RejectReason::OutOfEpoch); n],
            Some(cfg) => {
                // The stateful part runs in its own task: if the caller goes
                // away (deadline, cancellation) while the batch is being
                // committed, the chain lock is still held until the store
                // has it, so the next batch sees a consistent chain.
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
    fn sealed(&self, key: &ChainKey) -> Result<bool> {
        Ok(self.store.job(key)?.is_some())
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
        let _guard = self.locks.lock(&key).await;
        let state = self
            .store
            .chain(&key)?
            .unwrap_or_else(|| ChainState::new(HashChain::uptime(device_id, cfg.epoch).head()));
        let heads: Vec<Fr> = recs.iter().map(|r| r.head).collect();
        let messages: Vec<Fr> = rows.iter().map(|r| r.0).collect();
        let steps: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let plan = self.plan_chain(&key, &state, &heads, &messages, &steps, &sig_ok)?;
        let plan = self.close_if_sealed(&key, plan)?;
        // Per-record rules over the new records, in order.
        let mut next_slot = state.next_slot;
        let mut outcomes = plan.outcomes;
        let mut batch = WriteBatch::default();
        for (j, i) in plan.new.clone().enumerate() {
            let hb = recs[i].heartbeat;
            let slot = u64::from(hb.slot);
            let reason = if hb.slot >= policy.slots_per_epoch {
                Some(RejectReason::OutOfEpoch)
            } else if slot < next_slot {
                if slot + 1 == next_slot {
                    Some(RejectReason::Duplicate)
                } else {
                    Some(RejectReason::NotIncreasing)
                }
            } else if !rows[i].2 {
                Some(RejectReason::WrongChallenge)
            } else if hb.latency_ms > policy.max_latency_ms {
                Some(RejectReason::LatencyTooHigh)
            } else {
                None
            };
            if reason.is_none() {
                next_slot = slot + 1;
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
        if let Some(last) = plan.new.clone().last() {
            let new_state = ChainState {
                len: state.len + plan.new.len() as u32,
                head: recs[last].head,
                signature: recs[last].signature,
                next_slot,
                accepted_sessions: Vec::new(),
                sealed: false,
            };
            batch.push(Mutation::Chain(key, new_state));
            self.store.commit(batch).wait().await?;
        }
        Ok(outcomes)
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
        let _guard = self.locks.lock(&key).await;
        let state = self
            .store
            .chain(&key)?
            .unwrap_or_else(|| ChainState::new(HashChain::bandwidth(device_id, cfg.epoch).head()));
        let heads: Vec<Fr> = recs.iter().map(|r| r.head).collect();
        let messages: Vec<Fr> = rows.iter().map(|r| r.0).collect();
        let steps: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let plan = self.plan_chain(&key, &state, &heads, &messages, &steps, &sig_ok)?;
        let plan = self.close_if_sealed(&key, plan)?;
        let mut sessions = state.accepted_sessions.clone();
        let mut outcomes = plan.outcomes;
        let mut batch = WriteBatch::default();
        for (j, i) in plan.new.clone().enumerate() {
            let r = &recs[i];
            let rc = &r.receipt;
            let registered = || -> Result<bool> {
                Ok(self
                    .store
                    .client_index(&rc.client_id)?
                    .is_some_and(|ix| ix < cfg.registry_size))
            };
            let reason = if rc.device_id != device_id {
                Some(RejectReason::WrongDevice)
            } else if rc.epoch != cfg.epoch {
                Some(RejectReason::OutOfEpoch)
            } else if !rows[i].2 {
                Some(RejectReason::KeyMismatch)
            } else if !client_ok[i] {
                Some(RejectReason::BadSignature)
            } else if !registered()? {
                Some(RejectReason::ClientNotRegistered)
            } else if rc.client_id == device_id {
                Some(RejectReason::SelfDealing)
            } else if !policy.throughput_plausible(rc.bytes, rc.duration_s) {
                Some(RejectReason::ImplausibleThroughput)
            } else if sessions.contains(&rc.session) {
                Some(RejectReason::Duplicate)
            } else {
                None
            };
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
        if let Some(last) = plan.new.clone().last() {
            batch.push(Mutation::Chain(
                key,
                ChainState {
                    len: state.len + plan.new.len() as u32,
                    head: recs[last].head,
                    signature: recs[last].signature,
                    next_slot: 0,
                    accepted_sessions: sessions,
                    sealed: false,
                },
            ));
            self.store.commit(batch).wait().await?;
        }
        Ok(outcomes)
    }

    /// Once a job exists for the chain, new records are refused (retries
    /// of stored ones still get their verdicts).
    fn close_if_sealed(&self, key: &ChainKey, mut plan: ChainPlan) -> Result<ChainPlan> {
        if !plan.new.is_empty() && self.sealed(key)? {
            for o in &mut plan.outcomes[plan.new.start..] {
                *o = Outcome::Refused(RejectReason::OutOfEpoch);
            }
            plan.new = plan.new.start..plan.new.start;
        }
        Ok(plan)
    }

    /// Decides which records of a chained batch are retries (already
    /// stored), which are new and stored, and which are refused.
    fn plan_chain(
        &self,
        key: &ChainKey,
        state: &ChainState,
        heads: &[Fr],
        messages: &[Fr],
        steps: &[bool],
        sig_ok: &[Option<bool>],
    ) -> Result<ChainPlan> {
        let n = heads.len();
        let mut outcomes = vec![Outcome::Refused(RejectReason::ChainBroken); n];
        // Retries: a prefix of the batch whose heads are already stored. Only
        // looked for when the batch does not continue the stored tail (a
        // chain holds at most its capacity, so reading it is cheap).
        let mut i = 0;
        let continues_tail = n > 0 && chain_step(state.head, messages[0]) == heads[0];
        if !continues_tail && state.len > 0 {
            let stored = self.store.records(key)?;
            let by_head: std::collections::HashMap<Fr, &StoredRecord> =
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
        let refused = |r| Ok(vec![Outcome::Refused(r)]);
        if claim.device_id != device_id {
            return refused(RejectReason::WrongDevice);
        }
        if claim.epoch != cfg.epoch {
            return refused(RejectReason::OutOfEpoch);
        }
        if claim.beacon_id != expected_beacon {
            return refused(RejectReason::WrongBeacon);
        }
        if !sig_ok {
            return refused(RejectReason::BadSignature);
        }
        if !claim.location.in_range() {
            return refused(RejectReason::LocationOutOfRange);
        }
        let key = ChainKey {
            device: device_id,
            kind: StatementKind::Coverage,
            epoch: cfg.epoch,
        };
        let _guard = self.locks.lock(&key).await;
        let stored = StoredClaim { claim, signature };
        if let Some(existing) = self.store.claim(&device_id, cfg.epoch)? {
            return Ok(vec![if existing == stored {
                Outcome::Accepted
            } else {
                Outcome::Refused(RejectReason::Duplicate)
            }]);
        }
        if self.sealed(&key)? {
            return refused(RejectReason::OutOfEpoch);
        }
        let mut batch = WriteBatch::default();
        batch.push(Mutation::Claim(device_id, cfg.epoch, stored));
        self.store.commit(batch).wait().await?;
        Ok(vec![Outcome::Accepted])
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
        let n = reports.len();
        let mut outcomes = vec![Outcome::Accepted; n];
        let mut targets: Vec<Option<Fr>> = vec![None; n];
        for (i, r) in reports.iter().enumerate() {
            let rep = &r.report;
            let reason = if rep.epoch != cfg.epoch {
                Some(RejectReason::OutOfEpoch)
            } else if rep.witness_id() != witness_id {
                Some(RejectReason::WrongDevice)
            } else if !sig_ok[i] {
                Some(RejectReason::BadSignature)
            } else {
                match self.store.beacon_device(cfg.epoch, &rep.beacon_id)? {
                    None => Some(RejectReason::WrongBeacon),
                    Some(t) if t == witness_id => Some(RejectReason::SelfWitness),
                    Some(t) => {
                        targets[i] = Some(t);
                        if !rep.location.in_range() {
                            Some(RejectReason::LocationOutOfRange)
                        } else if !depin_crypto::geo::dbm_in_domain(rep.rssi_dbm) {
                            Some(RejectReason::RssiOutOfRange)
                        } else {
                            None
                        }
                    }
                }
            };
            if let Some(r) = reason {
                outcomes[i] = Outcome::Refused(r);
                targets[i] = None;
            }
        }
        let keys: Vec<ChainKey> = targets
            .iter()
            .flatten()
            .map(|t| ChainKey {
                device: *t,
                kind: StatementKind::Coverage,
                epoch: cfg.epoch,
            })
            .collect();
        if keys.is_empty() {
            return Ok(outcomes);
        }
        let _guards = self.locks.lock_many(&keys).await;
        let mut batch = WriteBatch::default();
        let mut added: std::collections::HashMap<Fr, (usize, Vec<Fr>)> =
            std::collections::HashMap::new();
        for (i, r) in reports.iter().enumerate() {
            let Some(target) = targets[i] else { continue };
            let key = ChainKey {
                device: target,
                kind: StatementKind::Coverage,
                epoch: cfg.epoch,
            };
            let rep = &r.report;
            if let Some(existing) = self.store.report(cfg.epoch, &rep.beacon_id, &witness_id)? {
                outcomes[i] = if existing == *r {
                    Outcome::Accepted
                } else {
                    Outcome::Refused(RejectReason::Duplicate)
                };
                continue;
            }
            if self.sealed(&key)? {
                outcomes[i] = Outcome::Refused(RejectReason::OutOfEpoch);
                continue;
            }
            let entry = match added.entry(rep.beacon_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let count = self.store.reports(cfg.epoch, &rep.beacon_id)?.len();
                    e.insert((count, Vec::new()))
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
            batch.push(Mutation::Report(*r));
        }
        if !batch.is_empty() {
            self.store.commit(batch).wait().await?;
        }
        Ok(outcomes)
    }
}

struct ChainPlan {
    outcomes: Vec<Outcome>,
    /// Indices of the batch's records to append (outcomes to be filled by
    /// the per-record rules).
    new: std::ops::Range<usize>,
}
