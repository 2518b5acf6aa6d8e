-- ListSchedules and GetSchedule: schedules by name (definition and state),
-- with their latest run. $1 name ('': every schedule).
--
-- The latest run is the newer of the latest run not running (schedule
-- index, which leaves running runs out) and the latest running run (active
-- index).
SELECT s.*, st.spec_hash, st.anchor, st.next_run, st.paused, st.orphaned,
       st.max_runs, st.remaining_runs, st.completed_at,
       lr.id AS last_run_id, lr.status AS last_run_status, lr.slot AS last_run_slot
FROM tickflow_schedules s
JOIN tickflow_schedule_state st ON st.name = s.name
LEFT JOIN LATERAL (
    SELECT u.id, u.status, u.slot FROM (
        (SELECT r.id, r.status, r.slot FROM tickflow_runs r
         WHERE r.schedule = s.name AND r.status <> 'running'
         ORDER BY r.id DESC
         LIMIT 1)
        UNION ALL
        (SELECT r.id, r.status, r.slot FROM tickflow_runs r
         WHERE r.schedule = s.name AND r.status = 'running'
         ORDER BY r.id DESC
         LIMIT 1)
    ) u
    ORDER BY u.id DESC
    LIMIT 1
) lr ON true
WHERE ($1::text = '' OR s.name = $1::text)
ORDER BY s.name
