-- 020 error groups: each failed job and event keeps the group of its message (the errors page's
-- groups: the message's first 1,000 characters with uuids, hex words and numbers masked, as
-- view/view_queries.cpp's sql::masked_error, hashed to 64 bits), computed by the server from the
-- message whenever it is written: a load's COPY, a merge, this migration for the rows held. The
-- failures' partial indexes include it with everything else the errors page groups by, and the
-- invocations' key includes their function: the page reads its window's failures and their
-- functions from indexes alone, instead of each failure's row and its invocation's row (31,559
-- failures of a day of 100,000 invocations: 445 ms, most of it those reads).
ALTER TABLE job_executions ADD COLUMN error_group bigint GENERATED ALWAYS AS (hashtextextended(
  regexp_replace(regexp_replace(regexp_replace(left(error_message, 1000),
    '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'gi'),
    '\m0x[0-9a-f]+\M|\m(?=[a-f]*[0-9])[0-9a-f]{8,}\M', '<hex>', 'gi'), '[0-9]+', '<n>', 'g'), 0)) STORED;
ALTER TABLE event_executions ADD COLUMN error_group bigint GENERATED ALWAYS AS (hashtextextended(
  regexp_replace(regexp_replace(regexp_replace(left(coalesce(handler_error, detection_error), 1000),
    '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'gi'),
    '\m0x[0-9a-f]+\M|\m(?=[a-f]*[0-9])[0-9a-f]{8,}\M', '<hex>', 'gi'), '[0-9]+', '<n>', 'g'), 0)) STORED;
COMMENT ON COLUMN job_executions.error_group IS 'the errors page''s group of error_message (masked, hashed)';
COMMENT ON COLUMN event_executions.error_group IS 'the errors page''s group of handler_error, else detection_error (masked, hashed)';

DROP INDEX job_executions_failed_idx;
CREATE INDEX job_executions_failed_idx ON job_executions (created_at)
  INCLUDE (job_name, id, invocation_id, invocation_day, error_group) WHERE status = 'failed';
DROP INDEX event_executions_failed_idx;
CREATE INDEX event_executions_failed_idx ON event_executions (created_at)
  INCLUDE (event_name, id, invocation_id, invocation_day, error_group) WHERE status IN ('handler_failed', 'detection_failed');

ALTER TABLE invocations DROP CONSTRAINT invocations_pkey;
ALTER TABLE invocations ADD CONSTRAINT invocations_pkey PRIMARY KEY (id, invocation_day) INCLUDE (source_function);
