-- SlotRuns: a schedule's runs with a slot at or after $2 and before $3
-- (NULL: no end), oldest slot first, at most $4 of them (NULL: all). The
-- window [from, to) is one call (to, NULL); the first run after it (a
-- coalesced or skipped record there may fold slots of the window in) a
-- second (to, NULL, 1): a UNION ALL of the two made the server merge every
-- row (about 5 ms of a 43,200-slot audit). A range read of
-- tickflow_runs_slot_key, which includes id, status, slots_covered,
-- started_at and finished_at: an index-only scan, no heap page per run (the
-- errors of the runs that did not succeed are read apart, by
-- slot_run_errors.sql). $1 schedule.
--
-- An audit reads up to 100,000 rows, so the three instants travel as one
-- 24-byte bytea, "times": slot, started_at and finished_at in
-- timestamptz's binary form (big-endian int64 microseconds since
-- 2000-01-01 UTC), NULL as -infinity (the int64 minimum, which no stored
-- instant is). timestamptz_send is a copy of 8 bytes; text output, or
-- extract(epoch …), which goes through numeric, cost the database three to
-- four times as much per row, and the client as much again to parse.
SELECT r.id,
       timestamptz_send(r.slot)
         || coalesce(timestamptz_send(r.started_at), decode('8000000000000000', 'hex'))
         || coalesce(timestamptz_send(r.finished_at), decode('8000000000000000', 'hex')) AS times,
       r.slots_covered, r.status
FROM tickflow_runs r
WHERE r.schedule = $1 AND r.slot >= $2::timestamptz
  AND ($3::timestamptz IS NULL OR r.slot < $3::timestamptz)
ORDER BY r.slot
LIMIT $4
