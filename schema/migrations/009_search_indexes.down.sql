DROP INDEX IF EXISTS invocations_user_email_idx;
DROP INDEX IF EXISTS invocations_correlation_idx;
DROP INDEX event_executions_name_idx;
CREATE INDEX event_executions_name_idx ON event_executions (event_name, created_at) INCLUDE (status);
DO $$
BEGIN
  IF to_regclass('invocations_correlation_idx') IS NOT NULL OR to_regclass('invocations_user_email_idx') IS NOT NULL THEN
    RAISE EXCEPTION '009 down: search indexes still present';
  END IF;
END $$;
