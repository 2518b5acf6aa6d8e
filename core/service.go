package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"time"
)

// The Engine is tickflow's service layer: every operation an adapter
// (handler, prommetrics, cmd) needs is a method here. Each reads the clock
// once (the Clock when one is set, else the database clock, read by the
// store as a zero Now) and passes that instant to every store call it makes.
// Adapters never hold a Store.

// AddTaskParams are the inputs of AddTask.
type AddTaskParams struct {
	// Task is a registered task's name (scheduled tasks included).
	Task string `json:"task"`
	// Payload is handed to the task as RunInfo.Payload; if set it must pass
	// CheckPayload (JSON, UTF-8, at most MaxPayloadBytes).
	Payload json.RawMessage `json:"payload,omitempty"`
	// IdempotencyKey, if set, makes the enqueue idempotent: a second AddTask
	// with the same key and the same request (task and payload) returns the
	// first run; with another task or payload it fails with ErrConflict.
	// Valid text of at most MaxIdempotencyKeyBytes bytes.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// RunAt, if set, is the instant before which no tick starts the run
	// (it waits as pending); an instant already past runs at the next tick.
	// It must be in [MinTime, MaxTime). At most one of RunAt and Delay.
	RunAt time.Time `json:"run_at,omitzero"`
	// Delay, if set, starts the run no earlier than Delay after now (the
	// engine's clock). 0 to MaxRunDelay. At most one of RunAt and Delay.
	Delay time.Duration `json:"delay,omitzero"`
}

// MaxRunDelay bounds AddTaskParams.Delay (366 days).
const MaxRunDelay = 366 * 24 * time.Hour

// MaxPayloadBytes bounds a manual run's payload (256 KiB).
const MaxPayloadBytes = 256 << 10

// AddTask enqueues a manual run of any registered task (the seed's
// add_task). It returns the run and whether it was created (false when the
// idempotency key already existed for the same request). An unknown task
// wraps ErrNotFound; bad text, a bad payload or key is a ValidationError
// (nothing is written); a key already used for another task or payload
// wraps ErrConflict. Payloads are compared as JSON values: white space and
// the order of object keys do not matter, numbers compare by their text
// (1 and 1.0 differ). With RunAt or Delay the run waits, pending, until that
// instant; an idempotent repeat returns the first run whatever its RunAt.
func (e *Engine) AddTask(ctx context.Context, p AddTaskParams) (Run, bool, error) {
	if err := CheckText("task", p.Task); err != nil {
		return Run{}, false, err
	}
	if err := CheckText("idempotency_key", p.IdempotencyKey); err != nil {
		return Run{}, false, err
	}
	if len(p.IdempotencyKey) > MaxIdempotencyKeyBytes {
		return Run{}, false, invalid("idempotency_key", "", "must be at most %d bytes", MaxIdempotencyKeyBytes)
	}
	if err := CheckPayload(p.Payload); err != nil {
		return Run{}, false, err
	}
	if err := CheckRunAt(p.RunAt, p.Delay); err != nil {
		return Run{}, false, err
	}
	task, ok := e.cfg.Registry.Task(p.Task)
	if !ok {
		return Run{}, false, fmt.Errorf("add task %q: task %w", p.Task, ErrNotFound)
	}
	now, err := e.now(ctx)
	if err != nil {
		return Run{}, false, err
	}
	runAt := p.RunAt.UTC()
	if p.Delay > 0 {
		if now.IsZero() { // the database clock: a delay needs its reading
			if now, err = e.cfg.Store.Now(ctx); err != nil {
				return Run{}, false, fmt.Errorf("add task %q: read clock: %w", p.Task, err)
			}
		}
		runAt = now.Add(p.Delay).UTC()
		if err := CheckTime("delay", runAt); err != nil {
			return Run{}, false, err
		}
	}
	r, created, err := e.cfg.Store.InsertRun(ctx, InsertRunParams{
		Now: now, Task: task.Name, DisplayName: task.DisplayName, Source: SourceManual,
		Payload: p.Payload, IdempotencyKey: p.IdempotencyKey, MaxAttempts: task.Retry.MaxAttempts(),
		RunAt: runAt,
	})
	if err != nil {
		return Run{}, false, fmt.Errorf("add task %q: %w", p.Task, err)
	}
	if !created && (r.Task != task.Name || r.Schedule != "" || !samePayload(r.Payload, p.Payload)) {
		return Run{}, false, fmt.Errorf("add task %q: idempotency key %q was used for a different request (run %d of task %q with another payload or task): %w",
			p.Task, p.IdempotencyKey, r.ID, r.Task, ErrConflict)
	}
	return r, created, nil
}

// CheckRunAt validates AddTaskParams.RunAt and Delay (adapters check before
// opening anything): at most one, RunAt in
// [MinTime, MaxTime), Delay in [0, MaxRunDelay].
func CheckRunAt(runAt time.Time, delay time.Duration) error {
	switch {
	case !runAt.IsZero() && delay != 0:
		return invalid("run_at/delay", "", "give at most one of run_at and delay")
	case delay < 0:
		return invalid("delay", delay.String(), "must not be negative")
	case delay > MaxRunDelay:
		return invalid("delay", delay.String(), "must be at most %s (366 days)", MaxRunDelay)
	case !runAt.IsZero():
		return CheckTime("run_at", runAt)
	}
	return nil
}

// samePayload reports whether two payloads are the same JSON value (see
// AddTask); two empty payloads are the same, an empty and a set one differ.
func samePayload(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// Trigger enqueues a manual run of a schedule's task now ("run now"),
// recorded with source manual and the schedule's name. It does not move the
// schedule's next slot. A runtime schedule's run carries its payload and
// policies, as its scheduled runs do; its task must be registered here.
func (e *Engine) Trigger(ctx context.Context, schedule string) (Run, error) {
	if err := CheckText("schedule", schedule); err != nil {
		return Run{}, err
	}
	p, err := e.triggerParams(ctx, schedule)
	if err != nil {
		return Run{}, fmt.Errorf("trigger %q: %w", schedule, err)
	}
	if p.Now, err = e.now(ctx); err != nil {
		return Run{}, err
	}
	r, _, err := e.cfg.Store.InsertRun(ctx, p)
	if err != nil {
		return Run{}, fmt.Errorf("trigger %q: %w", schedule, err)
	}
	return r, nil
}

// triggerParams is the run Trigger inserts for a code schedule of this
// process's registry or a stored runtime schedule of a registered task.
func (e *Engine) triggerParams(ctx context.Context, name string) (InsertRunParams, error) {
	if s, ok := e.cfg.Registry.ScheduleByName(name); ok {
		return InsertRunParams{
			Task: s.Task.Name, DisplayName: s.Task.DisplayName, Schedule: s.Name,
			Source: SourceManual, MaxAttempts: s.Task.Retry.MaxAttempts(),
		}, nil
	}
	rec, err := e.cfg.Store.GetSchedule(ctx, name)
	if err != nil {
		return InsertRunParams{}, err
	}
	if rec.Origin != OriginAPI {
		return InsertRunParams{}, fmt.Errorf("schedule is not declared in this process's code: %w", ErrNotFound)
	}
	if _, ok := e.cfg.Registry.Task(rec.Task); !ok {
		return InsertRunParams{}, fmt.Errorf("task %q of the schedule is not registered in this process: %w", rec.Task, ErrConflict)
	}
	delay, backoff, timeout := rec.DelaySeconds, rec.Backoff, rec.TimeoutSeconds
	return InsertRunParams{
		Task: rec.Task, DisplayName: rec.DisplayName, Schedule: rec.Name, Source: SourceManual,
		Payload: rec.Payload, MaxAttempts: rec.Retries + 1,
		Overrides: RunOverrides{RetryDelaySeconds: &delay, RetryBackoff: &backoff, TimeoutSeconds: &timeout},
	}, nil
}

// Schedules returns the stored schedules with their descriptions in words.
func (e *Engine) Schedules(ctx context.Context) ([]ScheduleRecord, error) {
	recs, err := e.cfg.Store.ListSchedules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	for i := range recs {
		e.describe(&recs[i])
	}
	return recs, nil
}

// Schedule returns one stored schedule with its description.
func (e *Engine) Schedule(ctx context.Context, name string) (ScheduleRecord, error) {
	if err := CheckText("schedule", name); err != nil {
		return ScheduleRecord{}, err
	}
	rec, err := e.cfg.Store.GetSchedule(ctx, name)
	if err != nil {
		return rec, fmt.Errorf("get schedule %q: %w", name, err)
	}
	e.describe(&rec)
	return rec, nil
}

func (e *Engine) describe(rec *ScheduleRecord) {
	if s, ok := e.cfg.Registry.ScheduleByName(rec.Name); ok && s.SpecHash() == rec.SpecHash {
		rec.Description = s.Describe()
		return
	}
	sp, err := recordSpec(rec)
	if err != nil {
		// A spec this build cannot read (a zone its tzdata lacks): say what
		// is stored.
		rec.Description = rec.Kind + " " + rec.Cron
		return
	}
	rec.Description = sp.Describe()
}

// AcquireScheduleLock takes a named lock for ttl on the store, by the
// database clock (the seed's acquire_schedule_lock; keys are conventionally
// "schedule:{name}"). It reports whether this engine holds the lock; the
// lock expires by itself after ttl. The tick does not need it: row claims and
// the unique slot already make each slot run once.
func (e *Engine) AcquireScheduleLock(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := CheckText("key", key); err != nil {
		return false, err
	}
	if key == "" || len(key) > MaxLockKeyBytes {
		return false, invalid("key", key, "must be 1-%d bytes", MaxLockKeyBytes)
	}
	if ttl <= 0 {
		return false, invalid("ttl", ttl.String(), "must be greater than zero")
	}
	now, err := e.now(ctx)
	if err != nil {
		return false, err
	}
	ok, err := e.cfg.Store.AcquireLock(ctx, LockParams{Key: key, Owner: e.instance, TTL: ttl, Now: now})
	if err != nil {
		return false, fmt.Errorf("acquire lock %q: %w", key, err)
	}
	return ok, nil
}

// ReleaseScheduleLock frees a lock this engine holds (no-op otherwise).
func (e *Engine) ReleaseScheduleLock(ctx context.Context, key string) error {
	if err := CheckText("key", key); err != nil {
		return err
	}
	if err := e.cfg.Store.ReleaseLock(ctx, LockParams{Key: key, Owner: e.instance}); err != nil {
		return fmt.Errorf("release lock %q: %w", key, err)
	}
	return nil
}

// SetSchedulePaused pauses or resumes a stored schedule and returns it with
// its description (ErrNotFound when no schedule has that name).
func (e *Engine) SetSchedulePaused(ctx context.Context, name string, paused bool) (ScheduleRecord, error) {
	if err := CheckText("schedule", name); err != nil {
		return ScheduleRecord{}, err
	}
	now, err := e.now(ctx)
	if err != nil {
		return ScheduleRecord{}, err
	}
	rec, err := e.cfg.Store.SetSchedulePaused(ctx, SetSchedulePausedParams{Name: name, Paused: paused, Now: now})
	if err != nil {
		return rec, fmt.Errorf("set schedule %q paused=%t: %w", name, paused, err)
	}
	e.describe(&rec)
	return rec, nil
}

// GetRun returns one run (ErrNotFound when absent).
func (e *Engine) GetRun(ctx context.Context, id int64) (Run, error) {
	r, err := e.cfg.Store.GetRun(ctx, id)
	if err != nil {
		return r, fmt.Errorf("get run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns runs newest first, filtered (see ListRunsParams). Bad
// filters are a ValidationError (see ListRunsParams.Validate).
func (e *Engine) ListRuns(ctx context.Context, p ListRunsParams) ([]Run, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	runs, err := e.cfg.Store.ListRuns(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// CancelRun cancels a pending or interrupted run (ErrConflict otherwise,
// ErrNotFound when absent).
func (e *Engine) CancelRun(ctx context.Context, id int64) (Run, error) {
	return e.runAction(ctx, "cancel", id, e.cfg.Store.CancelRun)
}

// RetryRun makes a failed run pending again with one more attempt allowed,
// runnable by the next tick (ErrConflict if it is not failed).
func (e *Engine) RetryRun(ctx context.Context, id int64) (Run, error) {
	return e.runAction(ctx, "retry", id, e.cfg.Store.RetryRun)
}

func (e *Engine) runAction(ctx context.Context, op string, id int64, act func(context.Context, RunActionParams) (Run, error)) (Run, error) {
	now, err := e.now(ctx)
	if err != nil {
		return Run{}, err
	}
	r, err := act(ctx, RunActionParams{ID: id, Now: now})
	if err != nil {
		return r, fmt.Errorf("%s run %d: %w", op, id, err)
	}
	return r, nil
}

// ListTicks returns the most recent ticks, newest first.
func (e *Engine) ListTicks(ctx context.Context, limit int) ([]TickRecord, error) {
	ticks, err := e.cfg.Store.ListTicks(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("list ticks: %w", err)
	}
	return ticks, nil
}

// Stats returns the store's gauges (runs by status, due work, last tick) at
// the engine's clock.
func (e *Engine) Stats(ctx context.Context) (Stats, error) {
	now, err := e.now(ctx)
	if err != nil {
		return Stats{}, err
	}
	st, err := e.cfg.Store.Stats(ctx, now)
	if err != nil {
		return st, fmt.Errorf("read store stats: %w", err)
	}
	return st, nil
}

// HealthStatus is the verdict of Engine.Health.
type HealthStatus string

// Health statuses.
const (
	// HealthOK: the last tick started within the threshold (healthy).
	HealthOK HealthStatus = "ok"
	// HealthStarting: no tick has run yet and the engine has existed for at
	// most the threshold (healthy: the trigger has time to fire).
	HealthStarting HealthStatus = "starting"
	// HealthStale: the last tick started more than the threshold ago.
	HealthStale HealthStatus = "stale"
	// HealthNoTicks: no tick has ever run and the engine has existed for
	// longer than the threshold: a trigger that never fired is the same
	// alarm as one that stopped.
	HealthNoTicks HealthStatus = "no_ticks"
	// HealthError: the clock or the store did not answer.
	HealthError HealthStatus = "error"
)

// HealthParams are the inputs of Engine.Health.
type HealthParams struct {
	// Threshold is how old the last tick may be; also how long an engine
	// without any recorded tick counts as starting. Must not be negative.
	Threshold time.Duration
}

// Health is whether ticks are arriving, by any process.
type Health struct {
	Status HealthStatus
	// Now is the clock reading the check used (the database's, or the
	// engine's Clock); zero when it could not be read.
	Now time.Time
	// LastTickAt is when the most recent tick started (nil if none).
	LastTickAt *time.Time
	// Age is Now minus LastTickAt (0 when no tick ran).
	Age       time.Duration
	Threshold time.Duration
	// DueUnclaimed and OldestDueLag: due work not claimed yet (Stats).
	DueUnclaimed int
	OldestDueLag time.Duration
	// Error says what failed, without details (status error): "clock
	// unavailable" or "store unavailable". The returned error has them.
	Error string
}

// Healthy reports whether the status is ok or starting.
func (h Health) Healthy() bool { return h.Status == HealthOK || h.Status == HealthStarting }

// Health reports whether ticks are arriving: ok while the last tick, by any
// process, started within p.Threshold of the engine's clock. With no tick
// ever recorded it is starting for the engine's first p.Threshold (measured
// on its Clock when set, else on the process's monotonic clock), then
// no_ticks. Stats is read once, at one clock reading. The error, with status
// error, is an infrastructure failure.
func (e *Engine) Health(ctx context.Context, p HealthParams) (Health, error) {
	if p.Threshold < 0 {
		return Health{Status: HealthError}, invalid("threshold", p.Threshold.String(), "must not be negative")
	}
	hl := Health{Status: HealthError, Threshold: p.Threshold}
	now, err := e.now(ctx)
	if err != nil {
		hl.Error = "clock unavailable"
		return hl, err
	}
	st, err := e.cfg.Store.Stats(ctx, now)
	if err != nil {
		hl.Error = "store unavailable"
		return hl, fmt.Errorf("health: read store stats: %w", err)
	}
	hl.Now, hl.LastTickAt = st.Now.UTC(), st.LastTickAt
	hl.DueUnclaimed, hl.OldestDueLag = st.DueUnclaimed, st.OldestDueLag
	switch {
	case st.LastTickAt == nil && e.uptime(hl.Now) > p.Threshold:
		hl.Status = HealthNoTicks
	case st.LastTickAt == nil:
		hl.Status = HealthStarting
	default:
		hl.Age = hl.Now.Sub(*st.LastTickAt)
		hl.Status = HealthOK
		if hl.Age > p.Threshold {
			hl.Status = HealthStale
		}
	}
	return hl, nil
}

// uptime is how long the engine has existed at now: on its Clock when it
// has one (tests stub it), else on the process's monotonic clock.
func (e *Engine) uptime(now time.Time) time.Duration {
	e.startMu.Lock()
	defer e.startMu.Unlock()
	if e.cfg.Clock == nil {
		return time.Since(e.startedMono)
	}
	if e.started.IsZero() {
		e.started = now // the Clock failed in NewEngine: count from here
	}
	return now.Sub(e.started)
}

// Logger returns the engine's logger, for adapters that log on its behalf.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Clocked reports whether the engine runs on an injected Clock rather than
// the database clock, and that clock's reading (tests and simulations).
func (e *Engine) Clocked(ctx context.Context) (time.Time, bool, error) {
	if e.cfg.Clock == nil {
		return time.Time{}, false, nil
	}
	t, err := e.now(ctx)
	return t, err == nil, err
}
