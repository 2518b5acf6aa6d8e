-- ListSchedulesPage: one page of schedules (definition and state) by key
-- in byte order, filtered, with their latest runs (as list_schedules).
-- $1 task (''), $2 labels the schedule must all carry (JSON object; NULL:
-- any), $3 origin (''), $4 paused (NULL: any), $5 completed (NULL: any),
-- $6 key prefix as a LIKE pattern ('': any), $7 cursor: keys after it
-- (''), $8 limit.
--
-- Keys compare COLLATE "C" (tickflow_schedules_key_idx, or
-- tickflow_schedules_task_idx with a task), so the prefix and the cursor
-- are one index range whatever the database's collation; labels use the
-- GIN index of labelled schedules (tickflow_schedules_labelled_idx) through
-- @>: $2 is never the empty object, so a match is labelled, and saying so
-- lets the planner use that partial index.
SELECT s.*, lr.id AS last_run_id, lr.status AS last_run_status, lr.slot AS last_run_slot
FROM (
    SELECT s.*, st.spec_hash, st.anchor, st.next_run, st.paused, st.orphaned,
           st.max_runs, st.remaining_runs, st.completed_at
    FROM tickflow_schedules s
    JOIN tickflow_schedule_state st ON st.name = s.name
    WHERE ($1::text = '' OR s.task = $1::text)
      AND ($2::jsonb IS NULL OR (s.labels @> $2::jsonb AND s.labels <> '{}'::jsonb))
      AND ($3::text = '' OR s.origin = $3::text)
      AND ($4::boolean IS NULL OR st.paused = $4::boolean)
      AND ($5::boolean IS NULL OR (st.completed_at IS NOT NULL) = $5::boolean)
      AND ($6::text = '' OR s.name COLLATE "C" LIKE $6::text)
      AND s.name COLLATE "C" > $7::text
    ORDER BY s.name COLLATE "C"
    LIMIT $8
) s
LEFT JOIN LATERAL (
    SELECT u.id, u.status, u.slot FROM (
        (SELECT r.id, r.status, r.slot FROM tickflow_runs r
         WHERE r.schedule = s.name AND r.status <> 'running'
         ORDER BY r.id DESC
         LIMIT 1)
        UNION ALL
        (SELECT r.id, r.status, r.slot FROM tickflow_runs r
         WHERE r.schedule = s.name AND r.status = 'running'
         ORDER BY r.id DESC
         LIMIT 1)
    ) u
    ORDER BY u.id DESC
    LIMIT 1
) lr ON true
ORDER BY s.name COLLATE "C"
