-- SlotRuns: a schedule's runs with a slot in [$2, $3), and its first run
-- with a slot at or after $3 (a coalesced or skipped record there may fold
-- slots of the window in), oldest slot first. Both parts are range reads of
-- tickflow_runs_slot_key, which includes id, status, slots_covered,
-- started_at and finished_at: an
-- index-only scan, no heap page per run (the errors of the runs that did
-- not succeed are read apart, by slot_run_errors.sql). $1 schedule, $2
-- from, $3 to. Instants come back as unix microseconds, cheaper to decode
-- than text.
SELECT w.id, (extract(epoch FROM w.slot) * 1000000)::bigint AS slot, w.slots_covered, w.status,
       (extract(epoch FROM w.started_at) * 1000000)::bigint AS started_at,
       (extract(epoch FROM w.finished_at) * 1000000)::bigint AS finished_at
FROM (
    (SELECT r.id, r.slot, r.slots_covered, r.status, r.started_at, r.finished_at
     FROM tickflow_runs r
     WHERE r.schedule = $1 AND r.slot >= $2::timestamptz AND r.slot < $3::timestamptz
     ORDER BY r.slot)
    UNION ALL
    (SELECT r.id, r.slot, r.slots_covered, r.status, r.started_at, r.finished_at
     FROM tickflow_runs r
     WHERE r.schedule = $1 AND r.slot >= $3::timestamptz
     ORDER BY r.slot
     LIMIT 1)
) w
ORDER BY w.slot
