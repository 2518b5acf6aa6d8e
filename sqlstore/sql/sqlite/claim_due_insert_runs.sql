-- ClaimDue: insert every planned run in one statement; a (schedule, slot)
-- that exists already is not inserted. Running runs start now (attempt 1,
-- leased); pending (jittered) runs wait for run_at; skipped runs are final.
-- $1 now (unix µs), $2 lease until, $3 tick id, $4 JSON array of runs; a
-- run of a runtime schedule also carries payload (any JSON value) and its
-- retry_delay_seconds, retry_backoff and timeout_seconds (missing: NULL, the
-- task's own).
INSERT INTO tickflow_runs (
    task, display_name, schedule, source, slot, slots_covered, status, attempt,
    max_attempts, error, run_at, created_at, started_at, finished_at, lease_until, tick_id,
    payload, retry_delay_seconds, retry_backoff, timeout_seconds)
SELECT x.task, x.display_name, x.schedule, 'scheduled', x.slot, x.slots_covered, x.status,
       CASE WHEN x.status = 'running' THEN 1 ELSE 0 END,
       x.max_attempts, COALESCE(x.error, ''),
       CASE WHEN x.status = 'pending' THEN COALESCE(x.run_at, $1) ELSE $1 END,
       $1,
       CASE WHEN x.status = 'running' THEN $1 END,
       CASE WHEN x.status NOT IN ('running', 'pending') THEN $1 END,
       CASE WHEN x.status = 'running' THEN $2 END,
       $3,
       x.payload, x.retry_delay_seconds, x.retry_backoff, x.timeout_seconds
FROM (SELECT j.value ->> 'schedule' AS schedule, j.value ->> 'task' AS task,
             j.value ->> 'display_name' AS display_name, j.value ->> 'slot' AS slot,
             j.value ->> 'slots_covered' AS slots_covered, j.value ->> 'status' AS status,
             j.value ->> 'run_at' AS run_at, j.value ->> 'max_attempts' AS max_attempts,
             j.value ->> 'error' AS error, j.value -> 'payload' AS payload,
             j.value ->> 'retry_delay_seconds' AS retry_delay_seconds,
             j.value ->> 'retry_backoff' AS retry_backoff,
             j.value ->> 'timeout_seconds' AS timeout_seconds
      FROM json_each($4) AS j) AS x
WHERE true
ON CONFLICT (schedule, slot) DO NOTHING
RETURNING id, schedule, slot, created_at
