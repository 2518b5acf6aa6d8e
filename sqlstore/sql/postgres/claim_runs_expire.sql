-- ClaimRuns: recover running runs whose lease expired (their process died).
-- With no attempts left they fail; otherwise they become interrupted,
-- runnable at once (only for the tasks this process runs). $1 now (NULL:
-- now()), $2 task names.
UPDATE tickflow_runs r
SET status = CASE WHEN r.attempt >= r.max_attempts THEN 'failed' ELSE 'interrupted' END,
    error = 'interrupted: lease expired at '
            || to_char(r.lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            || CASE WHEN r.attempt >= r.max_attempts THEN ' and no attempts left' ELSE '' END,
    stack = '',
    interruptions = r.interruptions + 1,
    finished_at = CASE WHEN r.attempt >= r.max_attempts THEN c.now END,
    run_at = CASE WHEN r.attempt >= r.max_attempts THEN r.run_at ELSE c.now END,
    lease_until = NULL
FROM (SELECT COALESCE($1::timestamptz, now()) AS now) c
WHERE r.status = 'running' AND r.lease_until <= c.now
  AND (r.attempt >= r.max_attempts OR r.task = ANY ($2::text[]))
RETURNING r.status, r.id
