-- EndTick: record the tick's report and prune ticks started before $14
-- (NULL: none; at most 100 per call, through the started_at index: cheap
-- when there are none). $1 tick id, $2 finished at (NULL: now()), $3 claimed, $4 succeeded,
-- $5 failed, $6 retried, $7 skipped, $8 interrupted, $9 released,
-- $10 deferred, $11 conflicts, $12 duration ms, $13 error, $14 prune ticks started before.
WITH c AS (
    SELECT COALESCE($2::timestamptz, now()) AS now
), pruned AS (
    DELETE FROM tickflow_ticks
    WHERE id IN (
        SELECT t.id FROM tickflow_ticks t, c
        WHERE t.started_at < $14::timestamptz AND t.id <> $1
        ORDER BY t.started_at
        LIMIT 100
    )
)
UPDATE tickflow_ticks t
SET finished_at = c.now, claimed = $3, succeeded = $4, failed = $5, retried = $6,
    skipped = $7, interrupted = $8, released = $9, deferred = $10, conflicts = $11,
    duration_ms = $12, error = $13
FROM c
WHERE t.id = $1
