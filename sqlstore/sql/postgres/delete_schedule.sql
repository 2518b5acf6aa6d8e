-- DeleteSchedule: delete schedule $1 (definition and state) if its origin
-- is $2 ('': any); its runs stay. Returns the deleted key. The state row
-- is locked too, so a tick's claim (FOR UPDATE SKIP LOCKED on it) either
-- ran before the delete or never sees the schedule.
WITH st AS (
    DELETE FROM tickflow_schedule_state WHERE name = $1 AND ($2::text = '' OR origin = $2::text)
)
DELETE FROM tickflow_schedules WHERE name = $1 AND ($2::text = '' OR origin = $2::text) RETURNING name
