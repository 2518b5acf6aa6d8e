-- ListRuns: newest first, filtered; an empty filter (or 0) matches all.
-- $1 status, $2 source, $3 task, $4 schedule, $5 before id, $6 limit.
SELECT * FROM tickflow_runs
WHERE ($1 = '' OR status = $1)
  AND ($2 = '' OR source = $2)
  AND ($3 = '' OR task = $3)
  AND ($4 = '' OR schedule = $4)
  AND ($5 = 0 OR id < $5)
ORDER BY id DESC
LIMIT $6
