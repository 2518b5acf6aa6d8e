package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// testRetention checks Config.Retention and Store.PruneRuns: ticks delete
// old finished runs by age (failed runs kept longer) within their budget,
// never a pending or running run nor a schedule's latest run, and a pruned
// slot is never claimed again.
func testRetention(t *testing.T, h *harness) {
	ctx := t.Context()
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "ok", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireSkip))
	mustSchedule(t, reg, "bad", x.task(func(context.Context, core.RunInfo) error { return errFlaky }), core.Every(time.Minute))
	mustSchedule(t, reg, "held", x.task(nil), core.Every(time.Minute))
	mustRegister(t, reg, "manual", x.task(nil))
	keep := func(c *core.Config) {
		c.Retention = core.Retention{Runs: core.RetainForever, FailedRuns: core.RetainForever}
	}
	setup := h.engine(reg, keep)

	// +1m, +2m: ok succeeds, bad fails, held succeeds; then held is paused,
	// so its +2m run stays its latest. +10m: ok records a skipped block
	// (+3m..+9m) and a run, bad one coalesced failure.
	h.tick(setup)
	for _, m := range []int{1, 2} {
		h.set(minutes(m))
		h.tick(setup)
	}
	if _, err := h.store.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "held", Paused: true, Now: h.now()}); err != nil {
		t.Fatal(err)
	}
	h.set(minutes(10))
	if rep := h.tick(setup); rep.Skipped != 1 || rep.PrunedRuns != 0 {
		t.Fatalf("tick at +10m: %+v, want 1 skipped block and nothing pruned (RetainForever)", rep)
	}
	far := at(1000 * time.Hour)
	pending := addTask(t, setup, core.AddTaskParams{Task: "manual", RunAt: far})
	cancelled := addTask(t, setup, core.AddTaskParams{Task: "manual", RunAt: far})
	if _, err := h.store.CancelRun(ctx, core.RunActionParams{ID: cancelled.ID, Now: h.now()}); err != nil {
		t.Fatal(err)
	}
	// A running run of a task no engine here registers: no tick touches it.
	running, _, err := h.store.InsertRun(ctx, core.InsertRunParams{Now: h.now(), Task: "elsewhere", Source: core.SourceManual, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.store.ClaimRuns(ctx, core.ClaimRunsParams{Now: h.now(), TickID: "tick_elsewhere", Limit: 1, LeaseUntil: at(2000 * time.Hour), Tasks: []string{"elsewhere"}}); err != nil || len(res.Runs) != 1 {
		t.Fatalf("claim the elsewhere run: %+v, %v", res, err)
	}

	okSlots := slots(h.scheduleRuns("ok"))   // +1m, +2m, +9m (skipped), +10m
	badSlots := slots(h.scheduleRuns("bad")) // +1m, +2m, +10m
	heldRuns := h.scheduleRuns("held")       // +1m, +2m
	if len(okSlots) != 4 || len(badSlots) != 3 || len(heldRuns) != 2 {
		t.Fatalf("setup: ok %v, bad %v, held %d runs", okSlots, badSlots, len(heldRuns))
	}

	// Two hours later: successes, skips and cancels older than 1 hour go,
	// at most the budget of 2 per tick, twice the runs the tick wrote
	// (core.PruneWritesFactor) or twice the previous limit after a prune
	// that used it all; failures (kept 3 hours) stay; held's +2m run stays (its
	// latest), its +1m run goes.
	const budget = 2
	e := h.engine(reg, func(c *core.Config) {
		c.Retention = core.Retention{Runs: time.Hour, FailedRuns: 3 * time.Hour, Budget: budget}
	})
	h.set(2 * time.Hour)
	total, catchup := 0, 0
	for i := range 10 {
		rep := h.tick(e) // every tick does work: ok and bad are due each minute
		limit := max(budget, core.PruneWritesFactor*(rep.Claimed+rep.Skipped), catchup)
		if rep.PrunedRuns > limit {
			t.Fatalf("tick %d pruned %d runs, over its limit of %d (%+v)", i, rep.PrunedRuns, limit, rep)
		}
		catchup = 0
		if rep.PrunedRuns == limit { // a backlog: the next may prune twice as many
			catchup = 2 * limit
		}
		if want := min(limit, 6); i == 0 && rep.PrunedRuns != want {
			t.Fatalf("first pruning tick pruned %d, want %d (its limit %d, or all 6)", rep.PrunedRuns, want, limit)
		}
		total += rep.PrunedRuns
		h.set(2*time.Hour + minutes(i+1))
	}
	// ok: +1m, +2m, +9m, +10m; held: +1m; the cancelled manual run.
	if total != 6 {
		t.Errorf("pruned %d runs in all, want 6", total)
	}
	for _, id := range []int64{pending.ID, running.ID} {
		if _, err := h.store.GetRun(ctx, id); err != nil {
			t.Errorf("run %d (pending or running) was pruned: %v", id, err)
		}
	}
	if _, err := h.store.GetRun(ctx, cancelled.ID); err == nil {
		t.Error("the old cancelled run was kept")
	}
	if got := h.scheduleRuns("held"); len(got) != 1 || got[0].ID != heldRuns[1].ID {
		t.Errorf("held runs after pruning: %s; want only its latest (+2m)", describeRuns(got))
	}
	for _, r := range h.scheduleRuns("ok") {
		if r.Slot.Before(at(minutes(11))) {
			t.Errorf("ok's old run kept: %+v", r)
		}
	}
	if got := slots(h.scheduleRuns("bad")); !containsAll(got, badSlots) {
		t.Errorf("bad's failed runs (kept 3 hours) were pruned: %v, want %v kept", got, badSlots)
	}

	// Past 3 hours the failures go as well, but bad's latest stays.
	for i := range 20 {
		h.set(6*time.Hour + minutes(i))
		h.tick(e)
	}
	if got := slots(h.scheduleRuns("bad")); containsAny(got, badSlots) {
		t.Errorf("bad's old failures kept: %v", got)
	}

	// A pruned slot is never claimed again: next_run is past it. held,
	// resumed, records its missed slots after +2m, never +1m again.
	if _, err := h.store.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "held", Paused: false, Now: h.now()}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ok", "held"} {
		if next := h.schedule(name).NextRun; !next.After(at(minutes(2))) {
			t.Errorf("%s: next_run %v, not past its pruned slots", name, next)
		}
	}
	h.set(7 * time.Hour)
	h.tick(e)
	for name, pruned := range map[string][]time.Time{"ok": okSlots, "held": {*heldRuns[0].Slot}} {
		if got := slots(h.scheduleRuns(name)); containsAny(got, pruned) {
			t.Errorf("%s: a pruned slot was claimed again: runs at %v, pruned %v", name, got, pruned)
		}
	}
	if x.slot("held", *heldRuns[0].Slot) != 1 {
		t.Errorf("held's pruned +1m slot ran %d times, want once", x.slot("held", *heldRuns[0].Slot))
	}

	// Store level, with cut-offs past everything: only final runs that are
	// not their schedule's latest go; pending and running stay.
	if _, err := h.store.PruneRuns(ctx, core.PruneRunsParams{Now: h.now(), FinishedBefore: far, FailedBefore: far, Limit: 100000}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ok", "bad", "held"} {
		rs := h.scheduleRuns(name)
		if len(rs) != 1 {
			t.Errorf("%s after pruning everything: %s; want its latest run only", name, describeRuns(rs))
		}
	}
	for _, id := range []int64{pending.ID, running.ID} {
		if r := h.run(id); r.Status != core.StatusPending && r.Status != core.StatusRunning {
			t.Errorf("run %d: %s", id, r.Status)
		}
	}
	if n, err := h.store.PruneRuns(ctx, core.PruneRunsParams{Now: h.now(), FinishedBefore: far, FailedBefore: far, Limit: 10}); err != nil || n != 0 {
		t.Errorf("prune again: %d, %v; want nothing left", n, err)
	}
}

// slots returns the runs' slots.
func slots(rs []core.Run) []time.Time {
	out := make([]time.Time, 0, len(rs))
	for _, r := range rs {
		if r.Slot != nil {
			out = append(out, *r.Slot)
		}
	}
	return out
}

func containsAny(got, want []time.Time) bool {
	for _, w := range want {
		for _, g := range got {
			if g.Equal(w) {
				return true
			}
		}
	}
	return false
}

func containsAll(got, want []time.Time) bool {
	for _, w := range want {
		if !containsAny(got, []time.Time{w}) {
			return false
		}
	}
	return true
}
