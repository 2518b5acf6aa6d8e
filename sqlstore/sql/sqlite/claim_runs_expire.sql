-- ClaimRuns: recover running runs whose lease expired (their process died).
-- With no attempts left they fail; otherwise they become interrupted,
-- runnable at once (only for the tasks this process runs). $1 now (unix µs),
-- $2 JSON array of task names. The status IN term repeats the live index's
-- predicate word for word, which is what lets SQLite use it.
UPDATE tickflow_runs
SET status = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'interrupted' END,
    error = 'interrupted: lease expired at '
            || strftime('%Y-%m-%dT%H:%M:%SZ', lease_until / 1000000, 'unixepoch')
            || CASE WHEN attempt >= max_attempts THEN ' and no attempts left' ELSE '' END,
    stack = '',
    interruptions = interruptions + 1,
    finished_at = CASE WHEN attempt >= max_attempts THEN $1 END,
    run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE $1 END,
    lease_until = NULL
WHERE status IN ('running', 'pending') AND status = 'running' AND lease_until <= $1
  AND (attempt >= max_attempts OR task IN (SELECT value FROM json_each($2)))
RETURNING status, id
