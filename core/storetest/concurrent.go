package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// The ConcurrentTicks workload: concurrentEngines processes tick at once in
// every round, the stub clock advancing one minute per round.
const (
	concurrentSchedules = 500
	concurrentEngines   = 16
	concurrentMinutes   = 60
	// concurrentSchedulesRace replaces concurrentSchedules under the race
	// detector, which makes SQLite's first round (16 syncs of 500 rows)
	// outlast its busy timeout.
	concurrentSchedulesRace = 100
)

// concurrentSpecs are the timing specs the schedules cycle through.
var concurrentSpecs = [][]core.Option{
	{core.Every(time.Minute)},
	{core.Every(2 * time.Minute)},
	{core.Every(5 * time.Minute)},
	{core.Every(7 * time.Minute)},
	{core.Every(13 * time.Minute)},
	{core.Cron("*/5 * * * *")},
	{core.Cron("*/15 * * * *"), core.Timezone("America/New_York")},
	{core.Cron("0 * * * *")},
	{core.Cron("0 * * * *"), core.Timezone("Asia/Kolkata")}, // fires at :30 UTC
	{core.Cron("*/15 * * * *"), core.Timezone("Asia/Kathmandu")},
}

// testConcurrentTicks: 16 engines (processes with equal registries) tick
// together every simulated minute for an hour over 500 mixed schedules. Every
// slot due in the hour must have exactly one run row and exactly one
// execution, and nothing else may run.
func testConcurrentTicks(t *testing.T, h *harness) {
	started := time.Now()
	schedules := concurrentSchedules
	if raceEnabled {
		schedules = concurrentSchedulesRace
		t.Logf("race detector on: %d schedules instead of %d", schedules, concurrentSchedules)
	}
	x := newExecs()
	newRegistry := func() *core.Registry {
		reg := core.NewRegistry()
		for i := range schedules {
			mustSchedule(t, reg, fmt.Sprintf("s%03d", i), x.task(nil), concurrentSpecs[i%len(concurrentSpecs)]...)
		}
		return reg
	}
	engines := make([]*core.Engine, concurrentEngines)
	for i := range engines {
		engines[i] = h.engine(newRegistry(), func(c *core.Config) {
			c.BatchSize = 50 // spread each round's work over the ticks
			c.Workers = 8
		})
	}

	var conflicts, claimed, ticks atomic.Int64
	claimedBy := make([]int64, concurrentEngines)
	var slowest time.Duration
	for round := 0; round <= concurrentMinutes; round++ {
		h.set(time.Duration(round) * time.Minute)
		roundStart := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, len(engines))
		for i, e := range engines {
			wg.Go(func() {
				rep, err := e.Tick(context.WithoutCancel(t.Context()))
				errs[i] = err
				ticks.Add(1)
				conflicts.Add(int64(rep.Conflicts))
				claimed.Add(int64(rep.Claimed))
				atomic.AddInt64(&claimedBy[i], int64(rep.Claimed))
				if err == nil && (rep.Failed > 0 || rep.Skipped > 0 || rep.Interrupted > 0) {
					errs[i] = fmt.Errorf("unexpected report %+v", rep)
				}
			})
		}
		wg.Wait()
		slowest = max(slowest, time.Since(roundStart))
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d (%v, %v of real time), engine %d: %v", round, h.now(), time.Since(roundStart).Round(time.Millisecond), i, err)
			}
		}
	}
	end := h.now()
	elapsed := time.Since(started)

	// Expected slots, computed independently of the engine's planner.
	recs, err := h.store.ListSchedules(t.Context())
	if err != nil {
		t.Fatalf("list schedules: %v", err)
	}
	if len(recs) != schedules {
		t.Fatalf("%d schedules stored, want %d", len(recs), schedules)
	}
	reg := newRegistry()
	expected := map[slotKey]bool{}
	for _, rec := range recs {
		s, ok := reg.ScheduleByName(rec.Name)
		if !ok {
			t.Fatalf("stored schedule %q is not in the registry", rec.Name)
		}
		if !rec.Anchor.Equal(t0) {
			t.Errorf("schedule %s: anchor %v, want %v (all engines synced at t0; the first insert wins)", rec.Name, rec.Anchor, t0)
		}
		var last time.Time
		if s.Every > 0 {
			for k := 1; ; k++ {
				slot := rec.Anchor.Add(time.Duration(k) * s.Every)
				if slot.After(end) {
					break
				}
				expected[slotKey{rec.Name, slot.UnixNano()}] = true
				last = slot
			}
		} else {
			// Cron math is tested in core; the schedule's own Next is the oracle.
			for slot := s.NextSlot(rec.Anchor); !slot.After(end); slot = s.NextSlot(slot) {
				expected[slotKey{rec.Name, slot.UnixNano()}] = true
				last = slot
			}
		}
		if want := s.NextSlot(lastOr(last, rec.Anchor)); !rec.NextRun.Equal(want) {
			t.Errorf("schedule %s: next_run %v, want %v", rec.Name, rec.NextRun, want)
		}
	}

	// Run rows, all of them.
	runs := h.runs(core.ListRunsParams{})
	rows := map[slotKey]int{}
	var bad int
	for _, r := range runs {
		if r.Slot == nil {
			t.Errorf("run %d has no slot", r.ID)
			continue
		}
		k := slotKey{r.Schedule, r.Slot.UnixNano()}
		rows[k]++
		if r.Status != core.StatusSuccess || r.Attempt != 1 || r.SlotsCovered != 1 || r.Source != core.SourceScheduled || r.Interruptions != 0 {
			bad++
			if bad <= 5 {
				t.Errorf("run %d (%s at %v): status %s attempt %d covered %d source %s interruptions %d error %q; want one successful scheduled attempt for one slot",
					r.ID, r.Schedule, r.Slot.UTC(), r.Status, r.Attempt, r.SlotsCovered, r.Source, r.Interruptions, r.Error)
			}
		}
		if n := x.run(r.ID); n != 1 {
			bad++
			if bad <= 5 {
				t.Errorf("run %d (%s at %v) executed %d times, want 1", r.ID, r.Schedule, r.Slot.UTC(), n)
			}
		}
	}
	var duplicates, missed, unexpected int
	for k := range expected {
		n, e := rows[k], load(&x.bySlot, k)
		if n > 1 || e > 1 {
			duplicates++
			if duplicates <= 5 {
				t.Errorf("slot %s at %v: %d run rows, %d executions; want 1 and 1", k.schedule, time.Unix(0, k.slot).UTC(), n, e)
			}
		}
		if n == 0 || e == 0 {
			missed++
			if missed <= 5 {
				t.Errorf("slot %s at %v: %d run rows, %d executions; want 1 and 1", k.schedule, time.Unix(0, k.slot).UTC(), n, e)
			}
		}
	}
	for k, n := range rows {
		if !expected[k] {
			unexpected += n
			if unexpected <= 5 {
				t.Errorf("run for %s at %v is not an expected slot", k.schedule, time.Unix(0, k.slot).UTC())
			}
		}
	}
	x.bySlot.Range(func(k, _ any) bool {
		if !expected[k.(slotKey)] {
			unexpected++
		}
		return true
	})
	if int(x.total.Load()) != len(runs) || int(claimed.Load()) != len(runs) {
		t.Errorf("executions %d, claims %d, run rows %d: want all equal", x.total.Load(), claimed.Load(), len(runs))
	}
	if bad > 0 || unexpected > 0 {
		t.Errorf("%d bad run rows, %d unexpected runs or executions", bad, unexpected)
	}
	minC, maxC := claimedBy[0], claimedBy[0]
	for _, c := range claimedBy {
		minC, maxC = min(minC, c), max(maxC, c)
	}
	summary := fmt.Sprintf("%d schedules, %d engines x %d rounds (%d ticks) in %v, slowest round %v: slots expected %d, runs %d, executions %d, duplicates %d, missed %d (slot conflicts between ticks %d; runs claimed per engine %d..%d)",
		schedules, concurrentEngines, concurrentMinutes+1, ticks.Load(), elapsed.Round(time.Millisecond), slowest.Round(time.Millisecond),
		len(expected), len(runs), x.total.Load(), duplicates, missed, conflicts.Load(), minC, maxC)
	t.Log(summary)
	fmt.Printf("storetest: %s: %s\n", t.Name(), summary)
}

func lastOr(t, fallback time.Time) time.Time {
	if t.IsZero() {
		return fallback
	}
	return t
}
