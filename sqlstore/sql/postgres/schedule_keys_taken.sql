-- InsertSchedules: the first listed key already taken, with its origin:
-- by any row when $2 (create), by a code row otherwise (upsert). $1 the
-- listed keys.
SELECT name, origin FROM tickflow_schedules
WHERE name = ANY ($1::text[]) AND ($2::boolean OR origin <> 'api')
ORDER BY name
LIMIT 1
