-- SlotRuns: a schedule's runs with a slot in [$2, $3), and its first run
-- with a slot at or after $3 (a coalesced or skipped record there may fold
-- slots of the window in), oldest slot first. Both parts are range reads of
-- the unique (schedule, slot) index; the errors of the runs that did not
-- succeed are read apart (slot_run_errors.sql), as on PostgreSQL.
-- $1 schedule, $2 from, $3 to (unix µs). The columns are PostgreSQL's but
-- for the instants, which come as three unix-µs integers (NULL: not yet)
-- instead of one packed bytea.
SELECT id, slot, started_at, finished_at, slots_covered, status FROM (
    SELECT r.id, r.slot, r.slots_covered, r.status, r.started_at, r.finished_at
    FROM tickflow_runs r
    WHERE r.schedule = $1 AND r.slot >= $2 AND r.slot < $3
    UNION ALL
    SELECT id, slot, slots_covered, status, started_at, finished_at FROM (
        SELECT r.id, r.slot, r.slots_covered, r.status, r.started_at, r.finished_at
        FROM tickflow_runs r
        WHERE r.schedule = $1 AND r.slot >= $3
        ORDER BY r.slot
        LIMIT 1)
)
ORDER BY slot
