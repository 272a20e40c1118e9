-- 013 down: the pages no longer count abandoned jobs by window.
DROP INDEX IF EXISTS invocations_abandoned_idx;
DROP INDEX IF EXISTS job_executions_abandoned_idx;
