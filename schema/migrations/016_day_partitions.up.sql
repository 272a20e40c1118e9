-- 016 day partitions: the four detail tables are partitioned by the day of their invocation, so
-- that a day's loads write to that day's indexes only (whatever the database holds: the cost of a
-- day stays the cost of day one), and retention drops a day whole instead of deleting its rows.
--
-- The day is not a timestamp of the rows: records of one row come in any order, and a partition
-- key must be known from each one alone. It is read from the invocation id, the key every record
-- carries: a UUIDv7 (edpipe's emitters and `edpipe gen` write them) begins with its creation time
-- in milliseconds. edpipe_invocation_day() below gives it, and the loader computes the same in
-- C++ (core/uuid.h: invocation_day). Ids of other versions, and v7 times outside 2000-2099, have
-- no day: their rows go to the "undated" partition, which retention prunes row by row as before.
--
-- The column invocation_day is on every detail table and in every key. The day partitions are
-- made on demand by edpipe_add_day_partitions() (the loader calls it before a batch that brings a
-- day the database has no partition for), as the function's owner: the loader's role cannot
-- create tables.
--
-- The tables are rebuilt: a database that holds data is copied into its new tables in this
-- migration's transaction, which locks them for as long as the copy and the index builds take.

CREATE FUNCTION edpipe_invocation_day(invocation_id uuid) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN substr(invocation_id::text, 15, 1) = '7' AND d >= date '2000-01-01' AND d < date '2100-01-01'
              THEN d ELSE date '1970-01-01' END
  FROM (SELECT date '1970-01-01' + ((('x' || lpad(replace(left(invocation_id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint
                                     / 86400000)::integer) AS d) t
$$;
COMMENT ON FUNCTION edpipe_invocation_day(uuid) IS
  'the day partition of an invocation''s rows: the UTC day of a UUIDv7''s time, 1970-01-01 (undated) otherwise';

-- The row types of the old tables go with them: the computed fields are made again afterwards.
DROP FUNCTION invocation_success_rate(invocations);
DROP FUNCTION invocation_avg_job_duration(invocations);
DROP FUNCTION event_job_success_rate(event_executions);

ALTER TABLE invocations RENAME TO invocations_unpartitioned;
ALTER TABLE event_executions RENAME TO event_executions_unpartitioned;
ALTER TABLE job_executions RENAME TO job_executions_unpartitioned;
ALTER TABLE job_logs RENAME TO job_logs_unpartitioned;

CREATE TABLE invocations (LIKE invocations_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMPRESSION
                          INCLUDING STORAGE INCLUDING COMMENTS, invocation_day date NOT NULL)
  PARTITION BY RANGE (invocation_day);
CREATE TABLE event_executions (LIKE event_executions_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                               INCLUDING COMPRESSION INCLUDING STORAGE INCLUDING COMMENTS, invocation_day date NOT NULL)
  PARTITION BY RANGE (invocation_day);
CREATE TABLE job_executions (LIKE job_executions_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                             INCLUDING COMPRESSION INCLUDING STORAGE INCLUDING COMMENTS, invocation_day date NOT NULL)
  PARTITION BY RANGE (invocation_day);
CREATE TABLE job_logs (LIKE job_logs_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMPRESSION
                       INCLUDING STORAGE INCLUDING COMMENTS, invocation_day date NOT NULL)
  PARTITION BY RANGE (invocation_day);
COMMENT ON COLUMN invocations.invocation_day IS 'edpipe_invocation_day(id): the day partition the row lives in';
COMMENT ON COLUMN event_executions.invocation_day IS 'edpipe_invocation_day(invocation_id): the day partition the row lives in';
COMMENT ON COLUMN job_executions.invocation_day IS 'edpipe_invocation_day(invocation_id): the day partition the row lives in';
COMMENT ON COLUMN job_logs.invocation_day IS 'edpipe_invocation_day(invocation_id): the day partition the row lives in';

CREATE TABLE invocations_undated PARTITION OF invocations FOR VALUES FROM (MINVALUE) TO ('2000-01-01');
CREATE TABLE event_executions_undated PARTITION OF event_executions FOR VALUES FROM (MINVALUE) TO ('2000-01-01');
CREATE TABLE job_executions_undated PARTITION OF job_executions FOR VALUES FROM (MINVALUE) TO ('2000-01-01');
CREATE TABLE job_logs_undated PARTITION OF job_logs FOR VALUES FROM (MINVALUE) TO ('2000-01-01');

-- A day's four partitions, made if missing; returns how many it made. At most 1,100 days (three
-- years) are kept as partitions: ids of made-up times cannot fill the catalog with them.
CREATE FUNCTION edpipe_add_day_partitions(day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t text;
  made integer := 0;
BEGIN
  IF day < date '2000-01-01' OR day >= date '2100-01-01' THEN
    RAISE EXCEPTION 'edpipe: % has no day partition (rows without a day go to the undated ones)', day;
  END IF;
  IF to_regclass('invocations_d' || to_char(day, 'YYYYMMDD')) IS NULL
     AND (SELECT count(*) FROM pg_inherits WHERE inhparent = 'invocations'::regclass) > 1100 THEN
    RAISE EXCEPTION 'edpipe: 1100 day partitions exist already; prune the old days (edpipe prune) before loading %', day
      USING ERRCODE = 'program_limit_exceeded';
  END IF;
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs'] LOOP
    IF to_regclass(t || '_d' || to_char(day, 'YYYYMMDD')) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                     t || '_d' || to_char(day, 'YYYYMMDD'), t, day, day + 1);
      made := made + 1;
    END IF;
  END LOOP;
  RETURN made;
END $$;

SELECT edpipe_add_day_partitions(d)
FROM (SELECT edpipe_invocation_day(id) AS d FROM invocations_unpartitioned
      UNION SELECT edpipe_invocation_day(invocation_id) FROM event_executions_unpartitioned
      UNION SELECT edpipe_invocation_day(invocation_id) FROM job_executions_unpartitioned
      UNION SELECT edpipe_invocation_day(invocation_id) FROM job_logs_unpartitioned) days
WHERE d >= date '2000-01-01';

INSERT INTO invocations SELECT *, edpipe_invocation_day(id) FROM invocations_unpartitioned;
INSERT INTO event_executions SELECT *, edpipe_invocation_day(invocation_id) FROM event_executions_unpartitioned;
INSERT INTO job_executions SELECT *, edpipe_invocation_day(invocation_id) FROM job_executions_unpartitioned;
INSERT INTO job_logs SELECT *, edpipe_invocation_day(invocation_id) FROM job_logs_unpartitioned;

DROP TABLE invocations_unpartitioned;
DROP TABLE event_executions_unpartitioned;
DROP TABLE job_executions_unpartitioned;
DROP TABLE job_logs_unpartitioned;

-- Every key holds the partition column; the children's hold their invocation (Citus, 014).
ALTER TABLE invocations ADD CONSTRAINT invocations_pkey PRIMARY KEY (id, invocation_day);
ALTER TABLE event_executions ADD CONSTRAINT event_executions_pkey PRIMARY KEY (id, invocation_id, invocation_day);
ALTER TABLE job_executions ADD CONSTRAINT job_executions_pkey PRIMARY KEY (id, invocation_id, invocation_day);
ALTER TABLE job_logs ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id, invocation_id, invocation_day);

-- The indexes of migrations 001-013, as they were, but for the unlinked source job refs: what
-- waits for its source job is in edpipe_waiting_links (below).
CREATE INDEX invocations_created_at_idx ON invocations (created_at DESC);
CREATE INDEX invocations_failed_idx ON invocations (created_at) WHERE status = 'failed';
CREATE INDEX invocations_open_idx ON invocations (status, last_record_at) WHERE status IN ('running', 'abandoned');
CREATE INDEX invocations_abandoned_idx ON invocations (created_at)
  INCLUDE (id, source_function, total_jobs_run, total_jobs_succeeded, total_jobs_failed) WHERE status = 'abandoned';
CREATE INDEX invocations_correlation_idx ON invocations (correlation_id, created_at) WHERE correlation_id IS NOT NULL;
CREATE INDEX invocations_user_email_idx ON invocations (source_user_email, created_at) WHERE source_user_email IS NOT NULL;
CREATE INDEX idx_invocations_source_job_id ON invocations (source_job_id) WHERE source_job_id IS NOT NULL;

CREATE INDEX event_executions_invocation_idx ON event_executions (invocation_id);
CREATE INDEX event_executions_name_idx ON event_executions (event_name, created_at)
  INCLUDE (status, detected, handler_duration_ms);
CREATE INDEX event_executions_failed_idx ON event_executions (created_at)
  WHERE status IN ('handler_failed', 'detection_failed');
CREATE INDEX event_executions_failed_name_idx ON event_executions (event_name, created_at)
  WHERE status IN ('handler_failed', 'detection_failed');

CREATE INDEX job_executions_invocation_idx ON job_executions (invocation_id);
CREATE INDEX job_executions_event_idx ON job_executions (event_execution_id);
CREATE INDEX job_executions_name_idx ON job_executions (job_name, created_at) INCLUDE (status, duration_ms);
CREATE INDEX job_executions_failed_idx ON job_executions (created_at) WHERE status = 'failed';
CREATE INDEX job_executions_failed_name_idx ON job_executions (job_name, created_at) WHERE status = 'failed';
CREATE INDEX job_executions_abandoned_idx ON job_executions (invocation_id) INCLUDE (job_name) WHERE status = 'abandoned';
CREATE INDEX job_executions_created_at_brin ON job_executions USING brin (created_at);

CREATE INDEX job_logs_job_idx ON job_logs (job_execution_id);
CREATE INDEX job_logs_invocation_level_idx ON job_logs (invocation_id) WHERE job_execution_id IS NULL;

-- The invocations whose source job is not loaded yet, by that job: a load links those waiting for
-- its jobs from this small table, instead of looking for them in every partition's index
-- (which grows with the days held). Local to the coordinator on Citus, like the rollups.
CREATE TABLE edpipe_waiting_links (
  job_id         uuid NOT NULL,  -- the source_job_ref not loaded yet
  invocation_id  uuid NOT NULL,  -- the invocation it caused
  invocation_day date NOT NULL,  -- that invocation's partition
  PRIMARY KEY (job_id, invocation_id)
);
CREATE INDEX edpipe_waiting_links_invocation_idx ON edpipe_waiting_links (invocation_id);
INSERT INTO edpipe_waiting_links
SELECT source_job_ref, id, invocation_day FROM invocations WHERE source_job_ref IS NOT NULL AND source_job_id IS NULL;
-- A load takes out the entries it links: the writer of schema/roles.sql may delete them (its
-- default privileges give insert and update only).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edpipe_writer') THEN
    GRANT DELETE ON edpipe_waiting_links TO edpipe_writer;
  END IF;
END $$;

-- The computed fields of 001 and 015, over the new row types.
CREATE FUNCTION invocation_success_rate(invocation_row invocations) RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN invocation_row.total_jobs_run = 0 THEN NULL
              ELSE round(100.0 * invocation_row.total_jobs_succeeded / invocation_row.total_jobs_run, 2) END
$$;
CREATE FUNCTION invocation_avg_job_duration(invocation_row invocations) RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN invocation_row.jobs_timed = 0 THEN NULL
              ELSE round(invocation_row.job_duration_sum_ms::numeric / invocation_row.jobs_timed, 2) END
$$;
CREATE FUNCTION event_job_success_rate(event_row event_executions) RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN event_row.jobs_count = 0 THEN NULL
              ELSE round(100.0 * event_row.jobs_succeeded / event_row.jobs_count, 2) END
$$;

DO $$
BEGIN
  IF (SELECT count(*) FROM pg_partitioned_table WHERE partrelid IN
        ('invocations'::regclass, 'event_executions'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)) <> 4
     OR edpipe_invocation_day('0192f3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d') <> date '2024-11-03'
     OR edpipe_invocation_day('4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f') <> date '1970-01-01' THEN
    RAISE EXCEPTION '016: the detail tables are not partitioned by day';
  END IF;
END $$;
