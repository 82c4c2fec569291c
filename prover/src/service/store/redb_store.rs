//! The embedded store: [redb](https://docs.rs/redb) (pure Rust, ACID,
//! copy-on-write B-trees, fsync on every commit).
//!
//! One thread owns the write side. It takes every batch waiting in its
//! queue, applies them all in one write transaction, commits (one fsync) and
//! then resolves each batch's ticket: group commit, so that throughput does
//! not stop at one fsync per request. Readers use MVCC snapshots and never
//! wait for the writer.

use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{CommitTicket, Mutation, Store, StoreError, WriteBatch};
use crate::service::model::{
    decode_report, encode_report, ChainKey, ChainState, EpochConfig, JobRecord, Reader,
    StoredClaim, StoredRecord, Writer, CHAIN_KEY_LEN,
};
use depin_crypto::eddsa::PublicKey;
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_statements::records::SignedWitnessReport;
use depin_statements::Fr;

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

const ALL: [Bytes; 12] = [
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
];

type KeyValue = (Vec<u8>, Vec<u8>);

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 512;

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

type Request = (
    WriteBatch,
    tokio::sync::oneshot::Sender<Result<(), StoreError>>,
);

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
        StoreError::Codec(crate::service::model::CodecError {
            what,
            reason: "not 32 bytes",
        })
    })?;
    fr_from_le_bytes(&arr).map_err(|_| {
        StoreError::Codec(crate::service::model::CodecError {
            what,
            reason: "field element not canonical",
        })
    })
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
    /// Opens (or creates) the database file at `path` and starts the writer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_err)?;
        }
        let db = Database::create(path).map_err(db_err)?;
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
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(table).map_err(db_err)?;
        let (lo, hi) = prefix_range(prefix);
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
        let result = apply_group(db, &group);
        for (_, done) in group {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Database(e.to_string())),
            };
            let _ = done.send(r);
        }
    }
}

fn apply_group(db: &Database, group: &[Request]) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(db_err)?;
    {
        let mut devices = txn.open_table(DEVICES).map_err(db_err)?;
        let mut clients = txn.open_table(CLIENTS).map_err(db_err)?;
        let mut client_index = txn.open_table(CLIENT_INDEX).map_err(db_err)?;
        let mut epochs = txn.open_table(EPOCHS).map_err(db_err)?;
        let mut beacons = txn.open_table(BEACONS).map_err(db_err)?;
        let mut chains = txn.open_table(CHAINS).map_err(db_err)?;
        let mut records = txn.open_table(RECORDS).map_err(db_err)?;
        let mut claims = txn.open_table(CLAIMS).map_err(db_err)?;
        let mut reports = txn.open_table(REPORTS).map_err(db_err)?;
        let mut jobs = txn.open_table(JOBS).map_err(db_err)?;
        let mut pending = txn.open_table(PENDING).map_err(db_err)?;
        let mut proofs = txn.open_table(PROOFS).map_err(db_err)?;
        for (batch, _) in group {
            for m in &batch.0 {
                match m {
                    Mutation::Device(id, key) => {
                        let mut w = Writer::default();
                        w.point(&key.0);
                        devices
                            .insert(fr_key(id).as_slice(), w.0.as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Client { id, index, key } => {
                        let mut w = Writer::default();
                        w.u32(*index).point(&key.0);
                        clients
                            .insert(fr_key(id).as_slice(), w.0.as_slice())
                            .map_err(db_err)?;
                        client_index
                            .insert(index.to_be_bytes().as_slice(), fr_key(id).as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Epoch(cfg) => {
                        epochs
                            .insert(cfg.epoch.to_be_bytes().as_slice(), cfg.encode().as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Beacon {
                        epoch,
                        beacon_id,
                        device,
                    } => {
                        let k = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]);
                        beacons
                            .insert(k.as_slice(), fr_key(device).as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Chain(key, state) => {
                        chains
                            .insert(key.to_bytes().as_slice(), state.encode().as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Record(key, pos, rec) => {
                        let kb = key.to_bytes();
                        let rk = cat(&[&kb, &pos.to_be_bytes()]);
                        records
                            .insert(rk.as_slice(), rec.encode().as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Claim(device, epoch, claim) => {
                        let k = cat(&[&fr_key(device), &epoch.to_be_bytes()]);
                        claims
                            .insert(k.as_slice(), claim.encode().as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Report(r) => {
                        let k = cat(&[
                            &r.report.epoch.to_be_bytes(),
                            &fr_key(&r.report.beacon_id),
                            &fr_key(&r.report.witness_id()),
                        ]);
                        reports
                            .insert(k.as_slice(), encode_report(r).as_slice())
                            .map_err(db_err)?;
                    }
                    Mutation::Job(job) => {
                        let k = job.key.to_bytes();
                        jobs.insert(k.as_slice(), job.encode().as_slice())
                            .map_err(db_err)?;
                        if job.state.is_terminal() {
                            pending.remove(k.as_slice()).map_err(db_err)?;
                        } else {
                            pending
                                .insert(k.as_slice(), job.created_ms.to_le_bytes().as_slice())
                                .map_err(db_err)?;
                        }
                    }
                    Mutation::Proof(key, bytes) => {
                        proofs
                            .insert(key.to_bytes().as_slice(), bytes.as_slice())
                            .map_err(db_err)?;
                    }
                }
            }
        }
    }
    txn.commit().map_err(db_err)
}

impl Store for RedbStore {
    fn device(&self, id: &Fr) -> Result<Option<PublicKey>, StoreError> {
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

    fn device_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(DEVICES).map_err(db_err)?;
        t.len().map_err(db_err)
    }

    fn device_ids(&self) -> Result<Vec<Fr>, StoreError> {
        self.scan(DEVICES, &[])?
            .iter()
            .map(|(k, _)| fr_of(k, "device id"))
            .collect()
    }

    fn client_index(&self, id: &Fr) -> Result<Option<u32>, StoreError> {
        match self.get(CLIENTS, &fr_key(id))? {
            None => Ok(None),
            Some(v) => Ok(Some(Reader::new(&v, "client").u32()?)),
        }
    }

    fn client_count(&self) -> Result<u32, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(CLIENT_INDEX).map_err(db_err)?;
        Ok(t.len().map_err(db_err)? as u32)
    }

    fn client_ids(&self, count: u32) -> Result<Vec<Fr>, StoreError> {
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

    fn epoch(&self, epoch: u32) -> Result<Option<EpochConfig>, StoreError> {
        self.get(EPOCHS, &epoch.to_be_bytes())?
            .map(|v| EpochConfig::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    fn latest_epoch(&self) -> Result<Option<u32>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(EPOCHS).map_err(db_err)?;
        let last = t.last().map_err(db_err)?;
        Ok(last.and_then(|(k, _)| k.value().try_into().ok().map(u32::from_be_bytes)))
    }

    fn beacon_device(&self, epoch: u32, beacon_id: &Fr) -> Result<Option<Fr>, StoreError> {
        let k = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]);
        self.get(BEACONS, &k)?
            .map(|v| fr_of(&v, "beacon device"))
            .transpose()
    }

    fn chain(&self, key: &ChainKey) -> Result<Option<ChainState>, StoreError> {
        self.get(CHAINS, &key.to_bytes())?
            .map(|v| ChainState::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    fn record(&self, key: &ChainKey, position: u32) -> Result<Option<StoredRecord>, StoreError> {
        let k = cat(&[&key.to_bytes(), &position.to_be_bytes()]);
        self.get(RECORDS, &k)?
            .map(|v| StoredRecord::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    fn records(&self, key: &ChainKey) -> Result<Vec<StoredRecord>, StoreError> {
        let prefix = key.to_bytes();
        self.scan(RECORDS, &prefix)?
            .iter()
            .filter(|(k, _)| k.len() == CHAIN_KEY_LEN + 4)
            .map(|(_, v)| StoredRecord::decode(v).map_err(StoreError::from))
            .collect()
    }

    fn claim(&self, device: &Fr, epoch: u32) -> Result<Option<StoredClaim>, StoreError> {
        let k = cat(&[&fr_key(device), &epoch.to_be_bytes()]);
        self.get(CLAIMS, &k)?
            .map(|v| StoredClaim::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    fn report(
        &self,
        epoch: u32,
        beacon_id: &Fr,
        witness: &Fr,
    ) -> Result<Option<SignedWitnessReport>, StoreError> {
        let k = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id), &fr_key(witness)]);
        self.get(REPORTS, &k)?
            .map(|v| decode_report(&v).map_err(StoreError::from))
            .transpose()
    }

    fn reports(&self, epoch: u32, beacon_id: &Fr) -> Result<Vec<SignedWitnessReport>, StoreError> {
        let prefix = cat(&[&epoch.to_be_bytes(), &fr_key(beacon_id)]);
        self.scan(REPORTS, &prefix)?
            .iter()
            .map(|(_, v)| decode_report(v).map_err(StoreError::from))
            .collect()
    }

    fn job(&self, key: &ChainKey) -> Result<Option<JobRecord>, StoreError> {
        self.get(JOBS, &key.to_bytes())?
            .map(|v| JobRecord::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    fn unfinished_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut jobs = Vec::new();
        for (k, _) in self.scan(PENDING, &[])? {
            if let Some(v) = self.get(JOBS, &k)? {
                jobs.push(JobRecord::decode(&v)?);
            }
        }
        jobs.sort_by_key(|j| j.created_ms);
        Ok(jobs)
    }

    fn proof(&self, key: &ChainKey) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(PROOFS, &key.to_bytes())
    }

    fn commit(&self, batch: WriteBatch) -> CommitTicket {
        let (tx, ticket) = CommitTicket::channel();
        let sender = self.writer.lock().ok().and_then(|w| w.clone());
        match sender {
            Some(s) => {
                if let Err(mpsc::SendError((_, tx))) = s.send((batch, tx)) {
                    let _ = tx.send(Err(StoreError::Closed));
                }
            }
            None => {
                let _ = tx.send(Err(StoreError::Closed));
            }
        }
        ticket
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::model::StoredHeartbeat;
    use depin_statements::records::Heartbeat;
    use depin_statements::{StatementKind, Verdict};

    #[test]
    fn writes_are_durable_and_readable_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.redb");
        let key = ChainKey {
            device: Fr::from(5u64),
            kind: StatementKind::Uptime,
            epoch: 1,
        };
        let rec = StoredRecord::Heartbeat(StoredHeartbeat {
            heartbeat: Heartbeat {
                slot: 1,
                response: Fr::from(2u64),
                latency_ms: 3,
            },
            head: Fr::from(99u64),
            verdict: Verdict::Accepted,
        });
        {
            let s = RedbStore::open(&path).unwrap();
            let mut b = WriteBatch::default();
            b.push(Mutation::Record(key, 0, rec));
            b.push(Mutation::Chain(key, ChainState::new(Fr::from(1u64))));
            let mut job = JobRecord::new(key, 7);
            b.push(Mutation::Job(job.clone()));
            s.commit(b).wait_blocking().unwrap();
            assert_eq!(s.unfinished_jobs().unwrap().len(), 1);
            job.state = crate::service::model::JobState::Done;
            let mut b = WriteBatch::default();
            b.push(Mutation::Job(job));
            s.commit(b).wait_blocking().unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        assert_eq!(s.records(&key).unwrap(), vec![rec]);
        assert_eq!(s.record(&key, 0).unwrap(), Some(rec));
        assert!(s.chain(&key).unwrap().is_some());
        assert!(s.unfinished_jobs().unwrap().is_empty());
        assert_eq!(s.latest_epoch().unwrap(), None);
    }
}
