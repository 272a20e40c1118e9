DROP TABLE IF EXISTS edpipe_file_positions;
DO $$
BEGIN
  IF to_regclass('edpipe_file_positions') IS NOT NULL THEN
    RAISE EXCEPTION '004 down: edpipe_file_positions still present';
  END IF;
END $$;
