package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// claimCounter counts a store's ClaimDue calls.
type claimCounter struct {
	core.Store
	calls atomic.Int32
}

func (c *claimCounter) ClaimDue(ctx context.Context, p core.ClaimDueParams) (core.ClaimDueResult, error) {
	c.calls.Add(1)
	return c.Store.ClaimDue(ctx, p)
}

// testSharedStore: two services with different task sets share one store.
// Neither orphans the other's schedules, each claims only its own, a
// schedule removed from a service's code while its task stays registered is
// still orphaned, and due schedules of a task this process lacks neither
// fill its claim batches nor make its ticks claim at all.
func testSharedStore(t *testing.T, h *harness) {
	x := newExecs()
	const batch = 5
	small := func(c *core.Config) { c.BatchSize = batch }
	regA := core.NewRegistry()
	mustSchedule(t, regA, "a1", x.task(nil), core.Every(time.Minute))
	mustSchedule(t, regA, "a2", x.task(nil), core.Every(time.Minute))
	regB := core.NewRegistry()
	mustSchedule(t, regB, "b1", x.task(nil), core.Every(time.Minute))
	a, b := h.engine(regA, small), h.engine(regB, small)

	for _, e := range []*core.Engine{a, b, a} {
		res, err := e.Sync(t.Context())
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		if res.Orphaned != 0 {
			t.Errorf("sync of one service orphaned %d schedules of the other: %+v", res.Orphaned, res)
		}
	}
	for _, n := range []string{"a1", "a2", "b1"} {
		if h.schedule(n).Orphaned {
			t.Errorf("schedule %s orphaned by the other service's sync", n)
		}
	}

	h.set(minutes(1))
	if rep := h.tick(a); rep.Claimed != 2 || rep.DueSchedules != 2 {
		t.Errorf("service a's tick: claimed %d of %d due, want its own 2 of 2", rep.Claimed, rep.DueSchedules)
	}
	h.wantRuns("b1")
	h.wantRuns("a1", runWant{at(minutes(1)), 1, core.StatusSuccess, 1})
	if rep := h.tick(b); rep.Claimed != 1 {
		t.Errorf("service b's tick claimed %d, want its own 1", rep.Claimed)
	}
	h.wantRuns("b1", runWant{at(minutes(1)), 1, core.StatusSuccess, 1})
	h.wantRuns("a2", runWant{at(minutes(1)), 1, core.StatusSuccess, 1})

	// a2 leaves service a's schedules but stays one of its tasks: orphaned,
	// while b1 (a task service a never had) is not.
	regA2 := core.NewRegistry()
	mustSchedule(t, regA2, "a1", x.task(nil), core.Every(time.Minute))
	mustRegister(t, regA2, "a2", x.task(nil))
	res, err := h.engine(regA2, small).Sync(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Orphaned != 1 || !h.schedule("a2").Orphaned || h.schedule("b1").Orphaned {
		t.Errorf("sync without schedule a2: %+v; a2 orphaned %t, b1 orphaned %t, want 1, true, false",
			res, h.schedule("a2").Orphaned, h.schedule("b1").Orphaned)
	}

	// 2×BatchSize due schedules of a task no engine here runs, due before a1.
	ghosts := core.NewRegistry()
	for i := range 2 * batch {
		mustSchedule(t, ghosts, fmt.Sprintf("ghost-%d", i), x.task(nil), core.Every(time.Minute), core.RunOnStartup())
	}
	if _, err := h.engine(ghosts).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.set(minutes(2))
	if rep := h.tick(a); rep.Claimed != 1 || rep.DueSchedules != 1 {
		t.Errorf("tick behind %d due schedules of unknown tasks: claimed %d of %d due, want a1's 1 of 1",
			2*batch, rep.Claimed, rep.DueSchedules)
	}
	h.wantRuns("a1", runWant{at(minutes(1)), 1, core.StatusSuccess, 1}, runWant{at(minutes(2)), 1, core.StatusSuccess, 1})
	if n := len(h.scheduleRuns("ghost-0")); n != 0 {
		t.Errorf("ghost-0 has %d runs; no engine here registers its task", n)
	}

	// A process with only a manual task: the ghosts do not make its ticks
	// claim (after its first, which syncs).
	regC := core.NewRegistry()
	mustRegister(t, regC, "c", x.task(nil))
	cs := &claimCounter{Store: h.store}
	c := h.engineOn(cs, regC, small)
	h.tick(c)
	before := cs.calls.Load()
	for m := 3; m <= 5; m++ {
		h.set(minutes(m))
		if rep := h.tick(c); rep.DueSchedules != 0 {
			t.Errorf("tick of a process without schedules counted %d due", rep.DueSchedules)
		}
	}
	if n := cs.calls.Load() - before; n != 0 {
		t.Errorf("%d ClaimDue calls by a process none of whose tasks is due, want 0", n)
	}
}
