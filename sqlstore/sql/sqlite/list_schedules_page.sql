-- ListSchedulesPage: one page of schedules by key in byte order, filtered,
-- with their latest runs (as list_schedules). $1 task (''), $2 labels the
-- schedule must all carry (JSON object; NULL: any), $3 origin (''), $4
-- paused (NULL: any), $5 completed (NULL: any), $6 key prefix (''), $7 the
-- first key after the prefix's range (NULL: none), $8 cursor: keys after it
-- (''), $9 limit.
--
-- Keys are BINARY (byte order): the prefix and the cursor are one range of
-- the primary key (tickflow_schedules_task_idx with a task). Labels are
-- matched with json_each: every wanted pair is among the schedule's.
SELECT s.*, lr.id AS last_run_id, lr.status AS last_run_status, lr.slot AS last_run_slot
FROM (
    SELECT * FROM tickflow_schedules s
    WHERE ($1 = '' OR s.task = $1)
      AND ($2 IS NULL OR NOT EXISTS (
              SELECT 1 FROM json_each($2) w
              WHERE w.value IS NOT (SELECT l.value FROM json_each(s.labels) l WHERE l.key = w.key)))
      AND ($3 = '' OR s.origin = $3)
      AND ($4 IS NULL OR s.paused = $4)
      AND ($5 IS NULL OR (s.completed_at IS NOT NULL) = $5)
      AND s.name >= $6 AND ($7 IS NULL OR s.name < $7)
      AND s.name > $8
    ORDER BY s.name
    LIMIT $9
) s
LEFT JOIN tickflow_runs lr
       ON lr.id = max(
              COALESCE((SELECT max(r.id) FROM tickflow_runs r
                        WHERE r.schedule = s.name AND r.status <> 'running'), 0),
              COALESCE((SELECT max(r.id) FROM tickflow_runs r
                        WHERE r.schedule = s.name AND r.status = 'running'), 0))
ORDER BY s.name
