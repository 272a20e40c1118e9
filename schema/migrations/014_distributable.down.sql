-- 014 down: the single-column keys, the source job foreign key and the updated_at triggers
-- again. (On Citus, `edpipe migrate down` first makes the detail tables local again.) A link to
-- a job that is gone is cleared first, as the foreign key would have.
UPDATE invocations i SET source_job_id = NULL
WHERE source_job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM job_executions j WHERE j.id = i.source_job_id);

ALTER TABLE job_logs DROP CONSTRAINT job_logs_pkey;
ALTER TABLE job_logs ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id);
ALTER TABLE job_executions DROP CONSTRAINT job_executions_pkey;
ALTER TABLE job_executions ADD CONSTRAINT job_executions_pkey PRIMARY KEY (id);
ALTER TABLE event_executions DROP CONSTRAINT event_executions_pkey;
ALTER TABLE event_executions ADD CONSTRAINT event_executions_pkey PRIMARY KEY (id);

ALTER TABLE invocations
  ADD CONSTRAINT fk_invocations_source_job_id
  FOREIGN KEY (source_job_id) REFERENCES job_executions (id) ON DELETE SET NULL
  DEFERRABLE INITIALLY IMMEDIATE;

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER invocations_updated_at BEFORE UPDATE ON invocations FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_executions_updated_at BEFORE UPDATE ON event_executions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_executions_updated_at BEFORE UPDATE ON job_executions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER metrics_hourly_updated_at BEFORE UPDATE ON metrics_hourly FOR EACH ROW EXECUTE FUNCTION set_updated_at();
