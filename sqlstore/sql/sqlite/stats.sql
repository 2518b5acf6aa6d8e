-- Stats: gauges in one statement. $1 now (unix µs).
SELECT $1 AS now,
       (SELECT COALESCE(json_group_object(g.status, g.n), '{}')
        FROM (SELECT status, count(*) AS n FROM tickflow_runs GROUP BY status) AS g) AS runs_by_status,
       (SELECT count(*) FROM tickflow_schedules
        WHERE next_run <= $1 AND NOT paused AND NOT orphaned) AS due_unclaimed,
       (SELECT min(next_run) FROM tickflow_schedules
        WHERE next_run <= $1 AND NOT paused AND NOT orphaned) AS oldest_due,
       (SELECT max(started_at) FROM tickflow_ticks) AS last_tick_at
