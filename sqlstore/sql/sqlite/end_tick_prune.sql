-- EndTick, now and then: prune up to 100 ticks older than 7 days.
-- $1 the current tick id (kept), $2 now (unix µs).
DELETE FROM tickflow_ticks
WHERE id IN (
    SELECT id FROM tickflow_ticks
    WHERE started_at < $2 - 7 * 86400 * 1000000 AND id <> $1
    ORDER BY started_at
    LIMIT 100
)
