-- BeginTick: record the tick and read its clock and the due work, in one
-- statement. $1 tick id, $2 now (NULL: now()), $3 trigger, $4 the process's
-- task names (NULL: every task): due schedules of other tasks are not counted.
-- $5 alerts on: also the due outbox rows and when the latest tick that
-- finished without error finished (the latest of the 10 last started such
-- ticks, through the started_at index; both read only then).
-- The task test is in a CASE for the planner's sake: see claim_due_select.
-- due_all_own: no due schedule is of another task (the claims may leave
-- the filter out), counted in the same pass over the due index.
WITH c AS (
    SELECT COALESCE($2::timestamptz, now()) AS now
), due AS (
    SELECT count(*) FILTER (WHERE d.own) AS n, min(d.next_run) FILTER (WHERE d.own) AS oldest,
           count(*) FILTER (WHERE NOT d.own) AS other
    FROM (SELECT s.next_run,
                 ($4::text[] IS NULL OR CASE WHEN s.task = ANY ($4::text[]) THEN true ELSE false END) AS own
          FROM tickflow_schedule_state s, c
          WHERE s.next_run <= c.now AND NOT s.paused AND NOT s.orphaned) AS d
), runnable AS (
    SELECT (SELECT count(*) FROM tickflow_runs r, c
            WHERE r.status IN ('pending', 'interrupted') AND r.run_at <= c.now)
         + (SELECT count(*) FROM tickflow_runs r, c
            WHERE r.status = 'running' AND r.lease_until <= c.now) AS n
)
INSERT INTO tickflow_ticks (id, "trigger", started_at, due_schedules, runnable_runs, oldest_due, lag_seconds)
SELECT $1, $3, c.now, due.n, runnable.n, due.oldest,
       COALESCE(EXTRACT(EPOCH FROM c.now - due.oldest)::double precision, 0)
FROM c, due, runnable
RETURNING started_at, due_schedules, runnable_runs, oldest_due,
          (SELECT other = 0 FROM due) AS due_all_own,
          CASE WHEN $5::boolean THEN (SELECT count(*) FROM tickflow_outbox o
                                      WHERE o.next_attempt_at <= COALESCE($2::timestamptz, now())) ELSE 0 END AS due_alerts,
          CASE WHEN $5::boolean THEN (SELECT max(t.finished_at) FROM (SELECT finished_at FROM tickflow_ticks
                                      WHERE finished_at IS NOT NULL AND error = ''
                                      ORDER BY started_at DESC LIMIT 10) t) END AS last_tick_finished
