-- ClaimDue: insert every planned run and advance next_run of every planned
-- schedule, in one statement (the advance is a data-modifying CTE: it runs
-- whether or not a run is inserted). A (schedule, slot) that exists already
-- is not inserted. Running runs start now (attempt 1, leased); pending
-- (jittered) runs wait for run_at; skipped runs are final.
-- $1 now (NULL: now()), $2 lease until, $3 tick id; the runs as one array
-- per field: $4 schedule, $5 task (NULL: the schedule's name), $6 display
-- name (NULL: the task's name), $7 slot, $8 slots covered (NULL: 1), $9
-- status (NULL: running), $10 run at (pending runs'), $11 max attempts
-- (NULL: 1), $12 error (NULL: empty), and the runtime schedules' $16
-- payload (JSON text), $17 retry delay, $18 retry backoff, $19 timeout
-- (NULL: none, the task's own); the advances: $13 schedule names (a NULL
-- array: $4's, one run per schedule), $14 their next_run (NULL: never
-- again: the schedule is done and its completed_at is stamped; a sync that
-- changes a code schedule's spec clears it), $15 their remaining_runs
-- (NULL: unchanged). Every array but $4, $7 and $14 is NULL when each of
-- its elements would be (claimArrays): unnest pads it with NULLs. Instants
-- in the arrays are unix microseconds (NULL for none).
-- A held claim (HoldDue) stores its runs here at its end, as its outcomes
-- left them: $20 the ids it drew (NULL: drawn now), $21 attempt (NULL: 1
-- for a running, successful or failed run, else 0), $22 started at (NULL:
-- now for a running run), $23 finished at (given for a final outcome only;
-- NULL: now for a final status), $24 stack (NULL: empty). A NULL status
-- with a finish is success: a batch of first-attempt successes sends no
-- status, attempt, error or stack array (heldArrays).
-- Only the identity columns come back: the caller knows the rest (it planned
-- them, and status and run_at follow from the plan and now), and decoding
-- every column of 10,000 rows was a third of the CPU. created_at comes back
-- only when $1 is NULL (the caller does not know the database's now).
-- Instants come back in timestamptz's binary form (timestamptz_send, see
-- sendTime), cheaper for both sides than text or extract(epoch …).
WITH advance AS (
    UPDATE tickflow_schedule_state s
    SET next_run = a.next_run,
        remaining_runs = COALESCE(a.remaining_runs, s.remaining_runs),
        completed_at = CASE WHEN a.next_run IS NULL THEN COALESCE($1::timestamptz, now())
                            ELSE s.completed_at END
    FROM (SELECT u.name,
                 timestamptz 'epoch' + u.next_us * interval '1 microsecond' AS next_run,
                 u.remaining_runs
          FROM unnest(COALESCE($13::text[], $4::text[]), $14::bigint[], $15::integer[]) AS u(name, next_us, remaining_runs)) AS a
    WHERE s.name = a.name
), c AS (
    SELECT COALESCE($1::timestamptz, now()) AS now
)
INSERT INTO tickflow_runs (
    id, task, display_name, schedule, source, slot, slots_covered, status, attempt,
    max_attempts, error, stack, run_at, created_at, started_at, finished_at, lease_until, tick_id,
    payload, retry_delay_seconds, retry_backoff, timeout_seconds)
SELECT COALESCE(x.id, nextval('tickflow_runs_id_seq')),
       x.task, x.display_name, x.schedule, 'scheduled', x.slot, x.slots_covered, x.status,
       COALESCE(x.attempt, CASE WHEN x.status IN ('running', 'success', 'failed') THEN 1 ELSE 0 END),
       x.max_attempts, COALESCE(x.error, ''), COALESCE(x.stack, ''),
       CASE WHEN x.status = 'pending' THEN COALESCE(x.run_at, c.now) ELSE c.now END,
       c.now,
       COALESCE(x.started_at, CASE WHEN x.status = 'running' THEN c.now END),
       CASE WHEN x.status NOT IN ('running', 'pending') THEN COALESCE(x.finished_at, c.now) END,
       CASE WHEN x.status = 'running' THEN $2::timestamptz END,
       $3,
       x.payload::json, x.retry_delay_seconds, x.retry_backoff, x.timeout_seconds
FROM (SELECT u.id, u.attempt, u.stack,
             timestamptz 'epoch' + u.started_us * interval '1 microsecond' AS started_at,
             timestamptz 'epoch' + u.finished_us * interval '1 microsecond' AS finished_at,
             u.schedule, COALESCE(u.task, u.schedule) AS task,
             COALESCE(u.display_name, u.task, u.schedule) AS display_name,
             timestamptz 'epoch' + u.slot_us * interval '1 microsecond' AS slot,
             COALESCE(u.slots_covered, 1) AS slots_covered, COALESCE(u.status, CASE WHEN u.finished_us IS NULL THEN 'running' ELSE 'success' END) AS status,
             timestamptz 'epoch' + u.run_us * interval '1 microsecond' AS run_at,
             COALESCE(u.max_attempts, 1) AS max_attempts, u.error, u.payload, u.retry_delay_seconds, u.retry_backoff, u.timeout_seconds
      FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::integer[],
                  $9::text[], $10::bigint[], $11::integer[], $12::text[],
                  $16::text[], $17::float8[], $18::float8[], $19::float8[],
                  $20::bigint[], $21::integer[], $22::bigint[], $23::bigint[], $24::text[])
           AS u(schedule, task, display_name, slot_us, slots_covered, status, run_us, max_attempts, error,
                payload, retry_delay_seconds, retry_backoff, timeout_seconds,
                id, attempt, started_us, finished_us, stack)) AS x,
     c
ON CONFLICT (schedule, slot) DO NOTHING
RETURNING id, schedule, timestamptz_send(slot) AS slot,
          CASE WHEN $1::timestamptz IS NULL THEN timestamptz_send(created_at) END AS created_at
