-- Migrate, rebuilding tickflow_schedules for the once kind: copy the old
-- rows into the table the schema just created, then drop the old table.
INSERT INTO tickflow_schedules (
    name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
    run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
    timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at)
SELECT name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
       run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
       timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at
FROM tickflow_schedules_before_once;
DROP TABLE tickflow_schedules_before_once;
