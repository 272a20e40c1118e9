-- 008 dashboard_stats by the hour: hourly rows per function, the shape the React console reads
-- (it filters the last 7 days and orders by hour_bucket). A plain view over metrics_hourly,
-- which every load keeps exact: nothing to refresh, and a read costs an index range scan of a
-- table with one row per function and hour. The 24-hour summary of migration 003 stays, as
-- dashboard_summary_24h, refreshed by refresh_dashboard_stats() as before.
ALTER MATERIALIZED VIEW dashboard_stats RENAME TO dashboard_summary_24h;
ALTER INDEX dashboard_stats_function_idx RENAME TO dashboard_summary_24h_function_idx;

CREATE VIEW dashboard_stats AS
SELECT
  hour_bucket,
  source_function,
  total_invocations,
  successful_invocations,
  failed_invocations,
  running_invocations,
  total_events_detected,
  total_jobs_run,
  total_jobs_succeeded,
  total_jobs_failed,
  avg_duration_ms,
  min_duration_ms,
  max_duration_ms,
  p50_duration_ms,
  p95_duration_ms,
  p99_duration_ms,
  top_detected_events,
  top_failed_jobs
FROM metrics_hourly;
COMMENT ON VIEW dashboard_stats IS
  'Hourly rows per function (metrics_hourly''s reported columns): the console''s overview charts';

CREATE OR REPLACE FUNCTION refresh_dashboard_stats() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY dashboard_summary_24h;
END $$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_views WHERE viewname = 'dashboard_stats')
     OR NOT EXISTS (SELECT 1 FROM pg_matviews WHERE matviewname = 'dashboard_summary_24h') THEN
    RAISE EXCEPTION '008: dashboard_stats or dashboard_summary_24h missing';
  END IF;
END $$;
