package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var tickT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// testClaimer returns a claimer over f claiming limit rows per batch, with
// a minute left before its deadline, a plan that runs each due schedule's
// slot (skips it for names starting with "skip", defers it to now for names
// starting with "jitter") and a start that collects the runs.
func testClaimer(t *testing.T, f *fakeStore, limit int) (*claimer, *[]Run, *logBuffer) {
	t.Helper()
	reg := NewRegistry()
	reg.MustRegister("t", func(context.Context, RunInfo) error { return nil })
	log, buf := testLogger()
	started := &[]Run{}
	c := &claimer{
		store: f, reg: reg, log: log, tally: &tally{},
		time:   tickTime{now: tickT0, start: time.Now(), deadline: time.Now().Add(time.Minute), margin: time.Second},
		tickID: "tick_1", limit: limit, leaseUntil: tickT0.Add(time.Minute),
		start: func(r Run) { *started = append(*started, r) },
	}
	task, _ := reg.Task("t")
	c.plan = func(due []DueSchedule, b *batchPlan) {
		out := make([]SchedulePlan, len(due))
		b.tasks = make([]*Task, len(due))
		for i, d := range due {
			b.tasks[i] = task
			pr := PlannedRun{Schedule: d.Name, Task: "t", Slot: d.NextRun, SlotsCovered: 1, Status: StatusRunning, RunAt: tickT0, MaxAttempts: 1}
			switch {
			case strings.HasPrefix(d.Name, "skip"):
				pr.Status, pr.Error = StatusSkipped, "overlap"
			case strings.HasPrefix(d.Name, "jitter"):
				pr.Status = StatusPending
			}
			out[i] = SchedulePlan{Schedule: d.Name, NextRun: d.NextRun.Add(time.Minute), Runs: []PlannedRun{pr}}
		}
		b.plans = out
	}
	return c, started, buf
}

func addDue(f *fakeStore, n int) {
	for i := range n {
		f.addSchedule(fmt.Sprintf("s%02d", i), "t", "h", tickT0)
	}
}

// TestClaimerDueBatchesUntilShort: batches stop at a short one, or once
// they claimed what BeginTick counted; after a sync (which may have made
// more schedules due) or when others were made due after the count, only
// at a short or empty batch.
func TestClaimerDueBatchesUntilShort(t *testing.T) {
	for _, tc := range []struct {
		due, counted, limit, calls int
		resynced                   bool
	}{
		{due: 5, counted: 5, limit: 2, calls: 3},                 // 2, 2, 1 (short)
		{due: 4, counted: 4, limit: 2, calls: 2},                 // 2, 2: all counted
		{due: 4, counted: 4, limit: 2, calls: 3, resynced: true}, // 2, 2, 0 (empty)
		{due: 4, counted: 0, limit: 2, calls: 3, resynced: true}, // the sync made them due
		{due: 6, counted: 4, limit: 2, calls: 2},                 // 2 more due after the count: next tick
		{due: 1, counted: 1, limit: 10, calls: 1},
	} {
		t.Run(fmt.Sprintf("%d counted %d by %d resynced %v", tc.due, tc.counted, tc.limit, tc.resynced), func(t *testing.T) {
			f := newFakeStore()
			addDue(f, tc.due)
			c, started, _ := testClaimer(t, f, tc.limit)
			c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: tc.counted}, tc.resynced)
			want := min(tc.due, tc.calls*tc.limit)
			if got := f.count("ClaimDue"); got != tc.calls {
				t.Errorf("ClaimDue calls %d, want %d", got, tc.calls)
			}
			if got := f.count("ClaimRuns"); got != 0 {
				t.Errorf("ClaimRuns calls %d, want 0 (nothing runnable)", got)
			}
			rep, err := c.tally.result()
			if len(*started) != want || rep.Claimed != want || err != nil {
				t.Errorf("started %d, claimed %d, err %v; want %d, %d, nil", len(*started), rep.Claimed, err, want, want)
			}
		})
	}
}

// TestClaimerDueTaskFilter: the claims filter by the registered tasks
// unless BeginTick saw every due schedule to be of them; a filtered claim
// leaves another task's due schedule alone, an unfiltered one would lock it.
func TestClaimerDueTaskFilter(t *testing.T) {
	for _, allOwn := range []bool{false, true} {
		t.Run(fmt.Sprintf("all own %v", allOwn), func(t *testing.T) {
			f := newFakeStore()
			addDue(f, 3)
			c, started, _ := testClaimer(t, f, 10)
			c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 3, DueAllOwnTasks: allOwn}, false)
			if len(f.dueTasks) != 1 {
				t.Fatalf("ClaimDue calls %d, want 1", len(f.dueTasks))
			}
			got := f.dueTasks[0]
			if allOwn && got != nil {
				t.Errorf("all due schedules own: claimed with task filter %v, want none", got)
			}
			if !allOwn && (len(got) != 1 || got[0] != "t") {
				t.Errorf("another task's schedule due: claimed with task filter %v, want [t]", got)
			}
			if len(*started) != 3 {
				t.Errorf("started %d runs, want 3", len(*started))
			}
		})
	}
}

func TestClaimerRunsBatchesUntilShort(t *testing.T) {
	f := newFakeStore()
	for range 5 {
		f.addRun(Run{Task: "t", Status: StatusPending, RunAt: tickT0, MaxAttempts: 1})
	}
	f.addRun(Run{Task: "other", Status: StatusPending, RunAt: tickT0, MaxAttempts: 1}) // not registered here
	f.addRun(Run{Task: "t", Status: StatusPending, RunAt: tickT0.Add(time.Second), MaxAttempts: 1})
	c, started, _ := testClaimer(t, f, 2)
	c.claim(context.Background(), TickStart{Now: tickT0, RunnableRuns: 6}, false)
	if got := f.count("ClaimRuns"); got != 3 {
		t.Errorf("ClaimRuns calls %d, want 3 (2, 2, 1)", got)
	}
	if got := f.count("ClaimDue"); got != 0 {
		t.Errorf("ClaimDue calls %d, want 0 (nothing due)", got)
	}
	if len(*started) != 5 {
		t.Fatalf("started %d runs, want 5", len(*started))
	}
	for i, r := range *started {
		if r.ID != int64(i+1) || r.Status != StatusRunning || r.Attempt != 1 || r.TickID != "tick_1" {
			t.Errorf("started[%d] = %+v", i, r)
		}
	}
}

func TestClaimerCountsRecoveredRuns(t *testing.T) {
	f := newFakeStore()
	past := tickT0.Add(-time.Minute)
	f.addRun(Run{Task: "t", Status: StatusRunning, Attempt: 1, MaxAttempts: 2, LeaseUntil: &past})
	f.addRun(Run{Task: "t", Status: StatusRunning, Attempt: 1, MaxAttempts: 1, LeaseUntil: &past})
	c, started, logs := testClaimer(t, f, 10)
	c.claim(context.Background(), TickStart{Now: tickT0, RunnableRuns: 2}, false)
	rep, _ := c.tally.result()
	if rep.Interrupted != 1 || rep.Failed != 1 || rep.Claimed != 1 || len(*started) != 1 {
		t.Errorf("interrupted %d failed %d claimed %d started %d; want 1 1 1 1", rep.Interrupted, rep.Failed, rep.Claimed, len(*started))
	}
	if !strings.Contains(logs.String(), `level=WARN msg="runs whose lease expired were recovered" retried=1 failed=1`) {
		t.Errorf("no recovery warning in %q", logs.String())
	}
}

func TestClaimerCountsSkippedDeferredConflicts(t *testing.T) {
	f := newFakeStore()
	f.addSchedule("a", "t", "h", tickT0)
	f.addSchedule("jitter", "t", "h", tickT0)
	f.addSchedule("skip", "t", "h", tickT0)
	slot := tickT0
	f.addRun(Run{Task: "t", Schedule: "a", Slot: &slot, Status: StatusSuccess}) // "a"'s slot is taken
	c, started, _ := testClaimer(t, f, 10)
	c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 3}, false)
	rep, err := c.tally.result()
	if err != nil || rep.Conflicts != 1 || rep.Skipped != 1 || rep.Deferred != 1 {
		t.Errorf("conflicts %d skipped %d deferred %d err %v; want 1 1 1 nil", rep.Conflicts, rep.Skipped, rep.Deferred, err)
	}
	// The deferred run is runnable now: ClaimRuns takes it in this tick
	// although BeginTick counted nothing runnable.
	if f.count("ClaimRuns") != 1 || len(*started) != 1 || (*started)[0].Schedule != "jitter" || rep.Claimed != 1 {
		t.Errorf("ClaimRuns calls %d, started %+v, claimed %d; want the jittered run started", f.count("ClaimRuns"), *started, rep.Claimed)
	}
}

func TestClaimerResyncedClaimsDue(t *testing.T) {
	f := newFakeStore()
	addDue(f, 1)
	c, started, _ := testClaimer(t, f, 10)
	c.claim(context.Background(), TickStart{Now: tickT0}, false)
	if f.count("ClaimDue") != 0 {
		t.Fatalf("claimed with nothing due and no resync")
	}
	c.claim(context.Background(), TickStart{Now: tickT0}, true)
	if f.count("ClaimDue") != 1 || len(*started) != 1 {
		t.Errorf("after a resync: ClaimDue calls %d, started %d; want 1, 1", f.count("ClaimDue"), len(*started))
	}
}

func TestClaimerStopsOnError(t *testing.T) {
	for _, method := range []string{"ClaimDue", "ClaimRuns"} {
		t.Run(method, func(t *testing.T) {
			f := newFakeStore()
			addDue(f, 5)
			for range 5 {
				f.addRun(Run{Task: "t", Status: StatusPending, RunAt: tickT0, MaxAttempts: 1})
			}
			f.hook = failOn(method, 2)
			c, started, logs := testClaimer(t, f, 2)
			c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 5, RunnableRuns: 5}, false)
			if got := f.count(method); got != 2 {
				t.Errorf("%s calls %d, want 2 (stop at the failing one)", method, got)
			}
			_, err := c.tally.result()
			wantErr, wantLog, ran := "claim due: boom", "claim due schedules failed", 2
			if method == "ClaimRuns" {
				wantErr, wantLog, ran = "claim runs: boom", "claim runs failed", 5+2
			} else if f.count("ClaimRuns") != 0 {
				t.Errorf("ClaimRuns called after ClaimDue failed")
			}
			if err == nil || err.Error() != wantErr || !errors.Is(err, errBoom) {
				t.Errorf("tick error %v, want %q wrapping errBoom", err, wantErr)
			}
			if !strings.Contains(logs.String(), "level=ERROR msg=\""+wantLog+"\"") {
				t.Errorf("no %q error logged: %q", wantLog, logs.String())
			}
			if len(*started) != ran {
				t.Errorf("started %d runs, want %d", len(*started), ran)
			}
		})
	}
}

func TestClaimerStopsAtDeadline(t *testing.T) {
	f := newFakeStore()
	addDue(f, 6)
	for range 6 {
		f.addRun(Run{Task: "t", Status: StatusPending, RunAt: tickT0, MaxAttempts: 1})
	}
	c, started, _ := testClaimer(t, f, 2)
	// The first claim uses up the tick's time: no further batch starts.
	f.hook = func(method string, call int) error {
		c.time.deadline = time.Now().Add(c.time.margin / 2)
		return nil
	}
	c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 6, RunnableRuns: 6}, false)
	if f.count("ClaimDue") != 1 || f.count("ClaimRuns") != 0 || len(*started) != 2 {
		t.Errorf("ClaimDue %d, ClaimRuns %d, started %d; want 1, 0, 2", f.count("ClaimDue"), f.count("ClaimRuns"), len(*started))
	}
	if _, err := c.tally.result(); err != nil {
		t.Errorf("running out of time is no error: %v", err)
	}

	// No time at all: nothing is claimed.
	f2 := newFakeStore()
	addDue(f2, 1)
	c2, _, _ := testClaimer(t, f2, 2)
	c2.time.deadline = time.Now()
	c2.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 1}, false)
	if f2.count("ClaimDue") != 0 {
		t.Errorf("claimed past the deadline")
	}
}

func TestClaimerSkipsClaimsAfterEarlierFailure(t *testing.T) {
	f := newFakeStore()
	addDue(f, 1)
	c, _, _ := testClaimer(t, f, 2)
	c.tally.fail("tick", errBoom) // the sync failed
	c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 1, RunnableRuns: 1}, false)
	if f.count("ClaimDue")+f.count("ClaimRuns") != 0 {
		t.Errorf("claimed after the tick failed")
	}
}

// TestBindTasks: each running run gets its plan's task, in the plans'
// order with runs left out (a slot already recorded) and several runs for
// one plan (catch-up); a skipped run, a run whose task is not its plan's,
// and every run after one whose plan is not found in order keep none (the
// executor looks those up).
func TestBindTasks(t *testing.T) {
	ta, tb, tc := &Task{Name: "ta"}, &Task{Name: "tb"}, &Task{Name: "tc"}
	b := &batchPlan{
		plans: []SchedulePlan{{Schedule: "a"}, {Schedule: "b"}, {Schedule: "c"}, {Schedule: "d"}},
		tasks: []*Task{ta, tb, tc, nil},
	}
	runs := []Run{
		{Schedule: "a", Task: "ta", Status: StatusRunning},
		{Schedule: "a", Task: "ta", Status: StatusRunning},    // catch-up: a second run of a
		{Schedule: "c", Task: "tc", Status: StatusSkipped},    // not started: no task needed
		{Schedule: "c", Task: "other", Status: StatusRunning}, // not the plan's task
		{Schedule: "d", Task: "td", Status: StatusRunning},    // its plan recorded none
	}
	bindTasks(runs, b)
	want := []*Task{ta, ta, nil, nil, nil}
	for i, r := range runs {
		if r.task != want[i] {
			t.Errorf("run %d (%s %s) bound %v, want %v", i, r.Schedule, r.Task, r.task, want[i])
		}
	}

	// Out of the plans' order: bound until the first run not found after
	// the last one's plan, none after it.
	runs = []Run{
		{Schedule: "b", Task: "tb", Status: StatusRunning},
		{Schedule: "a", Task: "ta", Status: StatusRunning},
		{Schedule: "c", Task: "tc", Status: StatusRunning},
	}
	bindTasks(runs, b)
	if runs[0].task != tb || runs[1].task != nil || runs[2].task != nil {
		t.Errorf("out of order: bound %v %v %v, want tb and none after", runs[0].task, runs[1].task, runs[2].task)
	}
}

// TestClaimerBindsPlannedTasks: the runs a due claim starts carry the task
// their plan recorded.
func TestClaimerBindsPlannedTasks(t *testing.T) {
	f := newFakeStore()
	addDue(f, 3)
	c, started, _ := testClaimer(t, f, 10)
	c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 3}, false)
	want, _ := c.reg.Task("t")
	if len(*started) != 3 {
		t.Fatalf("started %d runs, want 3", len(*started))
	}
	for _, r := range *started {
		if r.task != want {
			t.Errorf("run of %s bound %v, want the registered task", r.Schedule, r.task)
		}
	}
}
