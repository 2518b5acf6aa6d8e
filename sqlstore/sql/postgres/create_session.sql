-- CreateSession: delete a bounded batch of expired sessions, then record
-- the new one; returns its expiry.
-- $1 id_hash, $2 token_fingerprint, $3 TTL in microseconds, $4 now (NULL: now()).
WITH c AS (SELECT COALESCE($4::timestamptz, now()) AS now),
pruned AS (
    DELETE FROM tickflow_sessions
    WHERE id_hash IN (SELECT s.id_hash FROM tickflow_sessions s, c
                      WHERE s.expires_at <= c.now LIMIT 1000)
)
INSERT INTO tickflow_sessions (id_hash, token_fingerprint, created_at, expires_at)
SELECT $1, $2, c.now, c.now + $3::bigint * interval '1 microsecond'
FROM c
RETURNING expires_at
