-- SetSchedulePaused. $1 name, $2 paused, $3 now (NULL: now()).
UPDATE tickflow_schedules
SET paused = $2, updated_at = COALESCE($3::timestamptz, now())
WHERE name = $1
