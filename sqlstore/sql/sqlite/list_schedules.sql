-- ListSchedules and GetSchedule: schedules by name, with their latest run.
-- $1 name ('': every schedule).
SELECT s.*, lr.id AS last_run_id, lr.status AS last_run_status, lr.slot AS last_run_slot
FROM tickflow_schedules s
LEFT JOIN tickflow_runs lr
       ON lr.id = (SELECT max(r.id) FROM tickflow_runs r WHERE r.schedule = s.name)
WHERE ($1 = '' OR s.name = $1)
ORDER BY s.name
