-- tickflow schema for SQLite: the same tables, columns and constraints as the
-- PostgreSQL schema.sql at the repository root (a test in sqlstore proves it).
--
-- Instants are INTEGER unix microseconds, UTC: they sort and compare as
-- numbers, and sqlstore converts them to time.Time when scanning. Booleans are
-- INTEGER 0/1. Applied idempotently by Migrate inside BEGIN IMMEDIATE.

CREATE TABLE IF NOT EXISTS tickflow_schedules (
    name            TEXT    NOT NULL,
    task            TEXT    NOT NULL,
    display_name    TEXT    NOT NULL DEFAULT '',
    kind            TEXT    NOT NULL,
    every_seconds   REAL    NOT NULL DEFAULT 0,
    cron            TEXT    NOT NULL DEFAULT '',
    timezone        TEXT    NOT NULL DEFAULT '',
    spec_hash       TEXT    NOT NULL,
    run_on_startup  BOOLEAN NOT NULL DEFAULT 0,
    misfire         TEXT    NOT NULL DEFAULT 'coalesce',
    overlap         TEXT    NOT NULL DEFAULT 'skip',
    max_catchup     INTEGER NOT NULL DEFAULT 0,
    retries         INTEGER NOT NULL DEFAULT 0,
    delay_seconds   REAL    NOT NULL DEFAULT 0,
    backoff         REAL    NOT NULL DEFAULT 1,
    timeout_seconds REAL    NOT NULL DEFAULT 0,
    jitter_seconds  REAL    NOT NULL DEFAULT 0,
    anchor          INTEGER NOT NULL,
    next_run        INTEGER,
    paused          BOOLEAN NOT NULL DEFAULT 0,
    orphaned        BOOLEAN NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    once_at         INTEGER,
    origin          TEXT    NOT NULL DEFAULT 'code',
    payload         TEXT,
    labels          TEXT    NOT NULL DEFAULT '{}',
    start_at        INTEGER,
    end_at          INTEGER,
    max_runs        INTEGER,
    remaining_runs  INTEGER,
    completed_at    INTEGER,
    CONSTRAINT tickflow_schedules_pkey PRIMARY KEY (name),
    CONSTRAINT tickflow_schedules_kind_check CHECK (kind IN ('every', 'cron', 'once')),
    CONSTRAINT tickflow_schedules_spec_check CHECK ((kind = 'every' AND every_seconds > 0) OR (kind = 'cron' AND cron <> '') OR (kind = 'once' AND once_at IS NOT NULL)),
    CONSTRAINT tickflow_schedules_misfire_check CHECK (misfire IN ('coalesce', 'catchup', 'skip')),
    CONSTRAINT tickflow_schedules_overlap_check CHECK (overlap IN ('skip', 'allow')),
    CONSTRAINT tickflow_schedules_counts_check CHECK (max_catchup >= 0 AND retries >= 0),
    CONSTRAINT tickflow_schedules_durations_check CHECK (delay_seconds >= 0 AND timeout_seconds >= 0 AND jitter_seconds >= 0),
    CONSTRAINT tickflow_schedules_origin_check CHECK (origin IN ('code', 'api')),
    CONSTRAINT tickflow_schedules_window_check CHECK (end_at > start_at),
    CONSTRAINT tickflow_schedules_max_runs_check CHECK (max_runs >= 1),
    CONSTRAINT tickflow_schedules_remaining_runs_check CHECK (remaining_runs >= 0)
);

-- Due schedules: the claim's predicate and order, the name breaking ties
-- (as on PostgreSQL, where a tick's next claim resumes after the last row
-- its previous one locked). It replaces tickflow_schedules_due_idx.
CREATE INDEX IF NOT EXISTS tickflow_schedules_due_key_idx
    ON tickflow_schedules (next_run, name)
    WHERE NOT paused AND NOT orphaned;
DROP INDEX IF EXISTS tickflow_schedules_due_idx;
-- Listing a task's schedules, by key. (Key prefixes use the primary key,
-- already in byte order; labels are filtered with json_each: SQLite has no
-- index for them.)
CREATE INDEX IF NOT EXISTS tickflow_schedules_task_idx
    ON tickflow_schedules (task, name);

CREATE TABLE IF NOT EXISTS tickflow_runs (
    id              INTEGER NOT NULL,
    task            TEXT    NOT NULL,
    display_name    TEXT    NOT NULL DEFAULT '',
    schedule        TEXT,
    source          TEXT    NOT NULL,
    slot            INTEGER,
    slots_covered   INTEGER NOT NULL DEFAULT 1,
    status          TEXT    NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 1,
    interruptions   INTEGER NOT NULL DEFAULT 0,
    payload         TEXT,
    error           TEXT    NOT NULL DEFAULT '',
    stack           TEXT    NOT NULL DEFAULT '',
    run_at          INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    lease_until     INTEGER,
    tick_id         TEXT,
    idempotency_key TEXT,
    retry_delay_seconds REAL,
    retry_backoff       REAL,
    timeout_seconds     REAL,
    CONSTRAINT tickflow_runs_pkey PRIMARY KEY (id),
    CONSTRAINT tickflow_runs_schedule_slot_key UNIQUE (schedule, slot),
    CONSTRAINT tickflow_runs_source_check CHECK (source IN ('manual', 'scheduled')),
    CONSTRAINT tickflow_runs_status_check CHECK (status IN ('pending', 'running', 'success', 'failed', 'interrupted', 'cancelled', 'skipped')),
    CONSTRAINT tickflow_runs_attempt_check CHECK (attempt >= 0),
    CONSTRAINT tickflow_runs_max_attempts_check CHECK (max_attempts >= 1),
    CONSTRAINT tickflow_runs_interruptions_check CHECK (interruptions >= 0),
    CONSTRAINT tickflow_runs_slots_covered_check CHECK (slots_covered >= 1),
    CONSTRAINT tickflow_runs_scheduled_slot_check CHECK (source <> 'scheduled' OR (schedule IS NOT NULL AND slot IS NOT NULL)),
    CONSTRAINT tickflow_runs_running_lease_check CHECK (status <> 'running' OR lease_until IS NOT NULL)
);

-- AddTask idempotency: unique when given.
CREATE UNIQUE INDEX IF NOT EXISTS tickflow_runs_idempotency_key
    ON tickflow_runs (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Runnable runs: pending retries, manual and jittered runs, interrupted runs.
CREATE INDEX IF NOT EXISTS tickflow_runs_runnable_idx
    ON tickflow_runs (run_at)
    WHERE status IN ('pending', 'interrupted');
-- Live runs (running or pending), by schedule and lease: one index for the
-- claim's overlap check (a schedule's live runs) and for lease recovery
-- (running runs whose lease expired: a scan of the live runs, as many as
-- the work in flight, that reads lease_until in the index). A tick's inserts
-- (every run starts running) write one index here, not two: it replaces
-- tickflow_runs_lease_idx (lease_until WHERE running) and
-- tickflow_runs_active_idx (schedule, status WHERE running or pending).
DROP INDEX IF EXISTS tickflow_runs_lease_idx;
DROP INDEX IF EXISTS tickflow_runs_active_idx;
CREATE INDEX IF NOT EXISTS tickflow_runs_live_idx
    ON tickflow_runs (schedule, lease_until)
    WHERE status IN ('running', 'pending');
-- List filters, newest first; the schedule index also finds a schedule's last run.
-- The status index leaves out successes, most runs, and running runs, which
-- the live index finds: a tick's runs enter it only if they fail or wait,
-- listing successes walks the primary key backwards (nearly every row
-- matches) and listing running runs reads the live index. It replaces
-- tickflow_runs_status_idx, which indexed every run.
DROP INDEX IF EXISTS tickflow_runs_status_idx;
CREATE INDEX IF NOT EXISTS tickflow_runs_status_rest_idx ON tickflow_runs (status, id DESC)
    WHERE status NOT IN ('success', 'running');
-- The task and schedule indexes leave running runs out as well, so a tick's
-- inserts (every run starts running) skip them; the list reads running runs
-- and a schedule's latest running run through the live index. They replace tickflow_runs_task_idx and
-- tickflow_runs_schedule_idx, which indexed every run.
DROP INDEX IF EXISTS tickflow_runs_task_idx;
DROP INDEX IF EXISTS tickflow_runs_schedule_idx;
CREATE INDEX IF NOT EXISTS tickflow_runs_task_rest_idx ON tickflow_runs (task, id DESC)
    WHERE status <> 'running';
CREATE INDEX IF NOT EXISTS tickflow_runs_schedule_rest_idx ON tickflow_runs (schedule, id DESC)
    WHERE status <> 'running';
-- Retention: finished runs by age, one index per retention class, so that
-- PruneRuns reads the oldest of each in order and stops at its budget (cheap
-- when none is old enough). Running and pending runs are not in them.
CREATE INDEX IF NOT EXISTS tickflow_runs_finished_idx ON tickflow_runs (finished_at)
    WHERE status IN ('success', 'cancelled', 'skipped');
CREATE INDEX IF NOT EXISTS tickflow_runs_failed_idx ON tickflow_runs (finished_at)
    WHERE status = 'failed';

CREATE TABLE IF NOT EXISTS tickflow_ticks (
    id            TEXT    NOT NULL,
    "trigger"     TEXT    NOT NULL DEFAULT '',
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    due_schedules INTEGER NOT NULL DEFAULT 0,
    runnable_runs INTEGER NOT NULL DEFAULT 0,
    oldest_due    INTEGER,
    claimed       INTEGER NOT NULL DEFAULT 0,
    succeeded     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    retried       INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    interrupted   INTEGER NOT NULL DEFAULT 0,
    released      INTEGER NOT NULL DEFAULT 0,
    deferred      INTEGER NOT NULL DEFAULT 0,
    conflicts     INTEGER NOT NULL DEFAULT 0,
    lag_seconds   REAL    NOT NULL DEFAULT 0,
    duration_ms   REAL    NOT NULL DEFAULT 0,
    error         TEXT    NOT NULL DEFAULT '',
    CONSTRAINT tickflow_ticks_pkey PRIMARY KEY (id)
);

-- Newest ticks first, and pruning by age.
CREATE INDEX IF NOT EXISTS tickflow_ticks_started_idx ON tickflow_ticks (started_at);

CREATE TABLE IF NOT EXISTS tickflow_locks (
    key         TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    CONSTRAINT tickflow_locks_pkey PRIMARY KEY (key)
);

-- Store metadata: schema_hash names the schema last applied (see Migrate).
CREATE TABLE IF NOT EXISTS tickflow_meta (
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    CONSTRAINT tickflow_meta_pkey PRIMARY KEY (key)
);

CREATE TABLE IF NOT EXISTS tickflow_sessions (
    id_hash           TEXT    NOT NULL,
    token_fingerprint TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    CONSTRAINT tickflow_sessions_pkey PRIMARY KEY (id_hash),
    CONSTRAINT tickflow_sessions_expiry_check CHECK (expires_at > created_at)
);

-- Pruning expired sessions.
CREATE INDEX IF NOT EXISTS tickflow_sessions_expires_idx ON tickflow_sessions (expires_at);

-- Alerts to deliver (see schema.sql at the root).
CREATE TABLE IF NOT EXISTS tickflow_outbox (
    id              INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    claimed_by      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    CONSTRAINT tickflow_outbox_pkey PRIMARY KEY (id),
    CONSTRAINT tickflow_outbox_dedupe_key UNIQUE (dedupe_key),
    CONSTRAINT tickflow_outbox_kind_check CHECK (kind IN ('run_failed', 'slots_missed', 'ticks_stopped')),
    CONSTRAINT tickflow_outbox_attempts_check CHECK (attempts >= 0)
);

-- Due deliveries: BeginTick's count and the delivery claim.
CREATE INDEX IF NOT EXISTS tickflow_outbox_due_idx ON tickflow_outbox (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
-- Finished alerts by age: pruning (FinishAlerts' PruneBefore).
CREATE INDEX IF NOT EXISTS tickflow_outbox_done_idx ON tickflow_outbox (created_at)
    WHERE next_attempt_at IS NULL;
