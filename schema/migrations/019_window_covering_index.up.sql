-- 019 window covering index: the index of the invocations' time also holds what the analytics
-- page's breakdown reads of every invocation in its window (function, table, operation, user,
-- status, duration; the day, which every windowed query names), so that breakdown is an
-- index-only scan instead of a read of the window's rows, payloads and all. A day of 100,000
-- invocations: 150 ms of reading the partition's 174 MB, against an 8 MB index. What it costs a
-- load is below what one can measure (benchmarks/RESULTS.md, "Each index a load keeps…").
-- The index keeps its name and its key: every query that used it still does.
DROP INDEX invocations_created_at_idx;
CREATE INDEX invocations_created_at_idx ON invocations (created_at DESC)
  INCLUDE (source_function, source_table, source_operation, source_user_email, status, total_duration_ms, invocation_day);
