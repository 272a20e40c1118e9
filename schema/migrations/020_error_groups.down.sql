ALTER TABLE invocations DROP CONSTRAINT invocations_pkey;
ALTER TABLE invocations ADD CONSTRAINT invocations_pkey PRIMARY KEY (id, invocation_day);
DROP INDEX event_executions_failed_idx;
CREATE INDEX event_executions_failed_idx ON event_executions (created_at) WHERE status IN ('handler_failed', 'detection_failed');
DROP INDEX job_executions_failed_idx;
CREATE INDEX job_executions_failed_idx ON job_executions (created_at) WHERE status = 'failed';
ALTER TABLE event_executions DROP COLUMN error_group;
ALTER TABLE job_executions DROP COLUMN error_group;
