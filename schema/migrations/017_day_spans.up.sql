-- 017 day spans: which day partitions a time window can hold rows of.
-- A row's day partition is the day in its invocation id (016), not its created_at's, so a window
-- of created_at cannot name its partitions by itself: every query read every day's indexes and
-- was planned over all of them (a page over 30 days of partitions took 3-5 times as long). A load
-- widens its days' spans to the created_at of every row it writes, so the span of a day holds
-- the created_at of every row in that day's partitions of the four detail tables; a window reads
-- only the days whose spans meet it. Local to the coordinator on Citus, like the rollups.
CREATE TABLE edpipe_day_spans (
  invocation_day date PRIMARY KEY,
  first_at       timestamptz NOT NULL,  -- no row of the day was created before
  last_at        timestamptz NOT NULL,  -- nor after
  CHECK (first_at <= last_at)
);
INSERT INTO edpipe_day_spans
SELECT invocation_day, min(first_at), max(last_at) FROM (
  SELECT invocation_day, min(created_at) AS first_at, max(created_at) AS last_at FROM invocations GROUP BY 1
  UNION ALL SELECT invocation_day, min(created_at), max(created_at) FROM event_executions GROUP BY 1
  UNION ALL SELECT invocation_day, min(created_at), max(created_at) FROM job_executions GROUP BY 1
  UNION ALL SELECT invocation_day, min(created_at), max(created_at) FROM job_logs GROUP BY 1
) s GROUP BY 1;
