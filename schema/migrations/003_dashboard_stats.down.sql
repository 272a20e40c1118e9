DROP FUNCTION IF EXISTS refresh_dashboard_stats();
DROP MATERIALIZED VIEW IF EXISTS dashboard_stats;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_matviews WHERE matviewname = 'dashboard_stats') THEN
    RAISE EXCEPTION '003 down: dashboard_stats still present';
  END IF;
END $$;
