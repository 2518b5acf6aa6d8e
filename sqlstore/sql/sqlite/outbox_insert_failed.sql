-- FinishRuns and ClaimRuns with alerts: one run_failed alert per failed run
-- of $1 (JSON array of run ids), in the transaction that failed it, due when
-- the run finished. The key names the run and its attempt: a run retried by
-- hand and failed again alerts again; a second write of the same failure
-- inserts nothing (a run another tick failed has its alert under the same key).
INSERT INTO tickflow_outbox (kind, dedupe_key, body, next_attempt_at, created_at)
SELECT 'run_failed', 'run-failed:' || r.id || ':' || r.attempt,
       json_object('runs', json_array(json_object(
           'id', r.id, 'task', r.task, 'schedule', r.schedule,
           'slot', CASE WHEN r.slot IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%fZ', r.slot / 1000000.0, 'unixepoch') END,
           'status', r.status, 'attempt', r.attempt, 'slots_covered', r.slots_covered,
           'error', substr(r.error, 1, 1000)))),
       r.finished_at, r.finished_at
FROM tickflow_runs r
WHERE r.id IN (SELECT value FROM json_each($1)) AND r.status = 'failed'
  AND r.finished_at IS NOT NULL
ON CONFLICT (dedupe_key) DO NOTHING
