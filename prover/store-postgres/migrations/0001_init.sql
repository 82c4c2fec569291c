-- depin-store-postgres, schema version 1.
--
-- Runs inside one transaction under a transaction-scoped advisory lock
-- (src/schema.rs), so nodes starting together apply it once; every statement
-- is also idempotent (IF NOT EXISTS), so running it again changes nothing.
--
-- Keys are typed columns: field elements are BYTEA of their 32 bytes
-- little-endian (so `ORDER BY` on them is the embedded store's key order),
-- statement kinds SMALLINT codes, epochs, positions and indices BIGINT (a
-- u32 range check each). Values are BYTEA in the embedded store's encoding
-- (depin_store_redb::codec); a few of their fields are repeated in columns
-- where SQL conditions or orders on them (a chain's length and head, a job's
-- state and creation time).

CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Registered devices: the key (a point, 64 bytes).
CREATE TABLE IF NOT EXISTS devices (
    id    BYTEA PRIMARY KEY CHECK (octet_length(id) = 32),
    value BYTEA NOT NULL
);

-- Registered clients: the leaf index and the key (a point).
CREATE TABLE IF NOT EXISTS clients (
    idx   BIGINT PRIMARY KEY CHECK (idx BETWEEN 0 AND 4294967295),
    id    BYTEA NOT NULL UNIQUE CHECK (octet_length(id) = 32),
    value BYTEA NOT NULL
);

-- Published epochs (EpochConfig).
CREATE TABLE IF NOT EXISTS epochs (
    epoch BIGINT PRIMARY KEY CHECK (epoch BETWEEN 0 AND 4294967295),
    value BYTEA NOT NULL
);

-- A device's beacon id in an epoch.
CREATE TABLE IF NOT EXISTS beacons (
    epoch     BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    beacon_id BYTEA NOT NULL CHECK (octet_length(beacon_id) = 32),
    device    BYTEA NOT NULL CHECK (octet_length(device) = 32),
    PRIMARY KEY (epoch, beacon_id)
);

-- Chains' tails (ChainState); `len` and `head` repeat the value's for the
-- ChainTail condition.
CREATE TABLE IF NOT EXISTS chains (
    device BYTEA NOT NULL CHECK (octet_length(device) = 32),
    kind   SMALLINT NOT NULL,
    epoch  BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    len    BIGINT NOT NULL,
    head   BYTEA NOT NULL,
    value  BYTEA NOT NULL,
    PRIMARY KEY (device, kind, epoch)
);

-- The chains' records (StoredRecord), the bulk of the data: partitioned by
-- range of epoch, so old epochs can be detached, archived and dropped
-- whole. Rows land in the default partition unless an operator (or
-- PostgresStore::create_record_partition) made one for their epochs.
CREATE TABLE IF NOT EXISTS records (
    device   BYTEA NOT NULL CHECK (octet_length(device) = 32),
    kind     SMALLINT NOT NULL,
    epoch    BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    position BIGINT NOT NULL CHECK (position BETWEEN 0 AND 4294967295),
    value    BYTEA NOT NULL,
    PRIMARY KEY (device, kind, epoch, position)
) PARTITION BY RANGE (epoch);
CREATE TABLE IF NOT EXISTS records_default PARTITION OF records DEFAULT;

-- Coverage claims (StoredClaim).
CREATE TABLE IF NOT EXISTS claims (
    device BYTEA NOT NULL CHECK (octet_length(device) = 32),
    epoch  BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    value  BYTEA NOT NULL,
    PRIMARY KEY (device, epoch)
);

-- Witness reports (SignedWitnessReport), by epoch, beacon id and witness id.
CREATE TABLE IF NOT EXISTS reports (
    epoch     BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    beacon_id BYTEA NOT NULL CHECK (octet_length(beacon_id) = 32),
    witness   BYTEA NOT NULL CHECK (octet_length(witness) = 32),
    value     BYTEA NOT NULL,
    PRIMARY KEY (epoch, beacon_id, witness)
);

-- Proving jobs (JobRecord); `state` (JobState: 1 queued, 2 proving, 3 done,
-- 4 failed) and `created_ms` repeat the value's.
CREATE TABLE IF NOT EXISTS jobs (
    device     BYTEA NOT NULL CHECK (octet_length(device) = 32),
    kind       SMALLINT NOT NULL,
    epoch      BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    state      SMALLINT NOT NULL CHECK (state BETWEEN 1 AND 4),
    created_ms BIGINT NOT NULL,
    value      BYTEA NOT NULL,
    PRIMARY KEY (device, kind, epoch)
);
-- Unfinished jobs, oldest first (resumed after a restart).
CREATE INDEX IF NOT EXISTS jobs_unfinished
    ON jobs (created_ms, device, kind, epoch) WHERE state IN (1, 2);

-- Jobs' proofs (proof.bin bytes).
CREATE TABLE IF NOT EXISTS proofs (
    device BYTEA NOT NULL CHECK (octet_length(device) = 32),
    kind   SMALLINT NOT NULL,
    epoch  BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),
    proof  BYTEA NOT NULL,
    PRIMARY KEY (device, kind, epoch)
);

-- A kind's batches (BatchRecord), numbered from 0.
CREATE TABLE IF NOT EXISTS batches (
    kind     SMALLINT NOT NULL,
    sequence BIGINT NOT NULL CHECK (sequence >= 0),
    state    SMALLINT NOT NULL CHECK (state BETWEEN 1 AND 4),
    value    BYTEA NOT NULL,
    PRIMARY KEY (kind, sequence)
);

-- The batches that hold a device (a batch's members, indexed by device).
CREATE TABLE IF NOT EXISTS device_batches (
    kind     SMALLINT NOT NULL,
    device   BYTEA NOT NULL CHECK (octet_length(device) = 32),
    sequence BIGINT NOT NULL CHECK (sequence >= 0),
    PRIMARY KEY (kind, device, sequence)
);
-- A replaced batch's members leave the index by (kind, sequence).
CREATE INDEX IF NOT EXISTS device_batches_by_batch ON device_batches (kind, sequence);
