package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures an Engine. Zero values take the documented defaults.
type Config struct {
	// Store persists everything. Required.
	Store Store
	// Registry holds the task functions and schedules. Required.
	Registry *Registry
	// Clock overrides the database clock (tests and simulations). nil (the
	// default) means each tick reads the database clock once.
	Clock Clock
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
	// BatchSize is how many schedules or runs one claim transaction takes
	// (default 5000, at most MaxBatchSize). Larger batches mean fewer round
	// trips; each batch holds its row locks until it commits (milliseconds),
	// and concurrent ticks skip locked rows rather than wait.
	BatchSize int
	// Workers bounds how many runs execute at once in one tick (default 32,
	// at most MaxWorkers).
	Workers int
	// FlushSize is how many outcomes are recorded per statement (default
	// 2000, at most MaxFlushSize); a partial batch is recorded after a
	// second without outcomes.
	FlushSize int
	// ClaimHold is how long a claim of due schedules may stay open while
	// its runs execute, on a store that can hold one (ClaimHolder:
	// PostgreSQL). A run that finishes within it is written once, finished,
	// instead of inserted running and updated at its end, which about
	// halves a tick's database work; the rest are stored running when it
	// ends. Meanwhile the claimed schedules stay locked and their runs are
	// not yet listed. Default 1 s; negative: never hold (every run is
	// stored running first). At most MaxClaimHold.
	ClaimHold time.Duration
	// MaxTickDuration is the tick's deadline when its context has none
	// (default 5 minutes, at most MaxMaxTickDuration).
	MaxTickDuration time.Duration
	// DeadlineMargin: no claim and no run starts when less than this is left
	// before the tick's deadline, and attempts are cut this long before it, so
	// that outcomes are recorded before a Lambda invocation ends (default 2 s).
	DeadlineMargin time.Duration
	// LeaseGrace is added to the tick's remaining time to form a run's lease:
	// a running run whose lease passed is presumed dead (default 30 s).
	LeaseGrace time.Duration
	// MisfireGrace: a due slot older than this counts as missed, for the
	// misfire policy (default 2 minutes: twice the usual trigger period).
	MisfireGrace time.Duration
	// MaxInlineRetryWait: a retry whose wait is at most this (and fits before
	// the deadline) is attempted within the same tick; longer waits are stored
	// as pending runs for a later tick (default 1 s).
	MaxInlineRetryWait time.Duration
	// AbandonGrace is how long an attempt whose context ended may keep
	// running before it is recorded as timed out and abandoned (default 1 s).
	AbandonGrace time.Duration
	// Trigger labels ticks in the store ("lambda", "http", "cli"; default "tick").
	Trigger string
	// Observers see every tick and run outcome (metrics, logs); more can be
	// added with Engine.AddObserver.
	Observers []Observer
	// Retention says how long finished runs and tick reports are kept; the
	// ticks themselves delete older ones in bounded batches (see Retention).
	Retention Retention
	// Alerts configures failure alerts (off unless Alerts.Notifier is set).
	Alerts Alerts
}

// Retention is how long finished runs and tick reports are kept. Ticks prune
// them: no separate job. A zero field takes its default; a negative one is an
// error; RetainForever keeps that kind of record forever (no pruning).
//
// Runs are deleted at most Budget per tick, oldest first, only by ticks that
// did work (claimed, skipped or recorded runs) and by one empty tick in
// PruneEmptyOneIn, so that an empty tick stays at its two statements. Only
// runs in a final state are deleted (never a pending, running or interrupted
// one), and never a schedule's latest run. A pruned slot is never claimed
// again: a schedule's next run is always past its recorded slots.
type Retention struct {
	// Runs: successful, cancelled and skipped runs finished longer ago than
	// this are deleted (default DefaultRetainRuns, 30 days).
	Runs time.Duration
	// FailedRuns: failed runs finished longer ago than this are deleted
	// (default DefaultRetainFailedRuns, 90 days).
	FailedRuns time.Duration
	// Ticks: tick reports started longer ago than this are deleted (default
	// DefaultRetainTicks, 7 days), by EndTick.
	Ticks time.Duration
	// Budget is the most runs one tick deletes (default DefaultPruneBudget,
	// at most MaxPruneBudget) while old runs are few. Pruning keeps up with
	// any load, so the table stays bounded by the retention window: a tick
	// that wrote more runs may delete PruneWritesFactor times as many, and
	// after a prune that deleted its whole limit (a backlog: more old runs
	// than the limit, e.g. runs written by other processes) the engine's
	// next prune may delete twice that limit, and so on up to
	// MaxPruneBudget, falling back to Budget once a prune finds fewer.
	Budget int
}

// PruneWritesFactor: a tick may prune this many times the runs it wrote
// (claimed and skipped), when that is more than Retention.Budget. Above 1,
// so a backlog of old runs (retention turned on, or lowered) shrinks while
// the schedules keep writing.
const PruneWritesFactor = 2

// RetainForever, as a Retention duration, disables that pruning.
const RetainForever time.Duration = math.MaxInt64

// MaxPruneBudget bounds Retention.Budget: one tick's delete stays short.
const MaxPruneBudget = 100000

// PruneEmptyOneIn: an empty tick (one that did no work) prunes runs only one
// time in this many, counted per engine, so that nearly every empty tick is
// its two statements; ticks that did work always prune.
const PruneEmptyOneIn = 64

// validate checks r and applies its defaults.
func (r *Retention) validate() error {
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"retention.runs", &r.Runs, DefaultRetainRuns},
		{"retention.failed_runs", &r.FailedRuns, DefaultRetainFailedRuns},
		{"retention.ticks", &r.Ticks, DefaultRetainTicks},
	} {
		switch {
		case *f.v < 0:
			return invalid(f.name, f.v.String(), "must not be negative")
		case *f.v == 0:
			*f.v = f.def
		}
	}
	switch {
	case r.Budget < 0:
		return invalid("retention.budget", fmt.Sprint(r.Budget), "must not be negative")
	case r.Budget > MaxPruneBudget:
		return invalid("retention.budget", fmt.Sprint(r.Budget), "must be at most %d", MaxPruneBudget)
	case r.Budget == 0:
		r.Budget = DefaultPruneBudget
	}
	return nil
}

// before is the instant before which records kept for d are pruned at now:
// zero (prune nothing) for RetainForever.
func before(now time.Time, d time.Duration) time.Time {
	if d == RetainForever {
		return time.Time{}
	}
	return now.Add(-d)
}

// Upper bounds of Config, checked by NewEngine: beyond them a setting is a
// mistake (two million goroutines, a claim statement of a million rows, a
// lease held for days), not a tuning.
const (
	MaxWorkers         = 1000
	MaxBatchSize       = 50000
	MaxFlushSize       = 50000
	MaxMaxTickDuration = 24 * time.Hour
	MaxClaimHold       = time.Minute
)

func (c *Config) validate() error {
	switch {
	case c.Store == nil:
		return invalid("store", "", "is required")
	case c.Registry == nil:
		return invalid("registry", "", "is required")
	case c.BatchSize < 0, c.Workers < 0, c.FlushSize < 0:
		return invalid("batch_size/workers/flush_size", "", "must not be negative")
	case c.Workers > MaxWorkers:
		return invalid("workers", fmt.Sprint(c.Workers), "must be at most %d", MaxWorkers)
	case c.BatchSize > MaxBatchSize:
		return invalid("batch_size", fmt.Sprint(c.BatchSize), "must be at most %d", MaxBatchSize)
	case c.FlushSize > MaxFlushSize:
		return invalid("flush_size", fmt.Sprint(c.FlushSize), "must be at most %d", MaxFlushSize)
	case c.ClaimHold > MaxClaimHold:
		return invalid("claim_hold", c.ClaimHold.String(), "must be at most %s", MaxClaimHold)
	case c.MaxTickDuration > MaxMaxTickDuration:
		return invalid("max_tick_duration", c.MaxTickDuration.String(), "must be at most %s", MaxMaxTickDuration)
	}
	if err := c.Retention.validate(); err != nil {
		return err
	}
	if err := c.Alerts.validate(); err != nil {
		return err
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.BatchSize, DefaultBatchSize)
	def(&c.Workers, DefaultWorkers)
	def(&c.FlushSize, DefaultFlushSize)
	defd(&c.MaxTickDuration, DefaultMaxTickDuration)
	defd(&c.DeadlineMargin, 2*time.Second)
	defd(&c.LeaseGrace, 30*time.Second)
	if c.ClaimHold == 0 { // negative stays: never hold
		c.ClaimHold = DefaultClaimHold
	}
	defd(&c.MisfireGrace, 2*time.Minute)
	defd(&c.MaxInlineRetryWait, time.Second)
	defd(&c.AbandonGrace, time.Second)
	if c.Trigger == "" {
		c.Trigger = "tick"
	}
	return nil
}

// Report is what one tick did. Its JSON form is the tick endpoint's answer.
type Report struct {
	TickID string    `json:"tick_id"`
	Now    time.Time `json:"now"`
	// Synced is true when this tick synced the code's schedules to the store.
	Synced bool `json:"synced"`
	// DueSchedules is the count BeginTick saw.
	DueSchedules int `json:"due_schedules"`
	// Lag is now minus the oldest due slot at the tick's start.
	LagSeconds float64 `json:"lag_seconds"`
	// Claimed counts runs this tick started (scheduled slots and runnable runs).
	Claimed     int `json:"claimed"`
	Succeeded   int `json:"succeeded"`
	Failed      int `json:"failed"`
	Retried     int `json:"retried"`
	Skipped     int `json:"skipped"`
	Interrupted int `json:"interrupted"`
	// Released counts claimed runs not started for lack of time (pending again).
	Released int `json:"released"`
	// Deferred counts jittered runs stored as pending for a later start.
	Deferred int `json:"deferred"`
	// Conflicts counts planned slots another tick had already recorded.
	Conflicts int `json:"conflicts"`
	// PrunedRuns counts old finished runs this tick deleted (see Retention).
	PrunedRuns int     `json:"pruned_runs"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`

	// AlertsDelivered and AlertsFailed count outbox deliveries this tick
	// made and that failed (retried later or given up); see Alerts.
	AlertsDelivered int `json:"alerts_delivered,omitempty"`
	AlertsFailed    int `json:"alerts_failed,omitempty"`
}

// Engine runs ticks and manual operations over a Store and a Registry.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	instance string

	syncMu sync.Mutex
	synced bool

	// ticks counts this engine's ticks, for PruneEmptyOneIn.
	ticks atomic.Uint64
	// pruneCatchup is the next tick's prune limit after a prune that
	// deleted its whole limit (a backlog of old runs), else 0: see
	// Retention.Budget.
	pruneCatchup atomic.Int64

	// specs caches the parsed cron specs of runtime schedules.
	specs specCache

	obsMu     sync.Mutex
	observers []Observer

	// started is when the engine was created, on its Clock (zero without
	// one); startedMono on the process's clock. Health uses them.
	startMu     sync.Mutex
	started     time.Time
	startedMono time.Time
}

// NewEngine validates cfg, applies defaults and returns an Engine.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, instance: newID("proc"), startedMono: time.Now()}
	e.observers = append(e.observers, cfg.Observers...)
	if cfg.Clock != nil {
		e.started, _ = e.now(context.Background()) // on failure, Health counts from its first reading
	}
	return e, nil
}

// Registry returns the engine's registry.
func (e *Engine) Registry() *Registry { return e.cfg.Registry }

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// Now returns the engine's notion of now: the Clock's time when one is set,
// else the database clock.
func (e *Engine) Now(ctx context.Context) (time.Time, error) {
	t, err := e.now(ctx)
	if err != nil || !t.IsZero() {
		return t, err
	}
	if t, err = e.cfg.Store.Now(ctx); err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return t.UTC(), nil
}

// now returns the override clock's time, or zero for "the database clock".
func (e *Engine) now(ctx context.Context) (time.Time, error) {
	if e.cfg.Clock == nil {
		return time.Time{}, nil
	}
	t, err := e.cfg.Clock.Now(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read clock: %w", err)
	}
	if err := CheckTime("clock", t); err != nil {
		return time.Time{}, fmt.Errorf("read clock: %w", err)
	}
	return t.UTC(), nil
}

// Sync writes the registry's schedules to the store (see
// Store.SyncSchedules). Ticks call it once per process; call it yourself to
// sync early (cmd migrate does).
func (e *Engine) Sync(ctx context.Context) (SyncResult, error) {
	now, err := e.now(ctx)
	if err != nil {
		return SyncResult{}, err
	}
	if now.IsZero() {
		if now, err = e.cfg.Store.Now(ctx); err != nil {
			return SyncResult{}, fmt.Errorf("sync: read clock: %w", err)
		}
	}
	return e.sync(ctx, now)
}

func (e *Engine) sync(ctx context.Context, now time.Time) (SyncResult, error) {
	scheds := e.cfg.Registry.Schedules()
	recs := make([]ScheduleRecord, len(scheds))
	for i, s := range scheds {
		recs[i] = scheduleRecord(s, now)
	}
	res, err := e.cfg.Store.SyncSchedules(ctx, SyncSchedulesParams{Now: now, Schedules: recs, Tasks: e.cfg.Registry.taskNames()})
	if err != nil {
		return res, fmt.Errorf("sync schedules: %w", err)
	}
	e.syncMu.Lock()
	e.synced = true
	e.syncMu.Unlock()
	e.log.Info("schedules synced", "inserted", res.Inserted, "changed", res.Changed, "unchanged", res.Unchanged, "orphaned", res.Orphaned, "conflicts", res.Conflicts)
	if res.Conflicts > 0 {
		e.log.Warn("code schedules not synced: a runtime schedule holds their key; rename the code schedule or delete the runtime one", "conflicts", res.Conflicts)
	}
	return res, nil
}

func scheduleRecord(s *Schedule, now time.Time) ScheduleRecord {
	t := s.Task
	return ScheduleRecord{
		Name: s.Name, Task: t.Name, DisplayName: t.DisplayName, Kind: s.Kind(),
		EverySeconds: s.Every.Seconds(), Cron: s.Cron, Timezone: s.Timezone, SpecHash: s.SpecHash(),
		RunOnStartup: s.RunOnStartup, Misfire: s.Misfire, Overlap: s.Overlap, MaxCatchup: s.MaxCatchup,
		Retries: t.Retry.Retries, DelaySeconds: t.Retry.Delay.Seconds(), Backoff: t.Retry.Backoff,
		TimeoutSeconds: t.Timeout.Seconds(), JitterSeconds: s.Jitter.Seconds(),
		Anchor: s.Anchor(now), NextRun: s.FirstSlot(now), OnceAt: onceAt(s), Origin: OriginCode,
	}
}

// onceAt is a schedule's once instant for its record (nil for other kinds).
func onceAt(s *Schedule) *time.Time {
	if s.Once.IsZero() {
		return nil
	}
	t := s.Once
	return &t
}

// plan is ClaimDueParams.Plan: it plans code schedules from the Registry
// (when the stored spec is this process's) and runtime schedules from their
// rows.
func (e *Engine) plan(log *slog.Logger, due []DueSchedule, now time.Time) []SchedulePlan {
	var b batchPlan
	e.planBatch(log, due, now, &b)
	return b.plans
}

// batchPlan is what one claim's Plan decided: the plans and, beside each,
// the registered task its runs execute, which the claimer binds to the
// claimed runs (bindTasks) so that the executor does not look each one up
// again in the Registry (a map lookup under its read lock, contended by
// every worker: 6 % of a 10,000-schedule tick's Go CPU).
type batchPlan struct {
	plans []SchedulePlan
	tasks []*Task
}

// planBatch is plan, into b.
func (e *Engine) planBatch(log *slog.Logger, due []DueSchedule, now time.Time, b *batchPlan) {
	out := make([]SchedulePlan, 0, len(due))
	tasks := make([]*Task, 0, len(due))
	arena := &runArena{runs: make([]PlannedRun, 0, len(due))}
	var rows *rowSchedules // one Schedule for every runtime row of the batch
	for i := range due {
		d := &due[i]
		if d.api() {
			if rows == nil {
				rows = new(rowSchedules)
			}
			s, err := e.rowSchedule(d, rows)
			if err != nil {
				log.Warn("due runtime schedule cannot be planned; left unclaimed", "schedule", d.Name, "error", err)
				continue
			}
			out = append(out, plan(s, d, now, e.cfg.MisfireGrace, arena))
			tasks = append(tasks, rows.registered)
			continue
		}
		s, ok := e.cfg.Registry.ScheduleByName(d.Name)
		if !ok {
			log.Warn("due schedule is not registered in this process; left for a process that has it", "schedule", d.Name)
			continue
		}
		if d.SpecHash != s.SpecHash() {
			log.Warn("due schedule's stored spec differs from this process's; left for a process with the stored version", "schedule", d.Name)
			continue
		}
		out = append(out, plan(s, d, now, e.cfg.MisfireGrace, arena))
		tasks = append(tasks, s.Task)
	}
	b.plans, b.tasks = out, tasks
}

// bindTasks gives each running run of runs, the result of a claim planned
// as b, the task its plan recorded. Stores return a claim's runs in the
// order of its plans (some left out: a slot already recorded); a run whose
// plan is not found in that order, or whose task is not the plan's,
// keeps none and the executor looks it up.
func bindTasks(runs []Run, b *batchPlan) {
	j := 0
	for i := range runs {
		r := &runs[i]
		if r.Status != StatusRunning {
			continue
		}
		for j < len(b.plans) && b.plans[j].Schedule != r.Schedule {
			j++
		}
		if j == len(b.plans) {
			return
		}
		if t := b.tasks[j]; t != nil && t.Name == r.Task {
			r.task = t
		}
	}
}
