-- ListRuns: newest first, filtered; an empty filter (or 0) matches all.
-- $1 status, $2 source, $3 task, $4 schedule, $5 before id, $6 limit.
--
-- Two branches, merged by id: runs that are not running, through the task,
-- schedule and status indexes (which leave running runs out, so that a
-- tick's inserts skip them) or the primary key; and running runs, through
-- the live index (as many as the work in flight). A status filter turns the
-- branch it excludes off before it reads anything.
SELECT * FROM (
    (SELECT * FROM tickflow_runs
     WHERE status <> 'running' AND $1::text <> 'running'
       AND ($1::text = '' OR status = $1::text)
       AND ($2::text = '' OR source = $2::text)
       AND ($3::text = '' OR task = $3::text)
       AND ($4::text = '' OR schedule = $4::text)
       AND ($5::bigint = 0 OR id < $5::bigint)
     ORDER BY id DESC
     LIMIT $6)
    UNION ALL
    (SELECT * FROM tickflow_runs
     WHERE status = 'running' AND $1::text IN ('', 'running')
       AND ($2::text = '' OR source = $2::text)
       AND ($3::text = '' OR task = $3::text)
       AND ($4::text = '' OR schedule = $4::text)
       AND ($5::bigint = 0 OR id < $5::bigint)
     ORDER BY id DESC
     LIMIT $6)
) r
ORDER BY id DESC
LIMIT $6
