-- CreateSession: record the new session; returns its expiry. The
-- transaction first runs create_session_prune.
-- $1 id_hash, $2 token_fingerprint, $3 TTL in microseconds, $4 now (unix µs).
INSERT INTO tickflow_sessions (id_hash, token_fingerprint, created_at, expires_at)
VALUES ($1, $2, $4, $4 + $3)
RETURNING expires_at
