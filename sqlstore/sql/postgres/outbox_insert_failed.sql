-- FinishRuns and ClaimRuns with alerts: one run_failed alert per failed run
-- of $1 (run ids), in the transaction that failed it, due when the run
-- finished. The key names the run and its attempt: a run retried by hand and
-- failed again alerts again; a second write of the same failure inserts
-- nothing (a run another tick failed has its alert under the same key).
INSERT INTO tickflow_outbox (kind, dedupe_key, body, next_attempt_at, created_at)
SELECT 'run_failed', 'run-failed:' || r.id || ':' || r.attempt,
       json_build_object('runs', json_build_array(json_build_object(
           'id', r.id, 'task', r.task, 'schedule', r.schedule, 'slot', r.slot, 'status', r.status,
           'attempt', r.attempt, 'slots_covered', r.slots_covered, 'error', left(r.error, 1000))))::text,
       COALESCE(r.finished_at, now()), COALESCE(r.finished_at, now())
FROM tickflow_runs r
WHERE r.id = ANY ($1::bigint[]) AND r.status = 'failed'
ON CONFLICT (dedupe_key) DO NOTHING
