-- 003 dashboard_stats: the dashboard's overview, precomputed, with its refresh function.
CREATE MATERIALIZED VIEW dashboard_stats AS
SELECT
  source_function,
  sum(total_invocations)::bigint        AS total_invocations_24h,
  sum(successful_invocations)::bigint   AS successful_invocations_24h,
  sum(failed_invocations)::bigint       AS failed_invocations_24h,
  sum(total_events_detected)::bigint    AS events_detected_24h,
  sum(total_jobs_run)::bigint           AS jobs_run_24h,
  sum(total_jobs_failed)::bigint        AS jobs_failed_24h,
  round(sum(avg_duration_ms * duration_count) / nullif(sum(duration_count), 0), 2) AS avg_duration_ms_24h,
  max(hour_bucket)                      AS last_hour_bucket
FROM metrics_hourly
WHERE hour_bucket >= (SELECT coalesce(max(watermark), now()) FROM edpipe_watermark) - interval '24 hours'
GROUP BY source_function;
CREATE UNIQUE INDEX dashboard_stats_function_idx ON dashboard_stats (source_function);

CREATE FUNCTION refresh_dashboard_stats() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY dashboard_stats;
END $$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_matviews WHERE matviewname = 'dashboard_stats') THEN
    RAISE EXCEPTION '003: dashboard_stats missing';
  END IF;
END $$;
