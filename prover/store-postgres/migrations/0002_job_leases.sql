-- depin-store-postgres, schema version 2: jobs leased across nodes.
--
-- `lease_until_ms` repeats when the lease of a PROVING job outside a batch
-- ends (0: a job of a build without leases, claimable at once); NULL for
-- every other job. A worker claims the oldest job with `state = 1`, or
-- `state = 2` and a lease that ended, `FOR UPDATE SKIP LOCKED`, using the
-- `jobs_unfinished` index. PROVING jobs written by version 1 are given
-- their column by the migration's code (src/schema.rs), which reads their
-- value to tell a batch's member from a job proven on its own.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS lease_until_ms BIGINT;
