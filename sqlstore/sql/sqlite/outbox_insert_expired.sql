-- ClaimRuns with alerts: one run_failed alert per run whose lease expired
-- with no attempt left, failed by claim_runs_expire in this transaction (at
-- the same now, through the failed-runs index). $1 now (unix µs).
INSERT INTO tickflow_outbox (kind, dedupe_key, body, next_attempt_at, created_at)
SELECT 'run_failed', 'run-failed:' || r.id || ':' || r.attempt,
       json_object('runs', json_array(json_object(
           'id', r.id, 'task', r.task, 'schedule', r.schedule,
           'slot', CASE WHEN r.slot IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%fZ', r.slot / 1000000.0, 'unixepoch') END,
           'status', r.status, 'attempt', r.attempt, 'slots_covered', r.slots_covered,
           'error', substr(r.error, 1, 1000)))),
       $1, $1
FROM tickflow_runs r
WHERE r.status = 'failed' AND r.finished_at = $1 AND r.error LIKE 'interrupted: lease expired%'
ON CONFLICT (dedupe_key) DO NOTHING
