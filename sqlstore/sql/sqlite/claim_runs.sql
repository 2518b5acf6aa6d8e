-- ClaimRuns: claim up to $5 runnable runs of the given tasks, oldest first;
-- they become running under this tick with one more attempt. The
-- transaction holds the write lock (BEGIN IMMEDIATE). $1 now (unix µs),
-- $2 lease until, $3 tick id, $4 JSON array of task names, $5 limit.
UPDATE tickflow_runs
SET status = 'running', attempt = attempt + 1, started_at = $1, finished_at = NULL,
    lease_until = $2, tick_id = $3
WHERE id IN (
    SELECT id FROM tickflow_runs
    WHERE status IN ('pending', 'interrupted')
      AND run_at <= $1
      AND task IN (SELECT value FROM json_each($4))
    ORDER BY run_at, id
    LIMIT $5
)
RETURNING *
