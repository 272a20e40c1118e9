DROP INDEX invocations_duration_idx;
