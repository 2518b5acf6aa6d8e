package core

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testExecutor returns an executor for reg whose tick has left before its
// deadline (of which margin is kept for recording), with a 50 ms inline
// retry wait and abandon grace.
func testExecutor(reg *Registry, left, margin time.Duration) (*executor, *logBuffer) {
	log, buf := testLogger()
	start := time.Now()
	return &executor{
		reg: reg, log: log,
		time:          tickTime{now: tickT0, start: start, deadline: start.Add(left), margin: margin},
		maxInlineWait: 50 * time.Millisecond, abandonGrace: 50 * time.Millisecond,
	}, buf
}

// runOne executes r the way a tick's worker does.
func runOne(x *executor, r Run) Outcome {
	ctx := context.Background()
	actx, cancel := context.WithDeadline(ctx, x.time.attemptDeadline())
	defer cancel()
	return x.executeWait(ctx, actx, r)
}

func claimedRun(task string, attempt, maxAttempts int) Run {
	slot := time.Date(2026, 3, 2, 5, 0, 0, 0, time.FixedZone("x", 3600))
	return Run{ID: 7, Task: task, Schedule: task, Source: SourceScheduled, Slot: &slot, Status: StatusRunning,
		Attempt: attempt, MaxAttempts: maxAttempts, TickID: "tick_1", Payload: json.RawMessage(`{"a":1}`)}
}

func TestExecutorSuccess(t *testing.T) {
	reg := NewRegistry()
	var got RunInfo
	reg.MustRegister("t", func(_ context.Context, info RunInfo) error { got = info; return nil })
	x, logs := testExecutor(reg, time.Minute, time.Second)
	o := runOne(x, claimedRun("t", 1, 1))
	if o.Status != StatusSuccess || o.RunID != 7 || o.Attempt != 1 || o.ClaimedAttempt != 1 || o.Error != "" || o.Stack != "" {
		t.Errorf("outcome %+v", o)
	}
	if o.StartedAt.Before(tickT0) || o.FinishedAt.Before(o.StartedAt) || o.FinishedAt.After(tickT0.Add(time.Minute)) {
		t.Errorf("times %v..%v, want on the tick's clock from %v", o.StartedAt, o.FinishedAt, tickT0)
	}
	want := RunInfo{ID: 7, Task: "t", Schedule: "t", Source: SourceScheduled, Slot: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC),
		Attempt: 1, MaxAttempts: 1, TickID: "tick_1", Payload: json.RawMessage(`{"a":1}`)}
	if got.Slot.Location() != time.UTC || !got.Slot.Equal(want.Slot) || string(got.Payload) != string(want.Payload) {
		t.Errorf("task saw slot %v payload %s, want %v %s", got.Slot, got.Payload, want.Slot, want.Payload)
	}
	got.Slot, got.Payload, want.Slot, want.Payload = time.Time{}, nil, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("task saw %+v, want %+v", got, want)
	}
	if strings.Contains(logs.String(), "task attempt failed") {
		t.Errorf("logged a failure: %q", logs.String())
	}
}

func TestExecutorRetriesInline(t *testing.T) {
	reg := NewRegistry()
	var attempts []int
	reg.MustRegister("t", func(_ context.Context, info RunInfo) error {
		attempts = append(attempts, info.Attempt)
		if info.Attempt < 3 {
			return errors.New("flaky")
		}
		return nil
	}, Retries(2), Delay(10*time.Millisecond))
	x, logs := testExecutor(reg, time.Minute, time.Second)
	o := runOne(x, claimedRun("t", 1, 3))
	if o.Status != StatusSuccess || o.Attempt != 3 || o.ClaimedAttempt != 1 || o.Error != "" {
		t.Errorf("outcome %+v, want success at attempt 3", o)
	}
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("attempts %v, want [1 2 3]", attempts)
	}
	if n := strings.Count(logs.String(), `level=WARN msg="task attempt failed"`); n != 2 {
		t.Errorf("%d failure warnings, want 2: %q", n, logs.String())
	}
	if o.FinishedAt.Sub(o.StartedAt) < 20*time.Millisecond {
		t.Errorf("attempts took %v, want at least the two 10ms waits", o.FinishedAt.Sub(o.StartedAt))
	}
}

func TestExecutorDefersLongRetry(t *testing.T) {
	reg := NewRegistry()
	var calls atomic.Int32
	fail := func(context.Context, RunInfo) error { calls.Add(1); return errors.New("down") }
	reg.MustRegister("long", fail, Retries(1), Delay(100*time.Millisecond))
	reg.MustRegister("late", fail, Retries(1), Delay(500*time.Millisecond))

	// A wait beyond MaxInlineRetryWait (50 ms here) is left to a later
	// tick, although it would fit before the deadline.
	x, _ := testExecutor(reg, time.Minute, time.Second)
	o := runOne(x, claimedRun("long", 1, 2))
	if o.Status != StatusPending || o.Attempt != 1 || o.Error != "down" || !o.RunAt.Equal(o.FinishedAt.Add(100*time.Millisecond)) {
		t.Errorf("outcome %+v, want pending at finished+100ms", o)
	}
	// A short wait that does not fit before the deadline less the margin too.
	x, _ = testExecutor(reg, time.Second+250*time.Millisecond, time.Second)
	x.maxInlineWait = time.Second
	o = runOne(x, claimedRun("late", 1, 2))
	if o.Status != StatusPending || o.Attempt != 1 || !o.RunAt.Equal(o.FinishedAt.Add(500*time.Millisecond)) {
		t.Errorf("outcome %+v, want pending at finished+500ms", o)
	}
	if calls.Load() != 2 {
		t.Errorf("%d attempts, want one per run", calls.Load())
	}
	// Attempts used up: failed, whatever the wait.
	o = runOne(x, claimedRun("late", 2, 2))
	if o.Status != StatusFailed || o.Attempt != 2 || o.Error != "down" {
		t.Errorf("outcome %+v, want failed at attempt 2", o)
	}
}

func TestExecutorCapturesPanic(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister("t", func(context.Context, RunInfo) error { panic("kaboom") })
	x, _ := testExecutor(reg, time.Minute, time.Second)
	o := runOne(x, claimedRun("t", 1, 1))
	if o.Status != StatusFailed || o.Error != "panic: kaboom" {
		t.Errorf("outcome %+v, want failed with the panic", o)
	}
	if !strings.Contains(o.Stack, "goroutine") || !strings.Contains(o.Stack, "TestExecutorCapturesPanic") {
		t.Errorf("stack %q, want the panicking goroutine's stack", o.Stack)
	}
}

func TestExecutorTimeouts(t *testing.T) {
	block := func(ctx context.Context, _ RunInfo) error { <-ctx.Done(); return ctx.Err() }
	release := make(chan struct{})
	defer close(release)
	stuck := func(context.Context, RunInfo) error { <-release; return nil }
	reg := NewRegistry()
	reg.MustRegister("timeout", block, Timeout(20*time.Millisecond))
	reg.MustRegister("deadline", block)
	reg.MustRegister("stuck", stuck, Timeout(20*time.Millisecond))
	reg.MustRegister("stuck_at_deadline", stuck)
	tests := []struct {
		task string
		left time.Duration // before the tick's deadline; the margin is 10 ms
		want string
	}{
		{"timeout", time.Minute, "timeout: attempt exceeded its 20ms timeout or the tick deadline: context deadline exceeded"},
		{"deadline", 200 * time.Millisecond, "timeout: attempt cut at the tick deadline: context deadline exceeded"},
		{"stuck", time.Minute, "timeout: attempt exceeded its 20ms timeout or the tick deadline: the task did not return after its context ended; abandoned"},
		{"stuck_at_deadline", 200 * time.Millisecond, "timeout: attempt cut at the tick deadline: the task did not return after its context ended; abandoned"},
	}
	for _, tc := range tests {
		t.Run(tc.task, func(t *testing.T) {
			x, _ := testExecutor(reg, tc.left, 10*time.Millisecond)
			begin := time.Now()
			o := runOne(x, claimedRun(tc.task, 1, 1))
			if o.Status != StatusFailed || o.Error != tc.want || o.Stack != "" {
				t.Errorf("outcome %+v, want failed with %q", o, tc.want)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestExecutorCancelled(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister("t", func(ctx context.Context, _ RunInfo) error { <-ctx.Done(); return ctx.Err() }, Retries(3))
	x, _ := testExecutor(reg, time.Minute, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	actx, cancelA := context.WithDeadline(ctx, x.time.attemptDeadline())
	defer cancelA()
	time.AfterFunc(10*time.Millisecond, cancel)
	o := x.executeWait(ctx, actx, claimedRun("t", 1, 4))
	// A cancelled tick makes no inline retry: the run waits for a later tick.
	if o.Status != StatusPending || o.Attempt != 1 || o.Error != "cancelled: context canceled" {
		t.Errorf("outcome %+v, want pending after a cancelled attempt", o)
	}
}

func TestExecutorReleasesUnstartable(t *testing.T) {
	reg := NewRegistry()
	var calls atomic.Int32
	reg.MustRegister("t", func(context.Context, RunInfo) error { calls.Add(1); return nil })
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		task string
		left time.Duration
		ctx  context.Context
	}{
		{"unknown task", "not_here", time.Minute, context.Background()},
		{"no time left", "t", 500 * time.Millisecond, context.Background()},
		{"tick cancelled", "t", time.Minute, cancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, _ := testExecutor(reg, tc.left, time.Second)
			o := x.executeWait(tc.ctx, tc.ctx, claimedRun(tc.task, 3, 5))
			if o.Status != StatusPending || o.Attempt != 2 || o.ClaimedAttempt != 3 || o.Error != "" {
				t.Errorf("outcome %+v, want pending with attempt 3 given back", o)
			}
			if !o.RunAt.Equal(o.StartedAt) || !o.RunAt.Equal(o.FinishedAt) || o.RunAt.Before(tickT0) {
				t.Errorf("times run_at %v started %v finished %v, want one instant on the tick clock", o.RunAt, o.StartedAt, o.FinishedAt)
			}
		})
	}
	if calls.Load() != 0 {
		t.Errorf("the task ran %d times", calls.Load())
	}
}

// recordingObserver collects what an Engine's observers see.
type recordingObserver struct {
	mu    sync.Mutex
	runs  []Outcome
	ticks []Report
	errs  []error
}

func (r *recordingObserver) ObserveTick(_ context.Context, rep Report, err error, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ticks, r.errs = append(r.ticks, rep), append(r.errs, err)
}

func (r *recordingObserver) ObserveRun(_ context.Context, _ Run, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, o)
}

func TestEngineExecute(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister("t", func(_ context.Context, info RunInfo) error {
		if info.Attempt == 1 {
			return errors.New("first try fails")
		}
		return nil
	}, Retries(1))
	obs := &recordingObserver{}
	log, _ := testLogger()
	e, err := NewEngine(Config{Store: nilStore{}, Registry: reg, Logger: log, Observers: []Observer{obs}})
	if err != nil {
		t.Fatal(err)
	}
	o := e.Execute(context.Background(), claimedRun("t", 1, 2), tickT0)
	if o.Status != StatusSuccess || o.Attempt != 2 || o.ClaimedAttempt != 1 || o.StartedAt.Before(tickT0) {
		t.Errorf("outcome %+v, want success at attempt 2 (an inline retry)", o)
	}
	if len(obs.runs) != 1 || obs.runs[0] != o {
		t.Errorf("observers saw %+v, want the outcome once", obs.runs)
	}
	// A context with less than the margin left releases the run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if o := e.Execute(ctx, claimedRun("t", 1, 2), tickT0); o.Status != StatusPending || o.Attempt != 0 {
		t.Errorf("outcome %+v, want released (the default margin is 2s)", o)
	}
}

// TestExecutorRunsTheBoundTask: a run whose claim bound its task runs that
// task, without looking it up (here it is not even registered); an
// unbound run is looked up.
func TestExecutorRunsTheBoundTask(t *testing.T) {
	reg := NewRegistry()
	var ran []string
	reg.MustRegister("t", func(context.Context, RunInfo) error { ran = append(ran, "registered"); return nil })
	x, _ := testExecutor(reg, time.Minute, time.Second)
	r := claimedRun("t", 1, 1)
	r.task = &Task{Name: "t", Fn: func(context.Context, RunInfo) error { ran = append(ran, "bound"); return nil }}
	if o := runOne(x, r); o.Status != StatusSuccess {
		t.Fatalf("bound run: %+v", o)
	}
	if o := runOne(x, claimedRun("t", 1, 1)); o.Status != StatusSuccess {
		t.Fatalf("unbound run: %+v", o)
	}
	if !slices.Equal(ran, []string{"bound", "registered"}) {
		t.Errorf("ran %v, want [bound registered]", ran)
	}
}
