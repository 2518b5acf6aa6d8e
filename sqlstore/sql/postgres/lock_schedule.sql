-- UpdateSchedule and DeleteSchedule: the stored schedule $1, locked until
-- the transaction ends.
SELECT * FROM tickflow_schedules WHERE name = $1 FOR UPDATE
