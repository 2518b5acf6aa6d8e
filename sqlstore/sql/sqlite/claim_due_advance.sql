-- ClaimDue: advance next_run of every planned schedule in one statement.
-- $1 JSON array of {name, next_run, remaining_runs}; a null next_run means
-- never again: the schedule is done and its completed_at is set to $2
-- (now, unix µs; a sync that changes a code schedule's spec clears it); a missing
-- remaining_runs leaves it unchanged.
UPDATE tickflow_schedules
SET next_run = x.next_run,
    remaining_runs = COALESCE(x.remaining, tickflow_schedules.remaining_runs),
    completed_at = CASE WHEN x.next_run IS NULL THEN $2
                        ELSE tickflow_schedules.completed_at END
FROM (SELECT j.value ->> 'name' AS name, j.value ->> 'next_run' AS next_run,
             j.value ->> 'remaining_runs' AS remaining
      FROM json_each($1) AS j) AS x
WHERE tickflow_schedules.name = x.name
