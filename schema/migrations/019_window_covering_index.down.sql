DROP INDEX invocations_created_at_idx;
CREATE INDEX invocations_created_at_idx ON invocations (created_at DESC);
