-- AcquireLock: take key if it is free or expired, or extend it for its
-- owner; a row comes back only when this owner holds the lock.
-- $1 key, $2 owner, $3 TTL in microseconds, $4 now (unix µs).
INSERT INTO tickflow_locks (key, owner, expires_at, acquired_at)
VALUES ($1, $2, $4 + $3, $4)
ON CONFLICT (key) DO UPDATE
SET owner = excluded.owner,
    expires_at = excluded.expires_at,
    acquired_at = CASE WHEN tickflow_locks.owner = excluded.owner
                            AND tickflow_locks.expires_at > excluded.acquired_at
                       THEN tickflow_locks.acquired_at ELSE excluded.acquired_at END
WHERE tickflow_locks.expires_at <= excluded.acquired_at OR tickflow_locks.owner = excluded.owner
RETURNING owner
