-- SlotRunsMany: the runs of several schedules with a slot in each one's
-- window [from, to), by schedule then slot; for each window a range read of
-- the unique (schedule, slot) index. $1 JSON array of [schedule, from, to]
-- (unix µs).
SELECT r.schedule, r.id, r.slot, r.slots_covered, r.status, r.error, r.started_at, r.finished_at
FROM json_each($1) AS w
JOIN tickflow_runs r
  ON r.schedule = json_extract(w.value, '$[0]')
 AND r.slot >= json_extract(w.value, '$[1]')
 AND r.slot <  json_extract(w.value, '$[2]')
ORDER BY r.schedule, r.slot
