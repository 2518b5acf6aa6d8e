package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// The runtime-schedule race workload: raceEngines processes tick together
// once per simulated minute for raceRounds minutes while a mutator (one more
// process) creates, updates and deletes runtime schedules through the
// Engine, and creates some in transactions it rolls back, concurrently with
// each round's ticks.
const (
	raceEngines = 16
	raceRounds  = 20
	raceMaxRuns = 8  // schedules with max_runs 3..6
	raceDeletes = 16 // schedules deleted, one per round from round 1
	raceUpdates = 8  // schedules whose spec changes every round
)

// testRuntimeRaces: runtime schedules created, updated and deleted while 16
// ticks run at once:
//   - a schedule deleted never gets a run after its delete commits (the claim
//     locks the row, and the delete waits for it, or the claim skips it);
//   - an update never yields two runs for one slot, nor an execution twice,
//     even when the new spec's first slot is one the old spec ran;
//   - a schedule created in a rolled-back transaction never fires;
//   - max_runs is never exceeded: exactly max_runs runs, then completed;
//   - every run is executed exactly once.
func testRuntimeRaces(t *testing.T, h *harness) {
	started := time.Now()
	ctx := context.WithoutCancel(t.Context())
	b, canTx := h.store.(txBeginner)
	x := newExecs()
	newRegistry := func() *core.Registry {
		reg := core.NewRegistry()
		mustRegister(t, reg, "job", x.task(nil))
		return reg
	}
	engines := make([]*core.Engine, raceEngines)
	for i := range engines {
		engines[i] = h.engine(newRegistry(), func(c *core.Config) { c.BatchSize, c.Workers = 4, 4 })
	}
	api := h.engine(newRegistry())
	every := func(key string, d time.Duration) core.ScheduleParams {
		return core.ScheduleParams{Key: key, Task: "job", Every: d}
	}
	create := func(p core.ScheduleParams) {
		t.Helper()
		if _, err := api.CreateSchedule(ctx, p); err != nil {
			t.Fatalf("create %s: %v", p.Key, err)
		}
	}
	maxRuns := map[string]int{}
	for i := range raceMaxRuns {
		p := every(fmt.Sprintf("max_%02d", i), time.Minute)
		p.MaxRuns = 3 + i%4
		maxRuns[p.Key] = p.MaxRuns
		create(p)
	}
	for i := range raceDeletes {
		create(every(fmt.Sprintf("del_%02d", i), time.Minute))
	}
	for i := range raceUpdates {
		create(every(fmt.Sprintf("upd_%02d", i), time.Minute))
	}

	afterDelete := map[string]int{} // runs of a deleted schedule once its delete committed
	var mutatorErr error
	// mutate is round r's concurrent work: a create rolled back, one
	// delete, a spec change of every upd_ schedule, one create.
	mutate := func(r int) {
		fail := func(what string, err error) {
			if err != nil && mutatorErr == nil {
				mutatorErr = fmt.Errorf("round %d: %s: %w", r, what, err)
			}
		}
		if canTx {
			tx, err := b.BeginTx(ctx, nil)
			fail("begin", err)
			if err == nil {
				p := every(fmt.Sprintf("rolled_back_%02d", r), time.Minute)
				p.RunOnStartup = true // due at once, were it committed
				_, err = api.CreateScheduleTx(ctx, tx, p)
				fail("create in tx", err)
				time.Sleep(20 * time.Millisecond) // open while the round's ticks claim
				fail("rollback", tx.Rollback())
			}
		}
		if r >= 1 && r <= raceDeletes {
			key := fmt.Sprintf("del_%02d", r-1)
			fail("delete", api.DeleteSchedule(ctx, key))
			afterDelete[key] = len(h.runs(core.ListRunsParams{Schedule: key}))
		}
		// A changed spec takes effect from the next slot; in odd rounds it
		// runs on startup, so its first slot is now: a slot the old spec
		// (every minute) may have run in this round already.
		d, startup := time.Minute, r%2 == 1
		if startup {
			d = 2 * time.Minute
		}
		for i := range raceUpdates {
			_, err := api.UpdateSchedule(ctx, fmt.Sprintf("upd_%02d", i), core.ScheduleUpdate{Every: &d, RunOnStartup: &startup})
			fail("update", err)
		}
		p := every(fmt.Sprintf("new_%02d", r), time.Minute)
		p.RunOnStartup = true
		_, err := api.CreateSchedule(ctx, p)
		fail("create", err)
	}

	var conflicts atomic.Int64
	var slowest time.Duration
	for r := 0; r <= raceRounds+1; r++ {
		h.set(time.Duration(r) * time.Minute)
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
		if r <= raceRounds { // the last round only lets the last creates fire
			wg.Go(func() { mutate(r) })
		}
		wg.Wait()
		slowest = max(slowest, time.Since(roundStart))
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, engine %d: %v", r, i, err)
			}
		}
		if mutatorErr != nil {
			t.Fatalf("mutator: %v", mutatorErr)
		}
	}

	all := h.runs(core.ListRunsParams{})
	perSchedule := map[string]int{}
	rows := map[slotKey]int{}
	for _, r := range all {
		k := slotKey{r.Schedule, r.Slot.UnixNano()}
		if rows[k]++; rows[k] == 2 {
			t.Errorf("two runs for %s at %v", r.Schedule, r.Slot)
		}
		perSchedule[r.Schedule]++
		if r.Status != core.StatusSuccess || r.Attempt != 1 || x.run(r.ID) != 1 || load(&x.bySlot, k) != 1 {
			t.Errorf("run %d (%s at %v): status %s attempt %d, %d executions; want one successful execution",
				r.ID, r.Schedule, r.Slot, r.Status, r.Attempt, x.run(r.ID))
		}
		if strings.HasPrefix(r.Schedule, "rolled_back_") {
			t.Errorf("run %d of %s, created in a rolled-back transaction", r.ID, r.Schedule)
		}
	}
	if int(x.total.Load()) != len(all) {
		t.Errorf("%d executions, %d runs; want equal", x.total.Load(), len(all))
	}
	for key, want := range afterDelete {
		if got := perSchedule[key]; got != want {
			t.Errorf("%s: %d runs, %d when its delete committed", key, got, want)
		}
	}
	if perSchedule[fmt.Sprintf("del_%02d", raceDeletes-1)] == 0 {
		t.Errorf("the last deleted schedule never ran before its delete: the test proves nothing")
	}
	for key, want := range maxRuns {
		rec := h.schedule(key)
		if got := perSchedule[key]; got != want || rec.CompletedAt == nil || !rec.NextRun.IsZero() || rec.RemainingRuns == nil || *rec.RemainingRuns != 0 {
			t.Errorf("%s: %d runs (max_runs %d), next_run %v, completed_at %v, remaining %v; want exactly max_runs, then completed",
				key, got, want, rec.NextRun, rec.CompletedAt, rec.RemainingRuns)
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
	if !canTx {
		t.Log("the store cannot begin a caller's transaction: rolled-back creates not tested")
	}
	t.Logf("%d engines x %d rounds in %v (slowest round %v): %d runs, %d executions, %d slots planned again and not recorded",
		raceEngines, raceRounds+2, time.Since(started).Round(time.Millisecond), slowest.Round(time.Millisecond), len(all), x.total.Load(), conflicts.Load())
}

// testRuntimeTick: a tick plans a runtime schedule from its row. Its payload
// reaches every run and attempt; its retries, delay, backoff and timeout
// replace the task's on its runs, a retry claimed by a later tick included;
// no slot falls before StartAt or after EndAt; exactly MaxRuns runs; then
// it completes (next_run NULL, completed_at the tick's now), as a once does
// after its slot. A due schedule of a task this process does not register
// is never claimed by it and does not block the others' claim, one row per
// batch.
func testRuntimeTick(t *testing.T, h *harness) {
	ctx := t.Context()
	x := newExecs()
	var calls atomic.Int32
	mine := core.NewRegistry()
	mustRegister(t, mine, "report", x.task(func(context.Context, core.RunInfo) error {
		if calls.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	}), core.Retries(7), core.Delay(time.Hour), core.Timeout(time.Hour))
	mustRegister(t, mine, "job", x.task(nil))
	theirs := core.NewRegistry() // another service sharing the store
	mustRegister(t, theirs, "elsewhere", x.task(nil))
	e := h.engine(mine, func(c *core.Config) { c.BatchSize = 1 })
	other := h.engine(theirs)

	retries, delay, backoff, timeout := 1, 2*time.Minute, 2.0, 30*time.Second
	payload := json.RawMessage(`{"tenant": "acme", "n": [1, 2]}`)
	for _, c := range []struct {
		e *core.Engine
		p core.ScheduleParams
	}{
		{e, core.ScheduleParams{Key: "acme", Task: "report", Every: time.Minute, Payload: payload, Overlap: core.OverlapAllow,
			Retries: &retries, Delay: &delay, Backoff: &backoff, Timeout: &timeout, StartAt: at(minutes(2)), MaxRuns: 2}},
		{e, core.ScheduleParams{Key: "ends", Task: "job", Every: time.Minute, EndAt: at(minutes(2) + 30*time.Second)}},
		{e, core.ScheduleParams{Key: "once", Task: "job", Once: at(minutes(1))}},
		{other, core.ScheduleParams{Key: "aaa_elsewhere", Task: "elsewhere", Every: time.Minute, RunOnStartup: true}},
	} {
		if _, err := c.e.CreateSchedule(ctx, c.p); err != nil {
			t.Fatalf("create %s: %v", c.p.Key, err)
		}
	}
	for m := 0; m <= 5; m++ {
		h.set(minutes(m))
		h.tick(e)
	}

	if rec := h.schedule("aaa_elsewhere"); !rec.NextRun.Equal(t0) || rec.LastRunID != nil {
		t.Errorf("the other service's schedule: next_run %v, last run %v; want untouched", rec.NextRun, rec.LastRunID)
	}
	for key, done := range map[string]time.Time{"acme": at(minutes(3)), "ends": at(minutes(2)), "once": at(minutes(1))} {
		rec := h.schedule(key)
		if !rec.NextRun.IsZero() || rec.CompletedAt == nil || !rec.CompletedAt.Equal(done) {
			t.Errorf("%s: next_run %v, completed_at %v; want NULL and %v", key, rec.NextRun, rec.CompletedAt, done)
		}
	}
	h.wantRuns("ends", runWant{at(minutes(1)), 1, core.StatusSuccess, 1}, runWant{at(minutes(2)), 1, core.StatusSuccess, 1})
	h.wantRuns("once", runWant{at(minutes(1)), 1, core.StatusSuccess, 1})
	runs := h.wantRuns("acme", runWant{at(minutes(2)), 1, core.StatusSuccess, 2}, runWant{at(minutes(3)), 1, core.StatusSuccess, 1})
	if rec := h.schedule("acme"); rec.RemainingRuns == nil || *rec.RemainingRuns != 0 {
		t.Errorf("acme: remaining_runs %v, want 0", rec.RemainingRuns)
	}
	for _, r := range runs {
		o := r.RunOverrides
		if r.MaxAttempts != 2 || !sameJSON(r.Payload, payload) || o.RetryDelaySeconds == nil || *o.RetryDelaySeconds != 120 ||
			o.RetryBackoff == nil || *o.RetryBackoff != 2 || o.TimeoutSeconds == nil || *o.TimeoutSeconds != 30 {
			t.Errorf("run %d: max_attempts %d payload %s overrides delay %v backoff %v timeout %v; want the schedule's",
				r.ID, r.MaxAttempts, r.Payload, o.RetryDelaySeconds, o.RetryBackoff, o.TimeoutSeconds)
		}
		if info, ok := x.info(r.ID); !ok || !sameJSON(info.Payload, payload) {
			t.Errorf("run %d: the task saw payload %s, want the schedule's", r.ID, info.Payload)
		}
	}
	if first := runs[0]; first.FinishedAt == nil || first.FinishedAt.Before(at(minutes(4))) {
		t.Errorf("the first run's retry finished at %v; want it stored for the schedule's 2-minute delay (the task's is an hour)", first.FinishedAt)
	}

	// "Run now" of a runtime schedule carries its payload and policies; the
	// other service's schedule is not this engine's to run.
	r, err := e.Trigger(ctx, "acme")
	if err != nil {
		t.Fatalf("trigger acme: %v", err)
	}
	if o := r.RunOverrides; r.Source != core.SourceManual || r.MaxAttempts != 2 || !sameJSON(r.Payload, payload) ||
		o.RetryDelaySeconds == nil || *o.RetryDelaySeconds != 120 || o.TimeoutSeconds == nil || *o.TimeoutSeconds != 30 {
		t.Errorf("triggered run: source %s max_attempts %d payload %s overrides %+v; want manual with the schedule's", r.Source, r.MaxAttempts, r.Payload, o)
	}
	if _, err := e.Trigger(ctx, "aaa_elsewhere"); !errors.Is(err, core.ErrConflict) {
		t.Errorf("trigger of another service's schedule: %v, want ErrConflict", err)
	}
	if _, err := e.Trigger(ctx, "nope"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("trigger of an unknown schedule: %v, want ErrNotFound", err)
	}
}
