-- FinishRuns: record attempt outcomes in one statement. An outcome applies
-- only while the run is still running under the same tick and attempt
-- (fencing). A released run (pending with attempt < claimed_attempt, never
-- started) keeps its previous error. $1 tick id, $2 JSON array of outcomes.
UPDATE tickflow_runs r
SET status = x.status,
    attempt = x.attempt,
    error = CASE WHEN x.attempt < x.claimed_attempt THEN r.error ELSE COALESCE(x.error, '') END,
    stack = CASE WHEN x.attempt < x.claimed_attempt THEN r.stack ELSE COALESCE(x.stack, '') END,
    started_at = CASE WHEN x.attempt = 0 THEN NULL
                      WHEN x.attempt < x.claimed_attempt THEN r.started_at
                      ELSE COALESCE(x.started_at, r.started_at) END,
    finished_at = CASE WHEN x.status = 'pending' THEN NULL ELSE x.finished_at END,
    run_at = CASE WHEN x.status = 'pending' THEN COALESCE(x.run_at, r.run_at) ELSE r.run_at END,
    lease_until = NULL
FROM jsonb_to_recordset($2::jsonb) AS x(
         id bigint, claimed_attempt integer, attempt integer, status text, error text,
         stack text, started_at timestamptz, finished_at timestamptz, run_at timestamptz)
WHERE r.id = x.id AND r.status = 'running' AND r.tick_id = $1 AND r.attempt = x.claimed_attempt
