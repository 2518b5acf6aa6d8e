-- EndTick: record the tick's report. $1 tick id, $2 finished at (unix µs),
-- $3 claimed, $4 succeeded, $5 failed, $6 retried, $7 skipped,
-- $8 interrupted, $9 released, $10 deferred, $11 conflicts, $12 duration ms,
-- $13 error.
UPDATE tickflow_ticks
SET finished_at = $2, claimed = $3, succeeded = $4, failed = $5, retried = $6,
    skipped = $7, interrupted = $8, released = $9, deferred = $10, conflicts = $11,
    duration_ms = $12, error = $13
WHERE id = $1
