package reliability

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// TestLongRuns is scenario 6: a task that outlives its Timeout is cancelled
// and recorded as failed with a timeout error (whether it honours its
// context or ignores it), and a Lambda invocation too close to its deadline
// starts nothing: claimed-but-unstarted runs are given back as pending.
func TestLongRuns(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			t.Run("timeout", func(t *testing.T) { runTimeouts(t, dialect) })
			t.Run("deadline", func(t *testing.T) { runNearDeadline(t, dialect) })
			t.Run("release", func(t *testing.T) { runRelease(t, dialect) })
		})
	}
}

// runTimeouts: one task waits on its context, one ignores it; both have a
// 300 ms timeout.
func runTimeouts(t *testing.T, dialect string) {
	ctx := context.Background()
	url := dialectURL(t, dialect)
	clock := core.NewStubClock(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC))
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	reg := core.NewRegistry()
	reg.MustRegister("honours_ctx", func(ctx context.Context, _ core.RunInfo) error {
		<-ctx.Done()
		return ctx.Err()
	}, core.Timeout(300*time.Millisecond))
	reg.MustRegister("ignores_ctx", func(context.Context, core.RunInfo) error {
		<-stuck // released only when the test ends
		return nil
	}, core.Timeout(300*time.Millisecond))
	eng, err := core.NewEngine(core.Config{
		Store: openURL(t, url), Registry: reg, Clock: clock, Logger: quietLogger(), AbandonGrace: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, task := range []string{"honours_ctx", "ignores_ctx"} {
		r, _, err := eng.AddTask(ctx, core.AddTaskParams{Task: task})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	start := time.Now()
	rep, err := eng.Tick(ctx)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("tick: %v", err)
	}
	for _, id := range ids {
		r, err := eng.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != core.StatusFailed || !strings.Contains(r.Error, "timeout") {
			t.Errorf("run %d (%s): %s %q, want failed with a timeout error", id, r.Task, r.Status, r.Error)
		}
		if r.Task == "ignores_ctx" && !strings.Contains(r.Error, "abandoned") {
			t.Errorf("run %d (%s): error %q does not say the attempt was abandoned", id, r.Task, r.Error)
		}
		t.Logf("%s: %s: %s", r.Task, r.Status, r.Error)
	}
	if took > 5*time.Second {
		t.Errorf("the tick took %s: it waited for the task that ignores its context", took)
	}
	figures(t, "longrun-timeout/"+dialect, "timeout_ms", 300, "abandon_grace_ms", 200,
		"failed_with_timeout", rep.Failed, "tick_ms", took.Milliseconds())
	if rep.Failed != 2 {
		t.Errorf("report: %+v, want 2 failed", rep)
	}
}

// runNearDeadline: the Lambda invocation has less time left than the
// engine's DeadlineMargin: nothing is claimed or started, a due slot stays
// due and a manual run stays pending; the next invocation with time runs
// both.
func runNearDeadline(t *testing.T, dialect string) {
	ctx := context.Background()
	url := dialectURL(t, dialect)
	st := openURL(t, url)
	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	clock := core.NewStubClock(t0)
	ran := make(chan string, 10)
	reg := core.NewRegistry()
	task := func(_ context.Context, info core.RunInfo) error { ran <- info.Task; return nil }
	reg.MustSchedule("minutely", task, core.Every(time.Minute))
	reg.MustRegister("manual", task)
	node := newLambdaNode(t, url, reg, clock, func(c *core.Config) { c.DeadlineMargin = 2 * time.Second })
	if _, err := node.invoke(eventBridgeEvent("sync", t0), time.Minute); err != nil {
		t.Fatal(err)
	}
	eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Clock: clock, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	manual, _, err := eng.AddTask(ctx, core.AddTaskParams{Task: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Minute)
	clock.Set(t1)
	before := countRuns(t, st)

	short, err := node.invoke(eventBridgeEvent("short", t1), time.Second)
	if err != nil {
		t.Fatalf("short invocation: %v", err)
	}
	r, err := st.GetRun(ctx, manual.ID)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := st.GetSchedule(ctx, "minutely")
	if err != nil {
		t.Fatal(err)
	}
	after := countRuns(t, st)
	if short.Claimed != 0 || len(ran) != 0 || r.Status != core.StatusPending || r.Attempt != 0 || after != before || !sched.NextRun.Equal(t1) {
		t.Errorf("1 s before a 2 s margin: report %+v, %d tasks ran, manual run %s attempt %d, runs %d -> %d, next_run %s; want nothing claimed or started",
			short, len(ran), r.Status, r.Attempt, before, after, sched.NextRun)
	}

	long, err := node.invoke(eventBridgeEvent("long", t1), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	figures(t, "longrun-deadline/"+dialect, "deadline_ms", 1000, "margin_ms", 2000,
		"short_claimed", short.Claimed, "short_started", after-before, "next_claimed", long.Claimed, "next_succeeded", long.Succeeded)
	if long.Claimed != 2 || long.Succeeded != 2 {
		t.Errorf("the next invocation with time: %+v, want the slot and the manual run", long)
	}
}

// runRelease: one worker, two claimed runs, a 6 s deadline and a 4 s
// margin. The first execution of the task works until the engine cuts it
// (attempts end DeadlineMargin before the deadline, here 2 s in) and is
// recorded as failed with a timeout; by then no more than the margin is
// left, so the second run is given back unstarted (pending, attempt not
// counted) and runs on the next tick.
func runRelease(t *testing.T, dialect string) {
	ctx := context.Background()
	url := dialectURL(t, dialect)
	st := openURL(t, url)
	clock := core.NewStubClock(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC))
	reg := core.NewRegistry()
	var calls atomic.Int32
	reg.MustRegister("hog", func(ctx context.Context, _ core.RunInfo) error {
		if calls.Add(1) > 1 {
			return nil // later executions are quick
		}
		<-ctx.Done() // works until cut
		return ctx.Err()
	})
	node := newLambdaNode(t, url, reg, clock, func(c *core.Config) {
		c.Workers = 1
		c.DeadlineMargin = 4 * time.Second
	})
	eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Clock: clock, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := eng.AddTask(ctx, core.AddTaskParams{Task: "hog"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := node.invoke(eventBridgeEvent("tight", time.Time{}), 6*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := st.ListRuns(ctx, core.ListRunsParams{Status: core.StatusPending})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || rep.Released != 1 || len(pending) != 1 || pending[0].Attempt != 0 || calls.Load() != 1 {
		t.Fatalf("report %+v, pending %v, %d executions; want 1 cut (failed) and 1 released unstarted with attempt 0", rep, pending, calls.Load())
	}
	clock.Advance(time.Minute) // the released run is runnable from the release on
	next, err := node.invoke(eventBridgeEvent("next", time.Time{}), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.GetRun(ctx, pending[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	figures(t, "longrun-release/"+dialect, "workers", 1, "deadline_ms", 6000, "margin_ms", 4000,
		"cut_at_deadline_failed", rep.Failed, "released_unstarted", rep.Released, "released_attempt", pending[0].Attempt,
		"next_tick_succeeded", next.Succeeded, "released_run_final_attempt", r.Attempt)
	if r.Status != core.StatusSuccess || r.Attempt != 1 {
		t.Errorf("released run after the next tick: %s attempt %d, want success on attempt 1", r.Status, r.Attempt)
	}
}
