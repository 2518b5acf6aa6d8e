-- SyncSchedules: how many of the listed schedules exist already (SQLite's
-- RETURNING cannot tell an insert from an update). $1 JSON array of names.
SELECT count(*) FROM tickflow_schedules WHERE name IN (SELECT value FROM json_each($1))
