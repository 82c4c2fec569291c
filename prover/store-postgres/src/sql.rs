//! Column conversions and error messages shared by reads and writes.

use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_statements::{Fr, StatementKind};
use depin_store::{ChainKey, CodecError, StoreError};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

/// A field element's column: its 32 bytes little-endian (so that SQL orders
/// rows as the embedded store orders its keys).
pub(crate) fn fr_col(x: &Fr) -> Vec<u8> {
    fr_to_le_bytes(x).to_vec()
}

/// A statement kind's column: its code.
pub(crate) fn kind_col(kind: StatementKind) -> i16 {
    i16::from(kind.code())
}

/// The columns of a chain or job key: device, kind, epoch.
pub(crate) struct KeyCols {
    pub device: Vec<u8>,
    pub kind: i16,
    pub epoch: i64,
}

impl KeyCols {
    pub fn of(key: &ChainKey) -> Self {
        KeyCols {
            device: fr_col(&key.device),
            kind: kind_col(key.kind),
            epoch: i64::from(key.epoch),
        }
    }
}

fn codec(what: &'static str, reason: &'static str) -> StoreError {
    StoreError::Codec(CodecError { what, reason })
}

/// A field element read from a column.
pub(crate) fn fr_of(b: &[u8], what: &'static str) -> Result<Fr, StoreError> {
    let arr: [u8; 32] = b.try_into().map_err(|_| codec(what, "not 32 bytes"))?;
    fr_from_le_bytes(&arr).map_err(|_| codec(what, "field element not canonical"))
}

/// A `u32` read from a BIGINT column.
pub(crate) fn u32_of(v: i64, what: &'static str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| codec(what, "out of range"))
}

/// A `u64` read from a BIGINT column (counts, sequence numbers).
pub(crate) fn u64_of(v: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| codec(what, "negative"))
}

/// A `u64` written to a BIGINT column (which holds up to `i64::MAX`).
pub(crate) fn i64_of(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| {
        StoreError::Database(format!(
            "{what} {v} is out of range for PostgreSQL (at most {})",
            i64::MAX
        ))
    })
}

/// Column `idx` of `row`.
pub(crate) fn col<T>(row: &Row, idx: usize, what: &'static str) -> Result<T, StoreError>
where
    T: for<'a> FromSql<'a>,
{
    row.try_get(idx).map_err(|e| pg_err(what, &e))
}

/// A PostgreSQL error as the store reports it: what was being done, then
/// the server's own words (severity, SQLSTATE, message, detail) or the
/// client's (a connection that failed or closed).
/// [`StoreError::Unavailable`] when the database could not be reached
/// ([`is_unavailable`]), [`StoreError::Database`] otherwise.
pub(crate) fn pg_err(context: &str, e: &tokio_postgres::Error) -> StoreError {
    if is_unavailable(e) {
        StoreError::Unavailable(describe(context, e))
    } else {
        StoreError::Database(describe(context, e))
    }
}

/// A failure to take a connection from the pool, as the store reports it
/// (naming the server and database, never the password): no connection
/// within the pool's timeouts, or one that could not be opened because the
/// server cannot be reached now, is [`StoreError::Unavailable`]; a server
/// that refuses the connection for good (authentication, an unknown
/// database) is [`StoreError::Database`].
pub(crate) fn pool_err(
    context: &str,
    target: &str,
    e: &deadpool_postgres::PoolError,
) -> StoreError {
    use deadpool_postgres::PoolError;
    match e {
        PoolError::Timeout(_) => StoreError::Unavailable(format!(
            "PostgreSQL at {target}, {context}: {e} (the server is unreachable or every \
             connection is busy)"
        )),
        PoolError::Backend(pg) => {
            let message = describe(context, pg).replacen(
                "PostgreSQL,",
                &format!("PostgreSQL at {target},"),
                1,
            );
            if is_unavailable(pg) {
                StoreError::Unavailable(message)
            } else {
                StoreError::Database(message)
            }
        }
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Database(format!("PostgreSQL at {target}, {context}: {other}")),
    }
}

/// [`pg_err`]'s message.
pub(crate) fn describe(context: &str, e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!(
                "PostgreSQL, {context}: {} {}: {}",
                db.severity(),
                db.code().code(),
                db.message()
            );
            if let Some(d) = db.detail() {
                s.push_str(" (");
                s.push_str(d);
                s.push(')');
            }
            s
        }
        None => {
            let mut s = format!("PostgreSQL, {context}: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                let text = inner.to_string();
                if !s.ends_with(&text) {
                    s.push_str(": ");
                    s.push_str(&text);
                }
                source = inner.source();
            }
            if e.is_closed() {
                s.push_str(" (the connection to the database is closed)");
            }
            s
        }
    }
}

/// Whether `e` is the server refusing a transaction for contention: a
/// serialization failure, a deadlock, or a lock wait past `lock_timeout`.
/// The transaction wrote nothing; running it again may succeed.
pub(crate) fn is_contention(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::LOCK_NOT_AVAILABLE
    )
}

/// Whether `e` says that the database cannot be reached now, rather than
/// that it refused the statement: a connection that is closed or failed
/// (an I/O error, a refused or timed out connect), a connection exception
/// (SQLSTATE class 08), the server shutting down or crashed (57P01
/// `admin_shutdown`, 57P02 `crash_shutdown`), starting up or recovering
/// (57P03 `cannot_connect_now`), or out of connection slots (53300
/// `too_many_connections`). A fresh connection, later, may succeed.
/// Errors of the client itself (a value that does not convert, a malformed
/// message) are not: retrying them fails again.
pub(crate) fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }
        // `Io` and `Connect` errors carry the socket's error; `Parse` and
        // `Encode` (a malformed message, a value too large to send) carry
        // an `InvalidData` or `InvalidInput` one.
        None => io_cause(e).is_some_and(|io| {
            !matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput
            )
        }),
    }
}

/// The I/O error in `e`'s chain of causes, if any.
fn io_cause(e: &tokio_postgres::Error) -> Option<&std::io::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = inner.source();
    }
    None
}
