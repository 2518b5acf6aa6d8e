-- DeleteSchedule: delete schedule $1 if its origin is $2 ('': any); its
-- runs stay. Returns the deleted key.
DELETE FROM tickflow_schedules WHERE name = $1 AND ($2 = '' OR origin = $2) RETURNING name
