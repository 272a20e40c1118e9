-- 011 name rollups: the dashboard's jobs and events pages over a day or a week read per-hour,
-- per-name rows instead of every execution of the range. Like metrics_hourly, a row belongs to
-- the hour and function of the invocation (its created_at) and every count is a sum, so a load
-- keeps it exact by adding what its invocations contribute now minus what they did before.
CREATE TABLE name_metrics_hourly (
  kind                    text NOT NULL CHECK (kind IN ('job', 'event')),
  hour_bucket             timestamptz NOT NULL,
  source_function         text NOT NULL,
  name                    text NOT NULL,           -- job_name or event_name
  runs                    bigint NOT NULL DEFAULT 0,  -- job or event executions
  failed                  bigint NOT NULL DEFAULT 0,  -- jobs: failed; events: detection or handler failed
  detected                bigint NOT NULL DEFAULT 0,  -- events only
  -- The durations (jobs: duration_ms; events: handler_duration_ms), as metrics_hourly keeps the
  -- invocations': DDSketch keys, γ = 1.01/0.99, so p50/p95 of any set of hours are within 1 %.
  duration_zero_count     bigint NOT NULL DEFAULT 0,
  duration_bucket_keys    integer[] NOT NULL DEFAULT '{}',
  duration_bucket_counts  bigint[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (kind, hour_bucket, source_function, name)
);

-- What is already loaded, in the same keys as the loader's sketch (core/duration_sketch.cpp:
-- ceil(ln(d) / ln((1 + 0.01) / (1 - 0.01))), both through the C library's log).
WITH runs AS (
  SELECT 'job' AS kind, date_trunc('hour', i.created_at) AS hour_bucket, i.source_function, j.job_name AS name,
         j.status = 'failed' AS failed, false AS detected, j.duration_ms AS d
  FROM job_executions j JOIN invocations i ON i.id = j.invocation_id
  UNION ALL
  SELECT 'event', date_trunc('hour', i.created_at), i.source_function, e.event_name,
         e.status IN ('handler_failed', 'detection_failed'), e.detected, e.handler_duration_ms
  FROM event_executions e JOIN invocations i ON i.id = e.invocation_id
), keyed AS (
  SELECT kind, hour_bucket, source_function, name,
         CASE WHEN d > 0 THEN ceil(ln(d::float8) / ln((1 + 0.01::float8) / (1 - 0.01::float8)))::integer END AS k,
         count(*) AS runs, count(*) FILTER (WHERE failed) AS failed, count(*) FILTER (WHERE detected) AS detected,
         count(*) FILTER (WHERE d <= 0) AS zero
  FROM runs GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO name_metrics_hourly (kind, hour_bucket, source_function, name, runs, failed, detected, duration_zero_count,
                                 duration_bucket_keys, duration_bucket_counts)
SELECT kind, hour_bucket, source_function, name, sum(runs), sum(failed), sum(detected), sum(zero),
       coalesce(array_agg(k ORDER BY k) FILTER (WHERE k IS NOT NULL), '{}'),
       coalesce(array_agg(runs ORDER BY k) FILTER (WHERE k IS NOT NULL), '{}')
FROM keyed GROUP BY 1, 2, 3, 4;

-- The failed rows only: by time for the error-text search, by name and time for a name's latest
-- failures (its most common error on the jobs and events pages).
CREATE INDEX job_executions_failed_idx ON job_executions (created_at) WHERE status = 'failed';
CREATE INDEX event_executions_failed_idx ON event_executions (created_at)
  WHERE status IN ('handler_failed', 'detection_failed');
CREATE INDEX job_executions_failed_name_idx ON job_executions (job_name, created_at) WHERE status = 'failed';
CREATE INDEX event_executions_failed_name_idx ON event_executions (event_name, created_at)
  WHERE status IN ('handler_failed', 'detection_failed');

-- A name whose executions all moved to another hour is deleted, as an empty metrics_hourly row
-- is: the writer of schema/roles.sql may (its default privileges give insert and update only).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edpipe_writer') THEN
    GRANT DELETE ON name_metrics_hourly TO edpipe_writer;
  END IF;
  IF to_regclass('name_metrics_hourly') IS NULL OR to_regclass('job_executions_failed_idx') IS NULL THEN
    RAISE EXCEPTION '011: name_metrics_hourly or the failed-row indexes missing';
  END IF;
END $$;
