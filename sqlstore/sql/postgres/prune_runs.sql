-- PruneRuns: delete at most $3 runs in a final state that finished long ago:
-- success, cancelled and skipped runs finished before $1, failed runs
-- finished before $2 (NULL: none of that kind). Each kind is read oldest
-- first from its partial index (tickflow_runs_finished_idx,
-- tickflow_runs_failed_idx) and stops at the limit; of the two, the
-- oldest go first. A schedule's latest run
-- (greatest slot) is kept: a run is taken only if a later slot of its
-- schedule exists (the (schedule, slot) key answers). The delete checks the
-- status again, so a run retried meanwhile (failed → pending) stays.
WITH old AS (
    (SELECT r.id, r.finished_at FROM tickflow_runs r
     WHERE r.status IN ('success', 'cancelled', 'skipped') AND r.finished_at < $1::timestamptz
       AND (r.slot IS NULL OR EXISTS (
           SELECT 1 FROM tickflow_runs n WHERE n.schedule = r.schedule AND n.slot > r.slot))
     ORDER BY r.finished_at
     LIMIT $3)
    UNION ALL
    (SELECT r.id, r.finished_at FROM tickflow_runs r
     WHERE r.status = 'failed' AND r.finished_at < $2::timestamptz
       AND (r.slot IS NULL OR EXISTS (
           SELECT 1 FROM tickflow_runs n WHERE n.schedule = r.schedule AND n.slot > r.slot))
     ORDER BY r.finished_at
     LIMIT $3)
    ORDER BY finished_at
    LIMIT $3
)
DELETE FROM tickflow_runs r
USING old
WHERE r.id = old.id AND r.status IN ('success', 'cancelled', 'skipped', 'failed')
