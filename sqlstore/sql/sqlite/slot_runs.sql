-- SlotRuns: a schedule's runs with a slot in [$2, $3), oldest slot first
-- (its first run after the window is slot_run_after.sql): a range read of
-- the unique (schedule, slot) index; the errors of the runs that did not
-- succeed are read apart (slot_run_errors.sql), as on PostgreSQL.
-- $1 schedule, $2 from, $3 to (unix µs). The columns are PostgreSQL's but
-- for the instants, which come as three unix-µs integers (NULL: not yet)
-- instead of one packed bytea.
SELECT r.id, r.slot, r.started_at, r.finished_at, r.slots_covered, r.status
FROM tickflow_runs r
WHERE r.schedule = $1 AND r.slot >= $2 AND r.slot < $3
ORDER BY r.slot
