-- ClaimDue: up to $2 due schedules, oldest first. The transaction holds the
-- write lock (BEGIN IMMEDIATE), so no other claim sees them until it ends.
-- active: the schedule has a run holding a live lease, or a scheduled run
-- waiting for a retry. $1 now (unix µs), $2 limit, $3 JSON array of the
-- process's task names (NULL: every task), filtered before the limit so other
-- tasks' rows never fill a batch. The columns after active: for a runtime
-- schedule (origin api), planned from its row, the row's spec, bounds,
-- payload and policies; all NULL for a code schedule, planned from the code.
SELECT s.name, s.spec_hash, s.next_run,
       EXISTS (
           SELECT 1 FROM tickflow_runs r
           WHERE r.schedule = s.name
             AND r.status IN ('running', 'pending')
             AND ((r.status = 'running' AND r.lease_until > $1)
                  OR (r.status = 'pending' AND r.source = 'scheduled' AND r.attempt > 0))
       ) AS active,
       CASE WHEN s.origin = 'api' THEN s.task END AS task,
       CASE WHEN s.origin = 'api' THEN s.display_name END AS display_name,
       CASE WHEN s.origin = 'api' THEN s.kind END AS kind,
       CASE WHEN s.origin = 'api' THEN s.every_seconds END AS every_seconds,
       CASE WHEN s.origin = 'api' THEN s.cron END AS cron,
       CASE WHEN s.origin = 'api' THEN s.timezone END AS timezone,
       CASE WHEN s.origin = 'api' THEN s.once_at END AS once_at,
       CASE WHEN s.origin = 'api' THEN s.anchor END AS anchor,
       CASE WHEN s.origin = 'api' THEN s.start_at END AS start_at,
       CASE WHEN s.origin = 'api' THEN s.end_at END AS end_at,
       CASE WHEN s.origin = 'api' THEN s.remaining_runs END AS remaining_runs,
       CASE WHEN s.origin = 'api' THEN s.payload END AS payload,
       CASE WHEN s.origin = 'api' THEN s.misfire END AS misfire,
       CASE WHEN s.origin = 'api' THEN s.overlap END AS overlap,
       CASE WHEN s.origin = 'api' THEN s.max_catchup END AS max_catchup,
       CASE WHEN s.origin = 'api' THEN s.jitter_seconds END AS jitter_seconds,
       CASE WHEN s.origin = 'api' THEN s.retries END AS retries,
       CASE WHEN s.origin = 'api' THEN s.delay_seconds END AS delay_seconds,
       CASE WHEN s.origin = 'api' THEN s.backoff END AS backoff,
       CASE WHEN s.origin = 'api' THEN s.timeout_seconds END AS timeout_seconds
FROM tickflow_schedules s
WHERE s.next_run <= $1 AND NOT s.paused AND NOT s.orphaned
  AND ($3 IS NULL OR s.task IN (SELECT value FROM json_each($3)))
ORDER BY s.next_run
LIMIT $2
