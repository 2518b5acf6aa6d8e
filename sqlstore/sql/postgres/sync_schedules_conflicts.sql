-- SyncSchedules: how many of the listed code schedules have their key held
-- by a runtime (api) schedule, which sync leaves alone. $1 the listed names.
SELECT count(*) FROM tickflow_schedules WHERE origin = 'api' AND name = ANY ($1::text[])
