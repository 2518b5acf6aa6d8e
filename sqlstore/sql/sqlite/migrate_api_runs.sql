-- Migrate: add a schedule's policy overrides to a tickflow_runs created
-- before them (NULL: the task's own).
ALTER TABLE tickflow_runs ADD COLUMN retry_delay_seconds REAL;
ALTER TABLE tickflow_runs ADD COLUMN retry_backoff REAL;
ALTER TABLE tickflow_runs ADD COLUMN timeout_seconds REAL;
