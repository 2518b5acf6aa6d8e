-- ClaimAlerts: claim up to $4 alerts due at $1 (unix µs), oldest due first
-- (the statement holds the write lock): attempts+1, claimed by tick $3, due
-- again at $2 (the lease) unless FinishAlerts marks them.
UPDATE tickflow_outbox
SET attempts = attempts + 1, claimed_by = $3, next_attempt_at = $2
WHERE id IN (SELECT id FROM tickflow_outbox
             WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id
             LIMIT $4)
RETURNING id, kind, dedupe_key, body, attempts, next_attempt_at, delivered_at,
          last_error, claimed_by, created_at
