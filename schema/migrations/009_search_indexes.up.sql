-- 009 search indexes: `edpipe serve` finds invocations by correlation id and by user e-mail,
-- newest first in a time range. Both are partial (rows without the value are not indexed), so a
-- load pays only for the rows that carry one. (The event name index is rebuilt: on a large
-- database this holds a write lock on event_executions meanwhile.)
CREATE INDEX invocations_correlation_idx ON invocations (correlation_id, created_at)
  WHERE correlation_id IS NOT NULL;
CREATE INDEX invocations_user_email_idx ON invocations (source_user_email, created_at)
  WHERE source_user_email IS NOT NULL;
-- The events page (per name: runs, detected, failures, handler p50/p95) from the name index
-- alone, as the jobs page already is: it carries what the page counts.
DROP INDEX event_executions_name_idx;
CREATE INDEX event_executions_name_idx ON event_executions (event_name, created_at)
  INCLUDE (status, detected, handler_duration_ms);

DO $$
BEGIN
  IF to_regclass('invocations_correlation_idx') IS NULL OR to_regclass('invocations_user_email_idx') IS NULL THEN
    RAISE EXCEPTION '009: search indexes missing';
  END IF;
END $$;
