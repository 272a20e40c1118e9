-- Back to the server's default compression (values stored meanwhile stay lz4: still readable).
ALTER TABLE invocations ALTER COLUMN source_event_payload SET COMPRESSION default,
                        ALTER COLUMN context_data SET COMPRESSION default;
ALTER TABLE job_executions ALTER COLUMN job_options SET COMPRESSION default,
                           ALTER COLUMN result SET COMPRESSION default,
                           ALTER COLUMN console_logs SET COMPRESSION default;
ALTER TABLE job_logs ALTER COLUMN data SET COMPRESSION default;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute
             WHERE attrelid IN ('invocations'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)
               AND attcompression = 'l') THEN
    RAISE EXCEPTION '005 down: a column still uses lz4';
  END IF;
END $$;
