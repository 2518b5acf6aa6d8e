-- SlotRuns: a schedule's first run with a slot at or after $2, the end of
-- the audited window (a coalesced or skipped record there may fold slots of
-- the window in), in slot_runs.sql's columns. $1 schedule, $2 to (unix µs).
SELECT r.id, r.slot, r.started_at, r.finished_at, r.slots_covered, r.status
FROM tickflow_runs r
WHERE r.schedule = $1 AND r.slot >= $2
ORDER BY r.slot
LIMIT 1
