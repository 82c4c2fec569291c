//! The embedded store: [redb](https://docs.rs/redb) (pure Rust, ACID,
//! copy-on-write B-trees, fsync on every commit), one file per node.
//!
//! One thread owns the write side. It takes every batch waiting in its
//! queue, applies them all in one write transaction, commits (one fsync) and
//! then answers each batch: group commit, so that throughput does not stop
//! at one fsync per request. Each batch's conditions are checked inside that
//! transaction, against the state the earlier batches of the group left, so
//! a batch whose conditions fail is skipped (and answered
//! [`StoreError::Conflict`]) while the others commit. Readers use MVCC
//! snapshots and never wait for the writer.
//!
//! Values are encoded by [`codec`].

pub mod codec;

use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

use redb::{Database, ReadableTable, ReadableTableMetadata, Table, TableDefinition};

use async_trait::async_trait;
use depin_crypto::eddsa::PublicKey;
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_statements::records::SignedWitnessReport;
use depin_statements::{Fr, StatementKind};
use depin_store::model::CHAIN_KEY_LEN;
use depin_store::{
    BatchRecord, ChainKey, ChainState, ClaimRequest, CodecError, Condition, EpochConfig, JobRecord,
    Mutation, Store, StoreError, StoredClaim, StoredRecord, WriteBatch,
};

use codec::{Codec, Reader, Writer};

type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;

const DEVICES: Bytes = TableDefinition::new("devices");
const CLIENTS: Bytes = TableDefinition::new("clients");
const CLIENT_INDEX: Bytes = TableDefinition::new("client_index");
const EPOCHS: Bytes = TableDefinition::new("epochs");
const BEACONS: Bytes = TableDefinition::new("beacons");
const CHAINS: Bytes = TableDefinition::new("chains");
const RECORDS: Bytes = TableDefinition::new("records");
const CLAIMS: Bytes = TableDefinition::new("claims");
const REPORTS: Bytes = TableDefinition::new("reports");
const JOBS: Bytes = TableDefinition::new("jobs");
const PENDING: Bytes = TableDefinition::new("pending_jobs");
const PROOFS: Bytes = TableDefinition::new("proofs");
/// `kind (1) || sequence (8, BE)` to the batch.
const BATCHES: Bytes = TableDefinition::new("batches");
/// `kind (1) || device (32) || sequence (8, BE)`, empty values: the
/// batches that hold a device.
const DEVICE_BATCHES: Bytes = TableDefinition::new("device_batches");

const ALL: [Bytes; 14] = [
    DEVICES,
    CLIENTS,
    CLIENT_INDEX,
    EPOCHS,
    BEACONS,
    CHAINS,
    RECORDS,
    CLAIMS,
    REPORTS,
    JOBS,
    PENDING,
    PROOFS,
    BATCHES,
    DEVICE_BATCHES,
];

type KeyValue = (Vec<u8>, Vec<u8>);

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 512;

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Database(format!("{}: {e}", path.display()))
}

/// Creates an empty database with every table at `path`, whole or not at
/// all.
fn create(path: &Path) -> Result<(), StoreError> {
    let tmp = depin_durable::temp_path(path);
    // Owner-only from the moment it exists (the records are the devices'
    // private data); redb initialises the empty file.
    drop(depin_durable::create_private(&tmp).map_err(|e| io_err(&tmp, e))?);
    {
        let db = Database::create(&tmp).map_err(|e| io_err(&tmp, std::io::Error::other(e)))?;
        let txn = db.begin_write().map_err(db_err)?;
        for t in ALL {
            txn.open_table(t).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
    }
    depin_durable::publish(&tmp, path).map_err(|e| io_err(path, e))?;
    Ok(())
}

type Request = (
    WriteBatch,
    tokio::sync::oneshot::Sender<Result<(), StoreError>>,
);

/// Whether `table` holds `key`.
fn has(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<bool, StoreError> {
    Ok(table.get(key).map_err(db_err)?.is_some())
}

/// Keys of `table` with `prefix`.
fn count_prefix(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<usize, StoreError> {
    let (lo, hi) = prefix_range(prefix);
    let mut n = 0;
    for item in table.range(lo.as_slice()..hi.as_slice()).map_err(db_err)? {
        let (k, _) = item.map_err(db_err)?;
        if !k.value().starts_with(prefix) {
            break;
        }
        n += 1;
    }
    Ok(n)
}

/// The embedded redb store.
pub struct RedbStore {
    db: std::sync::Arc<Database>,
    writer: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

fn fr_key(x: &Fr) -> [u8; 32] {
    fr_to_le_bytes(x)
}

fn fr_of(b: &[u8], what: &'static str) -> Result<Fr, StoreError> {
    let arr: [u8; 32] = b.try_into().map_err(|_| {
        StoreError::Codec(CodecError {
            what,
            reason: "not 32 bytes",
        })
    })?;
    fr_from_le_bytes(&arr).map_err(|_| {
        StoreError::Codec(CodecError {
            what,
            reason: "field element not canonical",
        })
    })
}

/// A batch's key.
fn batch_key(kind: StatementKind, sequence: u64) -> Vec<u8> {
    cat(&[&[kind.code()], &sequence.to_be_bytes()])
}

/// The prefix of the device's entries in the kind's batch index.
fn device_batches_prefix(kind: StatementKind, device: &Fr) -> Vec<u8> {
    cat(&[&[kind.code()], &fr_key(device)])
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

/// `prefix` and the smallest byte string above every key with that prefix.
fn prefix_range(prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut end = prefix.to_vec();
    end.push(0xff);
    end.extend_from_slice(&[0xff; 64]);
    (prefix.to_vec(), end)
}

impl RedbStore {
    /// Opens the database file at `path` and starts the writer. A missing
    /// database is created whole or not at all (with every table, beside
    /// it, fsynced, then moved into place; [`depin_durable`]), so a start
    /// killed at any moment never leaves a file that later starts cannot
    /// open; the leftovers of such a start are removed. The file (0600) and
    /// the directories created for it (0700) are owner-only. A database that
    /// exists but does not open is never deleted or rewritten: the error
    /// names the file and says what to do.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            depin_durable::create_private_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
        depin_durable::remove_stale(path).map_err(|e| io_err(path, e))?;
        if !path.exists() {
            create(path)?;
        }
        let db = Database::open(path).map_err(|e| {
            StoreError::Database(format!(
                "{}: {e}. It is not a database this build can open (an interrupted first \
                 start leaves none behind): restore it from a backup, or move it aside to \
                 start with an empty store",
                path.display()
            ))
        })?;
        // Tables a newer build adds to an existing database.
        let txn = db.begin_write().map_err(db_err)?;
        for t in ALL {
            txn.open_table(t).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        let db = std::sync::Arc::new(db);
        let (tx, rx) = mpsc::channel::<Request>();
        let wdb = db.clone();
        let thread = std::thread::Builder::new()
            .name("redb-writer".into())
            .spawn(move || writer_loop(&wdb, &rx))
            .map_err(db_err)?;
        Ok(RedbStore {
            db,
            writer: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Stops the writer after the batches already queued are committed.
    pub fn close(&self) {
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        if let Ok(mut t) = self.thread.lock() {
            if let Some(t) = t.take() {
                let _ = t.join();
            }
        }
    }

    fn get(&self, table: Bytes, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(table).map_err(db_err)?;
        Ok(t.get(key).map_err(db_err)?.map(|v| v.value().to_vec()))
    }

    fn scan(&self, table: Bytes, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.scan_from(table, prefix, prefix)
    }

    /// The entries with `prefix` whose keys are `from` or above.
    fn scan_from(
        &self,
        table: Bytes,
        prefix: &[u8],
        from: &[u8],
    ) -> Result<Vec<KeyValue>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(table).map_err(db_err)?;
        let (lo, hi) = prefix_range(prefix);
        let lo = std::cmp::max(lo.as_slice(), from).to_vec();
        let mut out = Vec::new();
        for item in t.range(lo.as_slice()..hi.as_slice()).map_err(db_err)? {
            let (k, v) = item.map_err(db_err)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer_loop(db: &Database, rx: &mpsc::Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let (batches, answers): (Vec<WriteBatch>, Vec<_>) = group.into_iter().unzip();
        match apply_group(db, &batches) {
            Ok(verdicts) => {
                for (done, verdict) in answers.into_iter().zip(verdicts) {
                    let _ = done.send(match verdict {
                        None => Ok(()),
                        Some(c) => Err(StoreError::Conflict(c)),
                    });
                }
            }
            Err(e) => {
                for done in answers {
                    let _ = done.send(Err(StoreError::Database(e.to_string())));
                }
            }
        }
    }
}

/// The tables of one write transaction.
struct Tables<'txn> {
    devices: Table<'txn, &'static [u8], &'static [u8]>,
    clients: Table<'txn, &'static [u8], &'static [u8]>,
    client_index: Table<'txn, &'static [u8], &'static [u8]>,
    epochs: Table<'txn, &'static [u8], &'static [u8]>,
    beacons: Table<'txn, &'static [u8], &'static [u8]>,
    chains: Table<'txn, &'static [u8], &'static [u8]>,
    records: Table<'txn, &'static [u8], &'static [u8]>,
    claims: Table<'txn, &'static [u8], &'static [u8]>,
    reports: Table<'txn, &'static [u8], &'static [u8]>,
    jobs: Table<'txn, &'static [u8], &'static [u8]>,
    pending: Table<'txn, &'static [u8], &'static [u8]>,
    proofs: Table<'txn, &'static [u8], &'static [u8]>,
    batches: Table<'txn, &'static [u8], &'static [u8]>,
    device_batches: Table<'txn, &'static [u8], &'static [u8]>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            devices: txn.open_table(DEVICES).map_err(db_err)?,
            clients: txn.open_table(CLIENTS).map_err(db_err)?,
            client_index: txn.open_table(CLIENT_INDEX).map_err(db_err)?,
            epochs: txn.open_table(EPOCHS).map_err(db_err)?,
            beacons: txn.open_table(BEACONS).map_err(db_err)?,
            chains: txn.open_table(CHAINS).map_err(db_err)?,
            records: txn.open_table(RECORDS).map_err(db_err)?,
            claims: txn.open_table(CLAIMS).map_err(db_err)?,
            reports: txn.open_table(REPORTS).map_err(db_err)?,
            jobs: txn.open_table(JOBS).map_err(db_err)?,
            pending: txn.open_table(PENDING).map_err(db_err)?,
            proofs: txn.open_table(PROOFS).map_err(db_err)?,
            batches: txn.open_table(BATCHES).map_err(db_err)?,
            device_batches: txn.open_table(DEVICE_BATCHES).map_err(db_err)?,
        })
    }

    /// Whether `c` holds in the transaction's current state.
    fn holds(&self, c: &Condition) -> Result<bool, StoreError> {
        Ok(match c {
            Condition::ChainTail { key, tail } => {
                let state = self
                    .chains
                    .get(key.to_bytes().as_slice())
                    .map_err(db_err)?
                    .map(|v| ChainState::decode(v.value()))
                    .transpose()?;
                state.map(|s| (s.len, s.head)) == *tail
            }
            Condition::Job { key, .. } | Condition::Attempt { key, .. } => {
                let job = self
                    .jobs
                    .get(key.to_bytes().as_slice())
                    .map_err(db_err)?
                    .map(|v| JobRecord::decode(v.value()))
                    .transpose()?;
                c.holds_for_job(job.as_ref()) == Some(true)
            }
            Condition::NoClaim { device, epoch } => {
                !has(&self.claims, &cat(&[&fr_key(device), &epoch.to_be_bytes()]))?
            }
            Condition::NoReport {
                epoch,
                beacon_id,
                witness,
            } => !has(
                &self.reports,
                &cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id), &fr_key(witness)]),
            )?,
            Condition::ReportCount {
                epoch,
                beacon_id,
                count,
            } => {
                count_prefix(
                    &self.reports,
                    &cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]),
                )? == *count
            }
            Condition::DeviceCount(n) => self.devices.len().map_err(db_err)? == *n,
            Condition::ClientCount(n) => self.client_index.len().map_err(db_err)? == u64::from(*n),
            Condition::LatestEpoch(e) => {
                let last = self.epochs.last().map_err(db_err)?;
                last.and_then(|(k, _)| k.value().try_into().ok().map(u32::from_be_bytes)) == *e
            }
            Condition::NoEpoch(e) => !has(&self.epochs, &e.to_be_bytes())?,
            Condition::BatchCount { kind, count } => {
                count_prefix(&self.batches, &[kind.code()])? as u64 == *count
            }
            Condition::BatchAttempt { kind, sequence, .. } => {
                let batch = self
                    .batches
                    .get(batch_key(*kind, *sequence).as_slice())
                    .map_err(db_err)?
                    .map(|v| BatchRecord::decode(v.value()))
                    .transpose()?;
                c.holds_for_batch(batch.as_ref()) == Some(true)
            }
        })
    }

    /// Applies one write.
    fn apply(&mut self, m: &Mutation) -> Result<(), StoreError> {
        match m {
            Mutation::Device(id, key) => {
                let mut w = Writer::default();
                w.point(&key.0);
                self.devices
                    .insert(fr_key(id).as_slice(), w.0.as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Client { id, index, key } => {
                let mut w = Writer::default();
                w.u32(*index).point(&key.0);
                self.clients
                    .insert(fr_key(id).as_slice(), w.0.as_slice())
                    .map_err(db_err)?;
                self.client_index
                    .insert(index.to_be_bytes().as_slice(), fr_key(id).as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Epoch(cfg) => {
                self.epochs
                    .insert(cfg.epoch.to_be_bytes().as_slice(), cfg.encode().as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Beacon {
                epoch,
                beacon_id,
                device,
            } => {
                let k = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]);
                self.beacons
                    .insert(k.as_slice(), fr_key(device).as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Chain(key, state) => {
                self.chains
                    .insert(key.to_bytes().as_slice(), state.encode().as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Record(key, pos, rec) => {
                let kb = key.to_bytes();
                let rk = cat(&[&kb, &pos.to_be_bytes()]);
                self.records
                    .insert(rk.as_slice(), rec.encode().as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Claim(device, epoch, claim) => {
                let k = cat(&[&fr_key(device), &epoch.to_be_bytes()]);
                self.claims
                    .insert(k.as_slice(), claim.encode().as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Report(r) => {
                let k = cat(&[
                    &r.report.epoch.to_be_bytes(),
                    &fr_key(&r.report.beacon_id),
                    &fr_key(&r.report.witness_id()),
                ]);
                self.reports
                    .insert(k.as_slice(), r.encode().as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Job(job) => {
                let k = job.key.to_bytes();
                self.jobs
                    .insert(k.as_slice(), job.encode().as_slice())
                    .map_err(db_err)?;
                if job.state.is_terminal() {
                    self.pending.remove(k.as_slice()).map_err(db_err)?;
                } else {
                    self.pending
                        .insert(k.as_slice(), job.created_ms.to_le_bytes().as_slice())
                        .map_err(db_err)?;
                }
            }
            Mutation::Proof(key, bytes) => {
                self.proofs
                    .insert(key.to_bytes().as_slice(), bytes.as_slice())
                    .map_err(db_err)?;
            }
            Mutation::Batch(batch) => {
                let k = batch_key(batch.kind, batch.sequence);
                let seq = batch.sequence.to_be_bytes();
                // A replaced batch's members leave the index first.
                let old = self
                    .batches
                    .get(k.as_slice())
                    .map_err(db_err)?
                    .map(|v| BatchRecord::decode(v.value()))
                    .transpose()?;
                if let Some(old) = old {
                    for m in &old.members {
                        let ik = cat(&[&device_batches_prefix(old.kind, &m.device), &seq]);
                        self.device_batches.remove(ik.as_slice()).map_err(db_err)?;
                    }
                }
                self.batches
                    .insert(k.as_slice(), batch.encode().as_slice())
                    .map_err(db_err)?;
                for m in &batch.members {
                    let ik = cat(&[&device_batches_prefix(batch.kind, &m.device), &seq]);
                    self.device_batches
                        .insert(ik.as_slice(), [].as_slice())
                        .map_err(db_err)?;
                }
            }
        }
        Ok(())
    }
}

/// Applies the batches whose conditions hold in one transaction and
/// commits it; returns, per batch, the condition that failed (the batch
/// was skipped) or `None` (applied).
fn apply_group(db: &Database, group: &[WriteBatch]) -> Result<Vec<Option<Condition>>, StoreError> {
    let txn = db.begin_write().map_err(db_err)?;
    let mut verdicts = Vec::with_capacity(group.len());
    {
        let mut tables = Tables::open(&txn)?;
        for batch in group {
            let mut failed = None;
            for c in &batch.conditions {
                if !tables.holds(c)? {
                    failed = Some(c.clone());
                    break;
                }
            }
            if failed.is_none() {
                for m in &batch.mutations {
                    tables.apply(m)?;
                }
            }
            verdicts.push(failed);
        }
    }
    txn.commit().map_err(db_err)?;
    Ok(verdicts)
}

#[async_trait]
impl Store for RedbStore {
    async fn device(&self, id: &Fr) -> Result<Option<PublicKey>, StoreError> {
        match self.get(DEVICES, &fr_key(id))? {
            None => Ok(None),
            Some(v) => {
                let mut r = Reader::new(&v, "device");
                let k = r.key()?;
                r.finish()?;
                Ok(Some(k))
            }
        }
    }

    async fn device_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(DEVICES).map_err(db_err)?;
        t.len().map_err(db_err)
    }

    async fn device_ids(&self) -> Result<Vec<Fr>, StoreError> {
        self.scan(DEVICES, &[])?
            .iter()
            .map(|(k, _)| fr_of(k, "device id"))
            .collect()
    }

    async fn client_index(&self, id: &Fr) -> Result<Option<u32>, StoreError> {
        match self.get(CLIENTS, &fr_key(id))? {
            None => Ok(None),
            Some(v) => Ok(Some(Reader::new(&v, "client").u32()?)),
        }
    }

    async fn client_count(&self) -> Result<u32, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(CLIENT_INDEX).map_err(db_err)?;
        Ok(t.len().map_err(db_err)? as u32)
    }

    async fn client_ids(&self, count: u32) -> Result<Vec<Fr>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(CLIENT_INDEX).map_err(db_err)?;
        let mut out = Vec::with_capacity(count as usize);
        let hi = count.to_be_bytes();
        for item in t.range(..hi.as_slice()).map_err(db_err)? {
            let (_, v) = item.map_err(db_err)?;
            out.push(fr_of(v.value(), "client id")?);
        }
        Ok(out)
    }

    async fn epoch(&self, epoch: u32) -> Result<Option<EpochConfig>, StoreError> {
        self.get(EPOCHS, &epoch.to_be_bytes())?
            .map(|v| EpochConfig::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn latest_epoch(&self) -> Result<Option<u32>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(EPOCHS).map_err(db_err)?;
        let last = t.last().map_err(db_err)?;
        Ok(last.and_then(|(k, _)| k.value().try_into().ok().map(u32::from_be_bytes)))
    }

    async fn beacon_device(&self, epoch: u32, beacon_id: &Fr) -> Result<Option<Fr>, StoreError> {
        let k = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]);
        self.get(BEACONS, &k)?
            .map(|v| fr_of(&v, "beacon device"))
            .transpose()
    }

    async fn chain(&self, key: &ChainKey) -> Result<Option<ChainState>, StoreError> {
        self.get(CHAINS, &key.to_bytes())?
            .map(|v| ChainState::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn record(
        &self,
        key: &ChainKey,
        position: u32,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let k = cat(&[&key.to_bytes(), &position.to_be_bytes()]);
        self.get(RECORDS, &k)?
            .map(|v| StoredRecord::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn records(&self, key: &ChainKey) -> Result<Vec<StoredRecord>, StoreError> {
        let prefix = key.to_bytes();
        self.scan(RECORDS, &prefix)?
            .iter()
            .filter(|(k, _)| k.len() == CHAIN_KEY_LEN + 4)
            .map(|(_, v)| StoredRecord::decode(v).map_err(StoreError::from))
            .collect()
    }

    async fn claim(&self, device: &Fr, epoch: u32) -> Result<Option<StoredClaim>, StoreError> {
        let k = cat(&[&fr_key(device), &epoch.to_be_bytes()]);
        self.get(CLAIMS, &k)?
            .map(|v| StoredClaim::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn report(
        &self,
        epoch: u32,
        beacon_id: &Fr,
        witness: &Fr,
    ) -> Result<Option<SignedWitnessReport>, StoreError> {
        let k = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id), &fr_key(witness)]);
        self.get(REPORTS, &k)?
            .map(|v| SignedWitnessReport::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn reports(
        &self,
        epoch: u32,
        beacon_id: &Fr,
    ) -> Result<Vec<SignedWitnessReport>, StoreError> {
        let prefix = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]);
        self.scan(REPORTS, &prefix)?
            .iter()
            .map(|(_, v)| SignedWitnessReport::decode(v).map_err(StoreError::from))
            .collect()
    }

    async fn job(&self, key: &ChainKey) -> Result<Option<JobRecord>, StoreError> {
        self.get(JOBS, &key.to_bytes())?
            .map(|v| JobRecord::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn unfinished_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut jobs = Vec::new();
        for (k, _) in self.scan(PENDING, &[])? {
            if let Some(v) = self.get(JOBS, &k)? {
                jobs.push(JobRecord::decode(&v)?);
            }
        }
        jobs.sort_by_key(|j| j.created_ms);
        Ok(jobs)
    }

    async fn claim_job(&self, request: &ClaimRequest) -> Result<Option<JobRecord>, StoreError> {
        // One process writes this database: compare-and-set is enough.
        depin_store::claim_job_by_cas(self, request).await
    }

    async fn queued_jobs(&self, limit: u64) -> Result<u64, StoreError> {
        let mut n = 0;
        for (k, _) in self.scan(PENDING, &[])? {
            if n >= limit {
                break;
            }
            if let Some(v) = self.get(JOBS, &k)? {
                if JobRecord::decode(&v)?.state == depin_store::JobState::Queued {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    async fn proof(&self, key: &ChainKey) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(PROOFS, &key.to_bytes())
    }

    async fn batch(
        &self,
        kind: StatementKind,
        sequence: u64,
    ) -> Result<Option<BatchRecord>, StoreError> {
        self.get(BATCHES, &batch_key(kind, sequence))?
            .map(|v| BatchRecord::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    async fn batches(
        &self,
        kind: StatementKind,
        from: u64,
    ) -> Result<Vec<BatchRecord>, StoreError> {
        self.scan_from(BATCHES, &[kind.code()], &batch_key(kind, from))?
            .iter()
            .map(|(_, v)| BatchRecord::decode(v).map_err(StoreError::from))
            .collect()
    }

    async fn device_batches(
        &self,
        kind: StatementKind,
        device: &Fr,
    ) -> Result<Vec<u64>, StoreError> {
        let prefix = device_batches_prefix(kind, device);
        self.scan(DEVICE_BATCHES, &prefix)?
            .iter()
            .map(|(k, _)| {
                k[prefix.len()..]
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| {
                        StoreError::Codec(CodecError {
                            what: "device batch key",
                            reason: "not a sequence number",
                        })
                    })
            })
            .collect()
    }

    async fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sender = self.writer.lock().ok().and_then(|w| w.clone());
        let Some(s) = sender else {
            return Err(StoreError::Closed);
        };
        s.send((batch, tx)).map_err(|_| StoreError::Closed)?;
        rx.await.unwrap_or(Err(StoreError::Closed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("prover.redb")).unwrap();
        depin_store::conformance::run(&store).await;
    }

    #[test]
    fn a_database_that_does_not_open_is_named_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prover.redb");
        std::fs::write(&path, b"not a database").unwrap();
        let e = RedbStore::open(&path).unwrap_err().to_string();
        assert!(
            e.contains("prover.redb") && e.contains("move it aside"),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"not a database");
    }

    #[test]
    fn an_interrupted_creation_is_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prover.redb");
        // A creation killed half way: a temporary of a writer that is gone.
        let stale = dir
            .path()
            .join(format!(".prover.redb.tmp-{}-0", u32::MAX - 3));
        std::fs::write(&stale, b"half a header").unwrap();
        drop(RedbStore::open(&path).unwrap());
        assert!(!stale.exists());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["prover.redb".to_string()]);
        drop(RedbStore::open(&path).unwrap());
    }

    #[tokio::test]
    async fn a_replaced_batch_reindexes_its_members() {
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open(&dir.path().join("prover.redb")).unwrap();
        let kind = StatementKind::Uptime;
        let member = |d: u64| ChainKey {
            device: Fr::from(d),
            kind,
            epoch: 1,
        };
        let mut b = BatchRecord {
            kind,
            sequence: 0,
            batch_size: 2,
            header: depin_batch::header::BatchHeader {
                kind: kind.code(),
                version: 1,
                epoch: 1,
                policy_hash: Fr::from(1u64),
                beacon: Fr::from(2u64),
                registry_root: Fr::from(0u64),
                old_commitment: Fr::from(3u64),
                new_commitment: Fr::from(4u64),
            },
            public_data: vec![0; 112],
            members: vec![member(1), member(2)],
            state: depin_store::JobState::Proving,
            failure: String::new(),
            proof: Vec::new(),
            created_ms: 1,
            finished_ms: 0,
            proving_ms: 0,
            attempts: 1,
            lease: None,
        };
        let mut w = WriteBatch::default();
        w.push(Mutation::Batch(b.clone()));
        s.commit(w).await.unwrap();
        b.members = vec![member(2), member(3)];
        let mut w = WriteBatch::default();
        w.push(Mutation::Batch(b.clone()));
        s.commit(w).await.unwrap();
        for (d, want) in [(1u64, vec![]), (2, vec![0]), (3, vec![0])] {
            assert_eq!(s.device_batches(kind, &Fr::from(d)).await.unwrap(), want);
        }
        assert_eq!(s.batches(kind, 0).await.unwrap(), vec![b]);
    }

    #[tokio::test]
    async fn writes_are_durable_and_readable_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prover.redb");
        let written = {
            let s = RedbStore::open(&path).unwrap();
            depin_store::conformance::write_sample(&s).await
        };
        let s = RedbStore::open(&path).unwrap();
        depin_store::conformance::check_sample(&s, &written).await;
    }
}
