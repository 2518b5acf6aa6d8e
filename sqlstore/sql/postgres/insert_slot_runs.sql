-- InsertSlotRuns (backfill): one pending scheduled run per given slot,
-- runnable now, attempt 0 (so the overlap check does not count it as
-- active), with the schedule's task and retries; a slot that has a run
-- already inserts nothing, and nothing is inserted unless the schedule
-- exists, is not paused and not orphaned. $1 now (NULL: now()),
-- $2 schedule, $3 slots (unix µs).
-- The schedule's state row is locked (FOR SHARE) first: a claim held open
-- (HoldDue) has looked its slots up already and will insert them at its
-- end, so a backfill of one of them waits for it to end and then finds
-- the slot taken, instead of recording a slot that also runs there.
INSERT INTO tickflow_runs (
    task, display_name, schedule, source, slot, slots_covered, status, attempt,
    max_attempts, run_at, created_at)
SELECT s.task, s.display_name, s.name, 'scheduled',
       timestamptz 'epoch' + u.slot_us * interval '1 microsecond',
       1, 'pending', 0, s.retries + 1, c.now, c.now
FROM unnest($3::bigint[]) AS u(slot_us)
CROSS JOIN (SELECT COALESCE($1::timestamptz, now()) AS now) c
JOIN (SELECT l.name FROM tickflow_schedule_state l
      WHERE l.name = $2 AND NOT l.paused AND NOT l.orphaned
      FOR SHARE) st ON true
JOIN tickflow_schedules s ON s.name = st.name
ORDER BY u.slot_us
ON CONFLICT (schedule, slot) DO NOTHING
RETURNING id, slot, slots_covered, status, error
