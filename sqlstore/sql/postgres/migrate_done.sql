-- Migrate: record the hash of the schema just applied. $1 hash.
INSERT INTO tickflow_meta (key, value) VALUES ('schema_hash', $1)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
