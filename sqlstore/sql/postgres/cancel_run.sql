-- CancelRun: a pending or interrupted run becomes cancelled. $1 id,
-- $2 now (NULL: now()).
UPDATE tickflow_runs
SET status = 'cancelled', finished_at = COALESCE($2::timestamptz, now()), lease_until = NULL
WHERE id = $1 AND status IN ('pending', 'interrupted')
RETURNING *
