-- SyncSchedules: upsert the code's schedules by name in one statement. A row
-- whose spec_hash is unchanged keeps its anchor and next_run; a new row or a
-- changed spec takes the given ones. Display fields are always updated;
-- paused is kept; listed rows are un-orphaned. Rows that would not change are
-- not written. A row of origin api is never written: sync does not touch
-- runtime schedules (see sync_schedules_conflicts). inserted is unknown here
-- (NULL): see sync_schedules_count. $1 now (unix µs), $2 JSON array of
-- schedules.
INSERT INTO tickflow_schedules (
    name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
    run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
    timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at, once_at)
SELECT j.value ->> 'name', j.value ->> 'task', j.value ->> 'display_name', j.value ->> 'kind',
       j.value ->> 'every_seconds', j.value ->> 'cron', j.value ->> 'timezone', j.value ->> 'spec_hash',
       j.value ->> 'run_on_startup', j.value ->> 'misfire', j.value ->> 'overlap',
       j.value ->> 'max_catchup', j.value ->> 'retries', j.value ->> 'delay_seconds',
       j.value ->> 'backoff', j.value ->> 'timeout_seconds', j.value ->> 'jitter_seconds',
       j.value ->> 'anchor', j.value ->> 'next_run', 0, 0, $1, $1, j.value ->> 'once_at'
FROM json_each($2) AS j
WHERE true
ON CONFLICT (name) DO UPDATE SET
    task = excluded.task,
    display_name = excluded.display_name,
    kind = excluded.kind,
    every_seconds = excluded.every_seconds,
    cron = excluded.cron,
    timezone = excluded.timezone,
    run_on_startup = excluded.run_on_startup,
    misfire = excluded.misfire,
    overlap = excluded.overlap,
    max_catchup = excluded.max_catchup,
    retries = excluded.retries,
    delay_seconds = excluded.delay_seconds,
    backoff = excluded.backoff,
    timeout_seconds = excluded.timeout_seconds,
    jitter_seconds = excluded.jitter_seconds,
    once_at = excluded.once_at,
    anchor = CASE WHEN tickflow_schedules.spec_hash = excluded.spec_hash
                  THEN tickflow_schedules.anchor ELSE excluded.anchor END,
    next_run = CASE WHEN tickflow_schedules.spec_hash = excluded.spec_hash
                    THEN tickflow_schedules.next_run ELSE excluded.next_run END,
    completed_at = CASE WHEN tickflow_schedules.spec_hash = excluded.spec_hash
                        THEN tickflow_schedules.completed_at END,
    spec_hash = excluded.spec_hash,
    orphaned = 0,
    updated_at = excluded.updated_at
WHERE tickflow_schedules.origin = 'code'
  AND (tickflow_schedules.task, tickflow_schedules.display_name, tickflow_schedules.kind,
       tickflow_schedules.every_seconds, tickflow_schedules.cron, tickflow_schedules.timezone,
       tickflow_schedules.spec_hash, tickflow_schedules.run_on_startup, tickflow_schedules.misfire,
       tickflow_schedules.overlap, tickflow_schedules.max_catchup, tickflow_schedules.retries,
       tickflow_schedules.delay_seconds, tickflow_schedules.backoff,
       tickflow_schedules.timeout_seconds, tickflow_schedules.jitter_seconds,
       tickflow_schedules.orphaned, tickflow_schedules.once_at)
      IS NOT
      (excluded.task, excluded.display_name, excluded.kind, excluded.every_seconds, excluded.cron,
       excluded.timezone, excluded.spec_hash, excluded.run_on_startup, excluded.misfire,
       excluded.overlap, excluded.max_catchup, excluded.retries, excluded.delay_seconds,
       excluded.backoff, excluded.timeout_seconds, excluded.jitter_seconds, 0, excluded.once_at)
RETURNING NULL AS inserted
