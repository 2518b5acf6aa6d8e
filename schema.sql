-- tickflow schema for PostgreSQL: the single source of truth.
--
-- Applied idempotently by sqlstore's Migrate (every statement is
-- CREATE ... IF NOT EXISTS, COMMENT ON, DROP INDEX IF EXISTS of an index
-- that a new definition under a new name replaced, or an ALTER TABLE or DO
-- block that carries an older table forward and changes nothing on a current
-- one) under a transaction-scoped advisory lock, so any number of processes
-- may migrate at once. The SQLite schema in sqlstore/sql/sqlite/schema.sql
-- defines the same columns and constraints; a test in sqlstore proves it.
-- (It keeps tickflow_schedule_state's columns in tickflow_schedules: see
-- that table for why PostgreSQL splits them off.)
--
-- Every instant is a timestamptz written from the tick's single clock reading
-- (the database's now() unless a test injects a clock).

CREATE TABLE IF NOT EXISTS tickflow_schedules (
    name            text             NOT NULL,
    task            text             NOT NULL,
    display_name    text             NOT NULL DEFAULT '',
    kind            text             NOT NULL,
    every_seconds   double precision NOT NULL DEFAULT 0,
    cron            text             NOT NULL DEFAULT '',
    timezone        text             NOT NULL DEFAULT '',
    run_on_startup  boolean          NOT NULL DEFAULT false,
    misfire         text             NOT NULL DEFAULT 'coalesce',
    overlap         text             NOT NULL DEFAULT 'skip',
    max_catchup     integer          NOT NULL DEFAULT 0,
    retries         integer          NOT NULL DEFAULT 0,
    delay_seconds   double precision NOT NULL DEFAULT 0,
    backoff         double precision NOT NULL DEFAULT 1,
    timeout_seconds double precision NOT NULL DEFAULT 0,
    jitter_seconds  double precision NOT NULL DEFAULT 0,
    created_at      timestamptz      NOT NULL,
    updated_at      timestamptz      NOT NULL,
    once_at         timestamptz,
    origin          text             NOT NULL DEFAULT 'code',
    payload         json,
    labels          jsonb            NOT NULL DEFAULT '{}',
    start_at        timestamptz,
    end_at          timestamptz,
    CONSTRAINT tickflow_schedules_pkey PRIMARY KEY (name),
    CONSTRAINT tickflow_schedules_kind_check CHECK (kind IN ('every', 'cron', 'once')),
    CONSTRAINT tickflow_schedules_spec_check CHECK ((kind = 'every' AND every_seconds > 0) OR (kind = 'cron' AND cron <> '') OR (kind = 'once' AND once_at IS NOT NULL)),
    CONSTRAINT tickflow_schedules_misfire_check CHECK (misfire IN ('coalesce', 'catchup', 'skip')),
    CONSTRAINT tickflow_schedules_overlap_check CHECK (overlap IN ('skip', 'allow')),
    CONSTRAINT tickflow_schedules_counts_check CHECK (max_catchup >= 0 AND retries >= 0),
    CONSTRAINT tickflow_schedules_durations_check CHECK (delay_seconds >= 0 AND timeout_seconds >= 0 AND jitter_seconds >= 0),
    CONSTRAINT tickflow_schedules_origin_check CHECK (origin IN ('code', 'api')),
    CONSTRAINT tickflow_schedules_window_check CHECK (end_at > start_at)
);

-- The once kind (once_at, and 'once' in the kind and spec checks) carried
-- forward onto a table created before it; a no-op on a current one.
ALTER TABLE tickflow_schedules ADD COLUMN IF NOT EXISTS once_at timestamptz;
ALTER TABLE tickflow_schedules DROP CONSTRAINT IF EXISTS tickflow_schedules_kind_check,
    ADD CONSTRAINT tickflow_schedules_kind_check CHECK (kind IN ('every', 'cron', 'once'));
ALTER TABLE tickflow_schedules DROP CONSTRAINT IF EXISTS tickflow_schedules_spec_check,
    ADD CONSTRAINT tickflow_schedules_spec_check CHECK ((kind = 'every' AND every_seconds > 0) OR (kind = 'cron' AND cron <> '') OR (kind = 'once' AND once_at IS NOT NULL));
-- Runtime schedules (origin, payload, labels, start/end) carried forward
-- onto a table created before them; existing rows are code schedules. A
-- column that exists is skipped with its constraint. (max_runs,
-- remaining_runs and completed_at are tickflow_schedule_state's: see below.)
ALTER TABLE tickflow_schedules
    ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'code'
        CONSTRAINT tickflow_schedules_origin_check CHECK (origin IN ('code', 'api')),
    ADD COLUMN IF NOT EXISTS payload json,
    ADD COLUMN IF NOT EXISTS labels jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS start_at timestamptz,
    ADD COLUMN IF NOT EXISTS end_at timestamptz
        CONSTRAINT tickflow_schedules_window_check CHECK (end_at > start_at);

COMMENT ON TABLE tickflow_schedules IS 'Schedules: the code''s (origin code: upserted by name on sync, never deleted, orphaned when no longer in code) and runtime ones (origin api: created, changed and deleted through the Engine; sync never touches them). Their place in time is tickflow_schedule_state''s.';
COMMENT ON COLUMN tickflow_schedules.name IS 'Schedule key, unique; the key sync and the API upsert by.';
COMMENT ON COLUMN tickflow_schedules.task IS 'Registered task function the schedule runs.';
COMMENT ON COLUMN tickflow_schedules.display_name IS 'Name option of the task, for display.';
COMMENT ON COLUMN tickflow_schedules.kind IS 'every (anchored interval), cron (five fields) or once (one slot at once_at).';
COMMENT ON COLUMN tickflow_schedules.once_at IS 'The one slot of kind once, else NULL; after it fires next_run is NULL.';
COMMENT ON COLUMN tickflow_schedules.every_seconds IS 'Interval in seconds for kind every, else 0.';
COMMENT ON COLUMN tickflow_schedules.cron IS 'Cron expression for kind cron, else empty.';
COMMENT ON COLUMN tickflow_schedules.timezone IS 'IANA zone the cron expression is read in (empty: UTC).';
COMMENT ON COLUMN tickflow_schedules.run_on_startup IS 'First slot is the first tick after the spec is stored.';
COMMENT ON COLUMN tickflow_schedules.misfire IS 'Missed-slot policy: coalesce, catchup or skip.';
COMMENT ON COLUMN tickflow_schedules.overlap IS 'Policy when a slot comes due while the previous run holds its lease: skip or allow.';
COMMENT ON COLUMN tickflow_schedules.max_catchup IS 'Bound on runs the catchup policy creates per tick.';
COMMENT ON COLUMN tickflow_schedules.retries IS 'Attempts after the first.';
COMMENT ON COLUMN tickflow_schedules.delay_seconds IS 'Wait before the first retry.';
COMMENT ON COLUMN tickflow_schedules.backoff IS 'Multiplier of the wait per retry.';
COMMENT ON COLUMN tickflow_schedules.timeout_seconds IS 'Per-attempt timeout (0: only the tick deadline).';
COMMENT ON COLUMN tickflow_schedules.jitter_seconds IS 'Bound of the deterministic start delay per slot.';
COMMENT ON COLUMN tickflow_schedules.created_at IS 'When the schedule was first stored.';
COMMENT ON COLUMN tickflow_schedules.updated_at IS 'When sync, the API or pause last changed the schedule.';
COMMENT ON COLUMN tickflow_schedules.origin IS 'Who owns the row: code (sync) or api (the Engine''s schedule methods).';
COMMENT ON COLUMN tickflow_schedules.payload IS 'JSON handed to each run of the schedule (NULL: none).';
COMMENT ON COLUMN tickflow_schedules.labels IS 'String to string map for filtering (tenant=acme); {} when none.';
COMMENT ON COLUMN tickflow_schedules.start_at IS 'No slot before it (NULL: unbounded).';
COMMENT ON COLUMN tickflow_schedules.end_at IS 'No slot after it; past it the schedule completes (NULL: unbounded).';

-- Listing by key prefix and cursor: keys in byte order (COLLATE "C"), so a
-- prefix is one index range whatever the database's collation.
CREATE INDEX IF NOT EXISTS tickflow_schedules_key_idx
    ON tickflow_schedules (name COLLATE "C");
-- Listing a task's schedules, by key.
CREATE INDEX IF NOT EXISTS tickflow_schedules_task_idx
    ON tickflow_schedules (task, name COLLATE "C");
-- Listing by labels (labels @> '{"tenant":"acme"}'). Only labelled
-- schedules are indexed: a label filter always asks for at least one label,
-- so it never needs the others, and every code schedule (and many runtime
-- ones) would be an entry for nothing. It replaces
-- tickflow_schedules_labels_idx, which indexed every schedule.
DROP INDEX IF EXISTS tickflow_schedules_labels_idx;
CREATE INDEX IF NOT EXISTS tickflow_schedules_labelled_idx
    ON tickflow_schedules USING gin (labels jsonb_path_ops)
    WHERE labels <> '{}'::jsonb;

-- Each schedule's place in time, the part of it a tick writes: a narrow row
-- with two indexes (its key and the due index). The tick advances next_run
-- of every schedule it claims, and an update that changes an indexed column
-- is never HOT: PostgreSQL writes a whole new row version and an entry in
-- every index of the table. In tickflow_schedules that was a 260-byte row
-- and four index entries per schedule per tick; here it is a row of about
-- a hundred bytes and two entries: the advance of 10,000 schedules went from
-- 224 ms to 106 ms (EXPLAIN ANALYZE, median of 8). The tick never writes
-- tickflow_schedules, whose list indexes (key, task, labels) sync and the
-- API alone maintain.
--
-- task and origin repeat the definition's (kept equal by the statements that
-- write both), so that the due count filters by task and the claim tells a
-- code schedule from a runtime one without reading the definition. The rest
-- is here because the upsert that writes it decides from the row itself, in
-- its ON CONFLICT, whether to keep it: anchor, next_run and completed_at
-- while spec_hash is unchanged, remaining_runs while max_runs is.
-- The two rows are written and deleted together by each statement that
-- writes or deletes a schedule. No foreign key says so: its check (a
-- locking lookup of the definition per row) was 32 ms of the 108 ms that
-- inserting 5,000 runtime schedules took.
-- (The SQLite schema keeps these columns in tickflow_schedules: SQLite
-- updates a row in place and touches only the indexes over changed columns.)
CREATE TABLE IF NOT EXISTS tickflow_schedule_state (
    name            text             NOT NULL,
    task            text             NOT NULL,
    origin          text             NOT NULL,
    spec_hash       text             NOT NULL,
    anchor          timestamptz      NOT NULL,
    next_run        timestamptz,
    paused          boolean          NOT NULL DEFAULT false,
    orphaned        boolean          NOT NULL DEFAULT false,
    max_runs        integer,
    remaining_runs  integer,
    completed_at    timestamptz,
    CONSTRAINT tickflow_schedule_state_pkey PRIMARY KEY (name),
    CONSTRAINT tickflow_schedule_state_max_runs_check CHECK (max_runs >= 1),
    CONSTRAINT tickflow_schedule_state_remaining_runs_check CHECK (remaining_runs >= 0)
);

-- A schedules table from before tickflow_schedule_state holds these columns
-- itself: they are copied over and dropped (its due index with them), in the
-- migration's transaction. A process of an older version then fails on its
-- first statement rather than claiming from columns no tick advances any
-- more. A no-op on a current table.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'tickflow_schedules'
                 AND column_name = 'next_run') THEN
        ALTER TABLE tickflow_schedules
            ADD COLUMN IF NOT EXISTS max_runs integer,
            ADD COLUMN IF NOT EXISTS remaining_runs integer,
            ADD COLUMN IF NOT EXISTS completed_at timestamptz;
        INSERT INTO tickflow_schedule_state (name, task, origin, spec_hash, anchor, next_run, paused,
                                             orphaned, max_runs, remaining_runs, completed_at)
        SELECT name, task, origin, spec_hash, anchor, next_run, paused,
               orphaned, max_runs, remaining_runs, completed_at
        FROM tickflow_schedules
        ON CONFLICT (name) DO NOTHING;
        ALTER TABLE tickflow_schedules
            DROP COLUMN spec_hash, DROP COLUMN anchor, DROP COLUMN next_run, DROP COLUMN paused,
            DROP COLUMN orphaned, DROP COLUMN max_runs, DROP COLUMN remaining_runs,
            DROP COLUMN completed_at;
    END IF;
END
$$;

COMMENT ON TABLE tickflow_schedule_state IS 'Where each schedule stands: its next slot, pause, orphaning and run budget; one row per tickflow_schedules row, written and deleted with it. The only schedule table a tick writes.';
COMMENT ON COLUMN tickflow_schedule_state.name IS 'The schedule''s key (tickflow_schedules.name).';
COMMENT ON COLUMN tickflow_schedule_state.task IS 'tickflow_schedules.task, repeated for the due count''s task filter.';
COMMENT ON COLUMN tickflow_schedule_state.origin IS 'tickflow_schedules.origin, repeated so the claim reads a code schedule''s definition from the code alone.';
COMMENT ON COLUMN tickflow_schedule_state.spec_hash IS 'Hash of kind, interval, cron, zone and run_on_startup; a change re-bases anchor and next_run.';
COMMENT ON COLUMN tickflow_schedule_state.anchor IS 'Interval anchor: slot k = anchor + k * every.';
COMMENT ON COLUMN tickflow_schedule_state.next_run IS 'Next slot to run; NULL when the schedule never fires again.';
COMMENT ON COLUMN tickflow_schedule_state.paused IS 'Paused schedules are not claimed; kept across syncs.';
COMMENT ON COLUMN tickflow_schedule_state.orphaned IS 'No longer in code; kept for its history, never claimed.';
COMMENT ON COLUMN tickflow_schedule_state.max_runs IS 'Runs the schedule may create in all, skipped ones aside (NULL: unlimited).';
COMMENT ON COLUMN tickflow_schedule_state.remaining_runs IS 'Runs left of max_runs, decremented in the claim transaction; 0 completes the schedule.';
COMMENT ON COLUMN tickflow_schedule_state.completed_at IS 'When the schedule finished for good (once fired, max_runs used up, past end_at); NULL while active.';

-- Due schedules: the claim's predicate and order, the name breaking ties so
-- that a tick's next claim starts after the rows its last one locked
-- (claim_due_select.sql): with the first claim held open, the second
-- passed its 5,000 locked rows one by one, 11 ms. It replaces
-- tickflow_schedule_state_due_idx, the same index on next_run alone.
CREATE INDEX IF NOT EXISTS tickflow_schedule_state_due_key_idx
    ON tickflow_schedule_state (next_run, name)
    WHERE NOT paused AND NOT orphaned;
DROP INDEX IF EXISTS tickflow_schedule_state_due_idx;

CREATE TABLE IF NOT EXISTS tickflow_runs (
    id              bigint GENERATED BY DEFAULT AS IDENTITY,
    task            text        NOT NULL,
    display_name    text        NOT NULL DEFAULT '',
    schedule        text,
    source          text        NOT NULL,
    slot            timestamptz,
    slots_covered   integer     NOT NULL DEFAULT 1,
    status          text        NOT NULL,
    attempt         integer     NOT NULL DEFAULT 0,
    max_attempts    integer     NOT NULL DEFAULT 1,
    interruptions   integer     NOT NULL DEFAULT 0,
    payload         json,
    error           text        NOT NULL DEFAULT '',
    stack           text        NOT NULL DEFAULT '',
    run_at          timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    lease_until     timestamptz,
    tick_id         text,
    idempotency_key text,
    retry_delay_seconds double precision,
    retry_backoff       double precision,
    timeout_seconds     double precision,
    CONSTRAINT tickflow_runs_pkey PRIMARY KEY (id),
    CONSTRAINT tickflow_runs_slot_key UNIQUE (schedule, slot) INCLUDE (id, status, slots_covered, started_at, finished_at),
    CONSTRAINT tickflow_runs_source_check CHECK (source IN ('manual', 'scheduled')),
    CONSTRAINT tickflow_runs_status_check CHECK (status IN ('pending', 'running', 'success', 'failed', 'interrupted', 'cancelled', 'skipped')),
    CONSTRAINT tickflow_runs_attempt_check CHECK (attempt >= 0),
    CONSTRAINT tickflow_runs_max_attempts_check CHECK (max_attempts >= 1),
    CONSTRAINT tickflow_runs_interruptions_check CHECK (interruptions >= 0),
    CONSTRAINT tickflow_runs_slots_covered_check CHECK (slots_covered >= 1),
    CONSTRAINT tickflow_runs_scheduled_slot_check CHECK (source <> 'scheduled' OR (schedule IS NOT NULL AND slot IS NOT NULL)),
    CONSTRAINT tickflow_runs_running_lease_check CHECK (status <> 'running' OR lease_until IS NOT NULL)
);

-- One run per (schedule, slot), carrying what an audit reads of each run
-- (id, status, slots_covered, started_at, finished_at), so that Engine.AuditSlots reads a schedule's
-- window by an index-only scan of adjacent index pages rather than one heap
-- page per slot (43,200 pages for a minute schedule over 30 days). It is
-- the key the claim's insert writes anyway, only wider (no index more per
-- run), and finishing a run was no HOT update before it (status is in index
-- predicates). It replaces tickflow_runs_schedule_slot_key, the same key
-- without the included columns, on a table created before it: built once
-- under its new name, then the old constraint dropped.
CREATE UNIQUE INDEX IF NOT EXISTS tickflow_runs_slot_key
    ON tickflow_runs (schedule, slot) INCLUDE (id, status, slots_covered, started_at, finished_at);
ALTER TABLE tickflow_runs DROP CONSTRAINT IF EXISTS tickflow_runs_schedule_slot_key;

-- A schedule's policy overrides carried forward onto an older table.
ALTER TABLE tickflow_runs
    ADD COLUMN IF NOT EXISTS retry_delay_seconds double precision,
    ADD COLUMN IF NOT EXISTS retry_backoff double precision,
    ADD COLUMN IF NOT EXISTS timeout_seconds double precision;

COMMENT ON TABLE tickflow_runs IS 'One record per execution of a task: a schedule slot or a manual run.';
COMMENT ON COLUMN tickflow_runs.id IS 'Increasing identifier; list order and cursor.';
COMMENT ON COLUMN tickflow_runs.task IS 'Registered task function name.';
COMMENT ON COLUMN tickflow_runs.display_name IS 'Display name of the task.';
COMMENT ON COLUMN tickflow_runs.schedule IS 'Schedule name for scheduled runs and schedule triggers; NULL for plain manual runs.';
COMMENT ON COLUMN tickflow_runs.source IS 'manual or scheduled.';
COMMENT ON COLUMN tickflow_runs.slot IS 'Schedule slot the run stands for; unique per schedule; NULL for manual runs.';
COMMENT ON COLUMN tickflow_runs.slots_covered IS 'Slots this record stands for (coalesced or skipped blocks).';
COMMENT ON COLUMN tickflow_runs.status IS 'pending, running, success, failed, interrupted, cancelled or skipped.';
COMMENT ON COLUMN tickflow_runs.attempt IS 'Attempts started so far; with tick_id, the fencing token of FinishRuns.';
COMMENT ON COLUMN tickflow_runs.max_attempts IS '1 + retries when the run was created.';
COMMENT ON COLUMN tickflow_runs.interruptions IS 'Attempts whose process died (lease expired).';
COMMENT ON COLUMN tickflow_runs.payload IS 'JSON payload of a manual run, kept byte for byte.';
COMMENT ON COLUMN tickflow_runs.error IS 'Last attempt''s error, or why the run was skipped.';
COMMENT ON COLUMN tickflow_runs.stack IS 'Goroutine stack of the last attempt''s panic.';
COMMENT ON COLUMN tickflow_runs.run_at IS 'Earliest start of the next attempt.';
COMMENT ON COLUMN tickflow_runs.created_at IS 'When the run was recorded.';
COMMENT ON COLUMN tickflow_runs.started_at IS 'Start of the latest attempt.';
COMMENT ON COLUMN tickflow_runs.finished_at IS 'When the run reached a final state.';
COMMENT ON COLUMN tickflow_runs.lease_until IS 'A running attempt not finished by then is presumed dead.';
COMMENT ON COLUMN tickflow_runs.tick_id IS 'Tick that recorded or last claimed the run.';
COMMENT ON COLUMN tickflow_runs.idempotency_key IS 'Caller key making AddTask idempotent; unique when set.';
COMMENT ON COLUMN tickflow_runs.retry_delay_seconds IS 'Wait before the first retry, from the schedule (NULL: the task''s).';
COMMENT ON COLUMN tickflow_runs.retry_backoff IS 'Multiplier of the wait per retry, from the schedule (NULL: the task''s).';
COMMENT ON COLUMN tickflow_runs.timeout_seconds IS 'Per-attempt timeout, from the schedule (NULL: the task''s).';

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
    id            text             NOT NULL,
    "trigger"     text             NOT NULL DEFAULT '',
    started_at    timestamptz      NOT NULL,
    finished_at   timestamptz,
    due_schedules integer          NOT NULL DEFAULT 0,
    runnable_runs integer          NOT NULL DEFAULT 0,
    oldest_due    timestamptz,
    claimed       integer          NOT NULL DEFAULT 0,
    succeeded     integer          NOT NULL DEFAULT 0,
    failed        integer          NOT NULL DEFAULT 0,
    retried       integer          NOT NULL DEFAULT 0,
    skipped       integer          NOT NULL DEFAULT 0,
    interrupted   integer          NOT NULL DEFAULT 0,
    released      integer          NOT NULL DEFAULT 0,
    deferred      integer          NOT NULL DEFAULT 0,
    conflicts     integer          NOT NULL DEFAULT 0,
    lag_seconds   double precision NOT NULL DEFAULT 0,
    duration_ms   double precision NOT NULL DEFAULT 0,
    error         text             NOT NULL DEFAULT '',
    CONSTRAINT tickflow_ticks_pkey PRIMARY KEY (id)
);

COMMENT ON TABLE tickflow_ticks IS 'One row per tick: what it saw at its start and its report; pruned after 7 days.';
COMMENT ON COLUMN tickflow_ticks.id IS 'Tick identifier (tick_...).';
COMMENT ON COLUMN tickflow_ticks."trigger" IS 'What invoked the tick: lambda, http, cli, timer.';
COMMENT ON COLUMN tickflow_ticks.started_at IS 'The tick''s single clock reading.';
COMMENT ON COLUMN tickflow_ticks.finished_at IS 'Start plus the tick''s elapsed time; NULL while running or if it died.';
COMMENT ON COLUMN tickflow_ticks.due_schedules IS 'Due schedules at the start.';
COMMENT ON COLUMN tickflow_ticks.runnable_runs IS 'Runnable runs at the start.';
COMMENT ON COLUMN tickflow_ticks.oldest_due IS 'Earliest due next_run at the start.';
COMMENT ON COLUMN tickflow_ticks.claimed IS 'Runs the tick started.';
COMMENT ON COLUMN tickflow_ticks.succeeded IS 'Runs that succeeded.';
COMMENT ON COLUMN tickflow_ticks.failed IS 'Runs that failed for good.';
COMMENT ON COLUMN tickflow_ticks.retried IS 'Runs stored as pending for a later retry.';
COMMENT ON COLUMN tickflow_ticks.skipped IS 'Slots recorded as skipped (misfire, overlap).';
COMMENT ON COLUMN tickflow_ticks.interrupted IS 'Runs found with an expired lease.';
COMMENT ON COLUMN tickflow_ticks.released IS 'Claimed runs given back unstarted for lack of time.';
COMMENT ON COLUMN tickflow_ticks.deferred IS 'Jittered runs stored as pending.';
COMMENT ON COLUMN tickflow_ticks.conflicts IS 'Planned slots another tick had already recorded.';
COMMENT ON COLUMN tickflow_ticks.lag_seconds IS 'Start minus the oldest due next_run.';
COMMENT ON COLUMN tickflow_ticks.duration_ms IS 'Wall time of the tick.';
COMMENT ON COLUMN tickflow_ticks.error IS 'Infrastructure error that failed the tick, if any.';

-- Newest ticks first, and pruning by age.
CREATE INDEX IF NOT EXISTS tickflow_ticks_started_idx ON tickflow_ticks (started_at);

CREATE TABLE IF NOT EXISTS tickflow_locks (
    key         text        NOT NULL,
    owner       text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    acquired_at timestamptz NOT NULL,
    CONSTRAINT tickflow_locks_pkey PRIMARY KEY (key)
);

COMMENT ON TABLE tickflow_locks IS 'Named locks with a TTL by the database clock (acquire_schedule_lock).';
COMMENT ON COLUMN tickflow_locks.key IS 'Lock name, conventionally schedule:{name}.';
COMMENT ON COLUMN tickflow_locks.owner IS 'Holder; only it may extend or release the lock.';
COMMENT ON COLUMN tickflow_locks.expires_at IS 'The lock is free from this instant on.';
COMMENT ON COLUMN tickflow_locks.acquired_at IS 'When the current owner took the lock.';

CREATE TABLE IF NOT EXISTS tickflow_meta (
    key   text NOT NULL,
    value text NOT NULL,
    CONSTRAINT tickflow_meta_pkey PRIMARY KEY (key)
);

COMMENT ON TABLE tickflow_meta IS 'Store metadata. schema_hash names the schema last applied, so Migrate on an up-to-date database is one read that takes no table lock.';
COMMENT ON COLUMN tickflow_meta.key IS 'Metadata name.';
COMMENT ON COLUMN tickflow_meta.value IS 'Metadata value.';

CREATE TABLE IF NOT EXISTS tickflow_sessions (
    id_hash           text        NOT NULL,
    token_fingerprint text        NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    CONSTRAINT tickflow_sessions_pkey PRIMARY KEY (id_hash),
    CONSTRAINT tickflow_sessions_expiry_check CHECK (expires_at > created_at)
);

COMMENT ON TABLE tickflow_sessions IS 'Dashboard sign-ins: valid until expires_at or sign-out, for the token they were opened with; expired rows are pruned as sessions are created.';
COMMENT ON COLUMN tickflow_sessions.id_hash IS 'Hex SHA-256 of the random session id the browser holds; the id itself is never stored.';
COMMENT ON COLUMN tickflow_sessions.token_fingerprint IS 'Keyed hash of the token the session was opened with: a new token ends every session.';
COMMENT ON COLUMN tickflow_sessions.created_at IS 'When the session was opened.';
COMMENT ON COLUMN tickflow_sessions.expires_at IS 'The session is refused from this instant on.';

-- Pruning expired sessions.
CREATE INDEX IF NOT EXISTS tickflow_sessions_expires_idx ON tickflow_sessions (expires_at);

CREATE TABLE IF NOT EXISTS tickflow_outbox (
    id              bigint GENERATED BY DEFAULT AS IDENTITY,
    kind            text        NOT NULL,
    dedupe_key      text        NOT NULL,
    body            text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    delivered_at    timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    claimed_by      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    CONSTRAINT tickflow_outbox_pkey PRIMARY KEY (id),
    CONSTRAINT tickflow_outbox_dedupe_key UNIQUE (dedupe_key),
    CONSTRAINT tickflow_outbox_kind_check CHECK (kind IN ('run_failed', 'slots_missed', 'ticks_stopped')),
    CONSTRAINT tickflow_outbox_attempts_check CHECK (attempts >= 0)
);

COMMENT ON TABLE tickflow_outbox IS 'Alerts to deliver: written in the transaction of their event, delivered by ticks (see core.Alerts).';
COMMENT ON COLUMN tickflow_outbox.id IS 'Increasing identifier.';
COMMENT ON COLUMN tickflow_outbox.kind IS 'run_failed, slots_missed or ticks_stopped.';
COMMENT ON COLUMN tickflow_outbox.dedupe_key IS 'One row per event (run-failed:<run id>:<attempt>, ...): a second write of the event inserts nothing.';
COMMENT ON COLUMN tickflow_outbox.body IS 'The alert''s structured fields as JSON.';
COMMENT ON COLUMN tickflow_outbox.attempts IS 'Deliveries started so far; with claimed_by, the fencing token of FinishAlerts.';
COMMENT ON COLUMN tickflow_outbox.next_attempt_at IS 'Next delivery attempt, or the claim''s lease while one is under way; NULL once delivered or given up.';
COMMENT ON COLUMN tickflow_outbox.delivered_at IS 'When the notifier accepted the alert; NULL until then.';
COMMENT ON COLUMN tickflow_outbox.last_error IS 'Error of the last failed delivery.';
COMMENT ON COLUMN tickflow_outbox.claimed_by IS 'Tick that claimed the latest delivery attempt.';
COMMENT ON COLUMN tickflow_outbox.created_at IS 'When the event happened.';

-- Due deliveries: BeginTick's count and the delivery claim.
CREATE INDEX IF NOT EXISTS tickflow_outbox_due_idx ON tickflow_outbox (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
-- Finished alerts by age: pruning (FinishAlerts' PruneBefore).
CREATE INDEX IF NOT EXISTS tickflow_outbox_done_idx ON tickflow_outbox (created_at)
    WHERE next_attempt_at IS NULL;
