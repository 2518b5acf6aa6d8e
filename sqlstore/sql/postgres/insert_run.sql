-- InsertRun: create a pending run; an idempotency key that exists already
-- inserts nothing. $1 now (NULL: now()), $2 task, $3 display name,
-- $4 schedule ('' none), $5 source, $6 payload (NULL none),
-- $7 idempotency key ('' none), $8 max attempts, $9 run at (NULL: now),
-- $10 retry delay, $11 retry backoff, $12 timeout (NULL: the task's).
INSERT INTO tickflow_runs (
    task, display_name, schedule, source, status, max_attempts, payload, run_at,
    created_at, idempotency_key, retry_delay_seconds, retry_backoff, timeout_seconds)
SELECT $2, $3, NULLIF($4::text, ''), $5, 'pending', $8, $6::json, COALESCE($9::timestamptz, c.now),
       c.now, NULLIF($7::text, ''), $10::double precision, $11::double precision, $12::double precision
FROM (SELECT COALESCE($1::timestamptz, now()) AS now) c
ON CONFLICT DO NOTHING
RETURNING *
