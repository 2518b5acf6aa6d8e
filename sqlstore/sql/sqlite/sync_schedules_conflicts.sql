-- SyncSchedules: how many of the listed code schedules have their key held
-- by a runtime (api) schedule, which sync leaves alone. $1 JSON array of names.
SELECT count(*) FROM tickflow_schedules WHERE origin = 'api' AND name IN (SELECT value FROM json_each($1))
