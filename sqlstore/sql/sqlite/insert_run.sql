-- InsertRun: create a pending run; an idempotency key that exists already
-- inserts nothing. $1 now (unix µs), $2 task, $3 display name,
-- $4 schedule ('' none), $5 source, $6 payload (NULL none),
-- $7 idempotency key ('' none), $8 max attempts, $9 run at (NULL: now),
-- $10 retry delay, $11 retry backoff, $12 timeout (NULL: the task's).
INSERT INTO tickflow_runs (
    task, display_name, schedule, source, status, max_attempts, payload, run_at,
    created_at, idempotency_key, retry_delay_seconds, retry_backoff, timeout_seconds)
VALUES ($2, $3, NULLIF($4, ''), $5, 'pending', $8, $6, COALESCE($9, $1), $1, NULLIF($7, ''), $10, $11, $12)
ON CONFLICT DO NOTHING
RETURNING *
