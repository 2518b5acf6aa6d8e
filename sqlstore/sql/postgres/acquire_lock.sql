-- AcquireLock: take key if it is free or expired, or extend it for its
-- owner; a row comes back only when this owner holds the lock.
-- $1 key, $2 owner, $3 TTL in microseconds, $4 now (NULL: now()).
INSERT INTO tickflow_locks AS l (key, owner, expires_at, acquired_at)
SELECT $1, $2, c.now + $3::bigint * interval '1 microsecond', c.now
FROM (SELECT COALESCE($4::timestamptz, now()) AS now) c
ON CONFLICT (key) DO UPDATE
SET owner = EXCLUDED.owner,
    expires_at = EXCLUDED.expires_at,
    acquired_at = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at > EXCLUDED.acquired_at
                       THEN l.acquired_at ELSE EXCLUDED.acquired_at END
WHERE l.expires_at <= EXCLUDED.acquired_at OR l.owner = EXCLUDED.owner
RETURNING l.owner
