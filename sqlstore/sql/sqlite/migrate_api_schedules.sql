-- Migrate: add the columns of runtime schedules to a tickflow_schedules
-- created before them, with the constraints schema.sql declares (attached
-- to a column here: SQLite adds no table constraint). Existing rows are code
-- schedules.
ALTER TABLE tickflow_schedules ADD COLUMN origin TEXT NOT NULL DEFAULT 'code'
    CONSTRAINT tickflow_schedules_origin_check CHECK (origin IN ('code', 'api'));
ALTER TABLE tickflow_schedules ADD COLUMN payload TEXT;
ALTER TABLE tickflow_schedules ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tickflow_schedules ADD COLUMN start_at INTEGER;
ALTER TABLE tickflow_schedules ADD COLUMN end_at INTEGER
    CONSTRAINT tickflow_schedules_window_check CHECK (end_at > start_at);
ALTER TABLE tickflow_schedules ADD COLUMN max_runs INTEGER
    CONSTRAINT tickflow_schedules_max_runs_check CHECK (max_runs >= 1);
ALTER TABLE tickflow_schedules ADD COLUMN remaining_runs INTEGER
    CONSTRAINT tickflow_schedules_remaining_runs_check CHECK (remaining_runs >= 0);
ALTER TABLE tickflow_schedules ADD COLUMN completed_at INTEGER;
