-- InsertSchedules: create or upsert runtime schedules by key in one
-- statement, definition (tickflow_schedules) and state
-- (tickflow_schedule_state). $1 now (NULL: now()), $2 upsert; the records as one array per
-- column (see arrays.go): $3 name, $4 task, $5 display_name, $6 kind,
-- $7 every_seconds, $8 cron, $9 timezone, $10 spec_hash, $11 run_on_startup,
-- $12 misfire, $13 overlap, $14 max_catchup, $15 retries, $16 delay_seconds,
-- $17 backoff, $18 timeout_seconds, $19 jitter_seconds, $20 anchor,
-- $21 next_run, $22 once_at, $23 paused, $24 payload (JSON text), $25 labels
-- (JSON text), $26 start_at, $27 end_at, $28 max_runs, $29 remaining_runs,
-- $30 completed_at; instants as unix microseconds, NULL elements for none.
-- Without $2 an existing key is left alone (the caller reports a duplicate
-- and deletes what this statement inserted). With $2 an existing api row
-- is updated: an unchanged spec_hash keeps anchor, next_run and
-- completed_at ("a changed spec takes effect from the next slot"); an
-- unchanged max_runs keeps remaining_runs; a row identical in every field
-- is not written (updated_at kept). Code rows are never written here.
-- A record whose key exists in the statement's snapshot and that would
-- not be written (create, a code row, an identical api row) is left out
-- before the insert, by one primary key probe per record and table (LIMIT 1
-- keeps the planner from hashing the whole table), so a no-op upsert neither
-- locks nor logs its rows; ON CONFLICT still decides create against upsert
-- and api against code for a key inserted meanwhile (a row changed
-- meanwhile to what the record holds is written again). The state is
-- written with its definition and decides from its own locked row what it
-- keeps (anchor, next_run and completed_at by spec_hash, remaining_runs by
-- max_runs).
-- Returns one row per schedule written; inserted tells an insert from an
-- update.
WITH c AS (
    SELECT COALESCE($1::timestamptz, now()) AS now
), x AS (
    SELECT u.name, u.task, u.display_name, u.kind, u.every_seconds, u.cron, u.timezone, u.spec_hash,
           u.run_on_startup, u.misfire, u.overlap, u.max_catchup, u.retries, u.delay_seconds,
           u.backoff, u.timeout_seconds, u.jitter_seconds,
           timestamptz 'epoch' + u.anchor * interval '1 microsecond' AS anchor,
           timestamptz 'epoch' + u.next_run * interval '1 microsecond' AS next_run,
           timestamptz 'epoch' + u.once_at * interval '1 microsecond' AS once_at,
           u.paused, u.payload::json AS payload, u.labels::jsonb AS labels,
           timestamptz 'epoch' + u.start_at * interval '1 microsecond' AS start_at,
           timestamptz 'epoch' + u.end_at * interval '1 microsecond' AS end_at,
           u.max_runs, u.remaining_runs,
           timestamptz 'epoch' + u.completed_at * interval '1 microsecond' AS completed_at
    FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[],
                $9::text[], $10::text[], $11::boolean[], $12::text[], $13::text[],
                $14::integer[], $15::integer[], $16::float8[], $17::float8[], $18::float8[],
                $19::float8[], $20::bigint[], $21::bigint[], $22::bigint[], $23::boolean[],
                $24::text[], $25::text[], $26::bigint[], $27::bigint[], $28::integer[],
                $29::integer[], $30::bigint[])
         AS u(name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
              run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds,
              backoff, timeout_seconds, jitter_seconds, anchor, next_run, once_at, paused,
              payload, labels, start_at, end_at, max_runs, remaining_runs, completed_at)
), w AS (
    SELECT x.*
    FROM x
    LEFT JOIN LATERAL (
        SELECT o.*, ost.spec_hash, ost.paused, ost.max_runs
        FROM tickflow_schedules o
        JOIN tickflow_schedule_state ost ON ost.name = o.name
        WHERE o.name = x.name
        LIMIT 1
    ) o ON true
    WHERE o.name IS NULL
       OR ($2::boolean AND o.origin = 'api'
           AND (o.task, o.display_name, o.kind, o.every_seconds, o.cron, o.timezone, o.spec_hash,
                o.run_on_startup, o.misfire, o.overlap, o.max_catchup, o.retries, o.delay_seconds,
                o.backoff, o.timeout_seconds, o.jitter_seconds, o.once_at, o.paused, o.payload::text,
                o.labels, o.start_at, o.end_at, o.max_runs)
               IS DISTINCT FROM
               (x.task, x.display_name, x.kind, x.every_seconds, x.cron, x.timezone, x.spec_hash,
                x.run_on_startup, x.misfire, x.overlap, x.max_catchup, x.retries, x.delay_seconds,
                x.backoff, x.timeout_seconds, x.jitter_seconds, x.once_at, x.paused, x.payload::text,
                COALESCE(x.labels, '{}'), x.start_at, x.end_at, x.max_runs))
), def AS (
    INSERT INTO tickflow_schedules AS s (
        name, task, display_name, kind, every_seconds, cron, timezone,
        run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
        timeout_seconds, jitter_seconds, created_at, updated_at, once_at,
        origin, payload, labels, start_at, end_at)
    SELECT w.name, w.task, w.display_name, w.kind, w.every_seconds, w.cron, w.timezone,
           w.run_on_startup, w.misfire, w.overlap, w.max_catchup, w.retries, w.delay_seconds, w.backoff,
           w.timeout_seconds, w.jitter_seconds, c.now, c.now, w.once_at,
           'api', w.payload, COALESCE(w.labels, '{}'), w.start_at, w.end_at
    FROM w CROSS JOIN c
    ON CONFLICT (name) DO UPDATE SET
        task = EXCLUDED.task,
        display_name = EXCLUDED.display_name,
        kind = EXCLUDED.kind,
        every_seconds = EXCLUDED.every_seconds,
        cron = EXCLUDED.cron,
        timezone = EXCLUDED.timezone,
        run_on_startup = EXCLUDED.run_on_startup,
        misfire = EXCLUDED.misfire,
        overlap = EXCLUDED.overlap,
        max_catchup = EXCLUDED.max_catchup,
        retries = EXCLUDED.retries,
        delay_seconds = EXCLUDED.delay_seconds,
        backoff = EXCLUDED.backoff,
        timeout_seconds = EXCLUDED.timeout_seconds,
        jitter_seconds = EXCLUDED.jitter_seconds,
        once_at = EXCLUDED.once_at,
        payload = EXCLUDED.payload,
        labels = EXCLUDED.labels,
        start_at = EXCLUDED.start_at,
        end_at = EXCLUDED.end_at,
        updated_at = EXCLUDED.updated_at
    WHERE $2::boolean AND s.origin = 'api'
    RETURNING s.name, (xmax = 0) AS inserted
), state AS (
    INSERT INTO tickflow_schedule_state AS st (
        name, task, origin, spec_hash, anchor, next_run, paused, orphaned,
        max_runs, remaining_runs, completed_at)
    SELECT w.name, w.task, 'api', w.spec_hash, w.anchor, w.next_run, w.paused, false,
           w.max_runs, w.remaining_runs, w.completed_at
    FROM w JOIN def ON def.name = w.name
    ON CONFLICT (name) DO UPDATE SET
        task = EXCLUDED.task,
        paused = EXCLUDED.paused,
        max_runs = EXCLUDED.max_runs,
        remaining_runs = CASE WHEN st.max_runs IS NOT DISTINCT FROM EXCLUDED.max_runs
                              THEN st.remaining_runs ELSE EXCLUDED.remaining_runs END,
        anchor = CASE WHEN st.spec_hash = EXCLUDED.spec_hash THEN st.anchor ELSE EXCLUDED.anchor END,
        next_run = CASE WHEN st.spec_hash = EXCLUDED.spec_hash THEN st.next_run ELSE EXCLUDED.next_run END,
        completed_at = CASE WHEN st.spec_hash = EXCLUDED.spec_hash THEN st.completed_at ELSE EXCLUDED.completed_at END,
        spec_hash = EXCLUDED.spec_hash
    WHERE st.origin = 'api'
)
SELECT name, inserted FROM def
