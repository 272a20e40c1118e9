-- 015 job duration totals: an invocation keeps the sum and the number of its jobs' durations,
-- as it keeps their counts, and Hasura's computed field avg_job_duration reads them.
--
-- The field was a function that read job_executions. PostgreSQL cannot inline such a function,
-- and Citus then calls it on a worker with the shard's row type, which has no such function
-- ("function public.invocation_avg_job_duration(invocations_102008) does not exist"). Over
-- stored columns the function is one expression, which PostgreSQL inlines into the query before
-- Citus sees it: the same value (round(avg(duration_ms), 2), NULL without a timed job), on one
-- server and on a cluster.
ALTER TABLE invocations
  ADD COLUMN jobs_timed integer NOT NULL DEFAULT 0,           -- jobs with a duration_ms
  ADD COLUMN job_duration_sum_ms bigint NOT NULL DEFAULT 0;   -- the sum of those durations

UPDATE invocations i SET jobs_timed = d.timed, job_duration_sum_ms = d.total
FROM (SELECT invocation_id, count(duration_ms)::integer AS timed, sum(duration_ms)::bigint AS total
      FROM job_executions WHERE duration_ms IS NOT NULL GROUP BY invocation_id) d
WHERE i.id = d.invocation_id;

CREATE OR REPLACE FUNCTION invocation_avg_job_duration(invocation_row invocations) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN invocation_row.jobs_timed = 0 THEN NULL
              ELSE round(invocation_row.job_duration_sum_ms::numeric / invocation_row.jobs_timed, 2) END
$$;

DO $$
BEGIN
  IF (SELECT count(*) FROM information_schema.columns WHERE table_name = 'invocations'
        AND column_name IN ('jobs_timed', 'job_duration_sum_ms')) <> 2 THEN
    RAISE EXCEPTION '015: jobs_timed or job_duration_sum_ms missing';
  END IF;
END $$;
