-- ClaimDue: up to $2 due schedules, oldest first. The transaction holds the
-- write lock (BEGIN IMMEDIATE), so no other claim sees them until it ends.
-- active: the schedule has a run holding a live lease, or a scheduled run
-- waiting for a retry. $1 now (unix µs), $2 limit, $3 JSON array of the
-- process's task names (NULL: every task), filtered before the limit so other
-- tasks' rows never fill a batch.
SELECT s.name, s.spec_hash, s.next_run,
       EXISTS (
           SELECT 1 FROM tickflow_runs r
           WHERE r.schedule = s.name
             AND r.status IN ('running', 'pending')
             AND ((r.status = 'running' AND r.lease_until > $1)
                  OR (r.status = 'pending' AND r.source = 'scheduled' AND r.attempt > 0))
       ) AS active
FROM tickflow_schedules s
WHERE s.next_run <= $1 AND NOT s.paused AND NOT s.orphaned
  AND ($3 IS NULL OR s.task IN (SELECT value FROM json_each($3)))
ORDER BY s.next_run
LIMIT $2
