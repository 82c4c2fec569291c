//! The shared store: PostgreSQL (15 or later), so that several prover nodes
//! serve one network from one database. It implements [`Store`] exactly as
//! the embedded store (`depin-store-redb`) does, and passes the same
//! conformance suite (`depin_store::conformance`).
//!
//! # Schema
//!
//! [`PostgresStore::connect`] applies the embedded migrations
//! (`migrations/0001_init.sql`) in one transaction under a transaction-scoped
//! advisory lock, so nodes that start at once apply each migration once;
//! every statement is also `IF NOT EXISTS`, and `schema_version` records the
//! versions applied (a database newer than the build is refused).
//!
//! One table per kind of value: `devices`, `clients`, `epochs`, `beacons`,
//! `chains`, `records`, `claims`, `reports`, `jobs` (with a partial index on
//! unfinished jobs), `proofs`, `batches`, `device_batches`. Keys are typed
//! columns (field elements as their 32 bytes little-endian, so SQL orders
//! them as the embedded store orders its keys; kinds as SMALLINT codes;
//! epochs, positions and indices as BIGINT), and each value is a BYTEA in
//! the embedded store's encoding (`depin_store_redb::codec`): one format for
//! both stores, with fields repeated in columns only where SQL conditions or
//! orders on them (a chain's length and head, a job's state and creation
//! time, a batch's state).
//!
//! `records`, the bulk of the data, is partitioned by range of epoch: rows
//! go to its default partition unless a partition covers their epoch
//! ([`PostgresStore::create_record_partition`], run ahead of the epochs it
//! covers: it must scan the default partition, which must hold no rows of
//! those epochs), so that old epochs can be detached and archived whole.
//! Partitions are not made automatically at publication: creating one takes
//! an exclusive lock on `records`, which would stall every node's ingest.
//!
//! # Writes
//!
//! A batch's conditions are checked inside its transaction, under advisory
//! transaction locks that every writer of the state they read also takes
//! (see the `write` module): the check and the writes are atomic against
//! concurrent transactions of every node, and a failed condition writes
//! nothing and is answered [`StoreError::Conflict`]. All the locks of a
//! transaction are taken first, in ascending order, so writers never
//! deadlock.
//!
//! Group commit: one writer task per store takes every batch waiting and
//! applies them in one transaction, in order, each against the state the
//! earlier ones left; a batch whose condition fails is skipped, the others
//! commit together (one WAL flush). A batch that PostgreSQL refuses (a
//! constraint: a client id registered at a second index, a number beyond
//! BIGINT) is answered with that error and the group runs again without it.
//!
//! Contention (serialization failure 40001, deadlock 40P01, a lock wait past
//! `lock_timeout` 55P03) and a database unreachable before COMMIT (a
//! connection lost or refused) are retried internally, the whole group, up
//! to 5 times with backoff (about half a second in all); a batch still
//! contended after that is answered [`StoreError::Conflict`] on its first
//! condition (read again and retry, as on any conflict), one without
//! conditions [`StoreError::Database`]; a batch whose database is still
//! unreachable is answered [`StoreError::Unavailable`] (nothing was
//! written). A connection lost during COMMIT is answered
//! [`StoreError::Unavailable`] saying that the outcome is unknown: the
//! caller retries, planning again on what it reads, and a batch that did
//! commit then fails its conditions (or, unconditional, upserts the same
//! values again). Sessions run with `lock_timeout` and
//! `idle_in_transaction_session_timeout` of 5 s and 10 s, so that a node that hangs
//! holding locks does not stop the others for longer.
//!
//! # Reads
//!
//! Reads are single statements on pooled connections (READ COMMITTED: each
//! sees every batch committed before it, never part of one). Counts
//! (`device_count`, `client_count`, and the count conditions) are `count(*)`
//! over an index.
//!
//! # When the database goes away
//!
//! A read or a commit that cannot reach the database (connection refused or
//! lost, the server shutting down or starting up: SQLSTATE class 08, 57P01,
//! 57P02, 57P03, 53300; no connection opened or free within the pool's
//! timeouts, [`PoolOptions`]) fails with [`StoreError::Unavailable`], at
//! once when the server refuses connections, never hanging past the pool's
//! timeouts; every other failure is [`StoreError::Database`]. The store
//! needs nothing to recover: the pool checks each connection as it hands
//! it out (`RecyclingMethod::Fast`: the server closes its connections when
//! it stops, which the client notices at once) and drops a closed one, so
//! once the server is back every call gets a fresh connection.

mod claim;
mod listen;
mod schema;
mod sql;
mod write;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use depin_crypto::eddsa::PublicKey;
use depin_statements::records::SignedWitnessReport;
use depin_statements::{Fr, StatementKind};
use depin_store::{
    BatchRecord, ChainKey, ChainState, ClaimRequest, EpochConfig, JobEvent, JobRecord, Store,
    StoreError, StoredClaim, StoredRecord, WriteBatch,
};
use depin_store_redb::codec::{Codec, Reader};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

pub use schema::SCHEMA_VERSION;

use sql::{col, fr_col, fr_of, kind_col, pg_err, pool_err, u32_of, u64_of, KeyCols};
use write::{writer_loop, Request};

/// Session settings: a lock wait or an idle transaction longer than this
/// fails (and a batch's transaction is retried) instead of stalling.
const SESSION_OPTIONS: &str = "-c lock_timeout=5s -c idle_in_transaction_session_timeout=10s";

/// The pool of a [`PostgresStore`]: its size and how long a call may wait
/// for a connection before it fails with [`StoreError::Unavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections (at least 1; 2 or more advised: the writer holds one
    /// per group).
    pub size: usize,
    /// Longest time to open one connection (connect, startup,
    /// authentication). The TCP connect alone is bounded by the URL's
    /// `connect_timeout`, or else by the lesser of this and 10 s.
    pub create_timeout: Duration,
    /// Longest time a call waits for a connection while every one is in
    /// use.
    pub wait_timeout: Duration,
}

impl PoolOptions {
    /// A pool of `size` connections with the default timeouts: 15 s to open
    /// a connection, 60 s to wait for a free one.
    pub fn new(size: usize) -> Self {
        PoolOptions {
            size,
            create_timeout: Duration::from_secs(15),
            wait_timeout: Duration::from_secs(60),
        }
    }
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    target: String,
    writer: Mutex<Option<mpsc::UnboundedSender<Request>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    events: broadcast::Sender<JobEvent>,
    listener: JoinHandle<()>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `host:port/dbname` of a configuration, without credentials.
fn target_of(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, p)| match h {
            tokio_postgres::config::Host::Tcp(h) => format!("{h}:{p}"),
            tokio_postgres::config::Host::Unix(path) => format!("{}:{p}", path.display()),
        })
        .collect();
    format!(
        "{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("(default database)")
    )
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`,
    /// or a `key=value` connection string) with a pool of up to `pool_size`
    /// connections (at least 2 advised: the writer holds one per group), and
    /// brings its schema up to date. Starts the writer task, so it must run
    /// on a tokio runtime. Errors name the server and database, never the
    /// password.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        Self::connect_with(url, PoolOptions::new(pool_size)).await
    }

    /// [`PostgresStore::connect`] with the pool's timeouts chosen.
    pub async fn connect_with(url: &str, pool: PoolOptions) -> Result<Self, StoreError> {
        let PoolOptions {
            size: pool_size,
            create_timeout,
            wait_timeout,
        } = pool;
        if pool_size == 0 {
            return Err(StoreError::Database(
                "the PostgreSQL pool needs at least one connection".into(),
            ));
        }
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database(format!("the PostgreSQL URL does not parse: {e}")))?;
        let target = target_of(&config);
        let options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} {SESSION_OPTIONS}"),
            _ => SESSION_OPTIONS.to_string(),
        };
        config.options(&options);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(create_timeout.min(Duration::from_secs(10)));
        }
        config.application_name("depin-prover");
        // A connection whose server vanished (a half-open TCP connection)
        // is noticed within about a minute, not the system's two hours.
        // (30 s idle, then 3 probes 10 s apart), unless the URL says.
        if config.get_keepalives_idle() >= Duration::from_secs(7200) {
            config.keepalives_idle(Duration::from_secs(30));
            if config.get_keepalives_interval().is_none() {
                config.keepalives_interval(Duration::from_secs(10));
            }
            if config.get_keepalives_retries().is_none() {
                config.keepalives_retries(3);
            }
        }
        // Fast recycling: a pooled connection is handed out again unless it
        // is closed. A server that stops or restarts closes its connections
        // (and tells the client, 57P01), which the connection's task notices
        // at once: such a connection is dropped, never handed out again, and
        // a fresh one opened. (`Verified` would add a round trip to every
        // call for no more safety here.)
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(create_timeout))
            .wait_timeout(Some(wait_timeout))
            .build()
            .map_err(|e| StoreError::Database(format!("PostgreSQL pool for {target}: {e}")))?;
        {
            let mut client = pool
                .get()
                .await
                .map_err(|e| pool_err("connecting", &target, &e))?;
            schema::migrate(&mut client).await.map_err(|e| match e {
                StoreError::Database(m) => StoreError::Database(format!("{target}: {m}")),
                StoreError::Unavailable(m) => StoreError::Unavailable(format!("{target}: {m}")),
                other => other,
            })?;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(writer_loop(pool.clone(), target.clone(), rx));
        let events = listen::channel();
        let listener = tokio::spawn(listen::listen_loop(config, target.clone(), events.clone()));
        Ok(PostgresStore {
            pool,
            target,
            writer: Mutex::new(Some(tx)),
            task: Mutex::new(Some(task)),
            events,
            listener,
        })
    }

    /// The server and database (`host:port/dbname`), for logs.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Stops the writer after the batches already queued are committed;
    /// later commits fail with [`StoreError::Closed`]. Reads still work.
    pub async fn close(&self) {
        self.listener.abort();
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Creates the partition of `records` for epochs `from..to` (`from`
    /// included, `to` not), unless a table of that name exists. Run it ahead
    /// of the epochs it covers: PostgreSQL refuses it while the default
    /// partition holds records of those epochs, and it locks `records`
    /// exclusively for a moment.
    pub async fn create_record_partition(&self, from: u32, to: u32) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        schema::create_record_partition(&mut client, from, to).await
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| pool_err("taking a connection from the pool", &self.target, &e))
    }

    async fn query(
        &self,
        context: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(sql)
            .await
            .map_err(|e| pg_err(context, &e))?;
        client
            .query(&st, params)
            .await
            .map_err(|e| pg_err(context, &e))
    }

    async fn query_opt(
        &self,
        context: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(sql)
            .await
            .map_err(|e| pg_err(context, &e))?;
        client
            .query_opt(&st, params)
            .await
            .map_err(|e| pg_err(context, &e))
    }

    /// The value (column 0) of the row of `sql`, decoded.
    async fn value<T: Codec>(
        &self,
        context: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<T>, StoreError> {
        match self.query_opt(context, sql, params).await? {
            None => Ok(None),
            Some(row) => {
                let bytes: Vec<u8> = col(&row, 0, context)?;
                Ok(Some(T::decode(&bytes)?))
            }
        }
    }

    /// The values (column 0) of the rows of `sql`, decoded, in order.
    async fn values<T: Codec>(
        &self,
        context: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, StoreError> {
        self.query(context, sql, params)
            .await?
            .iter()
            .map(|row| {
                let bytes: Vec<u8> = col(row, 0, context)?;
                Ok(T::decode(&bytes)?)
            })
            .collect()
    }

    /// The count of `sql` (`SELECT count(*) ...`).
    async fn count(&self, context: &'static str, sql: &str) -> Result<u64, StoreError> {
        let rows = self.query(context, sql, &[]).await?;
        let n: i64 = match rows.first() {
            Some(row) => col(row, 0, context)?,
            None => 0,
        };
        u64_of(n, context)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
        // The writer ends once the queued batches are committed.
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn device(&self, id: &Fr) -> Result<Option<PublicKey>, StoreError> {
        let row = self
            .query_opt(
                "reading a device",
                "SELECT value FROM devices WHERE id = $1",
                &[&fr_col(id)],
            )
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let bytes: Vec<u8> = col(&row, 0, "device")?;
                let mut r = Reader::new(&bytes, "device");
                let key = r.key()?;
                r.finish()?;
                Ok(Some(key))
            }
        }
    }

    async fn device_count(&self) -> Result<u64, StoreError> {
        self.count("counting devices", "SELECT count(*) FROM devices")
            .await
    }

    async fn device_ids(&self) -> Result<Vec<Fr>, StoreError> {
        self.query("listing devices", "SELECT id FROM devices ORDER BY id", &[])
            .await?
            .iter()
            .map(|row| fr_of(&col::<Vec<u8>>(row, 0, "device id")?, "device id"))
            .collect()
    }

    async fn client_index(&self, id: &Fr) -> Result<Option<u32>, StoreError> {
        self.query_opt(
            "reading a client",
            "SELECT idx FROM clients WHERE id = $1",
            &[&fr_col(id)],
        )
        .await?
        .map(|row| u32_of(col(&row, 0, "client index")?, "client index"))
        .transpose()
    }

    async fn client_count(&self) -> Result<u32, StoreError> {
        let n = self
            .count("counting clients", "SELECT count(*) FROM clients")
            .await?;
        u32::try_from(n).map_err(|_| {
            StoreError::Codec(depin_store::CodecError {
                what: "client count",
                reason: "out of range",
            })
        })
    }

    async fn client_ids(&self, count: u32) -> Result<Vec<Fr>, StoreError> {
        self.query(
            "listing clients",
            "SELECT id FROM clients WHERE idx < $1 ORDER BY idx",
            &[&i64::from(count)],
        )
        .await?
        .iter()
        .map(|row| fr_of(&col::<Vec<u8>>(row, 0, "client id")?, "client id"))
        .collect()
    }

    async fn epoch(&self, epoch: u32) -> Result<Option<EpochConfig>, StoreError> {
        self.value(
            "reading an epoch",
            "SELECT value FROM epochs WHERE epoch = $1",
            &[&i64::from(epoch)],
        )
        .await
    }

    async fn latest_epoch(&self) -> Result<Option<u32>, StoreError> {
        let rows = self
            .query(
                "reading the latest epoch",
                "SELECT max(epoch) FROM epochs",
                &[],
            )
            .await?;
        let latest: Option<i64> = match rows.first() {
            Some(row) => col(row, 0, "latest epoch")?,
            None => None,
        };
        latest.map(|e| u32_of(e, "epoch")).transpose()
    }

    async fn beacon_device(&self, epoch: u32, beacon_id: &Fr) -> Result<Option<Fr>, StoreError> {
        self.query_opt(
            "reading a beacon id",
            "SELECT device FROM beacons WHERE epoch = $1 AND beacon_id = $2",
            &[&i64::from(epoch), &fr_col(beacon_id)],
        )
        .await?
        .map(|row| fr_of(&col::<Vec<u8>>(&row, 0, "beacon device")?, "beacon device"))
        .transpose()
    }

    async fn chain(&self, key: &ChainKey) -> Result<Option<ChainState>, StoreError> {
        let k = KeyCols::of(key);
        self.value(
            "reading a chain",
            "SELECT value FROM chains WHERE device = $1 AND kind = $2 AND epoch = $3",
            &[&k.device, &k.kind, &k.epoch],
        )
        .await
    }

    async fn record(
        &self,
        key: &ChainKey,
        position: u32,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let k = KeyCols::of(key);
        self.value(
            "reading a record",
            "SELECT value FROM records \
             WHERE device = $1 AND kind = $2 AND epoch = $3 AND position = $4",
            &[&k.device, &k.kind, &k.epoch, &i64::from(position)],
        )
        .await
    }

    async fn records(&self, key: &ChainKey) -> Result<Vec<StoredRecord>, StoreError> {
        let k = KeyCols::of(key);
        self.values(
            "reading a chain's records",
            "SELECT value FROM records WHERE device = $1 AND kind = $2 AND epoch = $3 \
             ORDER BY position",
            &[&k.device, &k.kind, &k.epoch],
        )
        .await
    }

    async fn claim(&self, device: &Fr, epoch: u32) -> Result<Option<StoredClaim>, StoreError> {
        self.value(
            "reading a claim",
            "SELECT value FROM claims WHERE device = $1 AND epoch = $2",
            &[&fr_col(device), &i64::from(epoch)],
        )
        .await
    }

    async fn report(
        &self,
        epoch: u32,
        beacon_id: &Fr,
        witness: &Fr,
    ) -> Result<Option<SignedWitnessReport>, StoreError> {
        self.value(
            "reading a witness report",
            "SELECT value FROM reports WHERE epoch = $1 AND beacon_id = $2 AND witness = $3",
            &[&i64::from(epoch), &fr_col(beacon_id), &fr_col(witness)],
        )
        .await
    }

    async fn reports(
        &self,
        epoch: u32,
        beacon_id: &Fr,
    ) -> Result<Vec<SignedWitnessReport>, StoreError> {
        self.values(
            "reading a beacon's reports",
            "SELECT value FROM reports WHERE epoch = $1 AND beacon_id = $2 ORDER BY witness",
            &[&i64::from(epoch), &fr_col(beacon_id)],
        )
        .await
    }

    async fn job(&self, key: &ChainKey) -> Result<Option<JobRecord>, StoreError> {
        let k = KeyCols::of(key);
        self.value(
            "reading a job",
            "SELECT value FROM jobs WHERE device = $1 AND kind = $2 AND epoch = $3",
            &[&k.device, &k.kind, &k.epoch],
        )
        .await
    }

    async fn unfinished_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        // Ties in creation time in key order, as the embedded store.
        self.values(
            "listing unfinished jobs",
            "SELECT value FROM jobs WHERE state IN (1, 2) \
             ORDER BY created_ms, device, kind, epoch",
            &[],
        )
        .await
    }

    async fn claim_job(&self, request: &ClaimRequest) -> Result<Option<JobRecord>, StoreError> {
        let mut client = self.client().await?;
        claim::claim(&mut client, request).await
    }

    fn job_events(&self) -> Option<broadcast::Receiver<JobEvent>> {
        Some(self.events.subscribe())
    }

    async fn queued_jobs(&self, limit: u64) -> Result<u64, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let row = self
            .query_opt(
                "counting queued jobs",
                "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state = 1 LIMIT $1) q",
                &[&limit],
            )
            .await?
            .ok_or_else(|| StoreError::Database("counting queued jobs: no row".into()))?;
        u64_of(col(&row, 0, "queued jobs")?, "queued jobs")
    }

    async fn proof(&self, key: &ChainKey) -> Result<Option<Vec<u8>>, StoreError> {
        let k = KeyCols::of(key);
        self.query_opt(
            "reading a proof",
            "SELECT proof FROM proofs WHERE device = $1 AND kind = $2 AND epoch = $3",
            &[&k.device, &k.kind, &k.epoch],
        )
        .await?
        .map(|row| col(&row, 0, "proof"))
        .transpose()
    }

    async fn batch(
        &self,
        kind: StatementKind,
        sequence: u64,
    ) -> Result<Option<BatchRecord>, StoreError> {
        // Sequence numbers beyond BIGINT are never stored.
        let Ok(sequence) = i64::try_from(sequence) else {
            return Ok(None);
        };
        self.value(
            "reading a batch",
            "SELECT value FROM batches WHERE kind = $1 AND sequence = $2",
            &[&kind_col(kind), &sequence],
        )
        .await
    }

    async fn batches(
        &self,
        kind: StatementKind,
        from: u64,
    ) -> Result<Vec<BatchRecord>, StoreError> {
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        self.values(
            "reading batches",
            "SELECT value FROM batches WHERE kind = $1 AND sequence >= $2 ORDER BY sequence",
            &[&kind_col(kind), &from],
        )
        .await
    }

    async fn device_batches(
        &self,
        kind: StatementKind,
        device: &Fr,
    ) -> Result<Vec<u64>, StoreError> {
        self.query(
            "reading a device's batches",
            "SELECT sequence FROM device_batches WHERE kind = $1 AND device = $2 \
             ORDER BY sequence",
            &[&kind_col(kind), &fr_col(device)],
        )
        .await?
        .iter()
        .map(|row| u64_of(col(row, 0, "batch sequence")?, "batch sequence"))
        .collect()
    }

    async fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let sender = self.writer.lock().ok().and_then(|w| w.clone());
        let Some(sender) = sender else {
            return Err(StoreError::Closed);
        };
        let (request, answer) = Request::new(batch);
        sender.send(request).map_err(|_| StoreError::Closed)?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }
}
