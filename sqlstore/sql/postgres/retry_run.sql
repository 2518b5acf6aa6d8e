-- RetryRun: a failed run becomes pending, runnable now, with one more
-- attempt allowed; its error is kept. $1 id, $2 now (NULL: now()).
UPDATE tickflow_runs
SET status = 'pending', run_at = COALESCE($2::timestamptz, now()),
    max_attempts = GREATEST(attempt + 1, 1), finished_at = NULL, lease_until = NULL
WHERE id = $1 AND status = 'failed'
RETURNING *
