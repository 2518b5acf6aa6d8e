-- ListRuns: newest first, filtered; an empty filter (or 0) matches all.
-- $1 status, $2 source, $3 task, $4 schedule, $5 before id, $6 limit.
SELECT * FROM tickflow_runs
WHERE ($1::text = '' OR status = $1::text)
  AND ($2::text = '' OR source = $2::text)
  AND ($3::text = '' OR task = $3::text)
  AND ($4::text = '' OR schedule = $4::text)
  AND ($5::bigint = 0 OR id < $5::bigint)
ORDER BY id DESC
LIMIT $6
