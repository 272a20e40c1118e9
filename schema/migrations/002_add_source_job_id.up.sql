-- 002 add source_job_id: job-to-job execution chains (the seeds' migration "001").
--
-- source_job_id points to the job execution that caused the invocation (foreign key,
-- ON DELETE SET NULL, indexed). The job may be loaded after the invocation it caused:
-- source_job_ref keeps the value as emitted, and source_job_id is set once the job exists.
ALTER TABLE invocations ADD COLUMN source_job_id uuid;
ALTER TABLE invocations ADD COLUMN source_job_ref uuid;
ALTER TABLE invocations
  ADD CONSTRAINT fk_invocations_source_job_id
  FOREIGN KEY (source_job_id) REFERENCES job_executions (id) ON DELETE SET NULL
  DEFERRABLE INITIALLY IMMEDIATE;  -- a bulk copy of both tables may defer it to commit
CREATE INDEX idx_invocations_source_job_id ON invocations (source_job_id) WHERE source_job_id IS NOT NULL;
-- Invocations still waiting for their job to be loaded.
CREATE INDEX idx_invocations_source_job_ref_unlinked ON invocations (source_job_ref)
  WHERE source_job_ref IS NOT NULL AND source_job_id IS NULL;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_name = 'invocations' AND column_name = 'source_job_id') THEN
    RAISE EXCEPTION '002: column source_job_id missing';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.table_constraints
                 WHERE table_name = 'invocations' AND constraint_name = 'fk_invocations_source_job_id') THEN
    RAISE EXCEPTION '002: foreign key fk_invocations_source_job_id missing';
  END IF;
END $$;
