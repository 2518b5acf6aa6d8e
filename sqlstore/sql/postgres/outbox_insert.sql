-- InsertAlert: write one alert to the outbox, due at once, unless its
-- dedupe key exists. $1 now (NULL: now()), $2 kind, $3 dedupe key, $4 body
-- (JSON text).
INSERT INTO tickflow_outbox (kind, dedupe_key, body, next_attempt_at, created_at)
SELECT $2, $3, $4, c.now, c.now
FROM (SELECT COALESCE($1::timestamptz, now()) AS now) c
ON CONFLICT (dedupe_key) DO NOTHING
