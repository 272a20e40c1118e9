-- 007 down: the rank columns go; job_logs keeps the ids the data step gave it (they are as
-- good as the old ones: unique, and stable under replay by the edpipe that wrote them).
ALTER TABLE job_logs DROP COLUMN content_rank, DROP COLUMN seq;
ALTER TABLE job_executions DROP COLUMN end_rank, DROP COLUMN start_rank;
ALTER TABLE event_executions
  DROP COLUMN handler_end_rank, DROP COLUMN handler_start_rank,
  DROP COLUMN detection_end_rank, DROP COLUMN detection_start_rank;
ALTER TABLE invocations DROP COLUMN end_rank, DROP COLUMN start_rank;
