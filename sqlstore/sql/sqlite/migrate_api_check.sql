-- Migrate: which tables exist without the columns of runtime schedules, so
-- they must gain them before the schema (whose indexes name them) applies:
-- schedules 1 when tickflow_schedules lacks origin, runs 1 when tickflow_runs
-- lacks retry_delay_seconds. Read after a schedules table from before the
-- once kind was moved aside (the schema creates that one whole).
SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickflow_schedules')
       AND NOT EXISTS (SELECT 1 FROM pragma_table_info('tickflow_schedules') WHERE name = 'origin') AS schedules,
       EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickflow_runs')
       AND NOT EXISTS (SELECT 1 FROM pragma_table_info('tickflow_runs') WHERE name = 'retry_delay_seconds') AS runs
