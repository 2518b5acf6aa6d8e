package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// errInjected is the failure faultStore injects.
var errInjected = errors.New("injected database failure")

// faultStore wraps a store and fails chosen calls, as a database that goes
// away would.
type faultStore struct {
	core.Store

	mu        sync.Mutex
	claimDue  int // ClaimDue calls so far
	failClaim int // fail this ClaimDue call (1-based) before it reaches the store
	// breakClaim: on this ClaimDue call, cancel the statement's context
	// inside Plan, i.e. in the middle of the claim transaction.
	breakClaim int
	failFinish bool // fail every FinishRuns
}

func (f *faultStore) ClaimDue(ctx context.Context, p core.ClaimDueParams) (core.ClaimDueResult, error) {
	f.mu.Lock()
	f.claimDue++
	n := f.claimDue
	fail, brk := n == f.failClaim, n == f.breakClaim
	f.mu.Unlock()
	if fail {
		return core.ClaimDueResult{}, fmt.Errorf("claim due (call %d): %w", n, errInjected)
	}
	if brk {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		plan := p.Plan
		p.Plan = func(due []core.DueSchedule) []core.SchedulePlan {
			out := plan(due)
			cancel() // the connection drops after the rows were locked and planned
			return out
		}
		res, err := f.Store.ClaimDue(cctx, p)
		if err == nil {
			return res, fmt.Errorf("claim due (call %d): the store ignored its cancelled context and committed %d runs", n, len(res.Runs))
		}
		return res, err
	}
	return f.Store.ClaimDue(ctx, p)
}

func (f *faultStore) FinishRuns(ctx context.Context, p core.FinishRunsParams) (int, error) {
	f.mu.Lock()
	fail := f.failFinish
	f.mu.Unlock()
	if fail {
		return 0, fmt.Errorf("finish runs: %w", errInjected)
	}
	return f.Store.FinishRuns(ctx, p)
}

// set clears every fault and the call count, then lets fn set new faults.
func (f *faultStore) set(fn func(f *faultStore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claimDue, f.failClaim, f.breakClaim, f.failFinish = 0, 0, 0, false
	fn(f)
}

// testStoreFaults: a tick whose claim fails returns the error and changes
// nothing; a claim transaction broken in its middle leaves each schedule
// either fully advanced with its run recorded or untouched; the next tick
// recovers and every slot runs exactly once. A failure to record outcomes
// fails the tick and the runs are recovered through their lease.
func testStoreFaults(t *testing.T, h *harness) {
	const n, batch = 30, 10
	x := newExecs()
	reg := core.NewRegistry()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("job%02d", i)
		mustSchedule(t, reg, names[i], x.task(nil), core.Every(time.Minute))
	}
	mustRegister(t, reg, "manual", x.task(nil), core.Retries(1))
	fs := &faultStore{Store: h.store}
	e := h.engineOn(fs, reg, func(c *core.Config) { c.BatchSize = batch })
	h.tick(e) // t0: sync

	untouched := func(when string) {
		t.Helper()
		for _, name := range names {
			if rs := h.scheduleRuns(name); len(rs) != 0 {
				t.Errorf("%s: %s has runs:\n%s", when, name, describeRuns(rs))
			}
			h.wantNextRun(name, at(minutes(1)))
		}
		if x.total.Load() != 0 {
			t.Errorf("%s: %d executions", when, x.total.Load())
		}
	}

	// 1. The first claim statement fails: the tick reports it, nothing moved.
	h.set(minutes(1))
	fs.set(func(f *faultStore) { f.failClaim = 1 })
	rep, err := e.Tick(t.Context())
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "claim due") || rep.Error == "" {
		t.Errorf("tick with a failing claim: err %v, report error %q; want the injected claim error", err, rep.Error)
	}
	untouched("after a failed claim")

	// 2. The second batch's transaction breaks after its rows were locked.
	fs.set(func(f *faultStore) { f.breakClaim = 2 })
	rep, err = e.Tick(t.Context())
	if err == nil || !strings.Contains(err.Error(), "claim due") {
		t.Errorf("tick with a broken claim transaction: err %v, want a claim error", err)
	}
	var advanced, kept int
	for _, name := range names {
		s, rs := h.schedule(name), h.scheduleRuns(name)
		switch {
		case s.NextRun.Equal(at(minutes(2))) && len(rs) == 1 && rs[0].Slot != nil && rs[0].Slot.Equal(at(minutes(1))) && rs[0].Status == core.StatusSuccess:
			advanced++
		case s.NextRun.Equal(at(minutes(1))) && len(rs) == 0:
			kept++
		default:
			t.Errorf("%s half-advanced: next_run %v, runs:\n%s", name, s.NextRun, describeRuns(rs))
		}
	}
	if advanced != batch || kept != n-batch {
		t.Errorf("after a broken second batch: %d advanced, %d untouched; want %d and %d", advanced, kept, batch, n-batch)
	}
	if rep.Succeeded != batch {
		t.Errorf("the broken tick ran %d runs of its first batch, want %d", rep.Succeeded, batch)
	}

	// 3. The next ticks recover: every slot exactly once.
	fs.set(func(*faultStore) {})
	if rep := h.tick(e); rep.Succeeded != n-batch {
		t.Errorf("recovery tick: %+v, want the %d untouched schedules run", rep, n-batch)
	}
	h.set(minutes(2))
	h.tick(e)
	for _, name := range names {
		h.wantRuns(name,
			runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
			runWant{at(minutes(2)), 1, core.StatusSuccess, 1})
		for _, m := range []int{1, 2} {
			if c := x.slot(name, at(minutes(m))); c != 1 {
				t.Errorf("%s slot +%dm executed %d times, want 1", name, m, c)
			}
		}
		h.wantNextRun(name, at(minutes(3)))
	}

	// 4. Outcomes cannot be recorded: the tick fails, the run stays leased,
	// and after the lease a tick runs it again.
	run := addTask(t, e, core.AddTaskParams{Task: "manual"})
	fs.set(func(f *faultStore) { f.failFinish = true })
	rep, err = e.Tick(t.Context())
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "record outcomes") {
		t.Errorf("tick whose outcomes fail to record: err %v, want the injected error", err)
	}
	r := h.run(run.ID)
	if r.Status != core.StatusRunning || r.LeaseUntil == nil {
		t.Fatalf("unrecorded run: status %s lease %v, want running under its lease", r.Status, r.LeaseUntil)
	}
	fs.set(func(*faultStore) {})
	h.clock.Set(r.LeaseUntil.Add(time.Second))
	rep = h.tick(e)
	if rep.Interrupted != 1 {
		t.Errorf("tick after the lease: %+v, want the run recovered", rep)
	}
	r = h.run(run.ID)
	if r.Status != core.StatusSuccess || r.Attempt != 2 || r.Interruptions != 1 || x.run(run.ID) != 2 {
		t.Errorf("recovered run: status %s attempt %d interruptions %d executions %d; want success, 2, 1, 2",
			r.Status, r.Attempt, r.Interruptions, x.run(run.ID))
	}
}
