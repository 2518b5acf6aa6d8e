-- PruneRuns: delete at most $3 runs in a final state that finished long ago:
-- success, cancelled and skipped runs finished before $1, failed runs
-- finished before $2 (unix µs; NULL: none of that kind). Each kind is read
-- oldest first from its partial index (tickflow_runs_finished_idx,
-- tickflow_runs_failed_idx) and stops at the limit; of the two, the
-- oldest go first. A schedule's latest run
-- (greatest slot) is kept: a run is taken only if a later slot of its
-- schedule exists (the (schedule, slot) key answers).
DELETE FROM tickflow_runs
WHERE status IN ('success', 'cancelled', 'skipped', 'failed')
  AND id IN (
    SELECT id FROM (
        SELECT id, finished_at FROM (
            SELECT r.id, r.finished_at FROM tickflow_runs r
            WHERE r.status IN ('success', 'cancelled', 'skipped') AND r.finished_at < $1
              AND (r.slot IS NULL OR EXISTS (
                  SELECT 1 FROM tickflow_runs n WHERE n.schedule = r.schedule AND n.slot > r.slot))
            ORDER BY r.finished_at
            LIMIT $3)
        UNION ALL
        SELECT id, finished_at FROM (
            SELECT r.id, r.finished_at FROM tickflow_runs r
            WHERE r.status = 'failed' AND r.finished_at < $2
              AND (r.slot IS NULL OR EXISTS (
                  SELECT 1 FROM tickflow_runs n WHERE n.schedule = r.schedule AND n.slot > r.slot))
            ORDER BY r.finished_at
            LIMIT $3)
        ORDER BY finished_at
        LIMIT $3))
