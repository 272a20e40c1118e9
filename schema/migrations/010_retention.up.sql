-- 010 retention: `edpipe prune` keeps the detail of a recent window and the hourly rollups as
-- the long-term record.
--
-- edpipe_retention holds the horizon: detail older than it is gone, and a record older than it
-- that arrives later (a replayed archive, a late log) is not loaded. It only ever moves
-- forward, and always sits on an hour, so every hour from it on has all its detail rows.
-- edpipe_pruned remembers the invocations a prune deleted, for as long as a record of one could
-- still arrive with a ts past the horizon (a day past their last record): such a record must
-- not create a phantom invocation. A few MB for a busy day; older entries are dropped by the
-- next prune.
CREATE TABLE edpipe_retention (
  id             boolean PRIMARY KEY DEFAULT true CHECK (id),
  horizon        timestamptz NOT NULL CHECK (horizon = date_trunc('hour', horizon)),
  rollup_horizon timestamptz,                    -- metrics_hourly before it was deleted (--keep-rollups)
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE edpipe_pruned (
  id             uuid PRIMARY KEY,
  last_record_at timestamptz NOT NULL
);
CREATE INDEX edpipe_pruned_last_record_idx ON edpipe_pruned (last_record_at);

DO $$
BEGIN
  IF to_regclass('edpipe_retention') IS NULL OR to_regclass('edpipe_pruned') IS NULL THEN
    RAISE EXCEPTION '010: retention tables missing';
  END IF;
END $$;
