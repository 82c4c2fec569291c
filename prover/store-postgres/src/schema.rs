//! The embedded migrations, applied at [`crate::PostgresStore::connect`].

use depin_store::StoreError;
use tokio_postgres::Client;

use crate::sql::{describe, pg_err};

/// The schema versions this build knows, in order, with their SQL.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_job_leases.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 2;

/// The advisory lock (two-key form, a key space apart from the one-key
/// locks that batches take) that serialises schema changes: migrations and
/// new record partitions.
const SCHEMA_LOCK: (i32, i32) = (0x6465_7069, 0x0000_5348);

/// Starts a transaction holding the schema lock.
pub(crate) async fn locked(
    client: &mut Client,
) -> Result<tokio_postgres::Transaction<'_>, StoreError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_err("starting the schema transaction", &e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&SCHEMA_LOCK.0, &SCHEMA_LOCK.1],
    )
    .await
    .map_err(|e| pg_err("taking the schema lock", &e))?;
    Ok(tx)
}

/// Brings the schema to [`SCHEMA_VERSION`]: in one transaction under the
/// schema lock, so that nodes starting at once apply each migration once
/// (the others wait, then find it applied). Refuses a database whose schema
/// is newer than this build.
pub(crate) async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    let tx = locked(client).await?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(|e| pg_err("reading the schema version", &e))?
        .try_get(0)
        .map_err(|e| pg_err("reading the schema version", &e))?;
    let current: i32 = if exists {
        tx.query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| pg_err("reading the schema version", &e))?
    } else {
        0
    };
    if current > SCHEMA_VERSION {
        return Err(StoreError::Database(format!(
            "the database's schema is version {current}, newer than this build's \
             {SCHEMA_VERSION}: run a build that knows it"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Database(describe(&format!("applying migration {version}"), &e))
        })?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1) ON CONFLICT DO NOTHING",
            &[version],
        )
        .await
        .map_err(|e| pg_err("recording the schema version", &e))?;
        if *version == 2 {
            lease_legacy_jobs(&tx).await?;
        }
    }
    tx.commit()
        .await
        .map_err(|e| pg_err("committing the migrations", &e))?;
    Ok(SCHEMA_VERSION)
}

/// Gives the PROVING jobs of a version-1 database that a node proves on its
/// own (not a batch's members) an expired lease, so that a worker claims
/// them.
async fn lease_legacy_jobs(tx: &tokio_postgres::Transaction<'_>) -> Result<(), StoreError> {
    use depin_store::JobRecord;
    use depin_store_redb::codec::Codec;
    let rows = tx
        .query(
            "SELECT device, kind, epoch, value FROM jobs \
             WHERE state = 2 AND lease_until_ms IS NULL",
            &[],
        )
        .await
        .map_err(|e| pg_err("listing version 1's proving jobs", &e))?;
    for row in rows {
        let value: Vec<u8> = row
            .try_get(3)
            .map_err(|e| pg_err("reading a proving job", &e))?;
        if JobRecord::decode(&value)?.batch.is_some() {
            continue;
        }
        let (device, kind, epoch): (Vec<u8>, i16, i64) = (
            row.try_get(0)
                .map_err(|e| pg_err("reading a proving job", &e))?,
            row.try_get(1)
                .map_err(|e| pg_err("reading a proving job", &e))?,
            row.try_get(2)
                .map_err(|e| pg_err("reading a proving job", &e))?,
        );
        tx.execute(
            "UPDATE jobs SET lease_until_ms = 0 \
             WHERE device = $1 AND kind = $2 AND epoch = $3",
            &[&device, &kind, &epoch],
        )
        .await
        .map_err(|e| pg_err("leasing a proving job of version 1", &e))?;
    }
    Ok(())
}

/// The name of the records partition of epochs `from..to`.
pub(crate) fn partition_name(from: u32, to: u32) -> String {
    format!("records_e{from}_{to}")
}

/// Creates the records partition of epochs `from..to` under the schema lock
/// (nothing if a table of that name exists).
pub(crate) async fn create_record_partition(
    client: &mut Client,
    from: u32,
    to: u32,
) -> Result<(), StoreError> {
    if from >= to {
        return Err(StoreError::Database(format!(
            "a records partition needs from < to, not {from}..{to}"
        )));
    }
    let tx = locked(client).await?;
    // Numbers only: nothing to quote.
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF records FOR VALUES FROM ({from}) TO ({to})",
        partition_name(from, to)
    );
    tx.batch_execute(&sql).await.map_err(|e| {
        pg_err(
            &format!("creating the records partition of epochs {from}..{to}"),
            &e,
        )
    })?;
    tx.commit()
        .await
        .map_err(|e| pg_err("committing the records partition", &e))
}
