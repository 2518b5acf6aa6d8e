-- UpdateSchedule and DeleteSchedule: the stored schedule $1 (definition and
-- state, as list_schedules reads it), both rows locked until the
-- transaction ends.
SELECT s.*, st.spec_hash, st.anchor, st.next_run, st.paused, st.orphaned,
       st.max_runs, st.remaining_runs, st.completed_at
FROM tickflow_schedules s
JOIN tickflow_schedule_state st ON st.name = s.name
WHERE s.name = $1
FOR UPDATE
