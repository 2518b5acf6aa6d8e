-- CreateSession, first statement: delete a bounded batch of expired
-- sessions. $1 now (unix µs).
DELETE FROM tickflow_sessions
WHERE id_hash IN (SELECT id_hash FROM tickflow_sessions WHERE expires_at <= $1 LIMIT 1000)
