-- SyncSchedules: mark the schedules no longer in code orphaned (never
-- deleted): only code schedules (runtime ones are never orphaned), only those
-- of the syncing process's tasks, as schedules of other tasks belong to other
-- processes sharing the store. $1 now (NULL: now()), $2 the listed names, $3
-- the process's task names (NULL: every task). orphaned is the schedule's
-- state, updated_at its definition's; affects one row (the definition's)
-- per schedule orphaned.
WITH o AS (
    UPDATE tickflow_schedule_state
    SET orphaned = true
    WHERE NOT orphaned AND origin = 'code' AND NOT (name = ANY ($2::text[]))
      AND ($3::text[] IS NULL OR task = ANY ($3::text[]))
    RETURNING name
)
UPDATE tickflow_schedules s
SET updated_at = COALESCE($1::timestamptz, now())
FROM o
WHERE s.name = o.name
