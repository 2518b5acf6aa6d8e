-- ReleaseLock: free key if owner holds it. $1 key, $2 owner.
DELETE FROM tickflow_locks WHERE key = $1 AND owner = $2
