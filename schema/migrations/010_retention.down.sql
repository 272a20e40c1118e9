-- 010 down: the horizon and the memory of pruned invocations go; pruned detail stays gone.
DROP TABLE IF EXISTS edpipe_pruned;
DROP TABLE IF EXISTS edpipe_retention;
DO $$
BEGIN
  IF to_regclass('edpipe_retention') IS NOT NULL THEN
    RAISE EXCEPTION '010 down: edpipe_retention still present';
  END IF;
END $$;
