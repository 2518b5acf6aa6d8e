-- SyncSchedules: mark the schedules no longer in code orphaned (never
-- deleted). $1 now (unix µs), $2 JSON array of the listed names.
UPDATE tickflow_schedules
SET orphaned = 1, updated_at = $1
WHERE NOT orphaned AND name NOT IN (SELECT value FROM json_each($2))
