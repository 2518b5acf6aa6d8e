-- SlotRunsMany: the runs of several schedules with a slot in each one's
-- window [from, to), by schedule then slot; for each window a range read of
-- the unique (schedule, slot) index. $1 schedules, $2 froms, $3 tos (unix µs),
-- parallel arrays.
SELECT r.schedule, r.id, r.slot, r.slots_covered, r.status, r.error, r.started_at, r.finished_at
FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS w(schedule, from_us, to_us)
JOIN tickflow_runs r
  ON r.schedule = w.schedule
 AND r.slot >= timestamptz 'epoch' + w.from_us * interval '1 microsecond'
 AND r.slot <  timestamptz 'epoch' + w.to_us * interval '1 microsecond'
ORDER BY r.schedule, r.slot
