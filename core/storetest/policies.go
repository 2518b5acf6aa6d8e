package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// min is a duration of n minutes.
func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

// testMisfire: after a 30-minute outage, coalesce records one run standing
// for the missed slots, catchup one run per slot up to its bound (the rest
// one skipped record), skip only skipped records and a next_run in the
// future; a trigger late by less than the misfire grace runs normally.
func testMisfire(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "coalesce", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireCoalesce))
	mustSchedule(t, reg, "catchup", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireCatchup), core.MaxCatchup(10))
	mustSchedule(t, reg, "skip", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireSkip))
	mustSchedule(t, reg, "skip7", x.task(nil), core.Every(7*time.Minute), core.Misfire(core.MisfireSkip))
	e := h.engine(reg) // MisfireGrace: the default 2 minutes

	h.tick(e) // t0: sync, nothing due
	h.set(minutes(1))
	if rep := h.tick(e); rep.Claimed != 3 || rep.Succeeded != 3 {
		t.Fatalf("tick at +1m: %+v, want 3 runs", rep)
	}

	// The outage: the next tick comes 30 minutes later.
	h.set(minutes(31))
	rep := h.tick(e)
	// coalesce 1 + catchup 10 + skip 1 run; catchup, skip and skip7 each
	// record one skipped block.
	if rep.Claimed != 12 || rep.Succeeded != 12 || rep.Skipped != 3 {
		t.Errorf("tick after the outage: claimed %d succeeded %d skipped %d, want 12, 12, 3", rep.Claimed, rep.Succeeded, rep.Skipped)
	}

	h.wantRuns("coalesce",
		runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
		runWant{at(minutes(31)), 30, core.StatusSuccess, 1})
	h.wantNextRun("coalesce", at(minutes(32)))

	catchup := []runWant{
		{at(minutes(1)), 1, core.StatusSuccess, 1},
		{at(minutes(21)), 20, core.StatusSkipped, 0}, // slots +2m..+21m, beyond the bound of 10
	}
	for m := 22; m <= 31; m++ {
		catchup = append(catchup, runWant{at(minutes(m)), 1, core.StatusSuccess, 1})
	}
	h.wantRuns("catchup", catchup...)
	h.wantNextRun("catchup", at(minutes(32)))

	h.wantRuns("skip",
		runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
		runWant{at(minutes(30)), 29, core.StatusSkipped, 0}, // +2m..+30m missed
		runWant{at(minutes(31)), 1, core.StatusSuccess, 1})  // on time: runs
	h.wantNextRun("skip", at(minutes(32)))

	// skip7: slots +7, +14, +21, +28 missed, the latest 3 minutes late
	// (beyond the grace): none runs, next_run jumps to the future.
	runs := h.wantRuns("skip7", runWant{at(minutes(28)), 4, core.StatusSkipped, 0})
	if len(runs) == 1 && !strings.Contains(runs[0].Error, "misfire") {
		t.Errorf("skip7 skipped record: error %q, want the misfire reason", runs[0].Error)
	}
	h.wantNextRun("skip7", at(minutes(35)))
	if nr := h.schedule("skip7").NextRun; !nr.After(h.now()) {
		t.Errorf("skip7 next_run %v is not in the future of %v", nr, h.now())
	}

	for _, name := range []string{"coalesce", "catchup", "skip", "skip7"} {
		for _, r := range h.scheduleRuns(name) {
			want := 1
			if r.Status == core.StatusSkipped {
				want = 0
			}
			if n := x.run(r.ID); n != want {
				t.Errorf("%s run %d (%s): executed %d times, want %d", name, r.ID, r.Status, n, want)
			}
		}
	}

	// A trigger late by less than the grace runs its slot normally.
	h.set(minutes(36))
	h.tick(e)
	h.wantRuns("skip7",
		runWant{at(minutes(28)), 4, core.StatusSkipped, 0},
		runWant{at(minutes(35)), 1, core.StatusSuccess, 1})
	if n := x.slot("skip7", at(minutes(35))); n != 1 {
		t.Errorf("skip7 slot +35m executed %d times, want 1", n)
	}
	h.wantNextRun("skip7", at(minutes(42)))
}

// testOverlap: a run that still holds its lease makes the next slot of its
// schedule a skipped record under OverlapSkip, while OverlapAllow runs it.
func testOverlap(t *testing.T, h *harness) {
	x := newExecs()
	held := newHold()
	blockFirst := func(ctx context.Context, info core.RunInfo) error {
		if info.Slot.Equal(at(minutes(1))) {
			held.block(info)
		}
		return nil
	}
	reg := core.NewRegistry()
	mustSchedule(t, reg, "one_at_a_time", x.task(blockFirst), core.Every(time.Minute)) // OverlapSkip by default
	mustSchedule(t, reg, "overlapping", x.task(blockFirst), core.Every(time.Minute), core.Overlap(core.OverlapAllow))

	a := h.engine(reg)
	h.tick(a) // t0: sync
	h.set(minutes(1))
	held.start(t, a, 2)
	// A store that holds claims (core.ClaimHolder) stores the blocked runs
	// running when Config.ClaimHold has passed, not at once.
	for _, name := range []string{"one_at_a_time", "overlapping"} {
		var r []core.Run
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			r = h.scheduleRuns(name)
			if len(r) > 0 || time.Now().After(end) {
				break
			}
		}
		if len(r) != 1 || r[0].Status != core.StatusRunning || r[0].LeaseUntil == nil || !r[0].LeaseUntil.After(at(minutes(2))) {
			t.Fatalf("%s while blocked: want one running run leased past +2m:\n%s", name, describeRuns(r))
		}
	}

	// The next slot comes due while the first runs still hold their leases.
	h.set(minutes(2))
	b := h.engine(reg)
	rep := h.tick(b)
	if rep.Skipped != 1 || rep.Claimed != 1 || rep.Succeeded != 1 {
		t.Errorf("second tick: skipped %d claimed %d succeeded %d, want 1, 1, 1", rep.Skipped, rep.Claimed, rep.Succeeded)
	}
	if rep, err := held.release(); err != nil || rep.Succeeded != 2 {
		t.Errorf("first tick: %+v, %v; want 2 successes", rep, err)
	}

	runs := h.wantRuns("one_at_a_time",
		runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
		runWant{at(minutes(2)), 1, core.StatusSkipped, 0})
	if len(runs) == 2 && !strings.Contains(runs[1].Error, "overlap") {
		t.Errorf("overlap-skipped run: error %q, want the overlap reason", runs[1].Error)
	}
	if n := x.slot("one_at_a_time", at(minutes(2))); n != 0 {
		t.Errorf("the skipped slot executed %d times", n)
	}
	h.wantRuns("overlapping",
		runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
		runWant{at(minutes(2)), 1, core.StatusSuccess, 1})

	// Once the first run finished, the next slot runs again.
	h.set(minutes(3))
	h.tick(b)
	h.wantRuns("one_at_a_time",
		runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
		runWant{at(minutes(2)), 1, core.StatusSkipped, 0},
		runWant{at(minutes(3)), 1, core.StatusSuccess, 1})
}

// testJitter: a jittered slot is stored pending with a run time within the
// jitter after the slot, and is run by the first tick at or after it.
func testJitter(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "spread", x.task(nil), core.Every(10*time.Minute), core.Jitter(5*time.Minute))
	e := h.engine(reg)
	h.tick(e)

	slot := at(minutes(10))
	h.set(minutes(10))
	rep := h.tick(e)
	if rep.Deferred != 1 || rep.Claimed != 0 {
		t.Errorf("tick at the slot: deferred %d claimed %d, want 1 and 0", rep.Deferred, rep.Claimed)
	}
	runs := h.wantRuns("spread", runWant{slot, 1, core.StatusPending, 0})
	if len(runs) != 1 {
		t.FailNow()
	}
	runAt := runs[0].RunAt
	within(t, "jittered run_at", runAt, slot, slot.Add(5*time.Minute))
	h.wantNextRun("spread", at(minutes(20)))

	if before := runAt.Add(-time.Second); before.After(slot) {
		h.clock.Set(before)
		if rep := h.tick(e); rep.Claimed != 0 {
			t.Errorf("tick 1s before run_at claimed %d runs", rep.Claimed)
		}
	}
	if n := x.total.Load(); n != 0 {
		t.Fatalf("the jittered run executed %d times before its run time", n)
	}
	h.clock.Set(runAt)
	if rep := h.tick(e); rep.Claimed != 1 || rep.Succeeded != 1 {
		t.Errorf("tick at run_at: %+v, want the jittered run", rep)
	}
	h.wantRuns("spread", runWant{slot, 1, core.StatusSuccess, 1})
	if info, ok := x.info(runs[0].ID); !ok || !info.Slot.Equal(slot) || info.Source != core.SourceScheduled {
		t.Errorf("the task saw %+v, want slot %v, source scheduled", info, slot)
	}
}

// testRunOnStartup: the schedule's first slot is the first tick after it is
// first stored; later processes syncing the same spec add nothing; a spec
// change fires it again.
func testRunOnStartup(t *testing.T, h *harness) {
	x := newExecs()
	registry := func(every time.Duration) *core.Registry {
		reg := core.NewRegistry()
		mustSchedule(t, reg, "warmup", x.task(nil), core.Every(every), core.RunOnStartup())
		return reg
	}
	h.set(30 * time.Second)
	rep := h.tick(h.engine(registry(time.Hour)))
	if !rep.Synced || rep.Succeeded != 1 {
		t.Errorf("first tick: %+v, want a sync and one run", rep)
	}
	h.wantRuns("warmup", runWant{at(30 * time.Second), 1, core.StatusSuccess, 1})
	h.wantNextRun("warmup", at(time.Hour+30*time.Second))

	// New processes with the same code: they sync, nothing runs.
	for i := 1; i <= 3; i++ {
		h.set(minutes(i))
		if rep := h.tick(h.engine(registry(time.Hour))); !rep.Synced || rep.Claimed != 0 {
			t.Errorf("restart %d: %+v, want a sync and no run", i, rep)
		}
	}
	h.wantNextRun("warmup", at(time.Hour+30*time.Second))

	// A deploy changes the spec: it fires on the next tick.
	h.set(minutes(5))
	if rep := h.tick(h.engine(registry(2 * time.Hour))); rep.Succeeded != 1 {
		t.Errorf("tick after the spec change: %+v, want one run", rep)
	}
	h.wantRuns("warmup",
		runWant{at(30 * time.Second), 1, core.StatusSuccess, 1},
		runWant{at(minutes(5)), 1, core.StatusSuccess, 1})
	h.wantNextRun("warmup", at(minutes(5)+2*time.Hour))
	if n := x.total.Load(); n != 2 {
		t.Errorf("executions %d, want 2", n)
	}
}

// testOrphans: a schedule removed from the code is marked orphaned at the
// next sync, is not claimed even by a process that still has it, keeps its
// history, and comes back when the code has it again.
func testOrphans(t *testing.T, h *harness) {
	x := newExecs()
	registry := func(names ...string) *core.Registry {
		reg := core.NewRegistry()
		for _, n := range names {
			mustSchedule(t, reg, n, x.task(nil), core.Every(time.Minute))
		}
		return reg
	}
	old := h.engine(registry("kept", "removed"))
	h.tick(old)
	h.set(minutes(1))
	h.tick(old)

	// The new code drops the schedule but keeps its task (as a manual task):
	// the schedule is orphaned. (A process never orphans the schedules of
	// tasks it does not register: see testSharedStore.)
	newCode := registry("kept")
	mustRegister(t, newCode, "removed", x.task(nil))
	deployed := h.engine(newCode)
	res, err := deployed.Sync(t.Context())
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if res.Orphaned != 1 || res.Unchanged != 1 {
		t.Errorf("sync after removing a schedule: %+v, want 1 orphaned, 1 unchanged", res)
	}
	if s := h.schedule("removed"); !s.Orphaned {
		t.Errorf("removed schedule not marked orphaned: %+v", s)
	}
	if s := h.schedule("kept"); s.Orphaned {
		t.Errorf("kept schedule marked orphaned")
	}

	for _, m := range []int{2, 3, 4} {
		h.set(minutes(m))
		h.tick(deployed)
		h.tick(old) // the old process still has "removed" registered
	}
	h.wantRuns("removed", runWant{at(minutes(1)), 1, core.StatusSuccess, 1})
	if n := len(h.scheduleRuns("kept")); n != 4 {
		t.Errorf("kept: %d runs, want 4 (+1m..+4m)", n)
	}
	recs, err := h.store.ListSchedules(t.Context())
	if err != nil || len(recs) != 2 {
		t.Fatalf("list schedules: %d, %v; want both, the orphan included", len(recs), err)
	}

	// The code has it again: un-orphaned, its missed slots coalesced.
	if _, err := h.engine(registry("kept", "removed")).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h.schedule("removed").Orphaned {
		t.Error("schedule still orphaned after the code has it again")
	}
	h.set(minutes(5))
	h.tick(old)
	h.wantRuns("removed",
		runWant{at(minutes(1)), 1, core.StatusSuccess, 1},
		runWant{at(minutes(5)), 4, core.StatusSuccess, 1})
}
