-- 016 down: the detail tables unpartitioned again, without invocation_day, their rows copied
-- back. (On Citus, `edpipe migrate down` first makes them local, which drops the computed fields
-- over their row types (made again below), and distributes them again
-- afterwards as migration 014 did.)
DROP FUNCTION IF EXISTS invocation_success_rate(invocations);
DROP FUNCTION IF EXISTS invocation_avg_job_duration(invocations);
DROP FUNCTION IF EXISTS event_job_success_rate(event_executions);

DO $$
DECLARE
  t text;
  cols text;
BEGIN
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs'] LOOP
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMPRESSION '
                   'INCLUDING STORAGE INCLUDING COMMENTS)', t || '_unpartitioned', t);
    EXECUTE format('ALTER TABLE %I DROP COLUMN invocation_day', t || '_unpartitioned');
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = (t || '_unpartitioned')::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM %I', t || '_unpartitioned', cols, cols, t);
    EXECUTE format('DROP TABLE %I', t);
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_unpartitioned', t);
  END LOOP;
END $$;

DROP TABLE edpipe_waiting_links;
DROP FUNCTION edpipe_add_day_partitions(date);
DROP FUNCTION edpipe_invocation_day(uuid);

ALTER TABLE invocations ADD CONSTRAINT invocations_pkey PRIMARY KEY (id);
ALTER TABLE event_executions ADD CONSTRAINT event_executions_pkey PRIMARY KEY (id, invocation_id);
ALTER TABLE job_executions ADD CONSTRAINT job_executions_pkey PRIMARY KEY (id, invocation_id);
ALTER TABLE job_logs ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id, invocation_id);

-- The indexes of migrations 001-013, as they were.
CREATE INDEX invocations_created_at_idx ON invocations (created_at DESC);
CREATE INDEX invocations_failed_idx ON invocations (created_at) WHERE status = 'failed';
CREATE INDEX invocations_open_idx ON invocations (status, last_record_at) WHERE status IN ('running', 'abandoned');
CREATE INDEX invocations_abandoned_idx ON invocations (created_at)
  INCLUDE (id, source_function, total_jobs_run, total_jobs_succeeded, total_jobs_failed) WHERE status = 'abandoned';
CREATE INDEX invocations_correlation_idx ON invocations (correlation_id, created_at) WHERE correlation_id IS NOT NULL;
CREATE INDEX invocations_user_email_idx ON invocations (source_user_email, created_at) WHERE source_user_email IS NOT NULL;
CREATE INDEX idx_invocations_source_job_id ON invocations (source_job_id) WHERE source_job_id IS NOT NULL;
CREATE INDEX idx_invocations_source_job_ref_unlinked ON invocations (source_job_ref)
  WHERE source_job_ref IS NOT NULL AND source_job_id IS NULL;

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
  IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'invocations'::regclass)
     OR EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'job_logs'::regclass AND attname = 'invocation_day' AND NOT attisdropped) THEN
    RAISE EXCEPTION '016 down: the detail tables are still partitioned';
  END IF;
END $$;
