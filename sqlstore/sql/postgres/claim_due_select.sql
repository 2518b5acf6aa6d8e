-- ClaimDue: lock up to $2 due schedules, oldest first, skipping rows another
-- tick holds. active: the schedule has a run holding a live lease, or a
-- scheduled run waiting for a retry (what the overlap policy looks at).
-- $1 now (NULL: now()), $2 limit, $3 the process's task names (NULL: every
-- task), filtered before the limit so other tasks' rows never fill a batch.
-- The task test sits in a CASE so that the planner does not estimate its
-- selectivity element by element: with 100,000 code schedules (as many
-- tasks) that took 90 ms of planning per statement, half again the
-- statement's own time; the executor still hashes the array.
-- next_run comes back in timestamptz's binary form (timestamptz_send: 8
-- bytes, see sendTime): parsing 5,000 timestamps as text was a tenth of the
-- tick's Go CPU, and extract(epoch …) goes through numeric, 0.5 µs of
-- server time per row.
-- OFFSET 0 keeps active a probe of the live index per schedule: without it
-- the planner may hash the subquery instead, reading every live index entry
-- (those of the tick's finished runs too, until vacuum) once per batch,
-- which grew with the tick: 144 ms per batch of 5,000 late in a tick of
-- 1,000,000 due schedules, against 57 ms at 10,000.
-- $4: the claim is held (HoldDue), and each row also brings run_id, an id
-- drawn from the runs' sequence for the schedule's first planned run (a
-- task sees its run's id, and the held claim inserts its runs at its end),
-- and taken: the schedule has a run at or after next_run already, where a
-- planned slot may have one (never, unless next_run was moved back, the
-- schedule recreated under its name or the slot backfilled): HoldDue looks
-- those slots up before they run (claim_due_hold.sql). One range probe of
-- the slot key per row. NULL both when not held.
-- $5, $6: the (next_run, name) of the last row the tick's previous claim
-- locked (NULL: none): the scan starts after it, in the due index's order,
-- instead of passing the rows that claim holds (HoldDue) or advanced.
-- A schedule made due behind it meanwhile is the next tick's.
-- The rows are locked in a subquery and active and api computed above it,
-- for the locked rows only: computed beside the lock, they were computed
-- for every row the scan passed, the rows another claim holds (skipped)
-- included; a tick's second claim passes the rows its first claim holds
-- open (HoldDue), 5,000 probes of the live index for nothing.
-- The due rows are tickflow_schedule_state's (where each schedule stands);
-- only they are locked: the claim writes no other schedule table.
-- api: for a runtime schedule (origin api), planned from its rows, its
-- spec, bounds, payload and policies packed into one bytea in binary form
-- (decodePackedAPI reads it: texts as a 4-byte length and their bytes,
-- numbers and instants as their *send functions write them, a NULL as
-- length or count -1 or the int64 minimum), read from its definition by key
-- (one primary key probe per runtime row); NULL for a code schedule,
-- planned from the code. Not json_build_object, which took about 5 µs of
-- server time per row (it classifies every argument's type per call) and
-- made the client parse JSON; nor one column per field, which cost a code
-- schedule's row twenty CASEs.
SELECT st.name, st.spec_hash, timestamptz_send(st.next_run) AS next_run,
       EXISTS (
           SELECT 1 FROM tickflow_runs r
           WHERE r.schedule = st.name
             AND r.status IN ('running', 'pending')
             AND ((r.status = 'running' AND r.lease_until > COALESCE($1::timestamptz, now()))
                  OR (r.status = 'pending' AND r.source = 'scheduled' AND r.attempt > 0))
           OFFSET 0
       ) AS active,
       CASE WHEN st.origin = 'api' THEN (
           SELECT int4send(octet_length(s.task)) || textsend(s.task)
               || int4send(octet_length(s.display_name)) || textsend(s.display_name)
               || int4send(octet_length(s.kind)) || textsend(s.kind)
               || float8send(s.every_seconds)
               || int4send(octet_length(s.cron)) || textsend(s.cron)
               || int4send(octet_length(s.timezone)) || textsend(s.timezone)
               || COALESCE(timestamptz_send(s.once_at), int8send(-9223372036854775808))
               || timestamptz_send(st.anchor)
               || COALESCE(timestamptz_send(s.start_at), int8send(-9223372036854775808))
               || COALESCE(timestamptz_send(s.end_at), int8send(-9223372036854775808))
               || COALESCE(int4send(st.remaining_runs), int4send(-1))
               || COALESCE(int4send(octet_length(s.payload::text)) || textsend(s.payload::text), int4send(-1))
               || int4send(octet_length(s.misfire)) || textsend(s.misfire)
               || int4send(octet_length(s.overlap)) || textsend(s.overlap)
               || int4send(s.max_catchup) || float8send(s.jitter_seconds) || int4send(s.retries)
               || float8send(s.delay_seconds) || float8send(s.backoff) || float8send(s.timeout_seconds)
           FROM tickflow_schedules s WHERE s.name = st.name)
       END AS api,
       CASE WHEN $4::boolean THEN nextval('tickflow_runs_id_seq') END AS run_id,
       CASE WHEN $4::boolean THEN EXISTS (
           SELECT 1 FROM tickflow_runs r WHERE r.schedule = st.name AND r.slot >= st.next_run
       ) END AS taken
FROM (SELECT l.name, l.spec_hash, l.next_run, l.origin, l.anchor, l.remaining_runs
      FROM tickflow_schedule_state l
      WHERE l.next_run <= COALESCE($1::timestamptz, now()) AND NOT l.paused AND NOT l.orphaned
        AND (l.next_run, l.name) > (COALESCE($5::timestamptz, '-infinity'), COALESCE($6::text, ''))
        AND ($3::text[] IS NULL OR CASE WHEN l.task = ANY ($3::text[]) THEN true ELSE false END)
      ORDER BY l.next_run, l.name
      LIMIT $2
      FOR UPDATE SKIP LOCKED) AS st
ORDER BY st.next_run, st.name
