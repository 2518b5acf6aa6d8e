-- ClaimDue: advance next_run of every planned schedule in one statement.
-- $1 JSON array of {name, next_run}; a null next_run means never again.
UPDATE tickflow_schedules s
SET next_run = x.next_run
FROM jsonb_to_recordset($1::jsonb) AS x(name text, next_run timestamptz)
WHERE s.name = x.name
