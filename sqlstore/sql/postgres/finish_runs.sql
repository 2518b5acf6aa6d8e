-- FinishRuns: record attempt outcomes in one statement. An outcome applies
-- only while the run is still running under the same tick and attempt
-- (fencing). A released run (pending with attempt < claimed_attempt, never
-- started) keeps its previous error. $1 tick id, then one array per outcome
-- field, in the same order: $2 id, $3 claimed attempt (NULL: 1), $4
-- attempt (NULL: the claimed one), $5 status (NULL: success), $6 error, $7
-- stack, $8 started at, $9 finished at, $10 run at (instants as unix
-- microseconds, NULL for none). Every array but $2, $8 and $9 is NULL when
-- each of its elements would be (finishArrays): unnest pads it with NULLs.
--
-- The fencing values ride in the outcome rows (OFFSET 0 keeps the subquery
-- a plan node of its own), so they are join clauses, not filters on
-- tickflow_runs: statistics taken when few runs were running cannot make the
-- planner expect one row there and loop over the whole batch per run. The
-- plan stays one primary-key probe per outcome.
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
FROM (
    SELECT o.id, COALESCE(o.claimed_attempt, 1) AS claimed_attempt,
           COALESCE(o.attempt, o.claimed_attempt, 1) AS attempt, COALESCE(o.status, 'success') AS status,
           o.error, o.stack,
           timestamptz 'epoch' + o.started_us * interval '1 microsecond' AS started_at,
           timestamptz 'epoch' + o.finished_us * interval '1 microsecond' AS finished_at,
           timestamptz 'epoch' + o.run_us * interval '1 microsecond' AS run_at,
           'running'::text AS claimed_status, $1::text AS claimed_tick
    FROM unnest($2::bigint[], $3::integer[], $4::integer[], $5::text[], $6::text[], $7::text[],
                $8::bigint[], $9::bigint[], $10::bigint[])
         AS o(id, claimed_attempt, attempt, status, error, stack, started_us, finished_us, run_us)
    OFFSET 0
) AS x
WHERE r.id = x.id
  AND r.status = x.claimed_status
  AND r.tick_id = x.claimed_tick
  AND r.attempt = x.claimed_attempt
