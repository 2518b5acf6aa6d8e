-- InsertRun: create a pending run; an idempotency key that exists already
-- inserts nothing. $1 now (NULL: now()), $2 task, $3 display name,
-- $4 schedule ('' none), $5 source, $6 payload (NULL none),
-- $7 idempotency key ('' none), $8 max attempts, $9 run at (NULL: now).
INSERT INTO tickflow_runs (
    task, display_name, schedule, source, status, max_attempts, payload, run_at,
    created_at, idempotency_key)
SELECT $2, $3, NULLIF($4::text, ''), $5, 'pending', $8, $6::json, COALESCE($9::timestamptz, c.now),
       c.now, NULLIF($7::text, '')
FROM (SELECT COALESCE($1::timestamptz, now()) AS now) c
ON CONFLICT DO NOTHING
RETURNING *
