-- BeginTick: record the tick and read the due work, in one statement.
-- $1 tick id, $2 now (unix µs), $3 trigger, $4 JSON array of the process's
-- task names (NULL: every task): due schedules of other tasks are not counted.
-- $5 alerts on: also the due outbox rows and when the latest tick that
-- finished without error finished (the latest of the 10 last started such
-- ticks, through the started_at index; both read only then). due_all_own:
-- no due schedule is of another task (the claims may leave the filter
-- out). The status IN term repeats the
-- live index's predicate word for word, which is what lets SQLite use it.
INSERT INTO tickflow_ticks (id, "trigger", started_at, due_schedules, runnable_runs, oldest_due, lag_seconds)
SELECT $1, $3, $2, due.n,
       (SELECT count(*) FROM tickflow_runs
        WHERE status IN ('pending', 'interrupted') AND run_at <= $2)
     + (SELECT count(*) FROM tickflow_runs
        WHERE status IN ('running', 'pending') AND status = 'running' AND lease_until <= $2),
       due.oldest,
       COALESCE(($2 - due.oldest) / 1e6, 0)
FROM (SELECT count(*) AS n, min(next_run) AS oldest
      FROM tickflow_schedules
      WHERE next_run <= $2 AND NOT paused AND NOT orphaned
        AND ($4 IS NULL OR task IN (SELECT value FROM json_each($4)))) AS due
RETURNING started_at, due_schedules, runnable_runs, oldest_due,
          NOT EXISTS (SELECT 1 FROM tickflow_schedules
                      WHERE next_run <= $2 AND NOT paused AND NOT orphaned
                        AND $4 IS NOT NULL AND task NOT IN (SELECT value FROM json_each($4))) AS due_all_own,
          CASE WHEN $5 THEN (SELECT count(*) FROM tickflow_outbox
                             WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $2) ELSE 0 END AS due_alerts,
          CASE WHEN $5 THEN (SELECT max(t.finished_at) FROM (SELECT finished_at FROM tickflow_ticks
                                      WHERE finished_at IS NOT NULL AND error = ''
                                      ORDER BY started_at DESC LIMIT 10) t) END AS last_tick_finished
