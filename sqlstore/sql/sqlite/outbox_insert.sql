-- InsertAlert: write one alert to the outbox, due at once, unless its
-- dedupe key exists. $1 now (unix µs), $2 kind, $3 dedupe key, $4 body
-- (JSON text).
INSERT INTO tickflow_outbox (kind, dedupe_key, body, next_attempt_at, created_at)
VALUES ($2, $3, $4, $1, $1)
ON CONFLICT (dedupe_key) DO NOTHING
