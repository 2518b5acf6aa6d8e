-- SyncSchedules: upsert the code's schedules by name in one statement. A row
-- whose spec_hash is unchanged keeps its anchor and next_run (so concurrent
-- syncs never re-base a schedule or fire run_on_startup twice); a new row or
-- a changed spec takes the given ones. Display fields are always updated;
-- paused is kept; listed rows are un-orphaned. Rows that would not change are
-- not written. A row of origin api is never written: sync does not touch
-- runtime schedules (see sync_schedules_conflicts). $1 now (NULL: now()), $2
-- JSON array of schedules.
INSERT INTO tickflow_schedules AS s (
    name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
    run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
    timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at, once_at)
SELECT x.name, x.task, x.display_name, x.kind, x.every_seconds, x.cron, x.timezone, x.spec_hash,
       x.run_on_startup, x.misfire, x.overlap, x.max_catchup, x.retries, x.delay_seconds, x.backoff,
       x.timeout_seconds, x.jitter_seconds, x.anchor, x.next_run, false, false, c.now, c.now, x.once_at
FROM jsonb_to_recordset($2::jsonb) AS x(
         name text, task text, display_name text, kind text, every_seconds double precision,
         cron text, timezone text, spec_hash text, run_on_startup boolean, misfire text,
         overlap text, max_catchup integer, retries integer, delay_seconds double precision,
         backoff double precision, timeout_seconds double precision,
         jitter_seconds double precision, anchor timestamptz, next_run timestamptz,
         once_at timestamptz),
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
    anchor = CASE WHEN s.spec_hash = EXCLUDED.spec_hash THEN s.anchor ELSE EXCLUDED.anchor END,
    next_run = CASE WHEN s.spec_hash = EXCLUDED.spec_hash THEN s.next_run ELSE EXCLUDED.next_run END,
    completed_at = CASE WHEN s.spec_hash = EXCLUDED.spec_hash THEN s.completed_at END,
    spec_hash = EXCLUDED.spec_hash,
    orphaned = false,
    updated_at = EXCLUDED.updated_at
WHERE s.origin = 'code'
  AND (s.task, s.display_name, s.kind, s.every_seconds, s.cron, s.timezone, s.spec_hash,
       s.run_on_startup, s.misfire, s.overlap, s.max_catchup, s.retries, s.delay_seconds,
       s.backoff, s.timeout_seconds, s.jitter_seconds, s.orphaned, s.once_at)
      IS DISTINCT FROM
      (EXCLUDED.task, EXCLUDED.display_name, EXCLUDED.kind, EXCLUDED.every_seconds, EXCLUDED.cron,
       EXCLUDED.timezone, EXCLUDED.spec_hash, EXCLUDED.run_on_startup, EXCLUDED.misfire,
       EXCLUDED.overlap, EXCLUDED.max_catchup, EXCLUDED.retries, EXCLUDED.delay_seconds,
       EXCLUDED.backoff, EXCLUDED.timeout_seconds, EXCLUDED.jitter_seconds, false, EXCLUDED.once_at)
RETURNING (xmax = 0) AS inserted
