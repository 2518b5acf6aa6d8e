-- FinishRuns: record attempt outcomes in one statement. An outcome applies
-- only while the run is still running under the same tick and attempt
-- (fencing). A released run (pending with attempt < claimed_attempt, never
-- started) keeps its previous error. $1 tick id, $2 JSON array of outcomes.
--
-- The unary + keeps the planner off the status indexes: without statistics
-- it would scan the running runs and re-read the whole JSON batch for each;
-- this way it reads the batch once and probes each run by its rowid.
UPDATE tickflow_runs
SET status = x.status,
    attempt = x.attempt,
    error = CASE WHEN x.attempt < x.claimed_attempt THEN tickflow_runs.error ELSE COALESCE(x.error, '') END,
    stack = CASE WHEN x.attempt < x.claimed_attempt THEN tickflow_runs.stack ELSE COALESCE(x.stack, '') END,
    started_at = CASE WHEN x.attempt = 0 THEN NULL
                      WHEN x.attempt < x.claimed_attempt THEN tickflow_runs.started_at
                      ELSE COALESCE(x.started_at, tickflow_runs.started_at) END,
    finished_at = CASE WHEN x.status = 'pending' THEN NULL ELSE x.finished_at END,
    run_at = CASE WHEN x.status = 'pending' THEN COALESCE(x.run_at, tickflow_runs.run_at) ELSE tickflow_runs.run_at END,
    lease_until = NULL
FROM (SELECT j.value ->> 'id' AS id, j.value ->> 'claimed_attempt' AS claimed_attempt,
             j.value ->> 'attempt' AS attempt, j.value ->> 'status' AS status,
             j.value ->> 'error' AS error, j.value ->> 'stack' AS stack,
             j.value ->> 'started_at' AS started_at, j.value ->> 'finished_at' AS finished_at,
             j.value ->> 'run_at' AS run_at
      FROM json_each($2) AS j) AS x
WHERE tickflow_runs.id = x.id AND +tickflow_runs.status = 'running'
  AND tickflow_runs.tick_id = $1 AND tickflow_runs.attempt = x.claimed_attempt
