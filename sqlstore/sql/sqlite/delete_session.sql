-- DeleteSession: end a session (sign-out). $1 id_hash.
DELETE FROM tickflow_sessions WHERE id_hash = $1
