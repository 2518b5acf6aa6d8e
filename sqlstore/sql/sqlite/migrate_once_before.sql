-- Migrate, rebuilding tickflow_schedules for the once kind: move the old
-- table aside (its index goes with it; the schema creates both anew).
DROP INDEX IF EXISTS tickflow_schedules_due_idx;
ALTER TABLE tickflow_schedules RENAME TO tickflow_schedules_before_once;
