package core

import (
	"context"
	"encoding/json"
	"time"
)

// Store persists schedules, runs, ticks, locks and dashboard sessions. The domain owns this
// interface; sqlstore implements it for PostgreSQL and SQLite.
//
// Error contract: methods wrap ErrNotFound when the named record does not
// exist, ErrDuplicate for a unique-key clash the caller must hear about,
// ErrConflict when a record is in the wrong state for the operation; every
// other error is an infrastructure failure (the database is down, a statement
// failed) and leaves the store unchanged: each method is one transaction.
//
// Time: every method that takes a Now uses it for every comparison and every
// timestamp it writes; a zero Now means "the database clock" (now()).
type Store interface {
	// Now reads the database clock (one cheap statement). Engine operations
	// outside a tick (Sync, locks, API actions) use it when no Clock is set.
	Now(ctx context.Context) (time.Time, error)

	// BeginTick reads the clock (the database's unless p.Now is set), records
	// the tick as started and counts the work that is due. It is the only
	// statement an empty tick needs besides EndTick.
	BeginTick(ctx context.Context, p BeginTickParams) (TickStart, error)
	// EndTick records the tick's report and deletes a bounded batch of tick
	// reports that started before p.TicksBefore (none when it is zero).
	EndTick(ctx context.Context, p EndTickParams) error
	// PruneRuns deletes at most p.Limit runs in a final state that finished
	// long ago: success, cancelled and skipped runs finished before
	// p.FinishedBefore, failed runs finished before p.FailedBefore (a zero
	// instant prunes none of that kind). It never deletes a pending,
	// running or interrupted run, nor a schedule's latest run (greatest
	// slot), and returns how many it deleted. One bounded, indexed
	// statement: cheap when nothing is old enough.
	PruneRuns(ctx context.Context, p PruneRunsParams) (int, error)

	// SyncSchedules upserts the code's schedules by name: a row whose
	// SpecHash is unchanged keeps its anchor and next_run; a new row or a
	// changed spec takes the given Anchor and NextRun. Rows not in the list
	// whose task is one of p.Tasks (the caller's registered tasks) are
	// marked orphaned (never deleted); rows of other tasks belong to other
	// processes sharing the store and are left alone. Listed rows are
	// un-orphaned. Paused state is kept.
	SyncSchedules(ctx context.Context, p SyncSchedulesParams) (SyncResult, error)

	// ClaimDue locks up to p.Limit due schedules (next_run <= p.Now, not
	// paused, not orphaned, task among p.Tasks: the filter is applied before
	// the limit, so schedules of tasks this process lacks never fill a batch) with FOR UPDATE SKIP LOCKED or the dialect's
	// equivalent, calls p.Plan once with them inside the transaction, inserts
	// the planned runs (unique (schedule, slot); a clash inserts nothing),
	// advances next_run as planned, and commits. It returns the runs it
	// inserted. If Plan has no entry for a schedule, that row is unchanged.
	ClaimDue(ctx context.Context, p ClaimDueParams) (ClaimDueResult, error)

	// ClaimRuns claims up to p.Limit runnable runs of the given tasks: pending
	// or interrupted runs whose run_at <= p.Now, and running runs whose lease
	// expired (their process died; Interruptions is incremented). Expired runs
	// with no attempts left are failed instead. Claimed runs become running
	// with Attempt+1, the given lease and tick.
	ClaimRuns(ctx context.Context, p ClaimRunsParams) (ClaimRunsResult, error)

	// FinishRuns records attempt outcomes in one statement. An outcome applies
	// only while the run is still running under the same tick and attempt
	// (a fencing check); it returns how many applied. It must not keep
	// p.Outcomes after it returns: the tick reuses the slice.
	FinishRuns(ctx context.Context, p FinishRunsParams) (int, error)

	// InsertRun creates a run (AddTask, trigger). With an IdempotencyKey that
	// already exists it returns the existing run and created=false.
	InsertRun(ctx context.Context, p InsertRunParams) (run Run, created bool, err error)
	// GetRun returns one run or ErrNotFound.
	GetRun(ctx context.Context, id int64) (Run, error)
	// ListRuns returns runs newest first (by id), filtered.
	ListRuns(ctx context.Context, p ListRunsParams) ([]Run, error)
	// CancelRun cancels a pending or interrupted run (ErrConflict otherwise).
	CancelRun(ctx context.Context, p RunActionParams) (Run, error)
	// RetryRun makes a failed run pending again with one more attempt
	// allowed, runnable at once (ErrConflict if it is not failed).
	RetryRun(ctx context.Context, p RunActionParams) (Run, error)

	// SlotRuns returns a schedule's runs with a slot in [p.From, p.To) and
	// its first run with a slot at or after p.To (which may fold slots of
	// the window in), oldest slot first: one range read of the unique
	// (schedule, slot) index and one entry of it after the window, plus a
	// read by id of the errors of runs that did not succeed, when there
	// are some (Engine.AuditSlots).
	SlotRuns(ctx context.Context, p SlotRunsParams) ([]SlotRun, error)
	// InsertSlotRuns inserts a pending scheduled run, runnable at p.Now, for
	// each of p.Slots that has no run yet (unique (schedule, slot): a clash
	// inserts nothing), with the schedule's task and retries, in one
	// statement, and only while the schedule exists,
	// is not paused and not orphaned. It returns the runs it inserted, oldest
	// slot first (Engine.Backfill).
	InsertSlotRuns(ctx context.Context, p InsertSlotRunsParams) ([]SlotRun, error)
	// SlotRunsMany returns the runs of several schedules with a slot in
	// each one's window [From, To) (no run after a window), by schedule
	// then slot, with their Schedule set: one statement for a page of
	// schedules, each part a range read of the unique (schedule, slot)
	// index (Engine.RecentSlots).
	SlotRunsMany(ctx context.Context, p SlotRunsManyParams) ([]SlotRun, error)

	// ListSchedules returns the stored schedules, by name, with their last run.
	ListSchedules(ctx context.Context) ([]ScheduleRecord, error)
	// GetSchedule returns one schedule or ErrNotFound.
	GetSchedule(ctx context.Context, name string) (ScheduleRecord, error)
	// InsertSchedules stores runtime schedule records in tx (nil: a
	// transaction of its own), set-based. Without p.Upsert any existing
	// key wraps ErrDuplicate; with it an existing code row wraps
	// ErrConflict, an existing api row is updated (anchor, next_run and
	// completed_at kept when SpecHash is unchanged; remaining_runs kept
	// when MaxRuns is unchanged) unless identical in every field, which is
	// counted Unchanged and not written. On error nothing is written.
	InsertSchedules(ctx context.Context, tx Tx, p InsertSchedulesParams) (UpsertResult, error)
	// UpdateSchedule locks the schedule p.Key in tx (nil: its own), calls
	// p.Apply with it and writes the record Apply returns (ErrNotFound if
	// absent; Apply's error is returned and nothing is written).
	UpdateSchedule(ctx context.Context, tx Tx, p UpdateScheduleParams) (ScheduleRecord, error)
	// DeleteSchedule deletes the schedule p.Key in tx (nil: its own); its
	// runs stay. ErrNotFound if absent; ErrConflict if p.Origin is set and
	// the row's origin differs.
	DeleteSchedule(ctx context.Context, tx Tx, p DeleteScheduleParams) error
	// GetScheduleTx is GetSchedule reading in tx (nil: no transaction).
	GetScheduleTx(ctx context.Context, tx Tx, name string) (ScheduleRecord, error)
	// ListSchedulesPage returns the schedules matching f (validated, Limit
	// set) by key in byte order, after f.After, with their latest runs,
	// and the cursor of the next page.
	ListSchedulesPage(ctx context.Context, f ScheduleFilter) (SchedulePage, error)
	// SetSchedulePaused pauses or resumes a schedule, stamping updated_at
	// with p.Now (ErrNotFound if absent).
	SetSchedulePaused(ctx context.Context, p SetSchedulePausedParams) (ScheduleRecord, error)

	// ListTicks returns the most recent ticks, newest first.
	ListTicks(ctx context.Context, limit int) ([]TickRecord, error)
	// Stats returns gauges for metrics and health.
	Stats(ctx context.Context, now time.Time) (Stats, error)

	// AcquireLock takes key for TTL if it is free or expired (database
	// clock); it reports whether this owner holds it now.
	AcquireLock(ctx context.Context, p LockParams) (bool, error)
	// ReleaseLock frees key if owner holds it.
	ReleaseLock(ctx context.Context, p LockParams) error

	// CreateSession records a dashboard session that expires p.TTL after
	// p.Now, and returns that expiry. It also deletes a bounded batch of
	// expired sessions, so the table cannot grow without end. A clash of
	// IDHash wraps ErrDuplicate (never expected: ids are random).
	CreateSession(ctx context.Context, p CreateSessionParams) (expires time.Time, err error)
	// CheckSession reports whether the session p.IDHash exists, has not
	// expired at p.Now (expires_at > Now) and was issued for p.Fingerprint.
	CheckSession(ctx context.Context, p CheckSessionParams) (bool, error)
	// DeleteSession ends the session p.IDHash; an absent one is no error.
	DeleteSession(ctx context.Context, p DeleteSessionParams) error

	// Alerts' outbox (see Alerts). InsertAlert writes one alert unless its
	// key exists (then it reports false).
	InsertAlert(ctx context.Context, p InsertAlertParams) (bool, error)
	// ClaimAlerts claims up to p.Limit alerts due at p.Now (oldest due
	// first; rows locked by another claim are skipped): each gets
	// attempts+1, claimed_by p.TickID and next_attempt_at p.LeaseUntil.
	ClaimAlerts(ctx context.Context, p ClaimAlertsParams) ([]OutboxAlert, error)
	// FinishAlerts records delivery outcomes in one statement, each only
	// while the row is still claimed by p.TickID with the same attempts
	// (fencing); it returns how many applied. It also deletes a bounded
	// batch of finished alerts created before p.PruneBefore (none if zero).
	FinishAlerts(ctx context.Context, p FinishAlertsParams) (int, error)
	// ListAlerts returns outbox rows newest first.
	ListAlerts(ctx context.Context, p ListAlertsParams) ([]OutboxAlert, error)
}

// CreateSessionParams are the inputs of Store.CreateSession.
type CreateSessionParams struct {
	// IDHash is the hex SHA-256 of the session's random id: the store never
	// sees the id itself, so a leaked table grants nothing.
	IDHash string
	// Fingerprint names the credential the session was opened with; a
	// check with another fingerprint fails.
	Fingerprint string
	// TTL is the session's lifetime, > 0.
	TTL time.Duration
	// Now: zero for the database clock.
	Now time.Time
}

// CheckSessionParams are the inputs of Store.CheckSession.
type CheckSessionParams struct {
	IDHash      string
	Fingerprint string
	// Now: zero for the database clock.
	Now time.Time
}

// DeleteSessionParams are the inputs of Store.DeleteSession.
type DeleteSessionParams struct {
	IDHash string
}

// BeginTickParams are the inputs of Store.BeginTick.
type BeginTickParams struct {
	TickID string
	// Now overrides the database clock (tests, simulations).
	Now time.Time
	// Trigger says what invoked the tick ("lambda", "http", "cli", "timer").
	Trigger string
	// Tasks limits DueSchedules and OldestDue to schedules of these tasks
	// (the process's registered tasks), so due schedules only another
	// process can run do not make every tick of this one claim in vain.
	// nil counts every task's schedules (tools, tests).
	Tasks []string
	// Alerts: also read TickStart.DueAlerts and LastTickFinished (alerts on).
	Alerts bool
}

// TickStart is what BeginTick read.
type TickStart struct {
	// Now is the tick's single clock reading.
	Now time.Time
	// DueSchedules counts schedules with next_run <= Now (not
	// paused/orphaned) of BeginTickParams.Tasks.
	DueSchedules int
	// RunnableRuns counts pending/interrupted runs with run_at <= Now and
	// running runs whose lease expired.
	RunnableRuns int
	// OldestDue is the earliest next_run among due schedules (nil if none).
	OldestDue *time.Time
	// DueAllOwnTasks reports that no due schedule belongs to a task
	// outside BeginTickParams.Tasks: the tick's claims may then leave the
	// task filter out (with many tasks, sending and parsing their names was
	// a sizeable part of every claim). A store that does not tell leaves it
	// false, and the claims keep the filter.
	DueAllOwnTasks bool
	// With BeginTickParams.Alerts: DueAlerts counts outbox rows due at Now;
	// LastTickFinished is when the latest tick that finished without error
	// finished (nil if none; a store may look at the latest few ticks only).
	DueAlerts        int
	LastTickFinished *time.Time
}

// EndTickParams are the inputs of Store.EndTick.
type EndTickParams struct {
	Report Report
	// FinishedAt is the tick's clock reading plus its elapsed time.
	FinishedAt time.Time
	// Error is the tick's infrastructure error, if any.
	Error string
	// TicksBefore: tick reports that started before it are pruned, a
	// bounded batch per call (zero: none).
	TicksBefore time.Time
}

// PruneRunsParams are the inputs of Store.PruneRuns.
type PruneRunsParams struct {
	// Now is the tick's clock reading (zero: the database clock); the
	// cut-offs below are computed from it by the caller.
	Now time.Time
	// FinishedBefore: success, cancelled and skipped runs finished before it
	// are pruned (zero: none).
	FinishedBefore time.Time
	// FailedBefore: failed runs finished before it are pruned (zero: none).
	FailedBefore time.Time
	// Limit is the most runs deleted, > 0.
	Limit int
}

// ScheduleRecord is a schedule as stored, with its latest run.
type ScheduleRecord struct {
	Name         string  `json:"name" db:"name"`
	Task         string  `json:"task" db:"task"`
	DisplayName  string  `json:"display_name" db:"display_name"`
	Kind         string  `json:"kind" db:"kind"`
	EverySeconds float64 `json:"every_seconds,omitempty" db:"every_seconds"`
	Cron         string  `json:"cron,omitempty" db:"cron"`
	Timezone     string  `json:"timezone,omitempty" db:"timezone"`
	// OnceAt is the instant of a once schedule (nil for other kinds).
	OnceAt       *time.Time    `json:"once_at,omitempty" db:"once_at"`
	SpecHash     string        `json:"spec_hash" db:"spec_hash"`
	RunOnStartup bool          `json:"run_on_startup" db:"run_on_startup"`
	Misfire      MisfirePolicy `json:"misfire" db:"misfire"`
	Overlap      OverlapPolicy `json:"overlap" db:"overlap"`
	MaxCatchup   int           `json:"max_catchup" db:"max_catchup"`
	Retries      int           `json:"retries" db:"retries"`
	DelaySeconds float64       `json:"delay_seconds" db:"delay_seconds"`
	Backoff      float64       `json:"backoff" db:"backoff"`
	// TimeoutSeconds is 0 when only the tick deadline bounds an attempt.
	TimeoutSeconds float64    `json:"timeout_seconds" db:"timeout_seconds"`
	JitterSeconds  float64    `json:"jitter_seconds" db:"jitter_seconds"`
	Anchor         time.Time  `json:"anchor" db:"anchor"`
	NextRun        time.Time  `json:"next_run" db:"next_run"`
	Paused         bool       `json:"paused" db:"paused"`
	Orphaned       bool       `json:"orphaned" db:"orphaned"`
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at" db:"updated_at"`
	LastRunID      *int64     `json:"last_run_id,omitempty" db:"last_run_id"`
	LastRunStatus  *Status    `json:"last_run_status,omitempty" db:"last_run_status"`
	LastRunSlot    *time.Time `json:"last_run_slot,omitempty" db:"last_run_slot"`
	// Origin is who owns the schedule: OriginCode (declared in code,
	// written by sync) or OriginAPI (created through the Engine's schedule
	// methods; sync never touches it).
	Origin string `json:"origin" db:"origin"`
	// Payload is the JSON handed to each run (nil: none).
	Payload json.RawMessage `json:"payload,omitempty" db:"payload"`
	// Labels are string key/values for filtering (never nil when read
	// from a store).
	Labels map[string]string `json:"labels" db:"labels"`
	// StartAt: no slot before it (nil: unbounded).
	StartAt *time.Time `json:"start_at,omitempty" db:"start_at"`
	// EndAt: no slot after it (nil: unbounded).
	EndAt *time.Time `json:"end_at,omitempty" db:"end_at"`
	// MaxRuns bounds the runs the schedule creates in all (nil: unlimited);
	// RemainingRuns is what is left of it.
	MaxRuns       *int `json:"max_runs,omitempty" db:"max_runs"`
	RemainingRuns *int `json:"remaining_runs,omitempty" db:"remaining_runs"`
	// CompletedAt is when the schedule finished for good (a once fired,
	// max_runs used up, past end_at); nil while it is active.
	CompletedAt *time.Time `json:"completed_at,omitempty" db:"completed_at"`
	// Description is the spec in words; filled by core, not stored.
	Description string `json:"description,omitempty" db:"-"`
}

// Schedule origins (ScheduleRecord.Origin).
const (
	// OriginCode: declared in code (Registry.Schedule), written by sync,
	// orphaned when gone from the code.
	OriginCode = "code"
	// OriginAPI: created at runtime through the Engine; sync never
	// touches it.
	OriginAPI = "api"
)

// SyncSchedulesParams are the inputs of Store.SyncSchedules. Each record's
// Anchor and NextRun are used only for new rows and changed specs.
type SyncSchedulesParams struct {
	Now       time.Time
	Schedules []ScheduleRecord
	// Tasks are the caller's registered task names: only unlisted rows of
	// these tasks are orphaned (a schedule removed from this process's code
	// while its task stays). A process never orphans the schedules of tasks
	// it does not register: another service sharing the store owns them.
	// nil orphans every unlisted row (tools, tests).
	Tasks []string
}

// SyncResult counts what SyncSchedules did.
type SyncResult struct {
	Inserted  int `json:"inserted"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Orphaned  int `json:"orphaned"`
	// Conflicts counts code schedules not written because a runtime (api)
	// schedule holds their key: sync never overwrites one.
	Conflicts int `json:"conflicts"`
}

// DueSchedule is a claimed schedule row handed to ClaimDueParams.Plan.
//
// A code schedule (Origin OriginCode) is planned from the Registry, so only
// Name, SpecHash, NextRun and Active are read for it. A runtime schedule
// (Origin OriginAPI) is planned from its row: the store fills every field
// below for it (and need not for code rows, which keeps the claim of
// thousands of code schedules as cheap as before).
type DueSchedule struct {
	Name     string
	SpecHash string
	NextRun  time.Time
	// Active: the schedule has a run holding a live lease, or a scheduled run
	// waiting for a retry (what the overlap policy looks at).
	Active bool
	// Origin is OriginCode or OriginAPI ("" reads as OriginCode).
	Origin string

	// The row's spec and policies, for a runtime schedule.
	Task         string
	DisplayName  string
	Kind         string
	EverySeconds float64
	Cron         string
	Timezone     string
	OnceAt       *time.Time
	Anchor       time.Time
	// StartAt and EndAt bound the slots (nil: unbounded); RemainingRuns is
	// what is left of max_runs (nil: unlimited).
	StartAt       *time.Time
	EndAt         *time.Time
	RemainingRuns *int
	// Payload is copied into every run of the schedule.
	Payload    json.RawMessage
	Misfire    MisfirePolicy
	Overlap    OverlapPolicy
	MaxCatchup int
	Jitter     time.Duration
	// Retries, Delay, Backoff and Timeout override the task's (each run
	// planned from the row carries them).
	Retries int
	Delay   time.Duration
	Backoff float64
	Timeout time.Duration
}

// api reports whether d is a runtime schedule, planned from its row.
func (d *DueSchedule) api() bool { return d.Origin == OriginAPI }

// PlannedRun is a run row ClaimDue inserts.
type PlannedRun struct {
	Schedule     string
	Task         string
	DisplayName  string
	Slot         time.Time
	SlotsCovered int
	// Status is running (start now, attempt 1, leased), pending (jittered:
	// started by a tick at RunAt) or skipped (with Error saying why).
	Status      Status
	RunAt       time.Time
	MaxAttempts int
	Error       string
	// Payload is the schedule's payload (nil: none).
	Payload json.RawMessage
	// Overrides are the schedule's policies that replace the task's for
	// this run (the zero value: the task's own).
	Overrides RunOverrides
}

// SchedulePlan is what a tick decided for one due schedule.
type SchedulePlan struct {
	Schedule string
	// NextRun is the schedule's next slot; zero means never again: the
	// schedule is done (a once fired, max_runs used up, past end_at) and
	// ClaimDue stamps a runtime schedule's completed_at.
	NextRun time.Time
	Runs    []PlannedRun
	// RemainingRuns is the schedule's new remaining_runs (nil: unchanged,
	// as for every schedule without max_runs).
	RemainingRuns *int
}

// ClaimDueParams are the inputs of Store.ClaimDue.
type ClaimDueParams struct {
	Now        time.Time
	TickID     string
	Limit      int
	LeaseUntil time.Time
	// Plan decides, inside the claim transaction, the runs and the new
	// next_run of each due schedule. It must be pure (no I/O), and must not
	// keep due past its return: a store may reuse it for its next batch.
	Plan func(due []DueSchedule) []SchedulePlan
	// Tasks limits the claim to schedules of these tasks (the process's
	// registered tasks), filtered in SQL before the limit. nil claims every
	// task's schedules (tools, tests).
	Tasks []string
	// Alerts: the transaction also writes one slots_missed alert for the
	// inserted skipped runs and runs covering more than one slot.
	Alerts bool
	// After, when set, is the Last of the tick's previous claim: the claim
	// locks due schedules after it in (next_run, name) order, not passing
	// the rows that claim locked again. A store may ignore it.
	After *DueKey
}

// DueKey is a due schedule's place in the claim's order.
type DueKey struct {
	NextRun time.Time
	Name    string
}

// ClaimDueResult is what ClaimDue did.
type ClaimDueResult struct {
	// Claimed is the number of schedule rows locked.
	Claimed int
	// Last is the last schedule locked (nil: none, or a store without an
	// order to resume in).
	Last *DueKey
	// Runs are the inserted runs (running, pending or skipped).
	Runs []Run
	// Conflicts counts planned runs not inserted because their
	// (schedule, slot) already existed.
	Conflicts int
}

// ClaimRunsParams are the inputs of Store.ClaimRuns.
type ClaimRunsParams struct {
	Now        time.Time
	TickID     string
	Limit      int
	LeaseUntil time.Time
	// Tasks limits the claim to tasks this process can run.
	Tasks []string
	// Alerts: the transaction also writes a run_failed alert per expired
	// run failed for lack of attempts.
	Alerts bool
}

// ClaimRunsResult is what ClaimRuns did.
type ClaimRunsResult struct {
	// Runs are now running under this tick.
	Runs []Run
	// Interrupted counts claimed runs whose previous attempt's lease expired.
	Interrupted int
	// Failed counts expired runs with no attempts left, now failed.
	Failed int
}

// Outcome is the result of a run's attempts in one tick.
type Outcome struct {
	RunID int64
	// ClaimedAttempt is the attempt number the run was claimed with (fencing).
	ClaimedAttempt int
	// Attempt is the last attempt made (> ClaimedAttempt after inline retries;
	// ClaimedAttempt-1 when Status is pending because the run was released
	// unstarted).
	Attempt int
	// Status is success, failed, or pending (a retry at RunAt, or released).
	Status     Status
	Error      string
	Stack      string
	StartedAt  time.Time
	FinishedAt time.Time
	RunAt      time.Time
}

// FinishRunsParams are the inputs of Store.FinishRuns.
type FinishRunsParams struct {
	TickID   string
	Outcomes []Outcome
	// Alerts: the transaction also writes a run_failed alert per applied
	// failed outcome.
	Alerts bool
}

// InsertRunParams are the inputs of Store.InsertRun.
type InsertRunParams struct {
	// Now: zero for the database clock.
	Now            time.Time
	Task           string
	DisplayName    string
	Schedule       string
	Source         Source
	Payload        json.RawMessage
	IdempotencyKey string
	MaxAttempts    int
	// RunAt: zero for Now.
	RunAt time.Time
	// Overrides are a runtime schedule's policies for the run (zero: the
	// task's own).
	Overrides RunOverrides
}

// ListRunsParams filters ListRuns. Zero values do not filter.
type ListRunsParams struct {
	Status   Status
	Source   Source
	Task     string
	Schedule string
	// BeforeID is the cursor: only runs with id < BeforeID (0: from newest).
	BeforeID int64
	// Limit defaults to 50, at most 500.
	Limit int
}

// RunActionParams names a run for CancelRun and RetryRun.
type RunActionParams struct {
	ID int64
	// Now: zero for the database clock.
	Now time.Time
}

// SetSchedulePausedParams are the inputs of Store.SetSchedulePaused.
type SetSchedulePausedParams struct {
	Name   string
	Paused bool
	// Now stamps updated_at; zero for the database clock.
	Now time.Time
}

// TickRecord is a tick as stored.
type TickRecord struct {
	ID           string     `json:"id" db:"id"`
	Trigger      string     `json:"trigger" db:"trigger"`
	StartedAt    time.Time  `json:"started_at" db:"started_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty" db:"finished_at"`
	DueSchedules int        `json:"due_schedules" db:"due_schedules"`
	Claimed      int        `json:"claimed" db:"claimed"`
	Succeeded    int        `json:"succeeded" db:"succeeded"`
	Failed       int        `json:"failed" db:"failed"`
	Retried      int        `json:"retried" db:"retried"`
	Skipped      int        `json:"skipped" db:"skipped"`
	LagSeconds   float64    `json:"lag_seconds" db:"lag_seconds"`
	DurationMS   float64    `json:"duration_ms" db:"duration_ms"`
	Error        string     `json:"error,omitempty" db:"error"`
}

// Stats are gauges for metrics and health checks.
type Stats struct {
	Now time.Time `json:"now"`
	// RunsByStatus counts runs per status.
	RunsByStatus map[Status]int `json:"runs_by_status"`
	// DueUnclaimed counts schedules due now and not yet claimed.
	DueUnclaimed int `json:"due_unclaimed"`
	// OldestDueLag is now minus the oldest due next_run (0 if none).
	OldestDueLag time.Duration `json:"oldest_due_lag"`
	// LastTickAt is the start of the most recent tick (nil if none).
	LastTickAt *time.Time `json:"last_tick_at,omitempty"`
}

// LockParams name a lock for AcquireLock and ReleaseLock.
type LockParams struct {
	Key   string
	Owner string
	TTL   time.Duration
	// Now: zero for the database clock.
	Now time.Time
}

// SlotRunsParams are the inputs of Store.SlotRuns.
type SlotRunsParams struct {
	Schedule string
	From, To time.Time
	// Expected is how many runs the caller expects (the window's slots): a
	// capacity hint, not a limit. SlotRunsMany ignores it.
	Expected int
}

// SlotRunsManyParams are the inputs of Store.SlotRunsMany: one window per
// schedule.
type SlotRunsManyParams struct {
	Windows []SlotRunsParams
}

// SlotRun is what an audit reads of a scheduled run.
type SlotRun struct {
	ID           int64
	Slot         time.Time
	SlotsCovered int
	Status       Status
	Error        string
	// StartedAt and FinishedAt are the latest attempt's (zero: not yet).
	StartedAt, FinishedAt time.Time
	// Schedule is set by SlotRunsMany only.
	Schedule string
}

// InsertSlotRunsParams are the inputs of Store.InsertSlotRuns.
type InsertSlotRunsParams struct {
	// Now: zero for the database clock.
	Now      time.Time
	Schedule string
	// Slots are whole seconds; the runs take the schedule's task, display
	// name and retries.
	Slots []time.Time
}
