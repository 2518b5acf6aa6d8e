-- SetSchedulePaused. $1 name, $2 paused, $3 now (unix µs).
UPDATE tickflow_schedules SET paused = $2, updated_at = $3 WHERE name = $1
