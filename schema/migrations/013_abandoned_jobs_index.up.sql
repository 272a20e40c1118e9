-- 013 abandoned jobs: the pages count the jobs that never ended because their invocation was
-- cut off (job status 'abandoned': no end, in an abandoned invocation) over any window. Such a
-- job's invocation is abandoned, and of its jobs those neither succeeded nor failed are the
-- abandoned ones, so the abandoned invocations of the window, with their three job counts, are
-- all a page reads: a partial index holds them and nothing else.
CREATE INDEX invocations_abandoned_idx ON invocations (created_at)
  INCLUDE (id, source_function, total_jobs_run, total_jobs_succeeded, total_jobs_failed)
  WHERE status = 'abandoned';
-- Their abandoned jobs by name (the jobs page's column), from an index of those jobs alone.
CREATE INDEX job_executions_abandoned_idx ON job_executions (invocation_id) INCLUDE (job_name)
  WHERE status = 'abandoned';

DO $$
BEGIN
  IF to_regclass('invocations_abandoned_idx') IS NULL OR to_regclass('job_executions_abandoned_idx') IS NULL THEN
    RAISE EXCEPTION '013: invocations_abandoned_idx or job_executions_abandoned_idx missing';
  END IF;
END $$;
