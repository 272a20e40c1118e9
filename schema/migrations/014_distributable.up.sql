-- 014 distributable: a schema that is valid on plain PostgreSQL and on Citus alike, so that a
-- database can move to a cluster with the same migration history.
--
-- On Citus, `edpipe migrate up` then distributes the detail tables (after this SQL, in the same
-- transaction): invocations by id, and event_executions, job_executions and job_logs by
-- invocation_id, co-located with it, so that one invocation's rows live on one worker. The
-- rollups and edpipe's own bookkeeping stay local tables on the coordinator (see
-- docs/scale-out.md).
--
-- What Citus refuses, and what replaces it here:
-- * Keys without the distribution column: the children's primary keys become (id,
--   invocation_id). An id under two invocations (broken input: ids are UUIDs the emitter
--   draws) is now a row of each, as it must be on Citus, where only an invocation's own worker
--   can check its keys. Lookups by id still use the key's first column.
-- * A foreign key across distribution keys (invocations.source_job_id -> job_executions.id):
--   dropped; `edpipe prune` clears the links to the jobs it deletes itself (what ON DELETE SET
--   NULL did), and `edpipe verify` checks that no link points nowhere.
-- * Triggers on distributed tables: the updated_at triggers are dropped; every statement that
--   changes a row sets updated_at itself.
-- (The primary keys are rebuilt: on a large database this holds a write lock on the tables for
-- as long as the index builds take.)
DROP TRIGGER IF EXISTS invocations_updated_at ON invocations;
DROP TRIGGER IF EXISTS event_executions_updated_at ON event_executions;
DROP TRIGGER IF EXISTS job_executions_updated_at ON job_executions;
DROP TRIGGER IF EXISTS metrics_hourly_updated_at ON metrics_hourly;
DROP FUNCTION IF EXISTS set_updated_at();

ALTER TABLE invocations DROP CONSTRAINT IF EXISTS fk_invocations_source_job_id;

ALTER TABLE event_executions DROP CONSTRAINT event_executions_pkey;
ALTER TABLE event_executions ADD CONSTRAINT event_executions_pkey PRIMARY KEY (id, invocation_id);
ALTER TABLE job_executions DROP CONSTRAINT job_executions_pkey;
ALTER TABLE job_executions ADD CONSTRAINT job_executions_pkey PRIMARY KEY (id, invocation_id);
ALTER TABLE job_logs DROP CONSTRAINT job_logs_pkey;
ALTER TABLE job_logs ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id, invocation_id);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN
               ('invocations'::regclass, 'event_executions'::regclass, 'job_executions'::regclass, 'metrics_hourly'::regclass))
     OR EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'fk_invocations_source_job_id')
     OR (SELECT count(*) FROM pg_index WHERE indisprimary AND indnkeyatts = 2 AND indrelid IN
           ('event_executions'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)) <> 3 THEN
    RAISE EXCEPTION '014: triggers, the source job foreign key or single-column keys remain';
  END IF;
END $$;
