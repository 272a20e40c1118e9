-- 008 down: dashboard_stats is the 24-hour summary again.
DROP VIEW IF EXISTS dashboard_stats;
ALTER MATERIALIZED VIEW dashboard_summary_24h RENAME TO dashboard_stats;
ALTER INDEX dashboard_summary_24h_function_idx RENAME TO dashboard_stats_function_idx;
CREATE OR REPLACE FUNCTION refresh_dashboard_stats() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY dashboard_stats;
END $$;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_matviews WHERE matviewname = 'dashboard_stats') THEN
    RAISE EXCEPTION '008 down: dashboard_stats missing';
  END IF;
END $$;
