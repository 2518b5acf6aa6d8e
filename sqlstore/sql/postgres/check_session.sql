-- CheckSession: a row comes back only for a live session of this credential.
-- $1 id_hash, $2 token_fingerprint, $3 now (NULL: now()).
SELECT 1 FROM tickflow_sessions
WHERE id_hash = $1 AND token_fingerprint = $2
  AND expires_at > COALESCE($3::timestamptz, now())
