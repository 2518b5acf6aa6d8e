-- ClaimDue: lock up to $2 due schedules, oldest first, skipping rows another
-- tick holds. active: the schedule has a run holding a live lease, or a
-- scheduled run waiting for a retry (what the overlap policy looks at).
-- $1 now (NULL: now()), $2 limit, $3 the process's task names (NULL: every
-- task), filtered before the limit so other tasks' rows never fill a batch.
-- next_run comes back in timestamptz's binary form (timestamptz_send: 8
-- bytes, see sendTime): parsing 5,000 timestamps as text was a tenth of the
-- tick's Go CPU, and extract(epoch …) goes through numeric, 0.5 µs of
-- server time per row.
-- api: for a runtime schedule (origin api), planned from its row, the row's
-- spec, bounds, payload and policies as one JSON object (instants as unix
-- microseconds); NULL for a code schedule, planned from the code, so that
-- its claim decodes no more than before.
SELECT s.name, s.spec_hash, timestamptz_send(s.next_run) AS next_run,
       EXISTS (
           SELECT 1 FROM tickflow_runs r
           WHERE r.schedule = s.name
             AND r.status IN ('running', 'pending')
             AND ((r.status = 'running' AND r.lease_until > COALESCE($1::timestamptz, now()))
                  OR (r.status = 'pending' AND r.source = 'scheduled' AND r.attempt > 0))
       ) AS active,
       CASE WHEN s.origin = 'api' THEN json_build_object(
           'task', s.task, 'display_name', s.display_name, 'kind', s.kind,
           'every_seconds', s.every_seconds, 'cron', s.cron, 'timezone', s.timezone,
           'once_at', (extract(epoch FROM s.once_at) * 1000000)::bigint,
           'anchor', (extract(epoch FROM s.anchor) * 1000000)::bigint,
           'start_at', (extract(epoch FROM s.start_at) * 1000000)::bigint,
           'end_at', (extract(epoch FROM s.end_at) * 1000000)::bigint,
           'remaining_runs', s.remaining_runs, 'payload', s.payload,
           'misfire', s.misfire, 'overlap', s.overlap, 'max_catchup', s.max_catchup,
           'jitter_seconds', s.jitter_seconds, 'retries', s.retries,
           'delay_seconds', s.delay_seconds, 'backoff', s.backoff,
           'timeout_seconds', s.timeout_seconds)::text END AS api
FROM tickflow_schedules s
WHERE s.next_run <= COALESCE($1::timestamptz, now()) AND NOT s.paused AND NOT s.orphaned
  AND ($3::text[] IS NULL OR s.task = ANY ($3::text[]))
ORDER BY s.next_run
LIMIT $2
FOR UPDATE OF s SKIP LOCKED
