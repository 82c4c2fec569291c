//! The write side: group commit of [`WriteBatch`]es, each checked against
//! its [`Condition`]s under advisory locks.
//!
//! One task per store takes every batch waiting in its queue and applies
//! them in one transaction, in order: a batch whose conditions hold is
//! applied, one whose condition fails is skipped (answered
//! [`StoreError::Conflict`]), and the transaction commits once (one WAL
//! flush) for the whole group.
//!
//! # Locks
//!
//! Every condition and every write names a lock: `(class, key)` hashed to a
//! 64-bit `pg_advisory_xact_lock` key (FNV-1a, fixed here so that every
//! node of every build agrees). A chain's tail and its records share the
//! chain's lock; a job, a claim, a beacon id's reports, a beacon and a proof
//! have one each; the device registry, the client registry, the epochs and
//! each kind's batches have one each. The transaction takes all the locks
//! of its group first, in ascending order, in one statement: every writer
//! of a piece of state holds its lock until it commits, so the conditions,
//! read after the locks (each statement of a READ COMMITTED transaction sees
//! what committed before it), see the state the batch applies to, on this
//! node and on every other; and since no transaction waits for a lock while
//! holding a larger one, and every row it writes is covered by a lock it
//! holds, writers never deadlock.

use std::time::Duration;

use deadpool_postgres::{Pool, Transaction};
use depin_statements::records::SignedWitnessReport;
use depin_store::model::CHAIN_KEY_LEN;
use depin_store::{
    BatchRecord, ChainKey, ChainState, Condition, EpochConfig, JobRecord, JobState, Mutation,
    StoreError, StoredClaim, WriteBatch,
};
use depin_store_redb::codec::{Codec, Writer};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;

use crate::sql::{
    col, describe, fr_col, i64_of, is_contention, is_unavailable, kind_col, pool_err, KeyCols,
};

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 256;
/// Most advisory locks one group takes (PostgreSQL's lock table is shared
/// and bounded: `max_locks_per_transaction` times the connections); a
/// single batch that needs more runs alone.
const MAX_GROUP_LOCKS: usize = 1024;
/// Times a group is run again after contention or a lost connection.
const MAX_RETRIES: u32 = 5;

/// A batch waiting for the writer, with its locks and its answer.
pub(crate) struct Request {
    batch: WriteBatch,
    locks: Vec<i64>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

impl Request {
    pub(crate) fn new(batch: WriteBatch) -> (Self, oneshot::Receiver<Result<(), StoreError>>) {
        let (done, rx) = oneshot::channel();
        let mut locks: Vec<i64> = batch
            .conditions
            .iter()
            .map(condition_lock)
            .chain(batch.mutations.iter().map(mutation_lock))
            .collect();
        locks.sort_unstable();
        locks.dedup();
        (Request { batch, locks, done }, rx)
    }

    fn answer(self, result: Result<(), StoreError>) {
        // The caller may have gone (its future dropped): nothing to tell.
        let _ = self.done.send(result);
    }
}

/// The classes of locks.
mod class {
    pub const CHAIN: u8 = 1;
    pub const JOB: u8 = 2;
    pub const CLAIM: u8 = 3;
    pub const REPORTS: u8 = 4;
    pub const DEVICES: u8 = 5;
    pub const CLIENTS: u8 = 6;
    pub const EPOCHS: u8 = 7;
    pub const BATCHES: u8 = 8;
    pub const BEACON: u8 = 9;
    pub const PROOF: u8 = 10;
}

/// The advisory lock key of `(class, key)`: FNV-1a (64 bits) of a
/// namespace, the class and the key. Two keys that collide only share a
/// lock (more waiting, never less safety).
fn lock(class: u8, key: &[u8]) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in b"depin-store/".iter().chain([class].iter()).chain(key) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    i64::from_le_bytes(h.to_le_bytes())
}

/// The advisory lock of a job.
pub(crate) fn job_lock(key: &ChainKey) -> i64 {
    chain_lock(class::JOB, key)
}

fn chain_lock(class: u8, key: &ChainKey) -> i64 {
    let b: [u8; CHAIN_KEY_LEN] = key.to_bytes();
    lock(class, &b)
}

fn epoch_fr_lock(class: u8, epoch: u32, x: &depin_statements::Fr) -> i64 {
    let mut k = epoch.to_be_bytes().to_vec();
    k.extend_from_slice(&fr_col(x));
    lock(class, &k)
}

fn condition_lock(c: &Condition) -> i64 {
    match c {
        Condition::ChainTail { key, .. } => chain_lock(class::CHAIN, key),
        Condition::Job { key, .. } | Condition::Attempt { key, .. } => chain_lock(class::JOB, key),
        Condition::NoClaim { device, epoch } => claim_lock(device, *epoch),
        Condition::NoReport {
            epoch, beacon_id, ..
        }
        | Condition::ReportCount {
            epoch, beacon_id, ..
        } => epoch_fr_lock(class::REPORTS, *epoch, beacon_id),
        Condition::DeviceCount(_) => lock(class::DEVICES, &[]),
        Condition::ClientCount(_) => lock(class::CLIENTS, &[]),
        Condition::LatestEpoch(_) | Condition::NoEpoch(_) => lock(class::EPOCHS, &[]),
        Condition::BatchCount { kind, .. } | Condition::BatchAttempt { kind, .. } => {
            lock(class::BATCHES, &[kind.code()])
        }
    }
}

fn claim_lock(device: &depin_statements::Fr, epoch: u32) -> i64 {
    let mut k = fr_col(device);
    k.extend_from_slice(&epoch.to_be_bytes());
    lock(class::CLAIM, &k)
}

fn mutation_lock(m: &Mutation) -> i64 {
    match m {
        Mutation::Device(..) => lock(class::DEVICES, &[]),
        Mutation::Client { .. } => lock(class::CLIENTS, &[]),
        Mutation::Epoch(_) => lock(class::EPOCHS, &[]),
        Mutation::Beacon {
            epoch, beacon_id, ..
        } => epoch_fr_lock(class::BEACON, *epoch, beacon_id),
        Mutation::Chain(key, _) | Mutation::Record(key, ..) => chain_lock(class::CHAIN, key),
        Mutation::Claim(device, epoch, _) => claim_lock(device, *epoch),
        Mutation::Report(r) => epoch_fr_lock(class::REPORTS, r.report.epoch, &r.report.beacon_id),
        Mutation::Job(job) => chain_lock(class::JOB, &job.key),
        Mutation::Proof(key, _) => chain_lock(class::PROOF, key),
        Mutation::Batch(b) => lock(class::BATCHES, &[b.kind.code()]),
    }
}

/// The writer: gathers the waiting batches into groups and commits each.
/// Ends when every sender is gone, after the batches already queued.
/// `target` (`host:port/dbname`) names the server in errors.
pub(crate) async fn writer_loop(
    pool: Pool,
    target: String,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let mut next: Option<Request> = None;
    loop {
        let first = match next.take() {
            Some(r) => r,
            None => match rx.recv().await {
                Some(r) => r,
                None => return,
            },
        };
        let mut locks = first.locks.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) if locks + r.locks.len() > MAX_GROUP_LOCKS => {
                    next = Some(r);
                    break;
                }
                Ok(r) => {
                    locks += r.locks.len();
                    group.push(r);
                }
                Err(_) => break,
            }
        }
        commit_group(&pool, &target, group).await;
    }
}

/// Why a group's transaction did not commit.
enum GroupError {
    /// Batch `.0` cannot be applied (bad data, a constraint): it is
    /// answered `.1` and the group runs again without it.
    Batch(usize, StoreError),
    /// Contention (`.contention`) or the database unreachable (a
    /// connection lost or refused) before COMMIT: the transaction wrote
    /// nothing, run it again.
    Retry { message: String, contention: bool },
    /// Nothing to retry: every batch is answered with this error.
    Fatal(FatalError),
}

/// What every batch of a group that cannot be retried is answered.
enum FatalError {
    /// [`StoreError::Database`].
    Database(String),
    /// [`StoreError::Unavailable`]: the connection was lost during COMMIT,
    /// so whether the group was written is unknown.
    Unknown(String),
    /// [`StoreError::Closed`] (the pool was closed).
    Closed,
}

impl FatalError {
    fn error(&self) -> StoreError {
        match self {
            FatalError::Database(m) => StoreError::Database(m.clone()),
            FatalError::Unknown(m) => StoreError::Unavailable(m.clone()),
            FatalError::Closed => StoreError::Closed,
        }
    }
}

/// An error of a statement run for batch `i`.
fn in_batch(i: usize, context: &str, e: &tokio_postgres::Error) -> GroupError {
    if is_contention(e) || is_unavailable(e) {
        GroupError::Retry {
            message: describe(context, e),
            contention: is_contention(e),
        }
    } else {
        GroupError::Batch(i, StoreError::Database(describe(context, e)))
    }
}

/// An error of a statement run for the whole group.
fn in_group(context: &str, e: &tokio_postgres::Error) -> GroupError {
    if is_contention(e) || is_unavailable(e) {
        GroupError::Retry {
            message: describe(context, e),
            contention: is_contention(e),
        }
    } else {
        GroupError::Fatal(FatalError::Database(describe(context, e)))
    }
}

/// Commits `group` (retrying as [`GroupError`] says) and answers every
/// batch.
async fn commit_group(pool: &Pool, target: &str, mut group: Vec<Request>) {
    let mut retries = 0;
    while !group.is_empty() {
        match try_group(pool, target, &group).await {
            Ok(verdicts) => {
                for (r, failed) in group.into_iter().zip(verdicts) {
                    r.answer(match failed {
                        None => Ok(()),
                        Some(c) => Err(StoreError::Conflict(c)),
                    });
                }
                return;
            }
            Err(GroupError::Batch(i, e)) => group.remove(i).answer(Err(e)),
            Err(GroupError::Retry { .. }) if retries < MAX_RETRIES => {
                retries += 1;
                tokio::time::sleep(backoff(retries)).await;
            }
            Err(GroupError::Retry {
                message,
                contention,
            }) => {
                for r in group {
                    // Still contended after every retry: a conditional batch
                    // is answered as a conflict on its first condition (the
                    // caller reads again and retries, as on any conflict).
                    // Still unreachable: unavailable (nothing was written).
                    let e = match r.batch.conditions.first() {
                        Some(c) if contention => StoreError::Conflict(c.clone()),
                        _ if contention => {
                            StoreError::Database(format!("{message} (after {MAX_RETRIES} retries)"))
                        }
                        _ => StoreError::Unavailable(format!(
                            "{message} (after {MAX_RETRIES} retries; nothing was written)"
                        )),
                    };
                    r.answer(Err(e));
                }
                return;
            }
            Err(GroupError::Fatal(fatal)) => {
                for r in group {
                    r.answer(Err(fatal.error()));
                }
                return;
            }
        }
    }
}

/// 10 ms, 20 ms, 40 ms, ... with up to 50% jitter (nodes retrying the same
/// contention spread out).
fn backoff(retry: u32) -> Duration {
    let base = 10u64 << retry.min(6);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    Duration::from_millis(base + nanos % (base / 2 + 1))
}

/// The lock statement: the keys come sorted, and `unnest` yields them in
/// order, one lock at a time.
const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS k";

/// One transaction for `group`: every lock, then each batch's conditions
/// and (if they hold) its writes, then COMMIT. Returns per batch the
/// condition that failed, or `None` (applied).
async fn try_group(
    pool: &Pool,
    target: &str,
    group: &[Request],
) -> Result<Vec<Option<Condition>>, GroupError> {
    let mut client = pool.get().await.map_err(|e| {
        match pool_err("taking a connection from the pool", target, &e) {
            StoreError::Unavailable(message) => GroupError::Retry {
                message,
                contention: false,
            },
            StoreError::Closed => GroupError::Fatal(FatalError::Closed),
            StoreError::Database(message) => GroupError::Fatal(FatalError::Database(message)),
            other => GroupError::Fatal(FatalError::Database(other.to_string())),
        }
    })?;
    let tx = client
        .transaction()
        .await
        .map_err(|e| in_group("BEGIN", &e))?;
    let mut keys: Vec<i64> = group.iter().flat_map(|r| r.locks.iter().copied()).collect();
    keys.sort_unstable();
    keys.dedup();
    if !keys.is_empty() {
        let st = tx
            .prepare_cached(LOCK_SQL)
            .await
            .map_err(|e| in_group("preparing the lock statement", &e))?;
        tx.execute(&st, &[&keys])
            .await
            .map_err(|e| in_group("taking the batches' locks", &e))?;
    }
    let mut verdicts = Vec::with_capacity(group.len());
    for (i, r) in group.iter().enumerate() {
        let mut failed = None;
        for c in &r.batch.conditions {
            if !holds(&tx, c).await.map_err(|e| e.in_batch(i))? {
                failed = Some(c.clone());
                break;
            }
        }
        if failed.is_none() {
            for m in &r.batch.mutations {
                apply(&tx, m).await.map_err(|e| e.in_batch(i))?;
            }
        }
        verdicts.push(failed);
    }
    tx.commit().await.map_err(|e| {
        if is_contention(&e) {
            // Refused: nothing was written, run the group again.
            in_group("COMMIT", &e)
        } else if is_unavailable(&e) {
            // The connection failed (or the server went down) while COMMIT
            // ran: it may or may not have committed. Unavailable, so that
            // the caller retries; a retry plans again on what it reads, and
            // a batch already applied fails its conditions.
            GroupError::Fatal(FatalError::Unknown(describe(
                "COMMIT: the connection was lost during COMMIT, so whether the batch was \
                 written is unknown (read it back, or retry: its conditions refuse it if it \
                 was)",
                &e,
            )))
        } else if e.as_db_error().is_some() {
            GroupError::Fatal(FatalError::Database(describe(
                "COMMIT (nothing was written)",
                &e,
            )))
        } else {
            GroupError::Fatal(FatalError::Database(describe(
                "COMMIT: the client failed, so whether the batch was written is unknown \
                 (read it back before writing it again)",
                &e,
            )))
        }
    })?;
    Ok(verdicts)
}

/// A failed statement of one batch.
enum OpError {
    Pg(&'static str, tokio_postgres::Error),
    Data(StoreError),
}

impl OpError {
    fn in_batch(self, i: usize) -> GroupError {
        match self {
            OpError::Pg(context, e) => in_batch(i, context, &e),
            OpError::Data(e) => GroupError::Batch(i, e),
        }
    }
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        OpError::Data(e)
    }
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

async fn execute(
    tx: &Transaction<'_>,
    context: &'static str,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, OpError> {
    let st = tx
        .prepare_cached(sql)
        .await
        .map_err(|e| OpError::Pg(context, e))?;
    tx.execute(&st, params)
        .await
        .map_err(|e| OpError::Pg(context, e))
}

async fn query_opt(
    tx: &Transaction<'_>,
    context: &'static str,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<tokio_postgres::Row>, OpError> {
    let st = tx
        .prepare_cached(sql)
        .await
        .map_err(|e| OpError::Pg(context, e))?;
    tx.query_opt(&st, params)
        .await
        .map_err(|e| OpError::Pg(context, e))
}

/// The value of a query that returns one row of one column.
async fn scalar<T>(
    tx: &Transaction<'_>,
    context: &'static str,
    sql: &str,
    params: &Params<'_>,
) -> Result<T, OpError>
where
    T: for<'a> tokio_postgres::types::FromSql<'a>,
{
    let st = tx
        .prepare_cached(sql)
        .await
        .map_err(|e| OpError::Pg(context, e))?;
    let row = tx
        .query_one(&st, params)
        .await
        .map_err(|e| OpError::Pg(context, e))?;
    row.try_get(0).map_err(|e| OpError::Pg(context, e))
}

/// The value (column 0) of the row of `sql` in `tx`, decoded.
async fn stored_value<T: Codec>(
    tx: &Transaction<'_>,
    context: &'static str,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<T>, OpError> {
    let row = query_opt(tx, context, sql, params).await?;
    Ok(row
        .map(|r| col::<Vec<u8>>(&r, 0, context).and_then(|v| Ok(T::decode(&v)?)))
        .transpose()?)
}

/// A job as stored, read in `tx`.
async fn stored_job(tx: &Transaction<'_>, key: &ChainKey) -> Result<Option<JobRecord>, OpError> {
    let k = KeyCols::of(key);
    stored_value(
        tx,
        "reading a job",
        "SELECT value FROM jobs WHERE device = $1 AND kind = $2 AND epoch = $3",
        &[&k.device, &k.kind, &k.epoch],
    )
    .await
}

/// A batch as stored, read in `tx`.
async fn stored_batch(
    tx: &Transaction<'_>,
    kind: depin_statements::StatementKind,
    sequence: u64,
) -> Result<Option<BatchRecord>, OpError> {
    let sequence = i64_of(sequence, "a batch's sequence number")?;
    stored_value(
        tx,
        "reading a batch",
        "SELECT value FROM batches WHERE kind = $1 AND sequence = $2",
        &[&kind_col(kind), &sequence],
    )
    .await
}

/// Whether `c` holds in the transaction's current state.
async fn holds(tx: &Transaction<'_>, c: &Condition) -> Result<bool, OpError> {
    Ok(match c {
        Condition::ChainTail { key, tail } => {
            let k = KeyCols::of(key);
            let row = query_opt(
                tx,
                "checking a chain's tail",
                "SELECT len, head FROM chains WHERE device = $1 AND kind = $2 AND epoch = $3",
                &[&k.device, &k.kind, &k.epoch],
            )
            .await?;
            match (row, tail) {
                (None, None) => true,
                (Some(row), Some((len, head))) => {
                    let stored_len: i64 = col(&row, 0, "chain length")?;
                    let stored_head: Vec<u8> = col(&row, 1, "chain head")?;
                    stored_len == i64::from(*len) && stored_head == fr_col(head)
                }
                _ => false,
            }
        }
        Condition::Job { key, .. } | Condition::Attempt { key, .. } => {
            c.holds_for_job(stored_job(tx, key).await?.as_ref()) == Some(true)
        }
        Condition::NoClaim { device, epoch } => {
            !scalar::<bool>(
                tx,
                "checking for a claim",
                "SELECT EXISTS (SELECT 1 FROM claims WHERE device = $1 AND epoch = $2)",
                &[&fr_col(device), &i64::from(*epoch)],
            )
            .await?
        }
        Condition::NoReport {
            epoch,
            beacon_id,
            witness,
        } => {
            !scalar::<bool>(
                tx,
                "checking for a witness report",
                "SELECT EXISTS (SELECT 1 FROM reports \
                 WHERE epoch = $1 AND beacon_id = $2 AND witness = $3)",
                &[&i64::from(*epoch), &fr_col(beacon_id), &fr_col(witness)],
            )
            .await?
        }
        Condition::ReportCount {
            epoch,
            beacon_id,
            count,
        } => {
            let n: i64 = scalar(
                tx,
                "counting a beacon's reports",
                "SELECT count(*) FROM reports WHERE epoch = $1 AND beacon_id = $2",
                &[&i64::from(*epoch), &fr_col(beacon_id)],
            )
            .await?;
            usize::try_from(n).ok() == Some(*count)
        }
        Condition::DeviceCount(count) => {
            let n: i64 =
                scalar(tx, "counting devices", "SELECT count(*) FROM devices", &[]).await?;
            u64::try_from(n).ok() == Some(*count)
        }
        Condition::ClientCount(count) => {
            let n: i64 =
                scalar(tx, "counting clients", "SELECT count(*) FROM clients", &[]).await?;
            n == i64::from(*count)
        }
        Condition::LatestEpoch(epoch) => {
            let latest: Option<i64> = scalar(
                tx,
                "reading the latest epoch",
                "SELECT max(epoch) FROM epochs",
                &[],
            )
            .await?;
            latest == epoch.map(i64::from)
        }
        Condition::NoEpoch(epoch) => {
            !scalar::<bool>(
                tx,
                "checking for an epoch",
                "SELECT EXISTS (SELECT 1 FROM epochs WHERE epoch = $1)",
                &[&i64::from(*epoch)],
            )
            .await?
        }
        Condition::BatchCount { kind, count } => {
            let n: i64 = scalar(
                tx,
                "counting batches",
                "SELECT count(*) FROM batches WHERE kind = $1",
                &[&kind_col(*kind)],
            )
            .await?;
            u64::try_from(n).ok() == Some(*count)
        }
        Condition::BatchAttempt { kind, sequence, .. } => {
            c.holds_for_batch(stored_batch(tx, *kind, *sequence).await?.as_ref()) == Some(true)
        }
    })
}

/// Applies one write (an upsert: a write replaces what its key held).
async fn apply(tx: &Transaction<'_>, m: &Mutation) -> Result<(), OpError> {
    match m {
        Mutation::Device(id, key) => {
            let mut w = Writer::default();
            w.point(&key.0);
            execute(
                tx,
                "registering a device",
                "INSERT INTO devices (id, value) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
                &[&fr_col(id), &w.0],
            )
            .await?;
        }
        Mutation::Client { id, index, key } => {
            let mut w = Writer::default();
            w.u32(*index).point(&key.0);
            execute(
                tx,
                "registering a client",
                "INSERT INTO clients (idx, id, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (idx) DO UPDATE SET id = EXCLUDED.id, value = EXCLUDED.value",
                &[&i64::from(*index), &fr_col(id), &w.0],
            )
            .await?;
        }
        Mutation::Epoch(cfg) => epoch(tx, cfg).await?,
        Mutation::Beacon {
            epoch,
            beacon_id,
            device,
        } => {
            execute(
                tx,
                "indexing a beacon id",
                "INSERT INTO beacons (epoch, beacon_id, device) VALUES ($1, $2, $3) \
                 ON CONFLICT (epoch, beacon_id) DO UPDATE SET device = EXCLUDED.device",
                &[&i64::from(*epoch), &fr_col(beacon_id), &fr_col(device)],
            )
            .await?;
        }
        Mutation::Chain(key, state) => chain(tx, key, state).await?,
        Mutation::Record(key, position, record) => {
            let k = KeyCols::of(key);
            execute(
                tx,
                "appending a record",
                "INSERT INTO records (device, kind, epoch, position, value) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (device, kind, epoch, position) DO UPDATE SET value = EXCLUDED.value",
                &[
                    &k.device,
                    &k.kind,
                    &k.epoch,
                    &i64::from(*position),
                    &record.encode(),
                ],
            )
            .await?;
        }
        Mutation::Claim(device, epoch, claim) => claim_write(tx, device, *epoch, claim).await?,
        Mutation::Report(r) => report(tx, r).await?,
        Mutation::Job(job) => job_write(tx, job).await?,
        Mutation::Proof(key, bytes) => {
            let k = KeyCols::of(key);
            execute(
                tx,
                "storing a proof",
                "INSERT INTO proofs (device, kind, epoch, proof) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (device, kind, epoch) DO UPDATE SET proof = EXCLUDED.proof",
                &[&k.device, &k.kind, &k.epoch, bytes],
            )
            .await?;
        }
        Mutation::Batch(batch) => batch_write(tx, batch).await?,
    }
    Ok(())
}

async fn epoch(tx: &Transaction<'_>, cfg: &EpochConfig) -> Result<(), OpError> {
    execute(
        tx,
        "publishing an epoch",
        "INSERT INTO epochs (epoch, value) VALUES ($1, $2) \
         ON CONFLICT (epoch) DO UPDATE SET value = EXCLUDED.value",
        &[&i64::from(cfg.epoch), &cfg.encode()],
    )
    .await?;
    Ok(())
}

async fn chain(tx: &Transaction<'_>, key: &ChainKey, state: &ChainState) -> Result<(), OpError> {
    let k = KeyCols::of(key);
    execute(
        tx,
        "writing a chain's tail",
        "INSERT INTO chains (device, kind, epoch, len, head, value) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (device, kind, epoch) \
         DO UPDATE SET len = EXCLUDED.len, head = EXCLUDED.head, value = EXCLUDED.value",
        &[
            &k.device,
            &k.kind,
            &k.epoch,
            &i64::from(state.len),
            &fr_col(&state.head),
            &state.encode(),
        ],
    )
    .await?;
    Ok(())
}

async fn claim_write(
    tx: &Transaction<'_>,
    device: &depin_statements::Fr,
    epoch: u32,
    claim: &StoredClaim,
) -> Result<(), OpError> {
    execute(
        tx,
        "storing a claim",
        "INSERT INTO claims (device, epoch, value) VALUES ($1, $2, $3) \
         ON CONFLICT (device, epoch) DO UPDATE SET value = EXCLUDED.value",
        &[&fr_col(device), &i64::from(epoch), &claim.encode()],
    )
    .await?;
    Ok(())
}

async fn report(tx: &Transaction<'_>, r: &SignedWitnessReport) -> Result<(), OpError> {
    execute(
        tx,
        "storing a witness report",
        "INSERT INTO reports (epoch, beacon_id, witness, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (epoch, beacon_id, witness) DO UPDATE SET value = EXCLUDED.value",
        &[
            &i64::from(r.report.epoch),
            &fr_col(&r.report.beacon_id),
            &fr_col(&r.report.witness_id()),
            &r.encode(),
        ],
    )
    .await?;
    Ok(())
}

/// The `lease_until_ms` column of a job: when its lease ends while a node
/// proves it on its own (0 without a lease), else NULL.
fn lease_column(job: &JobRecord) -> Result<Option<i64>, StoreError> {
    if job.state != JobState::Proving || job.batch.is_some() {
        return Ok(None);
    }
    let until = job.lease.as_ref().map_or(0, |l| l.until_ms);
    i64_of(until, "a job's lease").map(Some)
}

/// Writes a job (and announces it) in `tx`.
pub(crate) async fn write_job(tx: &Transaction<'_>, job: &JobRecord) -> Result<(), StoreError> {
    job_write(tx, job).await.map_err(|e| match e {
        OpError::Pg(context, e) => crate::sql::pg_err(context, &e),
        OpError::Data(e) => e,
    })
}

async fn job_write(tx: &Transaction<'_>, job: &JobRecord) -> Result<(), OpError> {
    let k = KeyCols::of(&job.key);
    let created = i64_of(job.created_ms, "a job's creation time")?;
    let lease = lease_column(job)?;
    execute(
        tx,
        "writing a job",
        "INSERT INTO jobs (device, kind, epoch, state, created_ms, value, lease_until_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (device, kind, epoch) DO UPDATE SET \
         state = EXCLUDED.state, created_ms = EXCLUDED.created_ms, value = EXCLUDED.value, \
         lease_until_ms = EXCLUDED.lease_until_ms",
        &[
            &k.device,
            &k.kind,
            &k.epoch,
            &(job.state as i16),
            &created,
            &job.encode(),
            &lease,
        ],
    )
    .await?;
    // Watchers and idle workers of every node hear of it once this commits
    // (never sent for ingest: only job writes notify).
    execute(
        tx,
        "announcing a job change",
        "SELECT pg_notify($1, $2)",
        &[&crate::listen::JOB_CHANNEL, &job.key.job_id()],
    )
    .await?;
    Ok(())
}

/// Writes a batch and re-indexes its members (a replaced batch's old
/// members leave the index).
async fn batch_write(tx: &Transaction<'_>, batch: &BatchRecord) -> Result<(), OpError> {
    let kind = kind_col(batch.kind);
    let sequence = i64_of(batch.sequence, "a batch's sequence number")?;
    execute(
        tx,
        "writing a batch",
        "INSERT INTO batches (kind, sequence, state, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind, sequence) DO UPDATE SET state = EXCLUDED.state, value = EXCLUDED.value",
        &[&kind, &sequence, &(batch.state as i16), &batch.encode()],
    )
    .await?;
    execute(
        tx,
        "re-indexing a batch's members",
        "DELETE FROM device_batches WHERE kind = $1 AND sequence = $2",
        &[&kind, &sequence],
    )
    .await?;
    let devices: Vec<Vec<u8>> = batch.members.iter().map(|m| fr_col(&m.device)).collect();
    execute(
        tx,
        "indexing a batch's members",
        "INSERT INTO device_batches (kind, device, sequence) \
         SELECT $1::int2, d, $3::int8 FROM unnest($2::bytea[]) AS d ON CONFLICT DO NOTHING",
        &[&kind, &devices, &sequence],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_statements::{Fr, StatementKind};

    #[test]
    fn lock_keys_are_fixed() {
        // Every node of every build must agree: pinned values.
        assert_eq!(lock(class::DEVICES, &[]), lock(class::DEVICES, &[]));
        assert_ne!(lock(class::DEVICES, &[]), lock(class::CLIENTS, &[]));
        // FNV-1a 64 of b"depin-store/\0", computed independently.
        assert_eq!(lock(0, &[]), -1_488_469_513_689_122_990);
        let key = ChainKey {
            device: Fr::from(5u64),
            kind: StatementKind::Uptime,
            epoch: 1,
        };
        assert_ne!(chain_lock(class::CHAIN, &key), chain_lock(class::JOB, &key));
    }

    #[test]
    fn a_batch_locks_what_it_reads_and_writes() {
        let key = ChainKey {
            device: Fr::from(5u64),
            kind: StatementKind::Uptime,
            epoch: 1,
        };
        let mut b = WriteBatch::default();
        b.require(Condition::ChainTail { key, tail: None });
        b.require(Condition::Job { key, state: None });
        b.push(Mutation::Chain(key, ChainState::new(Fr::from(1u64))));
        let (r, _rx) = Request::new(b);
        // The chain's condition and write share one lock; the job has its own.
        assert_eq!(r.locks.len(), 2);
        assert!(r.locks.windows(2).all(|w| w[0] < w[1]));
    }
}
