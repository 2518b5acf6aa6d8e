-- InsertSchedules: create or upsert runtime schedules by key in one
-- statement. $1 now (unix µs), $2 upsert (0/1), $3 JSON array of records.
-- Without $2 an existing key is left alone (the caller counted existing
-- keys first and reports a duplicate). With $2 an existing api row is
-- updated: an unchanged spec_hash keeps anchor, next_run and completed_at
-- ("a changed spec takes effect from the next slot"); an unchanged
-- max_runs keeps remaining_runs; a row identical in every field is not
-- written (updated_at kept). Code rows are never written here. Returns one
-- row per row written (inserted is unknown here: see sync_schedules_count).
INSERT INTO tickflow_schedules (
    name, task, display_name, kind, every_seconds, cron, timezone, spec_hash,
    run_on_startup, misfire, overlap, max_catchup, retries, delay_seconds, backoff,
    timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at, once_at,
    origin, payload, labels, start_at, end_at, max_runs, remaining_runs, completed_at)
SELECT j.value ->> 'name', j.value ->> 'task', j.value ->> 'display_name', j.value ->> 'kind',
       j.value ->> 'every_seconds', j.value ->> 'cron', j.value ->> 'timezone', j.value ->> 'spec_hash',
       j.value ->> 'run_on_startup', j.value ->> 'misfire', j.value ->> 'overlap',
       j.value ->> 'max_catchup', j.value ->> 'retries', j.value ->> 'delay_seconds',
       j.value ->> 'backoff', j.value ->> 'timeout_seconds', j.value ->> 'jitter_seconds',
       j.value ->> 'anchor', j.value ->> 'next_run', j.value ->> 'paused', 0, $1, $1, j.value ->> 'once_at',
       'api', j.value -> 'payload', COALESCE(j.value -> 'labels', '{}'), j.value ->> 'start_at',
       j.value ->> 'end_at', j.value ->> 'max_runs', j.value ->> 'remaining_runs', j.value ->> 'completed_at'
FROM json_each($3) AS j
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
    paused = excluded.paused,
    payload = excluded.payload,
    labels = excluded.labels,
    start_at = excluded.start_at,
    end_at = excluded.end_at,
    max_runs = excluded.max_runs,
    remaining_runs = CASE WHEN tickflow_schedules.max_runs IS excluded.max_runs
                          THEN tickflow_schedules.remaining_runs ELSE excluded.remaining_runs END,
    anchor = CASE WHEN tickflow_schedules.spec_hash = excluded.spec_hash
                  THEN tickflow_schedules.anchor ELSE excluded.anchor END,
    next_run = CASE WHEN tickflow_schedules.spec_hash = excluded.spec_hash
                    THEN tickflow_schedules.next_run ELSE excluded.next_run END,
    completed_at = CASE WHEN tickflow_schedules.spec_hash = excluded.spec_hash
                        THEN tickflow_schedules.completed_at ELSE excluded.completed_at END,
    spec_hash = excluded.spec_hash,
    updated_at = excluded.updated_at
WHERE $2 AND tickflow_schedules.origin = 'api'
  AND (tickflow_schedules.task, tickflow_schedules.display_name, tickflow_schedules.kind,
       tickflow_schedules.every_seconds, tickflow_schedules.cron, tickflow_schedules.timezone,
       tickflow_schedules.spec_hash, tickflow_schedules.run_on_startup, tickflow_schedules.misfire,
       tickflow_schedules.overlap, tickflow_schedules.max_catchup, tickflow_schedules.retries,
       tickflow_schedules.delay_seconds, tickflow_schedules.backoff,
       tickflow_schedules.timeout_seconds, tickflow_schedules.jitter_seconds,
       tickflow_schedules.once_at, tickflow_schedules.paused, tickflow_schedules.payload,
       tickflow_schedules.labels, tickflow_schedules.start_at, tickflow_schedules.end_at,
       tickflow_schedules.max_runs)
      IS NOT
      (excluded.task, excluded.display_name, excluded.kind, excluded.every_seconds, excluded.cron,
       excluded.timezone, excluded.spec_hash, excluded.run_on_startup, excluded.misfire,
       excluded.overlap, excluded.max_catchup, excluded.retries, excluded.delay_seconds,
       excluded.backoff, excluded.timeout_seconds, excluded.jitter_seconds, excluded.once_at,
       excluded.paused, excluded.payload, excluded.labels, excluded.start_at, excluded.end_at,
       excluded.max_runs)
RETURNING name, NULL AS inserted
