//! Claiming a job for a worker, across nodes: the oldest QUEUED job, or
//! PROVING job whose lease ended, of the worker's statements, locked with
//! `FOR UPDATE SKIP LOCKED` (workers of other nodes pass over it instead of
//! waiting), taken only if its advisory lock is free too (every conditional
//! writer of a job holds that lock from its condition's check to its
//! commit: a job someone is about to write is passed over, never written
//! under them), and stored PROVING with one more attempt and the worker's
//! lease in the same transaction.

use deadpool_postgres::Object;
use depin_store::{ClaimRequest, JobRecord, StoreError};
use depin_store_redb::codec::Codec;

use crate::sql::{col, i64_of, kind_col, pg_err};
use crate::write::{job_lock, write_job};

/// Candidates locked at once (some may be passed over).
const CANDIDATES: i64 = 8;

/// [`depin_store::Store::claim_job`] on PostgreSQL.
pub(crate) async fn claim(
    client: &mut Object,
    request: &ClaimRequest,
) -> Result<Option<JobRecord>, StoreError> {
    if request.kinds.is_empty() {
        return Ok(None);
    }
    let kinds: Vec<i16> = request.kinds.iter().map(|k| kind_col(*k)).collect();
    let now = i64_of(request.now_ms, "the time")?;
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_err("starting a claim", &e))?;
    let rows = tx
        .query(
            "SELECT value FROM jobs \
             WHERE kind = ANY($1) AND (state = 1 OR (state = 2 AND lease_until_ms < $2)) \
             ORDER BY created_ms, device, kind, epoch \
             LIMIT $3 FOR UPDATE SKIP LOCKED",
            &[&kinds, &now, &CANDIDATES],
        )
        .await
        .map_err(|e| pg_err("finding a job to claim", &e))?;
    for row in rows {
        // A row that does not decode (corruption) is passed over, so that
        // it cannot stop every node's claims; it is named in the log.
        let job = match col::<Vec<u8>>(&row, 0, "job").and_then(|v| Ok(JobRecord::decode(&v)?)) {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, "a stored job does not decode: passed over");
                continue;
            }
        };
        if !job.claimable(request) {
            continue;
        }
        let free: bool = tx
            .query_one(
                "SELECT pg_try_advisory_xact_lock($1)",
                &[&job_lock(&job.key)],
            )
            .await
            .map_err(|e| pg_err("locking a job to claim", &e))?
            .try_get(0)
            .map_err(|e| pg_err("locking a job to claim", &e))?;
        if !free {
            continue;
        }
        let claimed = job.claimed(request);
        write_job(&tx, &claimed).await?;
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a claim", &e))?;
        return Ok(Some(claimed));
    }
    // Nothing to take: the row locks go with the transaction.
    tx.rollback()
        .await
        .map_err(|e| pg_err("ending a claim", &e))?;
    Ok(None)
}
