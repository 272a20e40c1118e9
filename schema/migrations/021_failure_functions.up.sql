-- 021 failure functions: each failed job and event keeps its invocation's function
-- (failure_function, NULL on every other row), written by the loader with the row and kept by
-- the derive pass when the invocation's start comes later. The failures' partial indexes include
-- it: the errors page reads a window's failures and their functions from those indexes alone,
-- instead of looking up each failure's invocation (31,559 failures of a day of 100,000
-- invocations: half of the page's time).
ALTER TABLE job_executions ADD COLUMN failure_function text;
ALTER TABLE event_executions ADD COLUMN failure_function text;
COMMENT ON COLUMN job_executions.failure_function IS 'its invocation''s source_function when status is failed, else NULL';
COMMENT ON COLUMN event_executions.failure_function IS 'its invocation''s source_function when status is handler_failed or detection_failed, else NULL';
UPDATE job_executions j SET failure_function = i.source_function FROM invocations i
WHERE j.status = 'failed' AND i.id = j.invocation_id AND i.invocation_day = j.invocation_day;
UPDATE event_executions e SET failure_function = i.source_function FROM invocations i
WHERE e.status IN ('handler_failed', 'detection_failed') AND i.id = e.invocation_id AND i.invocation_day = e.invocation_day;

DROP INDEX job_executions_failed_idx;
CREATE INDEX job_executions_failed_idx ON job_executions (created_at)
  INCLUDE (job_name, id, invocation_id, invocation_day, error_group, failure_function) WHERE status = 'failed';
DROP INDEX event_executions_failed_idx;
CREATE INDEX event_executions_failed_idx ON event_executions (created_at)
  INCLUDE (event_name, id, invocation_id, invocation_day, error_group, failure_function)
  WHERE status IN ('handler_failed', 'detection_failed');
