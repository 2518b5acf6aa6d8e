package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// TaskFunc is a task: it gets a context carrying the attempt's deadline and
// the run's identity. Returning an error (or panicking) fails the attempt.
type TaskFunc func(ctx context.Context, run RunInfo) error

// Task is a registered task function with its run options.
type Task struct {
	// Name identifies the task; unique in a Registry.
	Name string
	// DisplayName is shown by the API and dashboard (default Name).
	DisplayName string
	// Fn is the function run for each attempt.
	Fn TaskFunc
	// Retry is the retry policy for runs of this task.
	Retry RetryPolicy
	// Timeout bounds one attempt (0: the tick deadline only).
	Timeout time.Duration
}

// Schedule is a validated periodic schedule: a task plus when it runs (its
// Spec). Registry.Schedule builds it; a Schedule made otherwise has no Spec.
type Schedule struct {
	// Name identifies the schedule (it is also its task's name).
	Name string
	// Task is the task this schedule runs.
	Task *Task
	// Every is the interval, for interval schedules (0 for cron).
	Every time.Duration
	// Cron is the expression, for cron schedules ("" for interval).
	Cron string
	// Timezone is the IANA zone Cron is read in ("UTC" by default; "" with Every).
	Timezone string
	// Once is the instant of a once schedule (zero otherwise).
	Once time.Time
	// RunOnStartup: the first slot is the time the spec is first stored.
	RunOnStartup bool
	// Misfire and Overlap policies.
	Misfire MisfirePolicy
	Overlap OverlapPolicy
	// MaxCatchup bounds runs per tick under MisfireCatchup.
	MaxCatchup int
	// Jitter delays each slot's run by up to Jitter.
	Jitter time.Duration
	// StartAt, when set, is the earliest slot: the first slot is the
	// first slot of the kind at or after it (an interval's slots are then
	// StartAt + k·Every). Runtime schedules only; part of SpecHash when set.
	StartAt time.Time

	spec Spec   // the kind: when slots fall
	hash string // SpecHash, computed once at registration
}

// Spec returns the schedule's kind: the rule its slots follow.
func (s *Schedule) Spec() Spec { return s.spec }

// Kind is the stored name of the schedule's kind: "every", "cron" or "once".
func (s *Schedule) Kind() string { return s.spec.Kind() }

// SpecHash identifies the timing spec: when it changes, the schedule is
// re-anchored (next_run recomputed) at the next sync.
func (s *Schedule) SpecHash() string {
	if s.hash != "" {
		return s.hash
	}
	return s.specHash()
}

// specHash hashes the spec as version 1 did. Stored rows keep their hash, so
// its input must never change for an existing kind: a new kind adds its own
// fields rather than changing these.
func (s *Schedule) specHash() string {
	in := fmt.Sprintf("v1|%s|%d|%s|%s|%t", s.Kind(), s.Every, s.Cron, s.Timezone, s.RunOnStartup)
	if s.Kind() == KindOnce {
		in += fmt.Sprintf("|%d", s.Once.Unix())
	}
	if !s.StartAt.IsZero() { // only when set: code schedules keep their hashes
		in += fmt.Sprintf("|start=%d", s.StartAt.Unix())
	}
	h := sha256.Sum256([]byte(in))
	return hex.EncodeToString(h[:8])
}

// FirstSlot is the first slot of a schedule stored (or whose spec changed) at
// storedAt: storedAt itself with RunOnStartup, else the kind's first slot
// after it. The anchor is storedAt truncated to the second.
//
// With StartAt set, no slot falls before it: the first slot is the kind's
// first slot at or after max(StartAt, storedAt) (StartAt itself for an
// interval or RunOnStartup when StartAt is later than storedAt; an
// interval's slots are StartAt + k·Every).
func (s *Schedule) FirstSlot(storedAt time.Time) time.Time {
	storedAt = storedAt.UTC().Truncate(time.Second)
	if s.StartAt.IsZero() {
		if s.RunOnStartup {
			return storedAt
		}
		return s.spec.First(storedAt)
	}
	start := s.StartAt.UTC().Truncate(time.Second)
	if start.After(storedAt) {
		if s.RunOnStartup {
			return start
		}
		if _, ok := s.spec.(*Interval); ok {
			return start
		}
		return s.spec.First(start.Add(-time.Second))
	}
	if s.RunOnStartup {
		return storedAt
	}
	if iv, ok := s.spec.(*Interval); ok { // the grid StartAt + k·Every
		k := storedAt.Sub(start)/iv.every + 1
		return start.Add(k * iv.every).UTC()
	}
	return s.spec.First(storedAt)
}

// Anchor is the anchor of a schedule stored at storedAt: StartAt when set,
// else storedAt, truncated to the second.
func (s *Schedule) Anchor(storedAt time.Time) time.Time {
	if !s.StartAt.IsZero() {
		return s.StartAt.UTC().Truncate(time.Second)
	}
	return storedAt.UTC().Truncate(time.Second)
}

// NextSlot returns the slot after slot: slot+Every for intervals (anchored, no
// drift), the cron rule's next instant otherwise. Zero means never again.
func (s *Schedule) NextSlot(slot time.Time) time.Time { return s.spec.Next(slot) }

// Describe says when the schedule runs, in words: "every 5 minutes", "at 09:00
// every day, America/New_York".
func (s *Schedule) Describe() string { return s.spec.Describe() }

// Location is the zone slots are displayed in (UTC for interval schedules).
func (s *Schedule) Location() *time.Location { return s.spec.Location() }

// Registry holds the task functions and schedules of a program. Build it at
// start-up (or in init with the Must variants); it is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	tasks     map[string]*Task
	schedules map[string]*Schedule
	// names caches taskNames (valid when namesOK): a tick asks for the task
	// names three times, and sorting 10,000 of them each time was 5% of a
	// 10,000-schedule tick's CPU.
	names   []string
	namesOK bool
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{tasks: map[string]*Task{}, schedules: map[string]*Schedule{}}
}

// validName reports whether name is 1-200 characters of ASCII letters,
// digits, _ . : and -. A loop rather than a regexp: compiling
// ^[A-Za-z0-9_.:-]{1,200}$ at package init took 2,640 allocations and up to
// a millisecond of every Lambda cold start.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 200 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// Register adds a manual-only task, run by AddTask. Options allowed: Retries,
// Delay, Backoff, MaxDelay, Name, Timeout; timing options are an error.
func (r *Registry) Register(name string, fn TaskFunc, opts ...Option) error {
	sp, task, err := buildTask(name, fn, opts)
	if err != nil {
		return err
	}
	if sp.everySet || sp.cronSet || sp.onceSet || sp.runOnStartup || sp.timezone != "" || sp.misfire != "" || sp.overlap != "" || sp.jitter != 0 || sp.maxCatchup != 0 {
		return invalid("every/cron/once", "", "timing options are only valid with Schedule, not Register (task %q)", name)
	}
	return r.add(task, nil)
}

// Schedule adds a task and a schedule of the same name. Exactly one of
// Every, Cron or Once is required.
func (r *Registry) Schedule(name string, fn TaskFunc, opts ...Option) error {
	sp, task, err := buildTask(name, fn, opts)
	if err != nil {
		return err
	}
	s, err := newSchedule(name, task, sp)
	if err != nil {
		return err
	}
	return r.add(task, s)
}

// newSchedule validates the timing options in sp and builds the schedule
// name of task: the one path from options to a Schedule, for code
// schedules (Registry.Schedule) and runtime ones (ScheduleParams).
func newSchedule(name string, task *Task, sp *spec) (*Schedule, error) {
	s := &Schedule{Name: name, Task: task, RunOnStartup: sp.runOnStartup, Misfire: sp.misfire, Overlap: sp.overlap, MaxCatchup: sp.maxCatchup, Jitter: sp.jitter, StartAt: sp.startAt}
	if err := s.build(sp); err != nil {
		return nil, err
	}
	s.hash = s.specHash() // the tick compares it for every due schedule
	return s, nil
}

// build sets the schedule's kind from sp and checks its policies.
func (s *Schedule) build(sp *spec) error {
	switch n := btoi(sp.everySet) + btoi(sp.cronSet) + btoi(sp.onceSet); {
	case n > 1:
		return invalid("every/cron/once", "", "give exactly one of every, cron or once, not several")
	case n == 0:
		return invalid("every/cron/once", "", "give exactly one of every, cron or once; none was given")
	case sp.onceSet:
		o, err := NewOnce(sp.once)
		if err != nil {
			return err
		}
		if sp.runOnStartup {
			return invalid("run_on_startup", "true", "is not valid with once")
		}
		s.spec, s.Once = o, o.At()
	case sp.everySet:
		iv, err := NewInterval(sp.every)
		if err != nil {
			return err
		}
		s.spec, s.Every = iv, sp.every
	default:
		c, err := ParseCron(sp.cron, sp.timezone)
		if err != nil {
			return err
		}
		s.spec, s.Cron = c, sp.cron
		s.Timezone = c.Location().String()
	}
	return s.checkPolicies()
}

// checkPolicies defaults and checks the schedule's misfire and overlap
// policies, catch-up bound and jitter: for a schedule built from options
// and for one built from a stored runtime row (Engine.rowSchedule).
func (s *Schedule) checkPolicies() error {
	if s.Misfire == "" {
		s.Misfire = MisfireCoalesce
	} else if !s.Misfire.Valid() {
		return invalid("misfire", string(s.Misfire), "must be coalesce, catchup or skip")
	}
	if s.Overlap == "" {
		s.Overlap = OverlapSkip
	} else if !s.Overlap.Valid() {
		return invalid("overlap", string(s.Overlap), "must be skip or allow")
	}
	if s.MaxCatchup < 0 {
		return invalid("max_catchup", fmt.Sprint(s.MaxCatchup), "must not be negative")
	}
	if s.MaxCatchup == 0 {
		s.MaxCatchup = DefaultMaxCatchup
	}
	if s.Jitter < 0 {
		return invalid("jitter", s.Jitter.String(), "must not be negative")
	}
	return nil
}

func buildTask(name string, fn TaskFunc, opts []Option) (*spec, *Task, error) {
	if !validName(name) {
		return nil, nil, invalid("name", name, "must be 1-200 characters of letters, digits, _ . : -")
	}
	if fn == nil {
		return nil, nil, invalid("fn", name, "task function is nil")
	}
	sp := &spec{}
	for _, o := range opts {
		o(sp)
	}
	switch {
	case sp.retries < 0:
		return nil, nil, invalid("retries", fmt.Sprint(sp.retries), "must not be negative")
	case sp.retries > 1000:
		return nil, nil, invalid("retries", fmt.Sprint(sp.retries), "must be at most 1000")
	case sp.delay < 0:
		return nil, nil, invalid("delay", sp.delay.String(), "must not be negative")
	case sp.backoffSet && !(sp.backoff >= 1): // also rejects NaN
		return nil, nil, invalid("backoff", fmt.Sprint(sp.backoff), "must be at least 1")
	case sp.maxDelay < 0:
		return nil, nil, invalid("max_delay", sp.maxDelay.String(), "must not be negative")
	case sp.timeout < 0:
		return nil, nil, invalid("timeout", sp.timeout.String(), "must not be negative")
	case len(sp.name) > 200:
		return nil, nil, invalid("name", sp.name, "display name must be at most 200 characters")
	}
	if !sp.backoffSet {
		sp.backoff = 1
	}
	display := sp.name
	if display == "" {
		display = name
	}
	return sp, &Task{
		Name: name, DisplayName: display, Fn: fn, Timeout: sp.timeout,
		Retry: RetryPolicy{Retries: sp.retries, Delay: sp.delay, Backoff: sp.backoff, MaxDelay: sp.maxDelay},
	}, nil
}

func (r *Registry) add(t *Task, s *Schedule) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.tasks[t.Name]; ok {
		return invalid("name", t.Name, "duplicate: a task of this name is already registered")
	}
	r.tasks[t.Name] = t
	r.names, r.namesOK = nil, false
	if s != nil {
		r.schedules[s.Name] = s
	}
	return nil
}

// MustRegister is Register that panics on error, for use in init.
func (r *Registry) MustRegister(name string, fn TaskFunc, opts ...Option) {
	if err := r.Register(name, fn, opts...); err != nil {
		panic(err)
	}
}

// MustSchedule is Schedule that panics on error, for use in init.
func (r *Registry) MustSchedule(name string, fn TaskFunc, opts ...Option) {
	if err := r.Schedule(name, fn, opts...); err != nil {
		panic(err)
	}
}

// Task returns the task registered under name.
func (r *Registry) Task(name string) (*Task, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.tasks[name]
	return t, ok
}

// ScheduleByName returns the schedule registered under name.
func (r *Registry) ScheduleByName(name string) (*Schedule, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.schedules[name]
	return s, ok
}

// Tasks returns every task, sorted by name.
func (r *Registry) Tasks() []*Task {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Task, 0, len(r.tasks))
	for _, t := range r.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TaskNames returns every task name, sorted.
func (r *Registry) TaskNames() []string {
	return slices.Clone(r.taskNames())
}

// taskNames is TaskNames without the copy: the slice is shared and must not
// be modified.
func (r *Registry) taskNames() []string {
	r.mu.RLock()
	names, ok := r.names, r.namesOK
	r.mu.RUnlock()
	if ok {
		return names
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.namesOK {
		names := make([]string, 0, len(r.tasks))
		for name := range r.tasks {
			names = append(names, name)
		}
		slices.Sort(names)
		r.names, r.namesOK = names, true
	}
	return r.names
}

// Schedules returns every schedule, sorted by name.
func (r *Registry) Schedules() []*Schedule {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Schedule, 0, len(r.schedules))
	for _, s := range r.schedules {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
