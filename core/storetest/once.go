package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// testOnce: a once schedule fires exactly one slot, at its instant, however
// many ticks (concurrent ones included) run after it; then next_run is
// "never" (zero).
func testOnce(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "once", x.task(nil), core.Once(at(minutes(3))))
	e := h.engine(reg)
	h.tick(e)
	h.wantNextRun("once", at(minutes(3)))
	h.set(minutes(2))
	h.tick(e)
	h.wantRuns("once")
	h.set(minutes(3))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.engine(reg).Tick(t.Context()); err != nil {
				t.Errorf("tick: %v", err)
			}
		}()
	}
	wg.Wait()
	for m := 4; m < 10; m++ {
		h.set(minutes(m))
		h.tick(e)
	}
	h.set(24 * time.Hour)
	h.tick(e)
	h.wantRuns("once", runWant{at(minutes(3)), 1, core.StatusSuccess, 1})
	h.wantNextRun("once", time.Time{})
	if n := x.total.Load(); n != 1 {
		t.Errorf("executions %d, want 1", n)
	}
	if rec := h.schedule("once"); rec.CompletedAt == nil || !rec.CompletedAt.Equal(at(minutes(3))) {
		t.Errorf("completed_at %v, want the firing tick's %v", rec.CompletedAt, at(minutes(3)))
	}

	// A new instant in code is a new spec: sync re-opens the schedule.
	reg2 := core.NewRegistry()
	mustSchedule(t, reg2, "once", x.task(nil), core.Once(at(48*time.Hour)))
	h.tick(h.engine(reg2))
	h.wantNextRun("once", at(48*time.Hour))
	if rec := h.schedule("once"); rec.CompletedAt != nil {
		t.Errorf("completed_at %v after the spec changed, want none", rec.CompletedAt)
	}
}
