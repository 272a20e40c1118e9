-- Removes source_job_id (and the links it holds: they are lost).
DROP INDEX IF EXISTS idx_invocations_source_job_ref_unlinked;
DROP INDEX IF EXISTS idx_invocations_source_job_id;
ALTER TABLE invocations DROP CONSTRAINT IF EXISTS fk_invocations_source_job_id;
ALTER TABLE invocations DROP COLUMN IF EXISTS source_job_ref;
ALTER TABLE invocations DROP COLUMN IF EXISTS source_job_id;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'invocations' AND column_name = 'source_job_id') THEN
    RAISE EXCEPTION '002 down: column source_job_id still present';
  END IF;
END $$;
