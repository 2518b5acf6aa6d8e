-- EndTick, now and then: prune up to 100 ticks started before $2.
-- $1 the current tick id (kept), $2 the cut-off (unix µs).
DELETE FROM tickflow_ticks
WHERE id IN (
    SELECT id FROM tickflow_ticks
    WHERE started_at < $2 AND id <> $1
    ORDER BY started_at
    LIMIT 100
)
