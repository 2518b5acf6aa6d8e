-- Migrate's fast path: the hash of the schema last applied (the table may
-- not exist yet, which is an error the caller treats as "migrate").
SELECT value FROM tickflow_meta WHERE key = 'schema_hash'
