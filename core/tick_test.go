package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testEngine returns an engine over f with a stub clock at tickT0, a
// schedule "every_min" (runs on startup, every minute) and a manual task
// "manual", both succeeding and counting their attempts.
func testEngine(t *testing.T, f *fakeStore) (*Engine, *StubClock, *recordingObserver, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	ok := func(context.Context, RunInfo) error { calls.Add(1); return nil }
	reg := NewRegistry()
	reg.MustSchedule("every_min", ok, Every(time.Minute), RunOnStartup())
	reg.MustRegister("manual", ok)
	clock := NewStubClock(tickT0)
	obs := &recordingObserver{}
	log, _ := testLogger()
	e, err := NewEngine(Config{Store: f, Registry: reg, Clock: clock, Logger: log, Observers: []Observer{obs}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e, clock, obs, &calls
}

// TestTick runs two ticks through the fake store: the first syncs and runs
// the startup slot and a manual run, the second the next slot.
func TestTick(t *testing.T) {
	f := newFakeStore()
	f.addRun(Run{Task: "manual", Source: SourceManual, Status: StatusPending, RunAt: tickT0, MaxAttempts: 1})
	e, clock, obs, calls := testEngine(t, f)

	rep, err := e.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Synced || !rep.Now.Equal(tickT0) || rep.Claimed != 2 || rep.Succeeded != 2 || rep.Failed != 0 ||
		rep.Error != "" || !strings.HasPrefix(rep.TickID, "tick_") || rep.DurationMS <= 0 {
		t.Errorf("first tick %+v, want synced, 2 claimed and succeeded", rep)
	}
	if calls.Load() != 2 || len(obs.runs) != 2 || len(obs.ticks) != 1 || obs.ticks[0] != rep || obs.errs[0] != nil {
		t.Errorf("calls %d, observed runs %d ticks %+v; want 2, 2, the report", calls.Load(), len(obs.runs), obs.ticks)
	}
	if len(f.endTicks) != 1 || f.endTicks[0].Report != rep || f.endTicks[0].FinishedAt.Before(tickT0) {
		t.Errorf("EndTick got %+v, want the report", f.endTicks)
	}

	clock.Set(tickT0.Add(time.Minute))
	rep, err = e.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Synced || rep.DueSchedules != 1 || rep.Claimed != 1 || rep.Succeeded != 1 || f.count("SyncSchedules") != 1 {
		t.Errorf("second tick %+v, want one due slot run and no second sync", rep)
	}
	for id := int64(1); id <= 3; id++ {
		if r := f.run(id); r.Status != StatusSuccess || r.Attempt != 1 {
			t.Errorf("run %d %+v, want success at attempt 1", id, r)
		}
	}
}

func TestTickErrors(t *testing.T) {
	tests := []struct {
		name, method string
		call         int
		want         string
		endTick      bool // the report is recorded
	}{
		{"begin", "BeginTick", 1, "begin tick: boom", false},
		{"sync", "SyncSchedules", 1, "tick: sync schedules: boom", true},
		{"claim due", "ClaimDue", 1, "claim due: boom", true},
		{"claim runs", "ClaimRuns", 1, "claim runs: boom", true},
		{"record", "FinishRuns", 1, "record outcomes: boom", true},
		{"end", "EndTick", 1, "end tick: boom", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			f.addRun(Run{Task: "manual", Source: SourceManual, Status: StatusPending, RunAt: tickT0, MaxAttempts: 1})
			f.hook = failOn(tc.method, tc.call)
			e, _, obs, _ := testEngine(t, f)
			rep, err := e.Tick(context.Background())
			if err == nil || err.Error() != tc.want || !errors.Is(err, errBoom) || rep.Error != tc.want {
				t.Fatalf("error %v, report error %q; want %q", err, rep.Error, tc.want)
			}
			if got := f.count("EndTick") == 1; got != tc.endTick {
				t.Errorf("EndTick called: %v, want %v", got, tc.endTick)
			}
			if tc.endTick && tc.method != "EndTick" && f.endTicks[0].Error != tc.want {
				t.Errorf("recorded error %q, want %q", f.endTicks[0].Error, tc.want)
			}
			// Every tick is observed once, one that did not begin included.
			if len(obs.ticks) != 1 || len(obs.errs) != 1 || obs.errs[0] == nil || obs.errs[0].Error() != tc.want {
				t.Errorf("observed ticks %d errors %v; want one, with %q", len(obs.ticks), obs.errs, tc.want)
			}
		})
	}
}

// TestPoolStartsWorkersOnDemand: a pool bounded at 1000 workers that is
// given three runs starts at most three goroutines, and never more than its
// bound however many runs it gets.
func TestPoolStartsWorkersOnDemand(t *testing.T) {
	var mu sync.Mutex
	ran := 0
	release := make(chan struct{})
	p := startPool(1000, func(*seat, Run) bool {
		<-release
		mu.Lock()
		ran++
		mu.Unlock()
		return true
	})
	for i := range 3 {
		p.submit(Run{ID: int64(i)})
	}
	if p.started != 3 {
		t.Fatalf("started %d workers for 3 blocked runs; want 3", p.started)
	}
	close(release)
	p.wait()
	if ran != 3 {
		t.Fatalf("ran %d runs; want 3", ran)
	}

	small := startPool(2, func(*seat, Run) bool { return true })
	for i := range 50 {
		small.submit(Run{ID: int64(i)})
	}
	small.wait()
	if small.started > 2 {
		t.Fatalf("started %d workers; the bound is 2", small.started)
	}
}

// TestTickGoesOnAfterAbandon: with one worker, a task that ignores its
// context is abandoned at each of its two attempts (its timeout plus the
// grace), and the worker's seat goes on without the stuck goroutines: the
// runs after it all run in the same tick, and every outcome is recorded.
func TestTickGoesOnAfterAbandon(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var quick, stuck atomic.Int32
	reg := NewRegistry()
	reg.MustRegister("stuck", func(context.Context, RunInfo) error { stuck.Add(1); <-release; return nil },
		Timeout(20*time.Millisecond), Retries(1))
	reg.MustRegister("quick", func(context.Context, RunInfo) error { quick.Add(1); return nil })
	f := newFakeStore()
	f.addRun(Run{Task: "stuck", Source: SourceManual, Status: StatusPending, RunAt: tickT0.Add(-time.Second), MaxAttempts: 2})
	for range 5 {
		f.addRun(Run{Task: "quick", Source: SourceManual, Status: StatusPending, RunAt: tickT0, MaxAttempts: 1})
	}
	log, _ := testLogger()
	e, err := NewEngine(Config{Store: f, Registry: reg, Clock: NewStubClock(tickT0), Logger: log,
		Workers: 1, AbandonGrace: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	rep, err := e.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("the tick took %v", took)
	}
	if rep.Claimed != 6 || rep.Succeeded != 5 || rep.Failed != 1 || stuck.Load() != 2 || quick.Load() != 5 {
		t.Errorf("report %+v, stuck attempts %d, quick runs %d; want 6 claimed, 5 succeeded, 1 failed after 2 attempts",
			rep, stuck.Load(), quick.Load())
	}
	if r := f.run(1); r.Status != StatusFailed || r.Attempt != 2 || !strings.Contains(r.Error, "abandoned") {
		t.Errorf("stuck run %+v, want failed at attempt 2, abandoned", r)
	}
	for id := int64(2); id <= 6; id++ {
		if r := f.run(id); r.Status != StatusSuccess {
			t.Errorf("run %d is %s, want success", id, r.Status)
		}
	}
}
