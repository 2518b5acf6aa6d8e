-- HoldDue: ids and conflicts, what a held claim needs before its planned
-- runs execute beyond what its lock select brought (one id per schedule,
-- and which schedules may have a planned slot taken), in one statement,
-- sent only when needed. ids: $1 more run ids drawn from tickflow_runs' own
-- sequence, for runs beyond a schedule's first, as one bytea of 8-byte
-- big-endian integers (int8send's form) in the order drawn; the runs are
-- inserted with them at the claim's end, and a task sees its run's id
-- while it runs. conflicts: the 1-based positions of the runs looked up
-- ($2 schedules, $3 slots as unix microseconds) whose (schedule, slot) has
-- a run already: they must not execute, as ClaimDue's ON CONFLICT DO
-- NOTHING would not have inserted them (NULL: none).
SELECT (SELECT string_agg(int8send(nextval('tickflow_runs_id_seq')), ''::bytea ORDER BY g)
        FROM generate_series(1, $1::integer) AS g) AS ids,
       (SELECT array_agg(u.i ORDER BY u.i)
        FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS u(schedule, slot_us, i)
        WHERE EXISTS (SELECT 1 FROM tickflow_runs r
                      WHERE r.schedule = u.schedule
                        AND r.slot = timestamptz 'epoch' + u.slot_us * interval '1 microsecond')) AS conflicts
