-- SyncSchedules: mark the schedules no longer in code orphaned (never
-- deleted): only code schedules (runtime ones are never orphaned), only those
-- of the syncing process's tasks, as schedules of other tasks belong to other
-- processes sharing the store. $1 now (unix µs), $2 JSON array of the listed
-- names, $3 JSON array of the process's task names (NULL: every task).
UPDATE tickflow_schedules
SET orphaned = 1, updated_at = $1
WHERE NOT orphaned AND origin = 'code' AND name NOT IN (SELECT value FROM json_each($2))
  AND ($3 IS NULL OR task IN (SELECT value FROM json_each($3)))
