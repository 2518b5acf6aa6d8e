package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// errFlaky is what failing test tasks return.
var errFlaky = errors.New("flaky task failed")

// testLeaseExpiry: a tick claims two runs and its process "dies" (the tasks
// block, the clock passes their lease). A later tick re-runs the one with an
// attempt left (attempt 2, one interruption, success) and fails the other;
// the dead process's late outcomes are fenced out.
func testLeaseExpiry(t *testing.T, h *harness) {
	x := newExecs()
	held := newHold()
	blockFirstAttempt := func(ctx context.Context, info core.RunInfo) error {
		if info.Attempt == 1 {
			held.block(info)
		}
		return nil
	}
	reg := core.NewRegistry()
	mustRegister(t, reg, "resumable", x.task(blockFirstAttempt), core.Retries(1))
	mustRegister(t, reg, "single_shot", x.task(blockFirstAttempt))
	dead := h.engine(reg)
	resumable := addTask(t, dead, core.AddTaskParams{Task: "resumable"})
	single := addTask(t, dead, core.AddTaskParams{Task: "single_shot"})

	held.start(t, dead, 2)
	var lease time.Time
	for _, id := range []int64{resumable.ID, single.ID} {
		r := h.run(id)
		if r.Status != core.StatusRunning || r.Attempt != 1 || r.LeaseUntil == nil || !r.LeaseUntil.After(t0) {
			t.Fatalf("run %d while its process hangs: status %s attempt %d lease %v; want running, attempt 1, leased", id, r.Status, r.Attempt, r.LeaseUntil)
		}
		lease = *r.LeaseUntil
	}

	// Before the lease expires another tick leaves the runs alone.
	later := h.engine(reg)
	h.clock.Set(lease.Add(-time.Second))
	if rep := h.tick(later); rep.Claimed != 0 || rep.Interrupted != 0 || rep.Failed != 0 {
		t.Errorf("tick before the lease expired: %+v, want nothing done", rep)
	}

	h.clock.Set(lease.Add(time.Second))
	rep := h.tick(later)
	if rep.Interrupted != 1 || rep.Failed != 1 || rep.Claimed != 1 || rep.Succeeded != 1 {
		t.Errorf("tick after the lease expired: interrupted %d failed %d claimed %d succeeded %d, want 1 each",
			rep.Interrupted, rep.Failed, rep.Claimed, rep.Succeeded)
	}
	check := func(when string) {
		t.Helper()
		r := h.run(resumable.ID)
		if r.Status != core.StatusSuccess || r.Attempt != 2 || r.Interruptions != 1 || r.TickID != rep.TickID {
			t.Errorf("%s: resumable run: status %s attempt %d interruptions %d tick %s; want success, attempt 2, 1 interruption, tick %s",
				when, r.Status, r.Attempt, r.Interruptions, r.TickID, rep.TickID)
		}
		s := h.run(single.ID)
		if s.Status != core.StatusFailed || s.Attempt != 1 || s.Interruptions != 1 || s.Error == "" {
			t.Errorf("%s: single-shot run: status %s attempt %d interruptions %d error %q; want failed, attempt 1, 1 interruption, a reason",
				when, s.Status, s.Attempt, s.Interruptions, s.Error)
		}
	}
	check("after recovery")
	if n := x.run(resumable.ID); n != 2 {
		t.Errorf("resumable executed %d times, want 2 (the dead attempt and the retry)", n)
	}
	if n := x.run(single.ID); n != 1 {
		t.Errorf("single-shot executed %d times, want 1", n)
	}

	// The "dead" process wakes up: its outcomes must not overwrite anything.
	if _, err := held.release(); err != nil {
		t.Errorf("the late tick: %v", err)
	}
	check("after the dead process's late outcomes")
}

// testRetryBackoff: Retries(2), Delay(10m), Backoff(2). Attempt 1 fails and
// waits 10 minutes, attempt 2 fails and waits 20, attempt 3 succeeds; ticks in
// between do nothing.
func testRetryBackoff(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustRegister(t, reg, "flaky", x.task(func(_ context.Context, info core.RunInfo) error {
		if info.Attempt < 3 {
			return fmt.Errorf("attempt %d: %w", info.Attempt, errFlaky)
		}
		return nil
	}), core.Retries(2), core.Delay(10*time.Minute), core.Backoff(2))
	e := h.engine(reg)
	run := addTask(t, e, core.AddTaskParams{Task: "flaky"})
	if run.MaxAttempts != 3 || run.Status != core.StatusPending {
		t.Errorf("enqueued run: %+v, want pending with 3 attempts", run)
	}

	// slack bounds the tick's own elapsed time, which the engine adds to the
	// stub clock for the time an attempt finished.
	const slack = 5 * time.Second
	waitFor := func(attempt int, wait time.Duration) time.Time {
		t.Helper()
		tickAt := h.now()
		rep := h.tick(e)
		if rep.Claimed != 1 || rep.Retried != 1 {
			t.Fatalf("attempt %d: %+v, want one claimed run stored for a retry", attempt, rep)
		}
		r := h.run(run.ID)
		if r.Status != core.StatusPending || r.Attempt != attempt || !strings.Contains(r.Error, errFlaky.Error()) {
			t.Fatalf("after attempt %d: status %s attempt %d error %q; want pending, the error kept", attempt, r.Status, r.Attempt, r.Error)
		}
		within(t, fmt.Sprintf("run_at after attempt %d", attempt), r.RunAt, tickAt.Add(wait), tickAt.Add(wait+slack))
		return r.RunAt
	}
	quiet := func(when string) {
		t.Helper()
		before := x.total.Load()
		if rep := h.tick(e); rep.Claimed != 0 {
			t.Errorf("%s: claimed %d, want nothing before run_at", when, rep.Claimed)
		}
		if x.total.Load() != before {
			t.Errorf("%s: the task ran", when)
		}
	}

	runAt := waitFor(1, 10*time.Minute) // ~ +10m
	h.set(minutes(5))
	quiet("tick at +5m")
	h.clock.Set(runAt.Add(-time.Second))
	quiet("tick just before +10m")
	h.clock.Set(runAt)
	runAt = waitFor(2, 20*time.Minute) // ~ +30m
	h.set(minutes(20))
	quiet("tick at +20m")
	h.clock.Set(runAt)
	rep := h.tick(e)
	if rep.Succeeded != 1 {
		t.Errorf("attempt 3: %+v, want success", rep)
	}
	r := h.run(run.ID)
	if r.Status != core.StatusSuccess || r.Attempt != 3 || r.RetriesUsed() != 2 {
		t.Errorf("final: status %s attempt %d, want success on attempt 3", r.Status, r.Attempt)
	}
	if n := x.run(run.ID); n != 3 {
		t.Errorf("executed %d times, want 3", n)
	}
}

// testInlineRetry: with no delay the tick retries within itself.
func testInlineRetry(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustRegister(t, reg, "third_time_lucky", x.task(func(_ context.Context, info core.RunInfo) error {
		if info.Attempt < 3 {
			return errFlaky
		}
		return nil
	}), core.Retries(2))
	mustRegister(t, reg, "hopeless", x.task(func(context.Context, core.RunInfo) error { return errFlaky }), core.Retries(1))
	e := h.engine(reg)
	lucky := addTask(t, e, core.AddTaskParams{Task: "third_time_lucky"})
	hopeless := addTask(t, e, core.AddTaskParams{Task: "hopeless"})

	rep := h.tick(e)
	if rep.Claimed != 2 || rep.Succeeded != 1 || rep.Failed != 1 || rep.Retried != 0 {
		t.Errorf("report %+v, want 2 claimed, 1 succeeded, 1 failed, none left for later", rep)
	}
	if r := h.run(lucky.ID); r.Status != core.StatusSuccess || r.Attempt != 3 || x.run(lucky.ID) != 3 {
		t.Errorf("lucky: status %s attempt %d executions %d, want success after 3", r.Status, r.Attempt, x.run(lucky.ID))
	}
	r := h.run(hopeless.ID)
	if r.Status != core.StatusFailed || r.Attempt != 2 || x.run(hopeless.ID) != 2 || !strings.Contains(r.Error, errFlaky.Error()) {
		t.Errorf("hopeless: status %s attempt %d executions %d error %q, want failed after 2 with the error",
			r.Status, r.Attempt, x.run(hopeless.ID), r.Error)
	}
	if r.FinishedAt == nil {
		t.Error("failed run without finished_at")
	}
}

// testPanic: a panicking task fails its own run, with the panic and its
// stack recorded; the runs beside it in the same tick succeed.
func testPanic(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "boom", x.task(func(context.Context, core.RunInfo) error {
		var m map[string]int
		m["nil map"]++ // a real runtime panic
		return nil
	}), core.Every(time.Minute))
	for i := range 3 {
		mustSchedule(t, reg, fmt.Sprintf("calm%d", i), x.task(nil), core.Every(time.Minute))
	}
	e := h.engine(reg)
	h.tick(e)
	h.set(minutes(1))
	rep := h.tick(e)
	if rep.Claimed != 4 || rep.Succeeded != 3 || rep.Failed != 1 {
		t.Errorf("report %+v, want 4 claimed, 3 succeeded, 1 failed", rep)
	}
	runs := h.wantRuns("boom", runWant{at(minutes(1)), 1, core.StatusFailed, 1})
	if len(runs) == 1 {
		if !strings.Contains(runs[0].Error, "panic") || !strings.Contains(runs[0].Error, "nil map") {
			t.Errorf("panicked run error %q, want the panic", runs[0].Error)
		}
		if !strings.Contains(runs[0].Stack, "goroutine") {
			t.Errorf("panicked run stack %q, want a goroutine stack", runs[0].Stack)
		}
	}
	for i := range 3 {
		name := fmt.Sprintf("calm%d", i)
		h.wantRuns(name, runWant{at(minutes(1)), 1, core.StatusSuccess, 1})
	}
}

// testTimeout: an attempt that outlives its Timeout fails with a timeout
// error, whether the task honours its context or not.
func testTimeout(t *testing.T, h *harness) {
	stuck := make(chan struct{})
	defer close(stuck)
	reg := core.NewRegistry()
	mustRegister(t, reg, "slow", func(ctx context.Context, _ core.RunInfo) error {
		<-ctx.Done()
		return ctx.Err()
	}, core.Timeout(50*time.Millisecond))
	mustRegister(t, reg, "deaf", func(context.Context, core.RunInfo) error {
		<-stuck // ignores its context
		return nil
	}, core.Timeout(50*time.Millisecond))
	e := h.engine(reg, func(c *core.Config) { c.AbandonGrace = 100 * time.Millisecond })
	slow := addTask(t, e, core.AddTaskParams{Task: "slow"})
	deaf := addTask(t, e, core.AddTaskParams{Task: "deaf"})
	rep := h.tick(e)
	if rep.Failed != 2 {
		t.Errorf("report %+v, want 2 failed", rep)
	}
	for _, id := range []int64{slow.ID, deaf.ID} {
		r := h.run(id)
		if r.Status != core.StatusFailed || !strings.Contains(r.Error, "timeout") {
			t.Errorf("run %d (%s): status %s error %q, want failed with a timeout error", id, r.Task, r.Status, r.Error)
		}
	}
}
