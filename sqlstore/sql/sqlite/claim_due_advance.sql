-- ClaimDue: advance next_run of every planned schedule in one statement.
-- $1 JSON array of {name, next_run}; a null next_run means never again.
UPDATE tickflow_schedules
SET next_run = x.next_run
FROM (SELECT j.value ->> 'name' AS name, j.value ->> 'next_run' AS next_run
      FROM json_each($1) AS j) AS x
WHERE tickflow_schedules.name = x.name
