-- ClaimDue: lock up to $2 due schedules, oldest first, skipping rows another
-- tick holds. active: the schedule has a run holding a live lease, or a
-- scheduled run waiting for a retry (what the overlap policy looks at).
-- $1 now (NULL: now()), $2 limit, $3 the process's task names (NULL: every
-- task), filtered before the limit so other tasks' rows never fill a batch. next_run comes back as unix microseconds
-- (parsing 5,000 timestamps as text was a tenth of the tick's Go CPU).
SELECT s.name, s.spec_hash, (extract(epoch FROM s.next_run) * 1000000)::bigint AS next_run,
       EXISTS (
           SELECT 1 FROM tickflow_runs r
           WHERE r.schedule = s.name
             AND r.status IN ('running', 'pending')
             AND ((r.status = 'running' AND r.lease_until > COALESCE($1::timestamptz, now()))
                  OR (r.status = 'pending' AND r.source = 'scheduled' AND r.attempt > 0))
       ) AS active
FROM tickflow_schedules s
WHERE s.next_run <= COALESCE($1::timestamptz, now()) AND NOT s.paused AND NOT s.orphaned
  AND ($3::text[] IS NULL OR s.task = ANY ($3::text[]))
ORDER BY s.next_run
LIMIT $2
FOR UPDATE OF s SKIP LOCKED
