-- ClaimRuns with alerts: one run_failed alert per run whose lease expired
-- with no attempt left, failed by claim_runs_expire in this transaction (at
-- the same now, through the failed-runs index). $1 now (NULL: now()).
INSERT INTO tickflow_outbox (kind, dedupe_key, body, next_attempt_at, created_at)
SELECT 'run_failed', 'run-failed:' || r.id || ':' || r.attempt,
       json_build_object('runs', json_build_array(json_build_object(
           'id', r.id, 'task', r.task, 'schedule', r.schedule, 'slot', r.slot, 'status', r.status,
           'attempt', r.attempt, 'slots_covered', r.slots_covered, 'error', left(r.error, 1000))))::text,
       c.now, c.now
FROM tickflow_runs r, (SELECT COALESCE($1::timestamptz, now()) AS now) c
WHERE r.status = 'failed' AND r.finished_at = c.now AND r.error LIKE 'interrupted: lease expired%'
ON CONFLICT (dedupe_key) DO NOTHING
