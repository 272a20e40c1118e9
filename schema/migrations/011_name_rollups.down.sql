-- 011 down: the per-name rollups and the failed-row indexes go; nothing else depends on them.
DROP INDEX IF EXISTS event_executions_failed_name_idx;
DROP INDEX IF EXISTS job_executions_failed_name_idx;
DROP INDEX IF EXISTS event_executions_failed_idx;
DROP INDEX IF EXISTS job_executions_failed_idx;
DROP TABLE IF EXISTS name_metrics_hourly;
DO $$
BEGIN
  IF to_regclass('name_metrics_hourly') IS NOT NULL THEN
    RAISE EXCEPTION '011 down: name_metrics_hourly still present';
  END IF;
END $$;
