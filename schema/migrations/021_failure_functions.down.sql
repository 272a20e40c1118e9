DROP INDEX event_executions_failed_idx;
CREATE INDEX event_executions_failed_idx ON event_executions (created_at)
  INCLUDE (event_name, id, invocation_id, invocation_day, error_group) WHERE status IN ('handler_failed', 'detection_failed');
DROP INDEX job_executions_failed_idx;
CREATE INDEX job_executions_failed_idx ON job_executions (created_at)
  INCLUDE (job_name, id, invocation_id, invocation_day, error_group) WHERE status = 'failed';
ALTER TABLE event_executions DROP COLUMN failure_function;
ALTER TABLE job_executions DROP COLUMN failure_function;
