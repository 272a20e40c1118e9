DROP INDEX event_executions_name_idx;
CREATE INDEX event_executions_name_idx ON event_executions (event_name, created_at);
DROP INDEX job_executions_name_idx;
CREATE INDEX job_executions_name_idx ON job_executions (job_name, created_at);

DO $$
BEGIN
  IF (SELECT count(*) FROM pg_index
      WHERE indexrelid IN ('event_executions_name_idx'::regclass, 'job_executions_name_idx'::regclass)
        AND indnatts = indnkeyatts) <> 2 THEN
    RAISE EXCEPTION '006 down: the name indexes still carry included columns';
  END IF;
END $$;
