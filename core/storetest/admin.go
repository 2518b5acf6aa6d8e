package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// testAddTask: manual runs of a manual-only task and of a scheduled task,
// the payload reaching the task, idempotency keys, unknown tasks, and
// Trigger recording a manual run of a schedule without moving its next slot.
func testAddTask(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustRegister(t, reg, "send_email", x.task(nil), core.Retries(2), core.Name("Send e-mail"))
	mustSchedule(t, reg, "report", x.task(nil), core.Every(time.Hour))
	e := h.engine(reg)
	h.tick(e) // sync
	h.wantNextRun("report", at(time.Hour))

	payload := json.RawMessage(`{"to": "ops@example.com", "n": [1, 2.5, null], "nested": {"ok": true}}`)
	mail := addTask(t, e, core.AddTaskParams{Task: "send_email", Payload: payload})
	if mail.Source != core.SourceManual || mail.Schedule != "" || mail.Slot != nil || mail.Status != core.StatusPending ||
		mail.MaxAttempts != 3 || mail.DisplayName != "Send e-mail" || !sameJSON(mail.Payload, payload) {
		t.Errorf("enqueued manual run: %+v", mail)
	}

	keyed := addTask(t, e, core.AddTaskParams{Task: "send_email", IdempotencyKey: "invoice-42", Payload: json.RawMessage(`{"invoice":42}`)})
	again, created, err := e.AddTask(t.Context(), core.AddTaskParams{Task: "send_email", IdempotencyKey: "invoice-42", Payload: json.RawMessage(`{ "invoice": 42 }`)})
	if err != nil || created || again.ID != keyed.ID || !sameJSON(again.Payload, keyed.Payload) {
		t.Errorf("second AddTask with the same key and payload: run %d created %v err %v; want run %d, not created", again.ID, created, err, keyed.ID)
	}
	// The same key for another request is a conflict, not the first run.
	_, created, err = e.AddTask(t.Context(), core.AddTaskParams{Task: "send_email", IdempotencyKey: "invoice-42", Payload: json.RawMessage(`{"invoice":43}`)})
	wantErrIs(t, "AddTask reusing a key with another payload", err, core.ErrConflict)
	_, _, err = e.AddTask(t.Context(), core.AddTaskParams{Task: "report", IdempotencyKey: "invoice-42", Payload: json.RawMessage(`{"invoice":42}`)})
	wantErrIs(t, "AddTask reusing a key for another task", err, core.ErrConflict)

	_, _, err = e.AddTask(t.Context(), core.AddTaskParams{Task: "no_such_task"})
	wantErrIs(t, "AddTask of an unknown task", err, core.ErrNotFound)
	_, _, err = e.AddTask(t.Context(), core.AddTaskParams{Task: "send_email", Payload: json.RawMessage(`{"broken":`)})
	wantErrIs(t, "AddTask with a malformed payload", err, core.ErrInvalid)

	h.set(minutes(10))
	adhoc := addTask(t, e, core.AddTaskParams{Task: "report"})
	if adhoc.Schedule != "" || adhoc.Source != core.SourceManual {
		t.Errorf("AddTask of a scheduled task: schedule %q source %s, want a plain manual run", adhoc.Schedule, adhoc.Source)
	}
	trig, err := e.Trigger(t.Context(), "report")
	if err != nil {
		t.Fatalf("trigger: %v", err)
	}
	if trig.Source != core.SourceManual || trig.Schedule != "report" || trig.Slot != nil || trig.Status != core.StatusPending {
		t.Errorf("triggered run: source %s schedule %q slot %v status %s; want manual, report, no slot, pending", trig.Source, trig.Schedule, trig.Slot, trig.Status)
	}
	_, err = e.Trigger(t.Context(), "no_such_schedule")
	wantErrIs(t, "Trigger of an unknown schedule", err, core.ErrNotFound)
	h.wantNextRun("report", at(time.Hour))

	if n := len(h.runs(core.ListRunsParams{})); n != 4 {
		t.Errorf("%d runs stored, want 4 (failed AddTasks store nothing)", n)
	}
	rep := h.tick(e)
	if rep.Claimed != 4 || rep.Succeeded != 4 {
		t.Errorf("tick: %+v, want the 4 manual runs", rep)
	}
	for _, r := range []core.Run{mail, keyed, adhoc, trig} {
		got := h.run(r.ID)
		info, ran := x.info(r.ID)
		if got.Status != core.StatusSuccess || x.run(r.ID) != 1 || !ran {
			t.Errorf("run %d: status %s executed %d times, want one success", r.ID, got.Status, x.run(r.ID))
			continue
		}
		if info.Source != core.SourceManual || info.Schedule != r.Schedule || !info.Slot.IsZero() || info.Attempt != 1 || info.Task != r.Task {
			t.Errorf("run %d: the task saw %+v", r.ID, info)
		}
		if len(r.Payload) > 0 && !sameJSON(info.Payload, r.Payload) {
			t.Errorf("run %d: the task got payload %s, want %s", r.ID, info.Payload, r.Payload)
		}
	}
	h.wantNextRun("report", at(time.Hour))
	if runs := h.runs(core.ListRunsParams{Source: core.SourceScheduled}); len(runs) != 0 {
		t.Errorf("the trigger made %d scheduled runs, want none:\n%s", len(runs), describeRuns(runs))
	}
}

// testScheduleLock: AcquireScheduleLock is held by one engine at a time,
// re-entrant for its owner, released by its owner only, and expires by
// itself. LockParams has no Now, so expiry follows the database clock: it is
// checked with a real one-second TTL.
func testScheduleLock(t *testing.T, h *harness) {
	reg := core.NewRegistry()
	a, b := h.engine(reg), h.engine(reg)
	ctx := t.Context()
	acquire := func(e *core.Engine, key string, ttl time.Duration) bool {
		t.Helper()
		ok, err := e.AcquireScheduleLock(ctx, key, ttl)
		if err != nil {
			t.Fatalf("acquire %s: %v", key, err)
		}
		return ok
	}
	const key = "schedule:nightly_export"
	if !acquire(a, key, time.Minute) {
		t.Fatal("a could not take a free lock")
	}
	if acquire(b, key, time.Minute) {
		t.Fatal("b took a lock a holds")
	}
	if !acquire(a, key, time.Minute) {
		t.Error("a, the owner, could not take its own lock again")
	}
	if err := b.ReleaseScheduleLock(ctx, key); err != nil {
		t.Fatalf("release by a non-owner: %v", err)
	}
	if acquire(b, key, time.Minute) {
		t.Error("a release by b freed a's lock")
	}
	if !acquire(b, "schedule:other", time.Minute) {
		t.Error("b could not take an unrelated lock")
	}
	if err := a.ReleaseScheduleLock(ctx, key); err != nil {
		t.Fatalf("release: %v", err)
	}
	if !acquire(b, key, time.Minute) {
		t.Error("b could not take the lock a released")
	}

	// Two engines race for a free lock: exactly one wins.
	const raced = "schedule:raced"
	wins := make(chan bool, 2)
	for _, e := range []*core.Engine{a, b} {
		go func() {
			ok, err := e.AcquireScheduleLock(ctx, raced, time.Minute)
			wins <- ok && err == nil
		}()
	}
	if got := receive(t, "racing acquires", wins, 2); got[0] == got[1] {
		t.Errorf("racing acquires: %v, want exactly one winner", got)
	}

	// Expiry by the store's clock, which the engine's stub clock drives.
	const short = "schedule:short"
	if !acquire(a, short, time.Second) {
		t.Fatal("a could not take a free lock")
	}
	if acquire(b, short, time.Second) {
		t.Fatal("b took a live lock")
	}
	h.clock.Advance(999 * time.Millisecond)
	if acquire(b, short, time.Minute) {
		t.Fatal("b took a lock 1ms before it expires")
	}
	h.clock.Advance(time.Millisecond)
	if !acquire(b, short, time.Minute) {
		t.Fatal("b could not take a lock whose TTL has passed")
	}
	if acquire(a, short, time.Minute) {
		t.Error("a took back the lock b holds after the expiry")
	}

	for _, bad := range []struct {
		key string
		ttl time.Duration
	}{{"", time.Minute}, {"k", 0}, {"k", -time.Second}} {
		_, err := a.AcquireScheduleLock(ctx, bad.key, bad.ttl)
		wantErrIs(t, fmt.Sprintf("acquire %q for %v", bad.key, bad.ttl), err, core.ErrInvalid)
	}
}

// testPauseResume: a paused schedule is not claimed, stays paused across
// syncs, and after resuming runs once for the slots missed meanwhile.
func testPauseResume(t *testing.T, h *harness) {
	x := newExecs()
	registry := func() *core.Registry {
		reg := core.NewRegistry()
		mustSchedule(t, reg, "paused", x.task(nil), core.Every(time.Minute))
		mustSchedule(t, reg, "running", x.task(nil), core.Every(time.Minute))
		return reg
	}
	e := h.engine(registry())
	h.tick(e)
	ctx := t.Context()
	rec, err := h.store.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "paused", Paused: true, Now: h.now()})
	if err != nil || !rec.Paused || rec.Name != "paused" {
		t.Fatalf("pause: %+v, %v", rec, err)
	}
	_, err = h.store.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "no_such_schedule", Paused: true, Now: h.now()})
	wantErrIs(t, "pause an unknown schedule", err, core.ErrNotFound)

	for m := 1; m <= 3; m++ {
		h.set(minutes(m))
		h.tick(h.engine(registry())) // new processes sync: the pause is kept
	}
	if !h.schedule("paused").Paused {
		t.Fatal("a sync resumed the paused schedule")
	}
	h.wantRuns("paused")
	if n := len(h.scheduleRuns("running")); n != 3 {
		t.Errorf("the other schedule ran %d times, want 3", n)
	}
	if _, err := h.store.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "paused", Paused: false, Now: h.now()}); err != nil {
		t.Fatal(err)
	}
	h.set(minutes(4))
	h.tick(e)
	h.wantRuns("paused", runWant{at(minutes(4)), 4, core.StatusSuccess, 1}) // coalesced +1m..+4m
	h.wantNextRun("paused", at(minutes(5)))
}

// testCancelAndRetry: CancelRun cancels pending runs only; RetryRun makes a
// failed run runnable again with one more attempt; both report ErrConflict in
// other states and ErrNotFound for unknown ids.
func testCancelAndRetry(t *testing.T, h *harness) {
	x := newExecs()
	healthy := false
	reg := core.NewRegistry()
	mustRegister(t, reg, "job", x.task(func(context.Context, core.RunInfo) error {
		if !healthy {
			return errFlaky
		}
		return nil
	}))
	e := h.engine(reg)
	ctx := t.Context()

	cancelled := addTask(t, e, core.AddTaskParams{Task: "job"})
	r, err := h.store.CancelRun(ctx, core.RunActionParams{ID: cancelled.ID, Now: h.now()})
	if err != nil || r.Status != core.StatusCancelled || r.ID != cancelled.ID {
		t.Fatalf("cancel a pending run: %+v, %v", r, err)
	}
	_, err = h.store.CancelRun(ctx, core.RunActionParams{ID: cancelled.ID, Now: h.now()})
	wantErrIs(t, "cancel a cancelled run", err, core.ErrConflict)
	_, err = h.store.CancelRun(ctx, core.RunActionParams{ID: cancelled.ID + 1000, Now: h.now()})
	wantErrIs(t, "cancel an unknown run", err, core.ErrNotFound)

	failing := addTask(t, e, core.AddTaskParams{Task: "job"})
	h.set(minutes(1))
	if rep := h.tick(e); rep.Claimed != 1 || rep.Failed != 1 {
		t.Fatalf("tick: %+v, want the one pending run to fail", rep)
	}
	if x.run(cancelled.ID) != 0 || h.run(cancelled.ID).Status != core.StatusCancelled {
		t.Error("a cancelled run was executed")
	}
	_, err = h.store.CancelRun(ctx, core.RunActionParams{ID: failing.ID, Now: h.now()})
	wantErrIs(t, "cancel a failed run", err, core.ErrConflict)

	_, err = h.store.RetryRun(ctx, core.RunActionParams{ID: cancelled.ID, Now: h.now()})
	wantErrIs(t, "retry a cancelled run", err, core.ErrConflict)
	_, err = h.store.RetryRun(ctx, core.RunActionParams{ID: failing.ID + 1000, Now: h.now()})
	wantErrIs(t, "retry an unknown run", err, core.ErrNotFound)

	healthy = true
	h.set(minutes(2))
	r, err = h.store.RetryRun(ctx, core.RunActionParams{ID: failing.ID, Now: h.now()})
	if err != nil || r.Status != core.StatusPending || r.MaxAttempts != 2 || r.RunAt.After(h.now()) {
		t.Fatalf("retry a failed run: %+v, %v; want pending now with 2 attempts allowed", r, err)
	}
	if rep := h.tick(e); rep.Succeeded != 1 {
		t.Errorf("tick after the retry: %+v", rep)
	}
	r = h.run(failing.ID)
	if r.Status != core.StatusSuccess || r.Attempt != 2 || x.run(failing.ID) != 2 {
		t.Errorf("retried run: status %s attempt %d executions %d, want success on attempt 2", r.Status, r.Attempt, x.run(failing.ID))
	}
	_, err = h.store.RetryRun(ctx, core.RunActionParams{ID: failing.ID, Now: h.now()})
	wantErrIs(t, "retry a successful run", err, core.ErrConflict)
	_, err = h.store.CancelRun(ctx, core.RunActionParams{ID: failing.ID, Now: h.now()})
	wantErrIs(t, "cancel a successful run", err, core.ErrConflict)
}

// testListRuns: every filter returns exactly the matching runs, newest
// first, and the cursor pages through them without gaps or repeats.
func testListRuns(t *testing.T, h *harness) {
	reg := core.NewRegistry()
	mustRegister(t, reg, "ok", func(context.Context, core.RunInfo) error { return nil })
	mustRegister(t, reg, "bad", func(context.Context, core.RunInfo) error { return errFlaky })
	mustSchedule(t, reg, "tick_tock", func(context.Context, core.RunInfo) error { return nil }, core.Every(time.Minute))
	e := h.engine(reg)
	h.tick(e)
	for i := range 7 {
		addTask(t, e, core.AddTaskParams{Task: "ok"})
		if i%2 == 0 {
			addTask(t, e, core.AddTaskParams{Task: "bad"})
		}
		if i%3 == 0 {
			if _, err := e.Trigger(t.Context(), "tick_tock"); err != nil {
				t.Fatal(err)
			}
		}
		h.set(minutes(i + 1))
		h.tick(e)
	}
	addTask(t, e, core.AddTaskParams{Task: "ok"}) // one left pending

	all := h.runs(core.ListRunsParams{})
	if len(all) != 7+4+3+7+1 {
		t.Fatalf("%d runs, want 22", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("runs not newest first: id %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	for _, r := range all {
		// A pending trigger of the schedule is not an overlapping run.
		if r.Source == core.SourceScheduled && r.Status != core.StatusSuccess {
			t.Errorf("scheduled run %d: status %s (%s), want success", r.ID, r.Status, r.Error)
		}
	}
	_, err := h.store.GetRun(t.Context(), all[0].ID+1000)
	wantErrIs(t, "get an unknown run", err, core.ErrNotFound)

	filters := []struct {
		name  string
		p     core.ListRunsParams
		match func(core.Run) bool
	}{
		{"status failed", core.ListRunsParams{Status: core.StatusFailed}, func(r core.Run) bool { return r.Status == core.StatusFailed }},
		{"status pending", core.ListRunsParams{Status: core.StatusPending}, func(r core.Run) bool { return r.Status == core.StatusPending }},
		{"source manual", core.ListRunsParams{Source: core.SourceManual}, func(r core.Run) bool { return r.Source == core.SourceManual }},
		{"source scheduled", core.ListRunsParams{Source: core.SourceScheduled}, func(r core.Run) bool { return r.Source == core.SourceScheduled }},
		{"task ok", core.ListRunsParams{Task: "ok"}, func(r core.Run) bool { return r.Task == "ok" }},
		{"schedule", core.ListRunsParams{Schedule: "tick_tock"}, func(r core.Run) bool { return r.Schedule == "tick_tock" }},
		{"schedule and source manual", core.ListRunsParams{Schedule: "tick_tock", Source: core.SourceManual},
			func(r core.Run) bool { return r.Schedule == "tick_tock" && r.Source == core.SourceManual }},
		{"task and status", core.ListRunsParams{Task: "ok", Status: core.StatusSuccess},
			func(r core.Run) bool { return r.Task == "ok" && r.Status == core.StatusSuccess }},
		{"no match", core.ListRunsParams{Task: "no_such_task"}, func(core.Run) bool { return false }},
	}
	for _, f := range filters {
		var want []int64
		for _, r := range all {
			if f.match(r) {
				want = append(want, r.ID)
			}
		}
		if f.name != "no match" && len(want) == 0 {
			t.Fatalf("filter %s: the fixture has no matching run", f.name)
		}
		for _, limit := range []int{3, 500} {
			var got []int64
			p := f.p
			p.Limit = limit
			for page := 0; ; page++ {
				rs, err := h.store.ListRuns(t.Context(), p)
				if err != nil {
					t.Fatalf("filter %s: %v", f.name, err)
				}
				if len(rs) > limit {
					t.Fatalf("filter %s: page of %d runs, limit %d", f.name, len(rs), limit)
				}
				for _, r := range rs {
					got = append(got, r.ID)
				}
				if len(rs) < limit || page > 100 {
					break
				}
				p.BeforeID = rs[len(rs)-1].ID
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("filter %s, limit %d: ids %v, want %v", f.name, limit, got, want)
			}
		}
	}
	if rs, err := h.store.ListRuns(t.Context(), core.ListRunsParams{}); err != nil || len(rs) != 22 {
		t.Errorf("default limit: %d runs, %v; want all 22 (default 50)", len(rs), err)
	}

	ticks, err := h.store.ListTicks(t.Context(), 3)
	if err != nil || len(ticks) != 3 || !ticks[0].StartedAt.Equal(at(minutes(7))) || ticks[0].FinishedAt == nil {
		t.Errorf("ListTicks(3): %+v, %v; want 3, the newest at +7m and finished", ticks, err)
	}
}

// testBadText: text PostgreSQL cannot store (a NUL, invalid UTF-8, a \u0000
// escape in a JSON payload) is refused by the Engine with a ValidationError
// on every dialect, and nothing is written; so are such filters and names.
func testBadText(t *testing.T, h *harness) {
	reg := core.NewRegistry()
	mustRegister(t, reg, "send_email", func(context.Context, core.RunInfo) error { return nil })
	mustSchedule(t, reg, "report", func(context.Context, core.RunInfo) error { return nil }, core.Every(time.Hour))
	e := h.engine(reg)
	h.tick(e) // sync
	bad := map[string]core.AddTaskParams{
		"NUL in task":            {Task: "send_email\x00"},
		"bad byte in task":       {Task: "send_email\xff"},
		"NUL in key":             {Task: "send_email", IdempotencyKey: "k\x00"},
		"bad byte in key":        {Task: "send_email", IdempotencyKey: "k\xc3"},
		"escaped NUL in payload": {Task: "send_email", Payload: json.RawMessage(`{"to":"a\u0000b"}`)},
		"bad byte in payload":    {Task: "send_email", Payload: json.RawMessage("{\"to\":\"\xff\"}")},
	}
	for name, p := range bad {
		_, _, err := e.AddTask(t.Context(), p)
		var ve *core.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err %v, want a ValidationError", name, err)
		}
	}
	for name, p := range map[string]core.ListRunsParams{
		"task filter":     {Task: "send_email\x00"},
		"schedule filter": {Schedule: "report\xff"},
	} {
		_, err := e.ListRuns(t.Context(), p)
		wantErrIs(t, name, err, core.ErrInvalid)
	}
	_, err := e.Schedule(t.Context(), "report\x00")
	wantErrIs(t, "Schedule with a NUL", err, core.ErrInvalid)
	_, err = e.Trigger(t.Context(), "report\x00")
	wantErrIs(t, "Trigger with a NUL", err, core.ErrInvalid)
	if n := len(h.runs(core.ListRunsParams{})); n != 0 {
		t.Errorf("%d runs stored by refused requests, want none", n)
	}
	// Text outside ASCII that is valid is stored and read back unchanged.
	r := addTask(t, e, core.AddTaskParams{Task: "send_email", IdempotencyKey: "clé-✓", Payload: json.RawMessage(`{"to":"Zoë ✓ 日本"}`)})
	if got := h.run(r.ID); got.IdempotencyKey != "clé-✓" || !sameJSON(got.Payload, []byte(`{"to":"Zoë ✓ 日本"}`)) {
		t.Errorf("stored run: key %q payload %s", got.IdempotencyKey, got.Payload)
	}
}

// testDelayedRun: a run added with RunAt or Delay waits, pending, until its
// instant: no tick claims it before, the first tick at or after it does.
func testDelayedRun(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustRegister(t, reg, "later", x.task(nil))
	e := h.engine(reg)
	at5 := addTask(t, e, core.AddTaskParams{Task: "later", RunAt: at(minutes(5))})
	in10 := addTask(t, e, core.AddTaskParams{Task: "later", Delay: 10 * time.Minute})
	if !at5.RunAt.Equal(at(minutes(5))) || !in10.RunAt.Equal(at(minutes(10))) || at5.Status != core.StatusPending {
		t.Fatalf("added runs: %+v, %+v; want pending at +5m and +10m", at5, in10)
	}
	for _, step := range []struct {
		m    int
		want [2]core.Status
	}{
		{0, [2]core.Status{core.StatusPending, core.StatusPending}},
		{4, [2]core.Status{core.StatusPending, core.StatusPending}},
		{5, [2]core.Status{core.StatusSuccess, core.StatusPending}},
		{9, [2]core.Status{core.StatusSuccess, core.StatusPending}},
		{10, [2]core.Status{core.StatusSuccess, core.StatusSuccess}},
	} {
		h.set(minutes(step.m))
		h.tick(e)
		if a, b := h.run(at5.ID).Status, h.run(in10.ID).Status; a != step.want[0] || b != step.want[1] {
			t.Errorf("after the tick at +%dm: statuses %s, %s; want %s, %s", step.m, a, b, step.want[0], step.want[1])
		}
	}
	if x.run(at5.ID) != 1 || x.run(in10.ID) != 1 {
		t.Errorf("executions %d, %d; want 1 each", x.run(at5.ID), x.run(in10.ID))
	}
}
