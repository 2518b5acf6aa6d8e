-- ClaimRuns: claim up to $5 runnable runs of the given tasks, oldest first,
-- skipping rows another tick holds; they become running under this tick with
-- one more attempt. $1 now (NULL: now()), $2 lease until, $3 tick id,
-- $4 task names, $5 limit.
-- The task test is in a CASE for the planner's sake: see claim_due_select.
WITH c AS (
    SELECT COALESCE($1::timestamptz, now()) AS now
), cand AS (
    SELECT r.id
    FROM tickflow_runs r
    WHERE r.status IN ('pending', 'interrupted')
      AND r.run_at <= (SELECT now FROM c)
      AND CASE WHEN r.task = ANY ($4::text[]) THEN true ELSE false END
    ORDER BY r.run_at, r.id
    LIMIT $5
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE tickflow_runs r
SET status = 'running', attempt = r.attempt + 1, started_at = c.now, finished_at = NULL,
    lease_until = $2::timestamptz, tick_id = $3
FROM cand, c
WHERE r.id = cand.id
RETURNING r.*
