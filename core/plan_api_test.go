package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func ptrTime(t time.Time) *time.Time { return &t }
func ptrInt(n int) *int              { return &n }

// TestPlanBounds is the start_at / end_at / max_runs table: no slot before
// start_at or after end_at, never more runs that are not skipped than the
// remaining runs, and a zero next_run (done) once nothing is left.
func TestPlanBounds(t *testing.T) {
	const grace = 2 * time.Minute
	tests := []struct {
		name      string
		opts      []Option
		due       DueSchedule
		now       time.Time
		want      []wantRun
		next      time.Time
		remaining *int // want RemainingRuns (nil: unchanged)
	}{
		{
			name: "start_at in the future: nothing, next_run moves to the first slot at or after it",
			opts: []Option{Every(10 * time.Minute)},
			due:  DueSchedule{NextRun: planMin(10), StartAt: ptrTime(planMin(35))},
			now:  planMin(12), next: planMin(40),
		},
		{
			name: "start_at on a slot: that slot is the first",
			opts: []Option{Every(10 * time.Minute)},
			due:  DueSchedule{NextRun: planMin(10), StartAt: ptrTime(planMin(30))},
			now:  planMin(30), want: []wantRun{{planMin(30), 1, StatusRunning, ""}}, next: planMin(40),
		},
		{
			name: "start_at passed: slots before it are not covered",
			opts: []Option{Every(time.Minute)},
			due:  DueSchedule{NextRun: planMin(1), StartAt: ptrTime(planMin(5).Add(time.Second))},
			now:  planMin(8), want: []wantRun{{planMin(8), 3, StatusRunning, ""}}, next: planMin(9),
		},
		{
			name: "start_at with a cron spec",
			opts: []Option{Cron("0 * * * *")},
			due:  DueSchedule{NextRun: planMin(50), StartAt: ptrTime(planMin(150))},
			now:  planMin(60), next: planMin(180),
		},
		{
			name: "end_at: the last slot at it runs, then done",
			opts: []Option{Every(10 * time.Minute)},
			due:  DueSchedule{NextRun: planMin(30), EndAt: ptrTime(planMin(30))},
			now:  planMin(30), want: []wantRun{{planMin(30), 1, StatusRunning, ""}}, next: time.Time{},
		},
		{
			name: "end_at passed while no tick came: only slots up to it, then done",
			opts: []Option{Every(time.Minute), Misfire(MisfireCatchup), MaxCatchup(10)},
			due:  DueSchedule{NextRun: planMin(1), EndAt: ptrTime(planMin(3).Add(30 * time.Second))},
			now:  planMin(9),
			want: []wantRun{{planMin(1), 1, StatusRunning, ""}, {planMin(2), 1, StatusRunning, ""}, {planMin(3), 1, StatusRunning, ""}},
			next: time.Time{},
		},
		{
			name: "end_at between now and the next slot: runs, then done",
			opts: []Option{Every(10 * time.Minute)},
			due:  DueSchedule{NextRun: planMin(10), EndAt: ptrTime(planMin(15))},
			now:  planMin(11), want: []wantRun{{planMin(10), 1, StatusRunning, ""}}, next: time.Time{},
		},
		{
			name: "end_at before the next slot, nothing due: done without a run",
			opts: []Option{Every(10 * time.Minute)},
			due:  DueSchedule{NextRun: planMin(20), StartAt: ptrTime(planMin(20)), EndAt: ptrTime(planMin(25))},
			now:  planMin(15), next: planMin(20),
		},
		{
			name: "start_at after end_at's last slot: done",
			opts: []Option{Every(10 * time.Minute)},
			due:  DueSchedule{NextRun: planMin(10), StartAt: ptrTime(planMin(21)), EndAt: ptrTime(planMin(25))},
			now:  planMin(12), next: time.Time{},
		},
		{
			name: "max_runs: one left, coalesce runs it and completes",
			opts: []Option{Every(time.Minute)},
			due:  DueSchedule{NextRun: planMin(1), RemainingRuns: ptrInt(1)},
			now:  planMin(5), want: []wantRun{{planMin(5), 5, StatusRunning, ""}}, next: time.Time{}, remaining: ptrInt(0),
		},
		{
			name: "max_runs: three left, one used",
			opts: []Option{Every(time.Minute)},
			due:  DueSchedule{NextRun: planMin(1), RemainingRuns: ptrInt(3)},
			now:  planMin(1), want: []wantRun{{planMin(1), 1, StatusRunning, ""}}, next: planMin(2), remaining: ptrInt(2),
		},
		{
			name: "max_runs bounds catchup: the latest slots run, the older are skipped",
			opts: []Option{Every(time.Minute), Misfire(MisfireCatchup), MaxCatchup(10)},
			due:  DueSchedule{NextRun: planMin(1), RemainingRuns: ptrInt(2)},
			now:  planMin(5),
			want: []wantRun{{planMin(3), 3, StatusSkipped, "max_runs"}, {planMin(4), 1, StatusRunning, ""}, {planMin(5), 1, StatusRunning, ""}},
			next: time.Time{}, remaining: ptrInt(0),
		},
		{
			name: "max_runs: a skipped slot does not count",
			opts: []Option{Every(10 * time.Minute), Misfire(MisfireSkip)},
			due:  DueSchedule{NextRun: planMin(10), RemainingRuns: ptrInt(1)},
			now:  planMin(25), want: []wantRun{{planMin(20), 2, StatusSkipped, "misfire"}}, next: planMin(30), remaining: ptrInt(1),
		},
		{
			name: "max_runs: overlap skip does not count",
			opts: []Option{Every(time.Minute)},
			due:  DueSchedule{NextRun: planMin(1), RemainingRuns: ptrInt(1), Active: true},
			now:  planMin(1), want: []wantRun{{planMin(1), 1, StatusSkipped, "overlap"}}, next: planMin(2), remaining: ptrInt(1),
		},
		{
			name: "max_runs used up already: no run, done",
			opts: []Option{Every(time.Minute)},
			due:  DueSchedule{NextRun: planMin(1), RemainingRuns: ptrInt(0)},
			now:  planMin(1), next: time.Time{}, remaining: ptrInt(0),
		},
		{
			name: "max_runs not due: unchanged",
			opts: []Option{Every(time.Minute)},
			due:  DueSchedule{NextRun: planMin(2), RemainingRuns: ptrInt(2)},
			now:  planMin(1), next: planMin(2),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := planSchedule(t, tt.opts...)
			d := tt.due
			d.Name, d.SpecHash = s.Name, s.SpecHash()
			p := plan(s, &d, tt.now, grace, nil)
			if !p.NextRun.Equal(tt.next) {
				t.Errorf("next_run %v, want %v", p.NextRun, tt.next)
			}
			if (p.RemainingRuns == nil) != (tt.remaining == nil) || (p.RemainingRuns != nil && *p.RemainingRuns != *tt.remaining) {
				t.Errorf("remaining_runs %v, want %v", deref(p.RemainingRuns), deref(tt.remaining))
			}
			if len(p.Runs) != len(tt.want) {
				t.Fatalf("%d runs %+v, want %d", len(p.Runs), p.Runs, len(tt.want))
			}
			for i, w := range tt.want {
				r := p.Runs[i]
				if !r.Slot.Equal(w.slot) || r.SlotsCovered != w.covered || r.Status != w.status || !containsOrEmpty(r.Error, w.errHas) {
					t.Errorf("run %d: slot %v covered %d status %s error %q, want slot %v covered %d status %s error with %q",
						i, r.Slot, r.SlotsCovered, r.Status, r.Error, w.slot, w.covered, w.status, w.errHas)
				}
				if d.StartAt != nil && r.Status != StatusSkipped && r.Slot.Before(*d.StartAt) {
					t.Errorf("run %d at %v is before start_at %v", i, r.Slot, *d.StartAt)
				}
				if d.EndAt != nil && r.Slot.After(*d.EndAt) {
					t.Errorf("run %d at %v is after end_at %v", i, r.Slot, *d.EndAt)
				}
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func containsOrEmpty(s, sub string) bool {
	if sub == "" {
		return s == ""
	}
	return strings.Contains(s, sub)
}

// TestEnginePlanRuntime: a runtime (api) row is planned from the row, not the
// registry: its own spec and policies, its payload and overrides on every
// run, the task's defaults replaced; a row of an unregistered task or with a
// bad spec is left alone, without blocking the others.
func TestEnginePlanRuntime(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister("report", func(context.Context, RunInfo) error { return nil }, Retries(5), Delay(time.Minute), Timeout(time.Hour))
	e, err := NewEngine(Config{Store: nilStore{}, Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	payload := json.RawMessage(`{"tenant":"acme"}`)
	api := func(name, kind string) DueSchedule {
		return DueSchedule{
			Name: name, Origin: OriginAPI, Task: "report", DisplayName: "Acme report", Kind: kind,
			EverySeconds: 300, Cron: "0 9 * * *", Timezone: "America/New_York",
			NextRun: planMin(0), Payload: payload, Retries: 2, Delay: 10 * time.Second, Backoff: 2, Timeout: 30 * time.Second,
		}
	}
	cronDue := api("acme:cron", KindCron)
	cronDue.NextRun = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC) // 09:00 in New York
	unknown := api("other:task", KindEvery)
	unknown.Task = "not_here"
	bad := api("bad:spec", "weekly")
	due := []DueSchedule{api("acme:every", KindEvery), unknown, bad, cronDue}
	plans := e.plan(e.log, due, cronDue.NextRun)
	if len(plans) != 2 || plans[0].Schedule != "acme:every" || plans[1].Schedule != "acme:cron" {
		t.Fatalf("plans %+v, want acme:every and acme:cron", plans)
	}
	if p := plans[1]; !p.NextRun.Equal(time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("cron next_run %v, want 09:00 New York the next day", p.NextRun)
	}
	for _, p := range plans {
		if len(p.Runs) != 1 {
			t.Fatalf("%s: runs %+v, want 1", p.Schedule, p.Runs)
		}
		r := p.Runs[0]
		o := r.Overrides
		if r.Task != "report" || r.DisplayName != "Acme report" || r.MaxAttempts != 3 || string(r.Payload) != string(payload) ||
			o.RetryDelaySeconds == nil || *o.RetryDelaySeconds != 10 || o.RetryBackoff == nil || *o.RetryBackoff != 2 ||
			o.TimeoutSeconds == nil || *o.TimeoutSeconds != 30 {
			t.Errorf("%s: run %+v, want the row's task, name, payload, 3 attempts and overrides", p.Schedule, r)
		}
	}
	// A second plan of the same cron spec uses the cached parse.
	if n := len(e.specs.cron); n != 1 {
		t.Errorf("%d cached cron specs, want 1", n)
	}
	e.plan(e.log, []DueSchedule{cronDue}, cronDue.NextRun)
	if n := len(e.specs.cron); n != 1 {
		t.Errorf("%d cached cron specs after a second plan, want 1", n)
	}
}

// TestSpecCacheBounded: the cron cache never holds more than specCacheSize.
func TestSpecCacheBounded(t *testing.T) {
	var c specCache
	for i := range specCacheSize + 10 {
		d := DueSchedule{Kind: KindCron, Cron: fmt.Sprintf("%d %d %d * *", i%60, (i/60)%24, (i/1440)%28+1), Timezone: "UTC"}
		if _, err := c.spec(&d); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.cron); n > specCacheSize {
		t.Errorf("cache holds %d specs, more than %d", n, specCacheSize)
	}
}

// TestRunOverrides: a run's overrides replace its task's retry delay,
// backoff and timeout; nil ones leave the task's.
func TestRunOverrides(t *testing.T) {
	task := &Task{Retry: RetryPolicy{Retries: 3, Delay: time.Minute, Backoff: 2, MaxDelay: time.Hour}, Timeout: time.Hour}
	var none RunOverrides
	if p := none.retry(task); p != task.Retry || none.timeout(task) != time.Hour {
		t.Errorf("no overrides: %+v %v, want the task's", p, none.timeout(task))
	}
	d, b, to := 5.0, 3.0, 0.0
	o := RunOverrides{RetryDelaySeconds: &d, RetryBackoff: &b, TimeoutSeconds: &to}
	if p := o.retry(task); p.Delay != 5*time.Second || p.Backoff != 3 || p.Retries != 3 || p.MaxDelay != time.Hour {
		t.Errorf("overridden policy %+v", p)
	}
	if o.timeout(task) != 0 {
		t.Errorf("timeout %v, want 0 (overridden: none)", o.timeout(task))
	}
}

// TestExecutorHonoursOverrides: a run's timeout and retry delay overrides
// (from its runtime schedule) replace its task's, in the executor.
func TestExecutorHonoursOverrides(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister("slow", func(ctx context.Context, _ RunInfo) error {
		<-ctx.Done()
		return ctx.Err()
	}, Timeout(time.Hour), Retries(1), Delay(time.Hour))
	x, _ := testExecutor(reg, time.Minute, time.Second)
	timeout, delay := 0.02, 0.0
	r := claimedRun("slow", 1, 2)
	r.RunOverrides = RunOverrides{TimeoutSeconds: &timeout, RetryDelaySeconds: &delay}
	start := time.Now()
	o := runOne(x, r)
	if o.Status != StatusFailed || o.Attempt != 2 || !strings.Contains(o.Error, "20ms timeout") {
		t.Errorf("outcome %+v, want two attempts (inline retry: delay 0) each cut by the 20ms timeout", o)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v: the task's hour-long timeout was used", el)
	}
}

// TestTickRuntimeSchedule runs ticks over a runtime schedule on the fake
// store: its payload reaches the task, its retry delay override makes a
// failed attempt wait in the store (the task's own would retry inline),
// the retry claimed by a later tick keeps payload and overrides, max_runs
// completes it, and a due row of a task this process lacks neither runs
// nor blocks the claim (one row per batch).
func TestTickRuntimeSchedule(t *testing.T) {
	f := newFakeStore()
	reg := NewRegistry()
	var mu sync.Mutex
	var seen []RunInfo
	reg.MustRegister("report", func(_ context.Context, info RunInfo) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, info)
		if len(seen) == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	})
	clock := NewStubClock(tickT0)
	log, _ := testLogger()
	e, err := NewEngine(Config{Store: f, Registry: reg, Clock: clock, Logger: log, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.addAPISchedule(DueSchedule{Name: "acme", Task: "report", Kind: KindEvery, EverySeconds: 60, NextRun: tickT0,
		Payload: json.RawMessage(`{"tenant":"acme"}`), Retries: 1, Delay: 5 * time.Minute, Backoff: 1, RemainingRuns: ptrInt(2)})
	f.addAPISchedule(DueSchedule{Name: "aaa_elsewhere", Task: "not_here", Kind: KindEvery, EverySeconds: 60, NextRun: tickT0.Add(-time.Hour)})

	for m := 0; m <= 6; m++ {
		clock.Set(tickT0.Add(time.Duration(m) * time.Minute))
		if _, err := e.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if rec := f.schedule("aaa_elsewhere"); !rec.NextRun.Equal(tickT0.Add(-time.Hour)) {
		t.Errorf("the other process's schedule moved to %v", rec.NextRun)
	}
	rec := f.schedule("acme")
	if !rec.NextRun.IsZero() || rec.CompletedAt == nil || rec.RemainingRuns == nil || *rec.RemainingRuns != 0 {
		t.Errorf("acme after its 2 runs: next_run %v completed_at %v remaining %v; want done", rec.NextRun, rec.CompletedAt, deref(rec.RemainingRuns))
	}
	f.mu.Lock()
	runs := slices.Clone(f.runs)
	f.mu.Unlock()
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2 (max_runs)", len(runs))
	}
	first := runs[0]
	if first.Status != StatusSuccess || first.Attempt != 2 || string(first.Payload) != `{"tenant":"acme"}` ||
		first.RetryDelaySeconds == nil || *first.RetryDelaySeconds != 300 {
		t.Errorf("first run %+v, want success at attempt 2 with the payload and the 300 s retry delay", *first)
	}
	if len(seen) != 3 || seen[2].ID != first.ID || seen[2].Attempt != 2 || !seen[2].Slot.Equal(tickT0) {
		t.Fatalf("task saw %+v, want attempt 1 of the first slot, the second slot, then attempt 2 of the first", seen)
	}
	for _, info := range seen {
		if string(info.Payload) != `{"tenant":"acme"}` || info.Schedule != "acme" {
			t.Errorf("task saw %+v, want acme's payload", info)
		}
	}
	if seen[2].TickID == seen[0].TickID {
		t.Errorf("the retry ran in the first tick; want it stored pending for 5 minutes")
	}
}
