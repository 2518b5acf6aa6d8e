-- UpdateSchedule and DeleteSchedule: the stored schedule $1, locked until
-- the transaction ends (the write lock, taken by BEGIN IMMEDIATE).
SELECT * FROM tickflow_schedules WHERE name = $1
