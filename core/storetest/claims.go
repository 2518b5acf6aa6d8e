package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// testClaimDue drives Store.ClaimDue directly: the rows handed to Plan, the
// limit, rows Plan leaves out staying unchanged, a stale plan's slot that is
// already recorded counted as a conflict and not inserted, and a concurrent
// claim never taking rows another claim holds.
func testClaimDue(t *testing.T, h *harness) {
	reg := core.NewRegistry()
	for _, name := range []string{"a", "b", "c"} {
		mustSchedule(t, reg, name, func(context.Context, core.RunInfo) error { return nil }, core.Every(time.Minute))
	}
	if _, err := h.engine(reg).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	sa, _ := reg.ScheduleByName("a")
	ctx := t.Context()
	lease := at(minutes(10))
	running := func(name string, slot time.Time) core.PlannedRun {
		return core.PlannedRun{Schedule: name, Task: name, DisplayName: name, Slot: slot, SlotsCovered: 1,
			Status: core.StatusRunning, RunAt: h.now(), MaxAttempts: 1}
	}

	// Limit 2 of 3 due rows; Plan decides for "a" only.
	h.set(minutes(1))
	var seen []core.DueSchedule
	res, err := h.store.ClaimDue(ctx, core.ClaimDueParams{
		Now: h.now(), TickID: "tick_direct_1", Limit: 2, LeaseUntil: lease,
		Plan: func(due []core.DueSchedule) []core.SchedulePlan {
			seen = append(seen, due...)
			return []core.SchedulePlan{{Schedule: "a", NextRun: at(minutes(2)), Runs: []core.PlannedRun{running("a", at(minutes(1)))}}}
		},
	})
	if err != nil {
		t.Fatalf("claim due: %v", err)
	}
	if res.Claimed != 2 || len(seen) != 2 {
		t.Fatalf("claimed %d, plan saw %d rows; want the limit of 2", res.Claimed, len(seen))
	}
	for _, d := range seen {
		if d.Name == "a" && (d.SpecHash != sa.SpecHash() || !d.NextRun.Equal(at(minutes(1))) || d.Active) {
			t.Errorf("due row handed to Plan: %+v", d)
		}
	}
	if !containsName(seen, "a") {
		// The claim order is next_run then name: "a" comes first.
		t.Fatalf("plan saw %+v, want a among the first two", seen)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("inserted %d runs, want 1", len(res.Runs))
	}
	r := res.Runs[0]
	if r.Schedule != "a" || r.Status != core.StatusRunning || r.Attempt != 1 || r.TickID != "tick_direct_1" ||
		r.LeaseUntil == nil || !r.LeaseUntil.Equal(lease) || r.Slot == nil || !r.Slot.Equal(at(minutes(1))) || r.ID == 0 {
		t.Errorf("inserted run: %+v", r)
	}
	h.wantNextRun("a", at(minutes(2)))
	h.wantNextRun("b", at(minutes(1)))
	h.wantNextRun("c", at(minutes(1)))

	// A stale plan re-plans the recorded slot: a conflict, not a second row.
	h.set(minutes(2))
	res, err = h.store.ClaimDue(ctx, core.ClaimDueParams{
		Now: h.now(), TickID: "tick_direct_2", Limit: 10, LeaseUntil: lease,
		Plan: func(due []core.DueSchedule) []core.SchedulePlan {
			if len(due) != 3 {
				t.Errorf("plan saw %d due rows, want 3", len(due))
			}
			for _, d := range due {
				if d.Name == "a" && !d.Active {
					t.Errorf("a has a running run under a live lease, but Active is false")
				}
			}
			return []core.SchedulePlan{{Schedule: "a", NextRun: at(minutes(3)), Runs: []core.PlannedRun{
				running("a", at(minutes(1))), running("a", at(minutes(2))),
			}}}
		},
	})
	if err != nil {
		t.Fatalf("claim due: %v", err)
	}
	if res.Conflicts != 1 || len(res.Runs) != 1 || !res.Runs[0].Slot.Equal(at(minutes(2))) {
		t.Errorf("stale plan: conflicts %d, runs %+v; want 1 conflict and the +2m run inserted", res.Conflicts, res.Runs)
	}
	if n := len(h.scheduleRuns("a")); n != 2 {
		t.Errorf("a has %d runs, want 2", n)
	}
	h.wantNextRun("a", at(minutes(3)))
	h.wantNextRun("b", at(minutes(1)))

	// Two claims at once: the second never gets the rows the first holds.
	var (
		inPlan  = make(chan struct{})
		release = make(chan struct{})
		wg      sync.WaitGroup
		first   core.ClaimDueResult
		second  core.ClaimDueResult
		errs    [2]error
		planned [2]int
	)
	plan := func(i int, wait bool) func([]core.DueSchedule) []core.SchedulePlan {
		return func(due []core.DueSchedule) []core.SchedulePlan {
			planned[i] = len(due)
			if wait {
				close(inPlan)
				<-release
			}
			out := make([]core.SchedulePlan, len(due))
			for j, d := range due {
				out[j] = core.SchedulePlan{Schedule: d.Name, NextRun: at(minutes(3)),
					Runs: []core.PlannedRun{running(d.Name, at(minutes(2)))}}
			}
			return out
		}
	}
	wg.Go(func() {
		first, errs[0] = h.store.ClaimDue(ctx, core.ClaimDueParams{Now: h.now(), TickID: "tick_first", Limit: 10, LeaseUntil: lease, Plan: plan(0, true)})
	})
	<-inPlan // the first claim holds b and c
	secondDone := make(chan struct{})
	wg.Go(func() {
		defer close(secondDone)
		second, errs[1] = h.store.ClaimDue(ctx, core.ClaimDueParams{Now: h.now(), TickID: "tick_second", Limit: 10, LeaseUntil: lease, Plan: plan(1, false)})
	})
	// A store with row locks (SKIP LOCKED) answers at once; one that
	// serializes writers waits for the first claim. Either way the second
	// claim must find nothing; the bound only lets a serializing store go on.
	select {
	case <-secondDone:
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent claims: %v, %v", errs[0], errs[1])
	}
	if first.Claimed != 2 || len(first.Runs) != 2 || planned[0] != 2 {
		t.Errorf("first claim: claimed %d, %d runs; want b and c", first.Claimed, len(first.Runs))
	}
	if second.Claimed != 0 || len(second.Runs) != 0 || second.Conflicts != 0 || planned[1] != 0 {
		t.Errorf("second claim: claimed %d, runs %d, conflicts %d, plan saw %d; want nothing", second.Claimed, len(second.Runs), second.Conflicts, planned[1])
	}
	for _, name := range []string{"b", "c"} {
		h.wantNextRun(name, at(minutes(3)))
		if rs := h.scheduleRuns(name); len(rs) != 1 || rs[0].TickID != "tick_first" {
			t.Errorf("%s: want one run, by the first claim:\n%s", name, describeRuns(rs))
		}
	}
}

func containsName(due []core.DueSchedule, name string) bool {
	for _, d := range due {
		if d.Name == name {
			return true
		}
	}
	return false
}
