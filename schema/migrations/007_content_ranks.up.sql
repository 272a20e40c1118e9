-- 007 content ranks: one tie-break in memory and in the database, and log lines by seq.
--
-- Two records of one lifecycle step with the same failed-ness and the same ts are ordered by a
-- 64-bit hash of their content, the same order edpipe applies in memory: the database keeps the
-- rank of each step beside it, so any order of loads keeps the same winner. Rows stored before
-- this migration have no rank (NULL): a tie with one of them keeps what is stored.
--
-- job.log lines written with `seq` (wire format v1) are identified by (invocation, seq); of two
-- lines of one seq the lower content rank stays. Lines without seq are identified by everything
-- stored about them: `edpipe migrate up` re-keys the lines stored before this migration to that
-- identity in the same transaction (a data step after this SQL), so that replaying an archive
-- loaded before adds no row. New columns without a default: no table is rewritten.
ALTER TABLE invocations ADD COLUMN start_rank bigint, ADD COLUMN end_rank bigint;
ALTER TABLE event_executions
  ADD COLUMN detection_start_rank bigint, ADD COLUMN detection_end_rank bigint,
  ADD COLUMN handler_start_rank bigint, ADD COLUMN handler_end_rank bigint;
ALTER TABLE job_executions ADD COLUMN start_rank bigint, ADD COLUMN end_rank bigint;
ALTER TABLE job_logs ADD COLUMN seq bigint CHECK (seq >= 0), ADD COLUMN content_rank bigint;
COMMENT ON COLUMN job_logs.seq IS 'the emitter''s count of the invocation''s job.log records, from 0 (null: not written)';
COMMENT ON COLUMN job_logs.occurrence IS 'without seq: how many identical lines came before this one in its load';

DO $$
BEGIN
  IF (SELECT count(*) FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name IN ('start_rank', 'end_rank', 'detection_start_rank',
        'detection_end_rank', 'handler_start_rank', 'handler_end_rank', 'seq', 'content_rank')) <> 10 THEN
    RAISE EXCEPTION '007: rank columns missing';
  END IF;
END $$;
