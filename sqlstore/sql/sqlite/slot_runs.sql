-- SlotRuns: a schedule's runs with a slot at or after $2 and before $3
-- (NULL: no end), oldest slot first, at most $4 of them (NULL: all), as on
-- PostgreSQL: the window is one call, the first run after it a second. A
-- range read of the unique (schedule, slot) index; the errors of the runs
-- that did not succeed are read apart (slot_run_errors.sql). $1 schedule,
-- instants in unix µs. The columns are PostgreSQL's but for the instants,
-- which come as three unix-µs integers (NULL: not yet) instead of one
-- packed bytea.
SELECT r.id, r.slot, r.started_at, r.finished_at, r.slots_covered, r.status
FROM tickflow_runs r
WHERE r.schedule = $1 AND r.slot >= $2 AND ($3 IS NULL OR r.slot < $3)
ORDER BY r.slot
LIMIT coalesce($4, -1)
