package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
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
}

// Upper bounds of Config, checked by NewEngine: beyond them a setting is a
// mistake (two million goroutines, a claim statement of a million rows, a
// lease held for days), not a tuning.
const (
	MaxWorkers         = 1000
	MaxBatchSize       = 50000
	MaxFlushSize       = 50000
	MaxMaxTickDuration = 24 * time.Hour
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
	case c.MaxTickDuration > MaxMaxTickDuration:
		return invalid("max_tick_duration", c.MaxTickDuration.String(), "must be at most %s", MaxMaxTickDuration)
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
	Conflicts  int     `json:"conflicts"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// Engine runs ticks and manual operations over a Store and a Registry.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	instance string

	syncMu sync.Mutex
	synced bool

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
	res, err := e.cfg.Store.SyncSchedules(ctx, SyncSchedulesParams{Now: now, Schedules: recs})
	if err != nil {
		return res, fmt.Errorf("sync schedules: %w", err)
	}
	e.syncMu.Lock()
	e.synced = true
	e.syncMu.Unlock()
	e.log.Info("schedules synced", "inserted", res.Inserted, "changed", res.Changed, "unchanged", res.Unchanged, "orphaned", res.Orphaned)
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
		Anchor: now.UTC().Truncate(time.Second), NextRun: s.FirstSlot(now),
	}
}

// Tick runs one tick: read the clock once, sync schedules if this process has
// not, claim due slots and runnable runs, run them on a bounded pool, record
// the outcomes and return the report. A task failure is a recorded run, not an
// error; the error is an infrastructure failure (the store), after which the
// next tick recovers.
func (e *Engine) Tick(ctx context.Context) (Report, error) {
	return e.tick(ctx, e.cfg.Trigger)
}

// TickAs is Tick with the tick labelled by trigger ("lambda", "http", ...).
func (e *Engine) TickAs(ctx context.Context, trigger string) (Report, error) {
	return e.tick(ctx, trigger)
}

func (e *Engine) tick(ctx context.Context, trigger string) (rep Report, err error) {
	start := time.Now()
	rep.TickID = newID("tick")
	// Every tick is observed, one that failed to start included.
	defer func() { e.observeTick(ctx, rep, err, time.Since(start)) }()
	log := e.log.With("tick_id", rep.TickID)
	override, err := e.now(ctx)
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	ts, err := e.cfg.Store.BeginTick(ctx, BeginTickParams{TickID: rep.TickID, Now: override, Trigger: trigger})
	if err != nil {
		err = fmt.Errorf("begin tick: %w", err)
		rep.Error = err.Error()
		rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000
		log.Error("tick failed to start", "error", err)
		return rep, err
	}
	now := ts.Now.UTC()
	rep.Now, rep.DueSchedules = now, ts.DueSchedules
	if ts.OldestDue != nil {
		rep.LagSeconds = now.Sub(*ts.OldestDue).Seconds()
	}
	at := func() time.Time { return now.Add(time.Since(start)) }

	deadline := start.Add(e.cfg.MaxTickDuration)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	enough := func() bool { return time.Until(deadline) > e.cfg.DeadlineMargin }
	leaseUntil := now.Add(time.Until(deadline) + e.cfg.LeaseGrace)

	var (
		errMu   sync.Mutex
		tickErr error
	)
	fail := func(op string, err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if tickErr == nil {
			tickErr = fmt.Errorf("%s: %w", op, err)
		}
	}
	failed := func() bool {
		errMu.Lock()
		defer errMu.Unlock()
		return tickErr != nil
	}

	e.syncMu.Lock()
	needSync := !e.synced
	e.syncMu.Unlock()
	resynced := false // the sync stored new or changed schedules: due counts are stale
	if needSync {
		if res, err := e.sync(ctx, now); err != nil {
			fail("tick", err)
		} else {
			rep.Synced = true
			resynced = res.Inserted > 0 || res.Changed > 0
		}
	}

	// Workers and the outcome recorder. Every attempt of the tick runs under
	// one context cut at the deadline less the margin (one timer per tick,
	// not one per attempt).
	actx, cancelAttempts := context.WithDeadline(ctx, deadline.Add(-e.cfg.DeadlineMargin))
	defer cancelAttempts()
	work := make(chan Run)
	outcomes := make(chan Outcome, e.cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < e.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				o := e.execute(ctx, actx, log, r, now, start, deadline)
				e.observeRun(ctx, r, o)
				outcomes <- o
			}
		}()
	}
	// The recorder counts outcomes and hands full batches to two flushers, so
	// workers keep running while a batch is written and the last batches of
	// a big tick are written side by side; a partial batch is also written
	// after a second without new outcomes, so that slow runs show up
	// finished before the tick ends.
	var recMu sync.Mutex
	batches := make(chan []Outcome, 1)
	flushDone := make(chan struct{})
	var flushers sync.WaitGroup
	for range 2 {
		flushers.Go(func() {
			for buf := range batches {
				// Record even when ctx is done: the work happened.
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				n, err := e.cfg.Store.FinishRuns(fctx, FinishRunsParams{TickID: rep.TickID, Outcomes: buf})
				cancel()
				if err != nil {
					log.Error("record outcomes failed; the runs stay leased and are retried after the lease expires", "runs", len(buf), "error", err)
					fail("record outcomes", err)
				} else if n != len(buf) {
					log.Warn("some outcomes were not recorded: their lease was taken over", "runs", len(buf), "recorded", n)
				}
			}
		})
	}
	go func() {
		flushers.Wait()
		close(flushDone)
	}()
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		defer func() { close(batches); <-flushDone }()
		buf := make([]Outcome, 0, e.cfg.FlushSize)
		send := func() {
			if len(buf) > 0 {
				batches <- buf
				buf = make([]Outcome, 0, e.cfg.FlushSize)
			}
		}
		idle := time.NewTicker(time.Second)
		defer idle.Stop()
		fresh := false
		for {
			select {
			case o, ok := <-outcomes:
				if !ok {
					send()
					return
				}
				recMu.Lock()
				switch {
				case o.Status == StatusSuccess:
					rep.Succeeded++
				case o.Status == StatusFailed:
					rep.Failed++
				case o.Status == StatusPending && o.Attempt < o.ClaimedAttempt:
					rep.Released++
				case o.Status == StatusPending:
					rep.Retried++
				}
				recMu.Unlock()
				buf, fresh = append(buf, o), true
				if len(buf) >= e.cfg.FlushSize {
					send()
				}
			case <-idle.C:
				if !fresh {
					send()
				}
				fresh = false
			}
		}
	}()

	dispatch := func(runs []Run) {
		for _, r := range runs {
			if r.Status != StatusRunning {
				continue
			}
			recMu.Lock()
			rep.Claimed++
			recMu.Unlock()
			work <- r
		}
	}

	// Step 2: claim due schedules, plan their slots, start their runs.
	pendingDue := false
	if !failed() && (ts.DueSchedules > 0 || resynced) {
		for enough() {
			res, err := e.cfg.Store.ClaimDue(ctx, ClaimDueParams{
				Now: now, TickID: rep.TickID, Limit: e.cfg.BatchSize, LeaseUntil: leaseUntil,
				Plan: func(due []DueSchedule) []SchedulePlan { return e.plan(log, due, now) },
			})
			if err != nil {
				log.Error("claim due schedules failed", "error", err)
				fail("claim due", err)
				break
			}
			recMu.Lock()
			rep.Conflicts += res.Conflicts
			for _, r := range res.Runs {
				switch r.Status {
				case StatusSkipped:
					rep.Skipped++
				case StatusPending:
					rep.Deferred++
					if !r.RunAt.After(now) {
						pendingDue = true
					}
				}
			}
			recMu.Unlock()
			dispatch(res.Runs)
			if res.Claimed < e.cfg.BatchSize || len(res.Runs) == 0 {
				break
			}
		}
	}

	// Step 3: claim runnable runs (manual, retries, expired leases).
	if !failed() && (ts.RunnableRuns > 0 || pendingDue) {
		tasks := e.cfg.Registry.TaskNames()
		for enough() {
			res, err := e.cfg.Store.ClaimRuns(ctx, ClaimRunsParams{
				Now: now, TickID: rep.TickID, Limit: e.cfg.BatchSize, LeaseUntil: leaseUntil, Tasks: tasks,
			})
			if err != nil {
				log.Error("claim runs failed", "error", err)
				fail("claim runs", err)
				break
			}
			recMu.Lock()
			rep.Interrupted += res.Interrupted
			rep.Failed += res.Failed
			recMu.Unlock()
			if res.Interrupted > 0 || res.Failed > 0 {
				log.Warn("runs whose lease expired were recovered", "retried", res.Interrupted, "failed", res.Failed)
			}
			dispatch(res.Runs)
			if len(res.Runs) < e.cfg.BatchSize {
				break
			}
		}
	}

	// Steps 4-5: wait for the runs, record the last outcomes.
	close(work)
	wg.Wait()
	close(outcomes)
	<-recDone

	rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if tickErr != nil {
		rep.Error = tickErr.Error()
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.cfg.Store.EndTick(ectx, EndTickParams{Report: rep, FinishedAt: at(), Error: rep.Error}); err != nil {
		log.Warn("record tick report failed", "error", err)
		if tickErr == nil {
			tickErr = fmt.Errorf("end tick: %w", err)
			rep.Error = tickErr.Error()
		}
	}
	lvl := slog.LevelDebug
	if rep.Claimed > 0 || rep.Skipped > 0 || rep.Interrupted > 0 {
		lvl = slog.LevelInfo
	}
	if tickErr != nil {
		lvl = slog.LevelError
	}
	log.Log(ctx, lvl, "tick done", "now", now, "due", rep.DueSchedules, "claimed", rep.Claimed,
		"succeeded", rep.Succeeded, "failed", rep.Failed, "retried", rep.Retried, "skipped", rep.Skipped,
		"interrupted", rep.Interrupted, "released", rep.Released, "duration_ms", rep.DurationMS, "error", rep.Error)
	return rep, tickErr
}

// plan is ClaimDueParams.Plan: it maps due rows to registered schedules.
func (e *Engine) plan(log *slog.Logger, due []DueSchedule, now time.Time) []SchedulePlan {
	out := make([]SchedulePlan, 0, len(due))
	for _, d := range due {
		s, ok := e.cfg.Registry.ScheduleByName(d.Name)
		if !ok {
			log.Warn("due schedule is not registered in this process; left for a process that has it", "schedule", d.Name)
			continue
		}
		if d.SpecHash != s.SpecHash() {
			log.Warn("due schedule's stored spec differs from this process's; left for a process with the stored version", "schedule", d.Name)
			continue
		}
		out = append(out, plan(s, d, now, e.cfg.MisfireGrace))
	}
	return out
}

// execute runs one claimed run's attempts and returns its outcome; actx is
// the tick's attempt context (ctx cut at the deadline less the margin).
func (e *Engine) execute(ctx, actx context.Context, log *slog.Logger, r Run, now, start, deadline time.Time) Outcome {
	at := func() time.Time { return now.Add(time.Since(start)) }
	o := Outcome{RunID: r.ID, ClaimedAttempt: r.Attempt, Attempt: r.Attempt}
	task, ok := e.cfg.Registry.Task(r.Task)
	if !ok || time.Until(deadline) <= e.cfg.DeadlineMargin || ctx.Err() != nil {
		// Not started: give the attempt back.
		o.Status, o.Attempt, o.RunAt = StatusPending, r.Attempt-1, at()
		o.StartedAt, o.FinishedAt = o.RunAt, o.RunAt
		return o
	}
	info := RunInfo{ID: r.ID, Task: r.Task, Schedule: r.Schedule, Source: r.Source, MaxAttempts: r.MaxAttempts, TickID: r.TickID, Payload: r.Payload}
	if r.Slot != nil {
		info.Slot = r.Slot.UTC()
	}
	o.StartedAt = at()
	for attempt := r.Attempt; ; attempt++ {
		info.Attempt = attempt
		o.Attempt = attempt
		err, stack := e.attempt(actx, task, info)
		o.FinishedAt = at()
		if err == nil {
			o.Status, o.Error, o.Stack = StatusSuccess, "", ""
			return o
		}
		o.Error, o.Stack = err.Error(), stack
		log.Warn("task attempt failed", "run_id", r.ID, "task", r.Task, "schedule", r.Schedule,
			"attempt", attempt, "max_attempts", r.MaxAttempts, "error", err)
		if attempt >= r.MaxAttempts {
			o.Status = StatusFailed
			return o
		}
		wait := task.Retry.Wait(attempt)
		if wait <= e.cfg.MaxInlineRetryWait && time.Until(deadline)-wait > e.cfg.DeadlineMargin && ctx.Err() == nil {
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
			if ctx.Err() == nil && time.Until(deadline) > e.cfg.DeadlineMargin {
				continue
			}
		}
		o.Status, o.RunAt = StatusPending, o.FinishedAt.Add(wait)
		return o
	}
}

// attempt runs the task once under actx (the tick's attempt context) and
// the task's timeout, turning a panic into an error with its stack.
func (e *Engine) attempt(actx context.Context, task *Task, info RunInfo) (err error, stack string) {
	if task.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(actx, task.Timeout)
		defer cancel()
	}
	type result struct {
		err   error
		stack string
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{fmt.Errorf("panic: %v", p), string(debug.Stack())}
			}
		}()
		done <- result{err: task.Fn(actx, info)}
	}()
	var res result
	select {
	case res = <-done:
	case <-actx.Done():
		t := time.NewTimer(e.cfg.AbandonGrace)
		select {
		case res = <-done:
			t.Stop()
		case <-t.C:
			return timeoutErr(task, actx, errors.New("the task did not return after its context ended; abandoned")), ""
		}
	}
	if res.err != nil && actx.Err() != nil {
		return timeoutErr(task, actx, res.err), res.stack
	}
	return res.err, res.stack
}

func timeoutErr(task *Task, actx context.Context, cause error) error {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		if task.Timeout > 0 {
			return fmt.Errorf("timeout: attempt exceeded its %s timeout or the tick deadline: %w", task.Timeout, cause)
		}
		return fmt.Errorf("timeout: attempt cut at the tick deadline: %w", cause)
	}
	return fmt.Errorf("cancelled: %w", cause)
}
