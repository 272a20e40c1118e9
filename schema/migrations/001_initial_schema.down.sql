-- Removes everything 001 created. All observability data is lost.
DROP FUNCTION IF EXISTS invocation_success_rate(invocations), invocation_avg_job_duration(invocations),
                        event_job_success_rate(event_executions);
DROP TABLE IF EXISTS job_logs, job_executions, event_executions, metrics_hourly, edpipe_watermark, invocations;
DROP FUNCTION IF EXISTS set_updated_at();
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()
             AND table_name IN ('invocations', 'event_executions', 'job_executions', 'job_logs', 'metrics_hourly')) THEN
    RAISE EXCEPTION '001 down: tables still present';
  END IF;
END $$;
