-- CancelRun: a pending or interrupted run becomes cancelled. $1 id,
-- $2 now (unix µs).
UPDATE tickflow_runs
SET status = 'cancelled', finished_at = $2, lease_until = NULL
WHERE id = $1 AND status IN ('pending', 'interrupted')
RETURNING *
