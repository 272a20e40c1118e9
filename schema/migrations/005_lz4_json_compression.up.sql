-- 005 lz4 for the JSON columns: a stored Hasura payload or context is 1-5 KB, past TOAST's
-- 2 KB threshold, and PostgreSQL's default compression (pglz) then costs about half of the time
-- of COPYing an invocation row. lz4 compresses about as well at a fraction of the CPU.
-- New values only: what is stored stays as it is (it reads the same either way).
-- A server built without lz4 keeps pglz (a NOTICE says so): the schema works the same.
DO $$
DECLARE
  col record;
BEGIN
  FOR col IN SELECT * FROM (VALUES
      ('invocations', 'source_event_payload'), ('invocations', 'context_data'),
      ('job_executions', 'job_options'), ('job_executions', 'result'), ('job_executions', 'console_logs'),
      ('job_logs', 'data')) AS c(tbl, name)
  LOOP
    BEGIN
      EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET COMPRESSION lz4', col.tbl, col.name);
    EXCEPTION WHEN feature_not_supported THEN
      RAISE NOTICE '005: this server has no lz4 (%), % keeps pglz', SQLERRM, col.tbl || '.' || col.name;
      RETURN;
    END;
  END LOOP;
  IF (SELECT count(*) FROM pg_attribute
      WHERE attrelid IN ('invocations'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)
        AND attname IN ('source_event_payload', 'context_data', 'job_options', 'result', 'console_logs', 'data')
        AND attcompression = 'l') <> 6 THEN
    RAISE EXCEPTION '005: not every JSON column uses lz4';
  END IF;
END $$;
