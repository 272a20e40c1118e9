-- 012 down: every name of the hour in the two lists again, from name_metrics_hourly.
UPDATE metrics_hourly m
SET detected_event_counts = coalesce((SELECT jsonb_object_agg(n.name, n.detected) FROM name_metrics_hourly n
                                      WHERE n.kind = 'event' AND n.hour_bucket = m.hour_bucket
                                        AND n.source_function = m.source_function AND n.detected > 0), '{}'),
    failed_job_counts = coalesce((SELECT jsonb_object_agg(n.name, n.failed) FROM name_metrics_hourly n
                                  WHERE n.kind = 'job' AND n.hour_bucket = m.hour_bucket
                                    AND n.source_function = m.source_function AND n.failed > 0), '{}');
ALTER TABLE metrics_hourly DROP COLUMN detected_events_other, DROP COLUMN failed_jobs_other;
