-- 001 initial schema: the data model's tables, as edpipe loads them.
--
-- Column names follow the seeds' data model; edpipe only adds columns. Every table keeps
-- invocation_id (the partition / distribution key of everything). Next to each derived column
-- (status, durations, counts) the lifecycle steps it is derived from are stored (started_at,
-- ended_at, reported_*), so that a later fragment merges exactly with what is stored.

CREATE TABLE invocations (
  id                      uuid PRIMARY KEY,
  source_function         text NOT NULL DEFAULT '',      -- '' until the invocation.start is loaded
  source_system           text,
  source_table            text,
  source_operation        text,
  source_event_id         uuid,
  source_event_time       timestamptz,
  source_event_payload    jsonb,
  source_user_email       text,
  source_user_role        text,
  correlation_id          text,
  auto_load_modules       boolean,
  event_modules_directory text,
  context_data            jsonb,
  status                  text NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'completed', 'failed', 'abandoned')),
  total_duration_ms       integer,
  events_detected_count   integer NOT NULL DEFAULT 0,
  total_jobs_run          integer NOT NULL DEFAULT 0,
  total_jobs_succeeded    integer NOT NULL DEFAULT 0,
  total_jobs_failed       integer NOT NULL DEFAULT 0,
  error_message           text,
  error_stack             text,
  -- the lifecycle steps behind the derived columns
  started_at              timestamptz,                   -- ts of the winning invocation.start
  ended_at                timestamptz,                   -- ts of the winning invocation.end
  end_status              text CHECK (end_status IN ('completed', 'failed')),
  reported_duration_ms    bigint,                        -- duration_ms of that end record
  first_record_at         timestamptz NOT NULL,          -- over every record of the invocation
  last_record_at          timestamptz NOT NULL,
  created_at              timestamptz NOT NULL,          -- started_at, else first_record_at
  updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_executions (
  id                      uuid PRIMARY KEY,
  invocation_id           uuid NOT NULL,                 -- see "Index choices": no FK, edpipe writes the parent
  event_name              text NOT NULL DEFAULT '',
  event_module_path       text,
  detected                boolean NOT NULL DEFAULT false,
  detection_duration_ms   integer,
  detection_error         text,
  detection_error_stack   text,
  handler_duration_ms     integer,
  handler_error           text,
  handler_error_stack     text,
  jobs_count              integer NOT NULL DEFAULT 0,
  jobs_succeeded          integer NOT NULL DEFAULT 0,
  jobs_failed             integer NOT NULL DEFAULT 0,
  status                  text NOT NULL DEFAULT 'detecting'
                          CHECK (status IN ('detecting', 'not_detected', 'detection_failed', 'handling',
                                            'completed', 'handler_failed', 'abandoned')),
  correlation_id          text,
  event_name_rank         smallint NOT NULL DEFAULT 4,   -- which step the name came from (0 = detection start)
  detection_started_at    timestamptz,
  detection_ended_at      timestamptz,
  detection_failed        boolean,                       -- the winning detection end carried an error
  reported_detection_ms   bigint,
  handler_started_at      timestamptz,
  handler_ended_at        timestamptz,
  handler_failed          boolean,
  reported_handler_ms     bigint,
  first_record_at         timestamptz NOT NULL,
  last_record_at          timestamptz NOT NULL,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job_executions (
  id                      uuid PRIMARY KEY,
  invocation_id           uuid NOT NULL,
  event_execution_id      uuid,                          -- linked by id: the event may load later
  job_name                text NOT NULL DEFAULT '',
  job_function_name       text,
  job_options             jsonb,
  status                  text NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'completed', 'failed', 'abandoned')),
  duration_ms             integer,
  result                  jsonb,
  error_message           text,
  error_stack             text,
  console_logs            jsonb,                         -- seeds' column; lines live in job_logs
  correlation_id          text,
  job_name_rank           smallint NOT NULL DEFAULT 2,   -- 0 = from job.start, 1 = from job.end
  started_at              timestamptz,
  ended_at                timestamptz,
  end_status              text CHECK (end_status IN ('completed', 'failed')),
  reported_duration_ms    bigint,
  first_record_at         timestamptz NOT NULL,
  last_record_at          timestamptz NOT NULL,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job_logs (
  id                      uuid PRIMARY KEY,              -- derived from the line's content
  invocation_id           uuid NOT NULL,
  job_execution_id        uuid,                          -- null: an invocation-level line
  level                   text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message                 text NOT NULL,
  data                    jsonb,
  source                  text,
  correlation_id          text,
  occurrence              integer NOT NULL DEFAULT 0,
  created_at              timestamptz NOT NULL
);

CREATE TABLE metrics_hourly (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  hour_bucket             timestamptz NOT NULL,
  source_function         text NOT NULL,
  total_invocations       integer NOT NULL DEFAULT 0,
  successful_invocations  integer NOT NULL DEFAULT 0,    -- completed
  failed_invocations      integer NOT NULL DEFAULT 0,    -- failed + abandoned
  running_invocations     integer NOT NULL DEFAULT 0,
  total_events_detected   integer NOT NULL DEFAULT 0,
  total_jobs_run          integer NOT NULL DEFAULT 0,
  total_jobs_succeeded    integer NOT NULL DEFAULT 0,
  total_jobs_failed       integer NOT NULL DEFAULT 0,
  avg_duration_ms         numeric,
  min_duration_ms         integer,
  max_duration_ms         integer,
  p50_duration_ms         numeric,
  p95_duration_ms         numeric,
  p99_duration_ms         numeric,
  top_detected_events     jsonb NOT NULL DEFAULT '[]',   -- [{"name":…,"count":…}], top 5
  top_failed_jobs         jsonb NOT NULL DEFAULT '[]',
  -- the mergeable state behind the columns above
  duration_count          bigint NOT NULL DEFAULT 0,
  duration_sum_ms         bigint NOT NULL DEFAULT 0,
  duration_zero_count     bigint NOT NULL DEFAULT 0,
  duration_bucket_keys    integer[] NOT NULL DEFAULT '{}',  -- DDSketch keys, γ = 1.01/0.99
  duration_bucket_counts  bigint[] NOT NULL DEFAULT '{}',
  detected_event_counts   jsonb NOT NULL DEFAULT '{}',   -- {"event name": count}: exact, ranked when read
  failed_job_counts       jsonb NOT NULL DEFAULT '{}',
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (hour_bucket, source_function)
);

-- The newest ts any load has ever received: the clock of the abandon rule.
CREATE TABLE edpipe_watermark (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  watermark timestamptz NOT NULL
);

-- updated_at: when the row last changed in the database.
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER invocations_updated_at BEFORE UPDATE ON invocations FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_executions_updated_at BEFORE UPDATE ON event_executions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_executions_updated_at BEFORE UPDATE ON job_executions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER metrics_hourly_updated_at BEFORE UPDATE ON metrics_hourly FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Computed fields (Hasura exposes them as invocations.success_rate and friends).
CREATE FUNCTION invocation_success_rate(invocation_row invocations) RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN invocation_row.total_jobs_run = 0 THEN NULL
              ELSE round(100.0 * invocation_row.total_jobs_succeeded / invocation_row.total_jobs_run, 2) END
$$;
CREATE FUNCTION invocation_avg_job_duration(invocation_row invocations) RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT round(avg(duration_ms), 2) FROM job_executions WHERE invocation_id = invocation_row.id
$$;
CREATE FUNCTION event_job_success_rate(event_row event_executions) RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN event_row.jobs_count = 0 THEN NULL
              ELSE round(100.0 * event_row.jobs_succeeded / event_row.jobs_count, 2) END
$$;

-- Indexes: each serves a query of docs/database.md "Queries" (see "Index choices" there).
-- Dashboard overview, time filters: newest invocations first.
CREATE INDEX invocations_created_at_idx ON invocations (created_at DESC);
-- One invocation's trace; children by parent (the trace joins event -> job -> log).
CREATE INDEX event_executions_invocation_idx ON event_executions (invocation_id);
CREATE INDEX job_executions_invocation_idx ON job_executions (invocation_id);
CREATE INDEX job_executions_event_idx ON job_executions (event_execution_id);
CREATE INDEX job_logs_job_idx ON job_logs (job_execution_id);
-- Invocation-level log lines (no job): few, so a partial index.
CREATE INDEX job_logs_invocation_level_idx ON job_logs (invocation_id) WHERE job_execution_id IS NULL;
-- Slowest jobs in a time window, failures by job name.
CREATE INDEX job_executions_created_at_brin ON job_executions USING brin (created_at);
CREATE INDEX job_executions_name_idx ON job_executions (job_name, created_at);
-- Filters by status: the few that are not completed (partial: completed rows are not indexed).
CREATE INDEX invocations_open_idx ON invocations (status, last_record_at) WHERE status IN ('running', 'abandoned');
CREATE INDEX invocations_failed_idx ON invocations (created_at) WHERE status = 'failed';
-- Filter by event name.
CREATE INDEX event_executions_name_idx ON event_executions (event_name, created_at);

-- Verification: this migration did what it says.
DO $$
BEGIN
  IF (SELECT count(*) FROM information_schema.tables
      WHERE table_schema = current_schema()
        AND table_name IN ('invocations', 'event_executions', 'job_executions', 'job_logs', 'metrics_hourly',
                           'edpipe_watermark')) <> 6 THEN
    RAISE EXCEPTION '001: tables missing';
  END IF;
END $$;
