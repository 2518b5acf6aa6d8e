-- Migrate: 1 when tickflow_schedules exists without once_at (created before
-- the once kind), so it must be rebuilt: SQLite cannot alter a CHECK.
SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickflow_schedules')
   AND NOT EXISTS (SELECT 1 FROM pragma_table_info('tickflow_schedules') WHERE name = 'once_at')
