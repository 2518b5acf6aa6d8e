package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// The runtime-schedule race workload: raceEngines processes tick together
// once per simulated minute for raceRounds minutes while a mutator creates,
// updates and deletes runtime schedules, and creates some in transactions it
// rolls back, concurrently with each round's ticks.
const (
	raceEngines = 16
	raceRounds  = 20
	raceMaxRuns = 8  // schedules with max_runs (3..6)
	raceDeletes = 16 // schedules deleted, one per round from round 1
	raceUpdates = 8  // schedules whose spec changes every round
)

// TestRuntimeSchedulesRaceTicks: runtime schedules created, updated and
// deleted while 16 ticks run at once, on each dialect:
//   - a schedule deleted never gets a run after its delete commits (the
//     claim locks the row; the delete waits for it, or the claim skips it);
//   - an update never yields two runs for one slot, nor a run executed twice;
//   - a schedule created in a rolled-back transaction never fires;
//   - max_runs is never exceeded: exactly max_runs runs, then completed;
//   - every run is executed exactly once.
func TestRuntimeSchedulesRaceTicks(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		started := time.Now()
		ctx := context.WithoutCancel(t.Context())
		type slotKey struct {
			schedule string
			slot     int64
		}
		var execs sync.Map // slotKey -> *atomic.Int32
		var total atomic.Int64
		engines := make([]*core.Engine, raceEngines)
		clock := core.NewStubClock(t0)
		for i := range engines {
			reg := core.NewRegistry()
			reg.MustRegister("job", func(_ context.Context, info core.RunInfo) error {
				n, _ := execs.LoadOrStore(slotKey{info.Schedule, info.Slot.Unix()}, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
				total.Add(1)
				return nil
			})
			engines[i], _ = stubEngine(t, st, reg, func(c *core.Config) { c.Clock, c.BatchSize, c.Workers = clock, 4, 4 })
		}
		min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
		maxRuns := map[string]int{}
		for i := range raceMaxRuns {
			name := fmt.Sprintf("max_%02d", i)
			maxRuns[name] = 3 + i%4
			mustInsertAPI(t, st, apiRow{name: name, task: "job", every: time.Minute, maxRuns: maxRuns[name], next: min(1)}, t0)
		}
		for i := range raceDeletes {
			mustInsertAPI(t, st, apiRow{name: fmt.Sprintf("del_%02d", i), task: "job", every: time.Minute, next: min(1)}, t0)
		}
		for i := range raceUpdates {
			mustInsertAPI(t, st, apiRow{name: fmt.Sprintf("upd_%02d", i), task: "job", every: time.Minute, next: min(1)}, t0)
		}

		runsOf := func(name string) int {
			t.Helper()
			var n int
			if err := st.DB().GetContext(ctx, &n, `SELECT count(*) FROM tickflow_runs WHERE schedule = $1`, name); err != nil {
				t.Errorf("count runs of %s: %v", name, err)
			}
			return n
		}
		afterDelete := map[string]int{} // runs of a deleted schedule once its delete committed
		var mutatorErrs []error
		// mutate is round r's concurrent work: one delete, an update of every
		// upd_ schedule's spec (from the next slot), one create, and one
		// create rolled back.
		mutate := func(r int) {
			now := min(r)
			fail := func(err error) { mutatorErrs = append(mutatorErrs, fmt.Errorf("round %d: %w", r, err)) }
			rb, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				fail(err)
				return
			}
			if err := insertAPI(ctx, st, rb, apiRow{name: fmt.Sprintf("rolled_back_%02d", r), task: "job", every: time.Minute, next: now.Add(-time.Minute)}, now); err != nil {
				fail(err)
			}
			time.Sleep(20 * time.Millisecond) // open while the round's ticks claim
			if err := rb.Rollback(); err != nil {
				fail(err)
			}
			if r >= 1 && r <= raceDeletes {
				name := fmt.Sprintf("del_%02d", r-1)
				if _, err := st.DB().ExecContext(ctx, `DELETE FROM tickflow_schedules WHERE name = $1`, name); err != nil {
					fail(err)
				}
				afterDelete[name] = runsOf(name)
			}
			// A changed spec, re-anchored: in odd rounds every 2 minutes with
			// its first slot now (the slot the old spec may have run in this
			// round already: the same slot, planned again), in even rounds
			// every minute from the next one.
			every, anchor := time.Minute, now
			if r%2 == 1 {
				every, anchor = 2*time.Minute, now.Add(-2*time.Minute)
			}
			for i := range raceUpdates {
				if _, err := st.DB().ExecContext(ctx, `UPDATE tickflow_schedules
					SET every_seconds = $2, spec_hash = $3, anchor = $4, next_run = $5, updated_at = $6
					WHERE name = $1`, fmt.Sprintf("upd_%02d", i), every.Seconds(), fmt.Sprintf("api-%d", r),
					instant(st, anchor), instant(st, anchor.Add(every)), instant(st, now)); err != nil {
					fail(err)
				}
			}
			if err := insertAPI(ctx, st, st.DB(), apiRow{name: fmt.Sprintf("new_%02d", r), task: "job", every: time.Minute, next: now}, now); err != nil {
				fail(err)
			}
		}

		var slowest time.Duration
		var conflicts atomic.Int64
		for r := 0; r <= raceRounds; r++ {
			clock.Set(min(r))
			roundStart := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, len(engines))
			for i, e := range engines {
				wg.Go(func() {
					rep, err := e.Tick(ctx)
					errs[i] = err
					conflicts.Add(int64(rep.Conflicts))
				})
			}
			wg.Go(func() { mutate(r) })
			wg.Wait()
			slowest = max(slowest, time.Since(roundStart))
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, engine %d: %v", r, i, err)
				}
			}
			if len(mutatorErrs) > 0 {
				t.Fatalf("mutator: %v", mutatorErrs)
			}
		}
		// One more round without mutations lets the last creates fire.
		clock.Set(min(raceRounds + 1))
		for _, e := range engines {
			mustTick(t, e)
		}

		var all []core.Run
		for before := int64(0); ; {
			page, err := st.ListRuns(ctx, core.ListRunsParams{BeforeID: before, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < 500 {
				break
			}
			before = page[len(page)-1].ID
		}
		perSchedule := map[string]int{}
		seen := map[slotKey]bool{}
		for _, r := range all {
			k := slotKey{r.Schedule, r.Slot.Unix()}
			if seen[k] {
				t.Errorf("two runs for %s at %v", r.Schedule, r.Slot)
			}
			seen[k] = true
			perSchedule[r.Schedule]++
			n, _ := execs.Load(k)
			if r.Status != core.StatusSuccess || r.Attempt != 1 || n == nil || n.(*atomic.Int32).Load() != 1 {
				t.Errorf("run %d (%s at %v): status %s attempt %d; want one successful execution", r.ID, r.Schedule, r.Slot, r.Status, r.Attempt)
			}
			if len(r.Schedule) > 11 && r.Schedule[:12] == "rolled_back_" {
				t.Errorf("run %d of %s, created in a rolled-back transaction", r.ID, r.Schedule)
			}
		}
		if int(total.Load()) != len(all) {
			t.Errorf("%d executions, %d runs; want equal", total.Load(), len(all))
		}
		for name, want := range afterDelete {
			if got := perSchedule[name]; got != want {
				t.Errorf("%s: %d runs, %d when its delete committed", name, got, want)
			}
		}
		if perSchedule["del_15"] == 0 {
			t.Errorf("del_15 never ran before its delete: the test proves nothing")
		}
		for name, want := range maxRuns {
			rec, err := st.GetSchedule(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if got := perSchedule[name]; got != want || rec.CompletedAt == nil || !rec.NextRun.IsZero() || rec.RemainingRuns == nil || *rec.RemainingRuns != 0 {
				t.Errorf("%s: %d runs (max_runs %d), next_run %v, completed_at %v, remaining %v", name, got, want, rec.NextRun, rec.CompletedAt, rec.RemainingRuns)
			}
		}
		updated := 0
		for i := range raceUpdates {
			updated += perSchedule[fmt.Sprintf("upd_%02d", i)]
		}
		if updated < raceRounds {
			t.Errorf("the updated schedules ran %d times in %d rounds: too few to prove anything", updated, raceRounds)
		}
		for r := 0; r <= raceRounds; r++ {
			if n := perSchedule[fmt.Sprintf("new_%02d", r)]; n < 1 {
				t.Errorf("new_%02d, created in round %d, never ran", r, r)
			}
		}
		t.Logf("%d engines x %d rounds in %v (slowest round %v): %d runs, %d executions, %d slots planned again and not recorded (conflicts)",
			raceEngines, raceRounds+2, time.Since(started).Round(time.Millisecond), slowest.Round(time.Millisecond), len(all), total.Load(), conflicts.Load())
	})
}
