-- 015 down: avg_job_duration reads job_executions again (not on Citus: see the up migration).
CREATE OR REPLACE FUNCTION invocation_avg_job_duration(invocation_row invocations) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT round(avg(duration_ms), 2) FROM job_executions WHERE invocation_id = invocation_row.id
$$;
ALTER TABLE invocations DROP COLUMN IF EXISTS jobs_timed, DROP COLUMN IF EXISTS job_duration_sum_ms;
