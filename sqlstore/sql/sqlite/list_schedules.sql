-- ListSchedules and GetSchedule: schedules by name, with their latest run.
-- $1 name ('': every schedule).
--
-- The latest run is the newer of the latest run not running (schedule
-- index, which leaves running runs out) and the latest running run (active
-- index); 0 stands for none.
SELECT s.*, lr.id AS last_run_id, lr.status AS last_run_status, lr.slot AS last_run_slot
FROM tickflow_schedules s
LEFT JOIN tickflow_runs lr
       ON lr.id = max(
              COALESCE((SELECT max(r.id) FROM tickflow_runs r
                        WHERE r.schedule = s.name AND r.status <> 'running'), 0),
              COALESCE((SELECT max(r.id) FROM tickflow_runs r
                        WHERE r.schedule = s.name AND r.status = 'running'), 0))
WHERE ($1 = '' OR s.name = $1)
ORDER BY s.name
