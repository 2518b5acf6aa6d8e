-- Stats: gauges in one statement. $1 now (NULL: now()).
WITH c AS (
    SELECT COALESCE($1::timestamptz, now()) AS now
)
SELECT c.now AS now,
       (SELECT COALESCE(json_object_agg(g.status, g.n), '{}'::json)::text
        FROM (SELECT status, count(*) AS n FROM tickflow_runs GROUP BY status) g) AS runs_by_status,
       (SELECT count(*) FROM tickflow_schedule_state s
        WHERE s.next_run <= c.now AND NOT s.paused AND NOT s.orphaned) AS due_unclaimed,
       (SELECT min(s.next_run) FROM tickflow_schedule_state s
        WHERE s.next_run <= c.now AND NOT s.paused AND NOT s.orphaned) AS oldest_due,
       (SELECT max(t.started_at) FROM tickflow_ticks t) AS last_tick_at
FROM c
