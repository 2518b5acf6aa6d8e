package core

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// fakeStore is an in-memory Store with just what a tick uses (BeginTick,
// EndTick, PruneRuns, SyncSchedules, ClaimDue, ClaimRuns, FinishRuns), so the tick's
// parts can be tested without a database. It keeps the contract's
// essentials: unique (schedule, slot), claims up to a limit, fenced
// outcomes. Every other method panics (the embedded nil Store).
type fakeStore struct {
	Store

	mu       sync.Mutex
	scheds   map[string]*fakeSchedule
	runs     []*Run
	calls    map[string]int
	finished [][]Outcome // FinishRuns batches, in call order
	dueTasks [][]string  // ClaimDue's task filters, in call order
	endTicks []EndTickParams
	prunes   []PruneRunsParams
	// pruned is what PruneRuns reports deleting (the fake deletes nothing:
	// the conformance suite checks what a real store deletes).
	pruned int
	// now is the database clock, for ticks without a Clock.
	now time.Time
	// hook, when set, is called first by every implemented method (once
	// ctx is checked) with the method's name and its call number
	// (1-based); an error it returns is the method's. It runs without the
	// store's lock held.
	hook func(method string, call int) error
	// outbox holds the alerts written (see fakeoutbox_test.go).
	outbox []*OutboxAlert
}

type fakeSchedule struct {
	rec ScheduleRecord
	// api is a runtime schedule's row as ClaimDue hands it to Plan (its
	// Name and NextRun come from rec); nil for a code schedule.
	api *DueSchedule
}

func newFakeStore() *fakeStore {
	return &fakeStore{scheds: map[string]*fakeSchedule{}, calls: map[string]int{}}
}

func (f *fakeStore) enter(ctx context.Context, method string) error {
	if err := ctx.Err(); err != nil {
		return err // as a driver does
	}
	f.mu.Lock()
	f.calls[method]++
	n, hook := f.calls[method], f.hook
	f.mu.Unlock()
	if hook != nil {
		return hook(method, n)
	}
	return nil
}

// count returns how many times method was called.
func (f *fakeStore) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// addSchedule stores a schedule due at nextRun.
func (f *fakeStore) addSchedule(name, task, hash string, nextRun time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scheds[name] = &fakeSchedule{rec: ScheduleRecord{Name: name, Task: task, SpecHash: hash, NextRun: nextRun}}
}

// addAPISchedule stores a runtime schedule: d's row, due at d.NextRun.
func (f *fakeStore) addAPISchedule(d DueSchedule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d.Origin = OriginAPI
	f.scheds[d.Name] = &fakeSchedule{
		rec: ScheduleRecord{Name: d.Name, Task: d.Task, Origin: OriginAPI, NextRun: d.NextRun, RemainingRuns: d.RemainingRuns},
		api: &d,
	}
}

// schedule returns a copy of the stored schedule name.
func (f *fakeStore) schedule(name string) ScheduleRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scheds[name].rec
}

// addRun stores r with the next id and returns that id.
func (f *fakeStore) addRun(r Run) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.ID = int64(len(f.runs) + 1)
	f.runs = append(f.runs, &r)
	return r.ID
}

// run returns a copy of run id.
func (f *fakeStore) run(id int64) Run {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.runs[id-1]
}

func (f *fakeStore) BeginTick(ctx context.Context, p BeginTickParams) (TickStart, error) {
	if err := f.enter(ctx, "BeginTick"); err != nil {
		return TickStart{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.Now.IsZero() {
		p.Now = f.now
	}
	ts := TickStart{Now: p.Now}
	for _, s := range f.scheds {
		if !s.rec.NextRun.IsZero() && !s.rec.NextRun.After(p.Now) {
			ts.DueSchedules++
			if ts.OldestDue == nil || s.rec.NextRun.Before(*ts.OldestDue) {
				t := s.rec.NextRun
				ts.OldestDue = &t
			}
		}
	}
	for _, r := range f.runs {
		if f.runnable(r, p.Now) || f.expired(r, p.Now) {
			ts.RunnableRuns++
		}
	}
	if p.Alerts {
		f.beginTickAlerts(&ts)
	}
	return ts, nil
}

func (f *fakeStore) EndTick(ctx context.Context, p EndTickParams) error {
	if err := f.enter(ctx, "EndTick"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endTicks = append(f.endTicks, p)
	return nil
}

func (f *fakeStore) PruneRuns(ctx context.Context, p PruneRunsParams) (int, error) {
	if err := f.enter(ctx, "PruneRuns"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prunes = append(f.prunes, p)
	return f.pruned, nil
}

func (f *fakeStore) SyncSchedules(ctx context.Context, p SyncSchedulesParams) (SyncResult, error) {
	if err := f.enter(ctx, "SyncSchedules"); err != nil {
		return SyncResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var res SyncResult
	for _, rec := range p.Schedules {
		switch s, ok := f.scheds[rec.Name]; {
		case !ok:
			f.scheds[rec.Name] = &fakeSchedule{rec: rec}
			res.Inserted++
		case s.rec.SpecHash != rec.SpecHash:
			s.rec = rec
			res.Changed++
		default:
			res.Unchanged++
		}
	}
	return res, nil
}

func (f *fakeStore) ClaimDue(ctx context.Context, p ClaimDueParams) (ClaimDueResult, error) {
	if err := f.enter(ctx, "ClaimDue"); err != nil {
		return ClaimDueResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dueTasks = append(f.dueTasks, p.Tasks)
	var due []DueSchedule
	for _, name := range slices.Sorted(maps.Keys(f.scheds)) {
		s := f.scheds[name]
		if len(due) == p.Limit || s.rec.NextRun.IsZero() || s.rec.NextRun.After(p.Now) ||
			(p.Tasks != nil && !slices.Contains(p.Tasks, s.rec.Task)) {
			continue
		}
		d := DueSchedule{Name: name, SpecHash: s.rec.SpecHash, NextRun: s.rec.NextRun, Origin: OriginCode}
		if s.api != nil {
			d = *s.api
			d.NextRun, d.RemainingRuns = s.rec.NextRun, s.rec.RemainingRuns
		}
		due = append(due, d)
	}
	res := ClaimDueResult{Claimed: len(due)}
	for _, pl := range p.Plan(due) {
		for _, pr := range pl.Runs {
			if f.hasSlot(pr.Schedule, pr.Slot) {
				res.Conflicts++
				continue
			}
			res.Runs = append(res.Runs, f.insertPlanned(pr, p))
		}
		rec := &f.scheds[pl.Schedule].rec
		rec.NextRun = pl.NextRun
		if pl.RemainingRuns != nil {
			n := *pl.RemainingRuns
			rec.RemainingRuns = &n
		}
		if pl.NextRun.IsZero() && rec.Origin == OriginAPI {
			now := p.Now
			rec.CompletedAt = &now
		}
	}
	if p.Alerts {
		f.alertMissed(p.Now, res.Runs)
	}
	return res, nil
}

func (f *fakeStore) insertPlanned(pr PlannedRun, p ClaimDueParams) Run {
	slot := pr.Slot
	r := &Run{
		ID: int64(len(f.runs) + 1), Task: pr.Task, Schedule: pr.Schedule, Source: SourceScheduled,
		Slot: &slot, SlotsCovered: pr.SlotsCovered, Status: pr.Status, MaxAttempts: pr.MaxAttempts,
		Error: pr.Error, RunAt: pr.RunAt, CreatedAt: p.Now, TickID: p.TickID,
		Payload: pr.Payload, RunOverrides: pr.Overrides,
	}
	if r.Status == StatusRunning {
		lease := p.LeaseUntil
		r.Attempt, r.LeaseUntil, r.StartedAt = 1, &lease, &p.Now
	}
	f.runs = append(f.runs, r)
	return *r
}

func (f *fakeStore) hasSlot(schedule string, slot time.Time) bool {
	for _, r := range f.runs {
		if r.Schedule == schedule && r.Slot != nil && r.Slot.Equal(slot) {
			return true
		}
	}
	return false
}

func (f *fakeStore) runnable(r *Run, now time.Time) bool {
	return (r.Status == StatusPending || r.Status == StatusInterrupted) && !r.RunAt.After(now)
}

func (f *fakeStore) expired(r *Run, now time.Time) bool {
	return r.Status == StatusRunning && r.LeaseUntil != nil && r.LeaseUntil.Before(now)
}

func (f *fakeStore) ClaimRuns(ctx context.Context, p ClaimRunsParams) (ClaimRunsResult, error) {
	if err := f.enter(ctx, "ClaimRuns"); err != nil {
		return ClaimRunsResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var res ClaimRunsResult
	for _, r := range f.runs {
		if len(res.Runs) == p.Limit || !slices.Contains(p.Tasks, r.Task) {
			continue
		}
		switch {
		case f.expired(r, p.Now) && r.Attempt >= r.MaxAttempts:
			r.Status, r.Interruptions, r.Error = StatusFailed, r.Interruptions+1, "lease expired"
			res.Failed++
			if p.Alerts {
				f.alertFailed(r, p.Now)
			}
			continue
		case f.expired(r, p.Now):
			r.Interruptions++
			res.Interrupted++
		case !f.runnable(r, p.Now):
			continue
		}
		lease := p.LeaseUntil
		r.Status, r.Attempt, r.TickID, r.LeaseUntil = StatusRunning, r.Attempt+1, p.TickID, &lease
		res.Runs = append(res.Runs, *r)
	}
	return res, nil
}

func (f *fakeStore) FinishRuns(ctx context.Context, p FinishRunsParams) (int, error) {
	if err := f.enter(ctx, "FinishRuns"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finished = append(f.finished, slices.Clone(p.Outcomes))
	n := 0
	for _, o := range p.Outcomes {
		if o.RunID < 1 || int(o.RunID) > len(f.runs) {
			continue
		}
		r := f.runs[o.RunID-1]
		if r.Status != StatusRunning || r.TickID != p.TickID || r.Attempt != o.ClaimedAttempt {
			continue // fenced: the run is no longer this tick's attempt
		}
		r.Status, r.Attempt, r.Error, r.Stack, r.LeaseUntil = o.Status, o.Attempt, o.Error, o.Stack, nil
		if o.Status == StatusPending {
			r.RunAt = o.RunAt
		}
		if o.Status == StatusFailed && p.Alerts {
			f.alertFailed(r, o.FinishedAt)
		}
		n++
	}
	return n, nil
}

// batches returns the FinishRuns batches' sizes, in call order.
func (f *fakeStore) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int, len(f.finished))
	for i, b := range f.finished {
		out[i] = len(b)
	}
	return out
}

// logBuffer is a concurrency-safe log sink for asserting log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a debug-level text logger writing to the returned buffer.
func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// errBoom is the fake's injected infrastructure failure.
var errBoom = fmt.Errorf("boom")

// failOn returns a fakeStore hook failing call n of method with errBoom.
func failOn(method string, n int) func(string, int) error {
	return func(m string, call int) error {
		if m == method && call == n {
			return errBoom
		}
		return nil
	}
}
