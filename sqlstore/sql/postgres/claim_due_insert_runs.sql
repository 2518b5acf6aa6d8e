-- ClaimDue: insert every planned run in one statement; a (schedule, slot)
-- that exists already is not inserted. Running runs start now (attempt 1,
-- leased); pending (jittered) runs wait for run_at; skipped runs are final.
-- $1 now (NULL: now()), $2 lease until, $3 tick id, $4 JSON array of runs.
-- Only the identity columns come back: the caller knows the rest (it planned
-- them), and decoding every column of 10,000 rows was a third of the CPU.
INSERT INTO tickflow_runs (
    task, display_name, schedule, source, slot, slots_covered, status, attempt,
    max_attempts, error, run_at, created_at, started_at, finished_at, lease_until, tick_id)
SELECT x.task, x.display_name, x.schedule, 'scheduled', x.slot, x.slots_covered, x.status,
       CASE WHEN x.status = 'running' THEN 1 ELSE 0 END,
       x.max_attempts, COALESCE(x.error, ''),
       CASE WHEN x.status = 'pending' THEN COALESCE(x.run_at, c.now) ELSE c.now END,
       c.now,
       CASE WHEN x.status = 'running' THEN c.now END,
       CASE WHEN x.status NOT IN ('running', 'pending') THEN c.now END,
       CASE WHEN x.status = 'running' THEN $2::timestamptz END,
       $3
FROM jsonb_to_recordset($4::jsonb) AS x(
         schedule text, task text, display_name text, slot timestamptz, slots_covered integer,
         status text, run_at timestamptz, max_attempts integer, error text),
     (SELECT COALESCE($1::timestamptz, now()) AS now) c
ON CONFLICT (schedule, slot) DO NOTHING
RETURNING id, schedule, slot, status, run_at, created_at
