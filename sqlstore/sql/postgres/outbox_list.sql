-- ListAlerts: outbox rows newest first. $1 limit.
SELECT id, kind, dedupe_key, body, attempts, next_attempt_at, delivered_at,
       last_error, claimed_by, created_at
FROM tickflow_outbox
ORDER BY id DESC
LIMIT $1
