-- InsertSchedules: create or upsert runtime schedules by key in one
-- statement. $1 now (NULL: now()), $2 JSON array of records, $3 upsert.
-- Without $3 an existing key is left alone (the caller reports a duplicate
-- and deletes what this statement inserted). With $3 an existing api row
-- is updated: an unchanged spec_hash keeps anchor, next_run and
-- completed_at ("a changed spec takes effect from the next slot"); an
-- unchanged max_runs keeps remaining_runs; a row identical in every field
-- is not written (updated_at kept). Code rows are never written here.
-- Returns one row per row written; inserted tells an insert from an update.
INSERT INTO tickflow_schedules AS s (
    name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
    run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
    timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at, once_at,
    origin, payload, labels, start_at, end_at, max_runs, remaining_runs, completed_at)
SELECT x.name, x.task, x.display_name, x.kind, x.every_seconds, x.cron, x.timezone, x.spec_hash,
       x.run_on_startup, x.misfire, x.overlap, x.max_catchup, x.retries, x.delay_seconds, x.backoff,
       x.timeout_seconds, x.jitter_seconds, x.anchor, x.next_run, x.paused, false, c.now, c.now, x.once_at,
       'api', x.payload, COALESCE(x.labels, '{}'), x.start_at, x.end_at, x.max_runs, x.remaining_runs,
       x.completed_at
FROM jsonb_to_recordset($2::jsonb) AS x(
         name text, task text, display_name text, kind text, every_seconds double precision,
         cron text, timezone text, spec_hash text, run_on_startup boolean, misfire text,
         overlap text, max_catchup integer, retries integer, delay_seconds double precision,
         backoff double precision, timeout_seconds double precision,
         jitter_seconds double precision, anchor timestamptz, next_run timestamptz,
         once_at timestamptz, paused boolean, payload json, labels jsonb, start_at timestamptz,
         end_at timestamptz, max_runs integer, remaining_runs integer, completed_at timestamptz),
     (SELECT COALESCE($1::timestamptz, now()) AS now) c
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
    paused = EXCLUDED.paused,
    payload = EXCLUDED.payload,
    labels = EXCLUDED.labels,
    start_at = EXCLUDED.start_at,
    end_at = EXCLUDED.end_at,
    max_runs = EXCLUDED.max_runs,
    remaining_runs = CASE WHEN s.max_runs IS NOT DISTINCT FROM EXCLUDED.max_runs
                          THEN s.remaining_runs ELSE EXCLUDED.remaining_runs END,
    anchor = CASE WHEN s.spec_hash = EXCLUDED.spec_hash THEN s.anchor ELSE EXCLUDED.anchor END,
    next_run = CASE WHEN s.spec_hash = EXCLUDED.spec_hash THEN s.next_run ELSE EXCLUDED.next_run END,
    completed_at = CASE WHEN s.spec_hash = EXCLUDED.spec_hash THEN s.completed_at ELSE EXCLUDED.completed_at END,
    spec_hash = EXCLUDED.spec_hash,
    updated_at = EXCLUDED.updated_at
WHERE $3::boolean AND s.origin = 'api'
  AND (s.task, s.display_name, s.kind, s.every_seconds, s.cron, s.timezone, s.spec_hash,
       s.run_on_startup, s.misfire, s.overlap, s.max_catchup, s.retries, s.delay_seconds,
       s.backoff, s.timeout_seconds, s.jitter_seconds, s.once_at, s.paused, s.payload::text,
       s.labels, s.start_at, s.end_at, s.max_runs)
      IS DISTINCT FROM
      (EXCLUDED.task, EXCLUDED.display_name, EXCLUDED.kind, EXCLUDED.every_seconds, EXCLUDED.cron,
       EXCLUDED.timezone, EXCLUDED.spec_hash, EXCLUDED.run_on_startup, EXCLUDED.misfire,
       EXCLUDED.overlap, EXCLUDED.max_catchup, EXCLUDED.retries, EXCLUDED.delay_seconds,
       EXCLUDED.backoff, EXCLUDED.timeout_seconds, EXCLUDED.jitter_seconds, EXCLUDED.once_at,
       EXCLUDED.paused, EXCLUDED.payload::text, EXCLUDED.labels, EXCLUDED.start_at,
       EXCLUDED.end_at, EXCLUDED.max_runs)
RETURNING s.name, (xmax = 0) AS inserted
