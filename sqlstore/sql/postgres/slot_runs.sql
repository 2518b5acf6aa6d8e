-- SlotRuns: a schedule's runs with a slot in [$2, $3), oldest slot first
-- (its first run after the window is slot_run_after.sql). A range read of
-- tickflow_runs_slot_key, which includes id, status, slots_covered,
-- started_at and finished_at: an index-only scan, no heap page per run (the
-- errors of the runs that did not succeed are read apart, by
-- slot_run_errors.sql). $1 schedule, $2 from, $3 to.
--
-- An audit reads up to 100,000 rows, so the three instants travel as one
-- 24-byte bytea, "times": slot, started_at and finished_at in
-- timestamptz's binary form (big-endian int64 microseconds since
-- 2000-01-01 UTC), NULL as -infinity (the int64 minimum, which no stored
-- instant is). timestamptz_send is a copy of 8 bytes; text output, or
-- extract(epoch …), which goes through numeric, cost the database three to
-- four times as much per row, and the client as much again to parse. The
-- run after the window is a statement of its own: a UNION ALL here made
-- the server merge every row (about 5 ms of a 43,200-slot audit).
SELECT r.id,
       timestamptz_send(r.slot)
         || coalesce(timestamptz_send(r.started_at), decode('8000000000000000', 'hex'))
         || coalesce(timestamptz_send(r.finished_at), decode('8000000000000000', 'hex')) AS times,
       r.slots_covered, r.status
FROM tickflow_runs r
WHERE r.schedule = $1 AND r.slot >= $2::timestamptz AND r.slot < $3::timestamptz
ORDER BY r.slot
