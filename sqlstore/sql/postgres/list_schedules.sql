-- ListSchedules and GetSchedule: schedules by name, with their latest run.
-- $1 name ('': every schedule).
SELECT s.*, lr.id AS last_run_id, lr.status AS last_run_status, lr.slot AS last_run_slot
FROM tickflow_schedules s
LEFT JOIN LATERAL (
    SELECT r.id, r.status, r.slot FROM tickflow_runs r
    WHERE r.schedule = s.name
    ORDER BY r.id DESC
    LIMIT 1
) lr ON true
WHERE ($1::text = '' OR s.name = $1::text)
ORDER BY s.name
