-- SlotRuns: a schedule's first run with a slot at or after $2, the end of
-- the audited window (a coalesced or skipped record there may fold slots of
-- the window in), in slot_runs.sql's columns: one entry of
-- tickflow_runs_slot_key. $1 schedule, $2 to.
SELECT r.id,
       timestamptz_send(r.slot)
         || coalesce(timestamptz_send(r.started_at), decode('8000000000000000', 'hex'))
         || coalesce(timestamptz_send(r.finished_at), decode('8000000000000000', 'hex')) AS times,
       r.slots_covered, r.status
FROM tickflow_runs r
WHERE r.schedule = $1 AND r.slot >= $2::timestamptz
ORDER BY r.slot
LIMIT 1
