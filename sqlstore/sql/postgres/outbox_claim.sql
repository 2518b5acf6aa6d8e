-- ClaimAlerts: claim up to $4 alerts due at $1 (NULL: now()), oldest due
-- first, skipping rows another claim holds: attempts+1, claimed by tick $3,
-- due again at $2 (the lease) unless FinishAlerts marks them.
UPDATE tickflow_outbox o
SET attempts = o.attempts + 1, claimed_by = $3, next_attempt_at = $2
FROM (SELECT id FROM tickflow_outbox
      WHERE next_attempt_at <= COALESCE($1::timestamptz, now())
      ORDER BY next_attempt_at, id
      LIMIT $4
      FOR UPDATE SKIP LOCKED) AS d
WHERE o.id = d.id
RETURNING o.id, o.kind, o.dedupe_key, o.body, o.attempts, o.next_attempt_at, o.delivered_at,
          o.last_error, o.claimed_by, o.created_at
