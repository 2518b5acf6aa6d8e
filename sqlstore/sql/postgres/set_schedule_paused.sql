-- SetSchedulePaused. $1 name, $2 paused, $3 now (NULL: now()). paused is
-- the schedule's state; updated_at its definition's. Affects one row (the
-- definition's) when the schedule exists, none otherwise.
WITH p AS (
    UPDATE tickflow_schedule_state SET paused = $2 WHERE name = $1 RETURNING name
)
UPDATE tickflow_schedules s
SET updated_at = COALESCE($3::timestamptz, now())
FROM p
WHERE s.name = p.name
