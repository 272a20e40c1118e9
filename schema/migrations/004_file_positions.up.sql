-- 004 file positions: where `edpipe tail` stands in every file it follows.
--
-- One row per file (device + inode; head_hash over the first head_bytes bytes tells a reused
-- inode or a truncated file from the same file grown). It is written in the same transaction
-- as the rows the lines before byte_offset produced, so after a crash a restart resumes
-- exactly where the database stands: no line lost, none loaded twice.
CREATE TABLE edpipe_file_positions (
  device      bigint      NOT NULL,
  inode       bigint      NOT NULL,
  head_hash   bigint      NOT NULL,
  head_bytes  integer     NOT NULL CHECK (head_bytes >= 0),
  byte_offset bigint      NOT NULL CHECK (byte_offset >= 0),  -- just past a complete line; uncompressed for .gz
  line_number bigint      NOT NULL CHECK (line_number >= 0),  -- lines before byte_offset
  path        text        NOT NULL,                           -- where the file was last seen
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device, inode)
);

DO $$
BEGIN
  IF to_regclass('edpipe_file_positions') IS NULL THEN
    RAISE EXCEPTION '004: table edpipe_file_positions missing';
  END IF;
END $$;
