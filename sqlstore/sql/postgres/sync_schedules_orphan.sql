-- SyncSchedules: mark the schedules no longer in code orphaned (never
-- deleted). $1 now (NULL: now()), $2 the listed names.
UPDATE tickflow_schedules
SET orphaned = true, updated_at = COALESCE($1::timestamptz, now())
WHERE NOT orphaned AND NOT (name = ANY ($2::text[]))
