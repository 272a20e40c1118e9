-- 012 bounded name lists: metrics_hourly's detected_event_counts and failed_job_counts were
-- every name of the hour, rewritten whole by every batch that touched it: a job name with an id
-- in it made them grow without bound. They now hold the hour's 100 most frequent names (count
-- descending, then name in byte order), exactly; the rest of the hour's count is in
-- detected_events_other / failed_jobs_other. name_metrics_hourly holds every name, exactly.
ALTER TABLE metrics_hourly
  ADD COLUMN detected_events_other bigint NOT NULL DEFAULT 0,
  ADD COLUMN failed_jobs_other bigint NOT NULL DEFAULT 0;

WITH counted AS (
  SELECT kind, hour_bucket, source_function, name, CASE kind WHEN 'event' THEN detected ELSE failed END AS n
  FROM name_metrics_hourly
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY kind, hour_bucket, source_function ORDER BY n DESC, name COLLATE "C") AS rk
  FROM counted WHERE n > 0
), lists AS (
  SELECT hour_bucket, source_function,
         coalesce(jsonb_object_agg(name, n) FILTER (WHERE kind = 'event' AND rk <= 100), '{}') AS events,
         coalesce(sum(n) FILTER (WHERE kind = 'event' AND rk > 100), 0) AS events_other,
         coalesce(jsonb_object_agg(name, n) FILTER (WHERE kind = 'job' AND rk <= 100), '{}') AS jobs,
         coalesce(sum(n) FILTER (WHERE kind = 'job' AND rk > 100), 0) AS jobs_other
  FROM ranked GROUP BY hour_bucket, source_function
)
UPDATE metrics_hourly m
SET detected_event_counts = l.events, detected_events_other = l.events_other,
    failed_job_counts = l.jobs, failed_jobs_other = l.jobs_other
FROM lists l
WHERE m.hour_bucket = l.hour_bucket AND m.source_function = l.source_function;
