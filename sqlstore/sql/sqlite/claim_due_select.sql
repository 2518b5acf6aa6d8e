-- ClaimDue: up to $2 due schedules, oldest first. The transaction holds the
-- write lock (BEGIN IMMEDIATE), so no other claim sees them until it ends.
-- active: the schedule has a run holding a live lease, or a scheduled run
-- waiting for a retry. $1 now (unix µs), $2 limit, $3 JSON array of the
-- process's task names (NULL: every task), filtered before the limit so other
-- tasks' rows never fill a batch. api: for a runtime schedule (origin api),
-- planned from its row, the row's spec, bounds, payload and policies as one
-- JSON object; NULL for a code schedule, planned from the code.
SELECT s.name, s.spec_hash, s.next_run,
       EXISTS (
           SELECT 1 FROM tickflow_runs r
           WHERE r.schedule = s.name
             AND r.status IN ('running', 'pending')
             AND ((r.status = 'running' AND r.lease_until > $1)
                  OR (r.status = 'pending' AND r.source = 'scheduled' AND r.attempt > 0))
       ) AS active,
       CASE WHEN s.origin = 'api' THEN json_object(
           'task', s.task, 'display_name', s.display_name, 'kind', s.kind,
           'every_seconds', s.every_seconds, 'cron', s.cron, 'timezone', s.timezone,
           'once_at', s.once_at, 'anchor', s.anchor, 'start_at', s.start_at, 'end_at', s.end_at,
           'remaining_runs', s.remaining_runs, 'payload', json(s.payload),
           'misfire', s.misfire, 'overlap', s.overlap, 'max_catchup', s.max_catchup,
           'jitter_seconds', s.jitter_seconds, 'retries', s.retries,
           'delay_seconds', s.delay_seconds, 'backoff', s.backoff,
           'timeout_seconds', s.timeout_seconds) END AS api
FROM tickflow_schedules s
WHERE s.next_run <= $1 AND NOT s.paused AND NOT s.orphaned
  AND ($3 IS NULL OR s.task IN (SELECT value FROM json_each($3)))
ORDER BY s.next_run, s.name
LIMIT $2
