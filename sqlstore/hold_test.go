package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// holdEvery plans one running run at each due schedule's slot, the next an
// hour later.
func holdEvery(due []core.DueSchedule) []core.SchedulePlan {
	out := make([]core.SchedulePlan, 0, len(due))
	for _, d := range due {
		out = append(out, core.SchedulePlan{Schedule: d.Name, NextRun: d.NextRun.Add(time.Hour), Runs: []core.PlannedRun{{
			Schedule: d.Name, Task: d.Name + "_task", DisplayName: "Task " + d.Name, Slot: d.NextRun,
			SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 3,
		}}})
	}
	return out
}

// TestHoldDueWritesEachRunOnce: a held claim stores nothing until Commit,
// holds its schedules against other claims, leaves out a slot that has a
// run already, and Commit stores each run as its outcome left it (or
// running and leased without one, for FinishRuns to finish).
func TestHoldDueWritesEachRunOnce(t *testing.T) {
	st := sqlstoretest.Open(t, "postgres")
	ctx := context.Background()
	slot := t0.Add(-time.Minute)
	names := []string{"a", "b", "c", "d", "e", "f"}
	var recs []core.ScheduleRecord
	for _, n := range names {
		recs = append(recs, sched(n, slot))
	}
	mustSync(t, st, t0, recs...)
	if _, err := st.InsertSlotRuns(ctx, core.InsertSlotRunsParams{Now: t0, Schedule: "f", Slots: []time.Time{slot}}); err != nil {
		t.Fatal(err)
	}
	lease := t0.Add(5 * time.Minute)
	p := core.ClaimDueParams{Now: t0, TickID: "tick_h", Limit: 10, LeaseUntil: lease, Plan: holdEvery}
	res, held, err := st.HoldDue(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if held == nil {
		t.Fatal("HoldDue held nothing with five runs to execute")
	}
	if res.Claimed != 6 || res.Conflicts != 1 || len(res.Runs) != 5 {
		t.Fatalf("claimed %d, conflicts %d, runs %d; want 6, 1 (f's slot has a run), 5", res.Claimed, res.Conflicts, len(res.Runs))
	}
	ids := map[string]int64{}
	for i, r := range res.Runs {
		if r.Schedule != names[i] || r.ID <= 0 || (i > 0 && r.ID <= res.Runs[i-1].ID) || r.Status != core.StatusRunning ||
			r.Attempt != 1 || r.Slot == nil || !r.Slot.Equal(slot) || r.TickID != "tick_h" || r.LeaseUntil == nil || !r.LeaseUntil.Equal(lease) {
			t.Fatalf("held run %d: %+v; want schedule %s running attempt 1 at %v with an increasing id", i, r, names[i], slot)
		}
		ids[r.Schedule] = r.ID
	}

	// Held: nothing stored, and another claim skips the locked schedules.
	for _, id := range ids {
		if _, err := st.GetRun(ctx, id); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("run %d is visible while its claim is held: %v", id, err)
		}
	}
	other, err := st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "tick_o", Limit: 10, LeaseUntil: lease, Plan: holdEvery})
	if err != nil || other.Claimed != 0 {
		t.Fatalf("a claim beside the held one: claimed %d, %v; want 0", other.Claimed, err)
	}

	started, finished, retryAt := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(time.Minute)
	outcomes := []core.Outcome{
		{RunID: ids["a"], ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: started, FinishedAt: finished},
		{RunID: ids["b"], ClaimedAttempt: 1, Attempt: 3, Status: core.StatusFailed, Error: "boom", Stack: "goroutine 1", StartedAt: started, FinishedAt: finished},
		{RunID: ids["c"], ClaimedAttempt: 1, Attempt: 1, Status: core.StatusPending, Error: "try again", StartedAt: started, FinishedAt: finished, RunAt: retryAt},
		{RunID: ids["d"], ClaimedAttempt: 1, Attempt: 0, Status: core.StatusPending, Error: "never started"},
	}
	if err := held.Commit(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	if err := held.Commit(ctx, nil); err == nil {
		t.Error("a second Commit succeeded")
	}
	type want struct {
		status         core.Status
		attempt        int
		errText, stack string
		started        *time.Time
		finished       *time.Time
		runAt          time.Time
		leased         bool
	}
	now := t0
	wants := map[string]want{
		"a": {core.StatusSuccess, 1, "", "", &started, &finished, t0, false},
		"b": {core.StatusFailed, 3, "boom", "goroutine 1", &started, &finished, t0, false},
		"c": {core.StatusPending, 1, "try again", "", &started, nil, retryAt, false},
		"d": {core.StatusPending, 0, "", "", nil, nil, t0, false},
		"e": {core.StatusRunning, 1, "", "", &now, nil, t0, true},
	}
	for name, w := range wants {
		r, err := st.GetRun(ctx, ids[name])
		if err != nil {
			t.Fatalf("run of %s: %v", name, err)
		}
		sameTime := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
		if r.Status != w.status || r.Attempt != w.attempt || r.Error != w.errText || r.Stack != w.stack ||
			!sameTime(r.StartedAt, w.started) || !sameTime(r.FinishedAt, w.finished) || !r.RunAt.Equal(w.runAt) ||
			(r.LeaseUntil != nil) != w.leased || r.TickID != "tick_h" || r.Task != name+"_task" || r.DisplayName != "Task "+name ||
			r.MaxAttempts != 3 || r.Source != core.SourceScheduled || !r.CreatedAt.Equal(t0) || r.Slot == nil || !r.Slot.Equal(slot) {
			t.Errorf("run of %s stored as %+v; want %+v", name, r, w)
		}
	}
	for _, n := range names {
		s, err := st.GetSchedule(ctx, n)
		if err != nil || !s.NextRun.Equal(slot.Add(time.Hour)) {
			t.Errorf("schedule %s next_run %v (%v); want %v", n, s.NextRun, err, slot.Add(time.Hour))
		}
	}
	// The run stored running is the tick's to finish, fenced as any other.
	n, err := st.FinishRuns(ctx, core.FinishRunsParams{TickID: "tick_h", Outcomes: []core.Outcome{
		{RunID: ids["e"], ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: started, FinishedAt: finished},
		{RunID: ids["a"], ClaimedAttempt: 1, Attempt: 1, Status: core.StatusFailed, StartedAt: started, FinishedAt: finished},
	}})
	if err != nil || n != 1 {
		t.Fatalf("FinishRuns after the commit: %d, %v; want 1 (e's; a is final)", n, err)
	}
	// f's slot kept its backfilled run, and nothing ran there.
	runs, err := st.ListRuns(ctx, core.ListRunsParams{Schedule: "f", Limit: 10})
	if err != nil || len(runs) != 1 || runs[0].Status != core.StatusPending || runs[0].Attempt != 0 {
		t.Fatalf("f's runs: %+v, %v; want the one backfilled pending run", runs, err)
	}
}

// TestHoldDueRollback: a held claim ended without Commit stores nothing and
// leaves its schedules due for the next claim.
func TestHoldDueRollback(t *testing.T) {
	st := sqlstoretest.Open(t, "postgres")
	ctx := context.Background()
	slot := t0.Add(-time.Minute)
	mustSync(t, st, t0, sched("a", slot), sched("b", slot))
	p := core.ClaimDueParams{Now: t0, TickID: "tick_r", Limit: 10, LeaseUntil: t0.Add(time.Minute), Plan: holdEvery}
	res, held, err := st.HoldDue(ctx, p)
	if err != nil || held == nil || len(res.Runs) != 2 {
		t.Fatalf("HoldDue: %d runs, held %v, %v", len(res.Runs), held != nil, err)
	}
	held.Rollback()
	held.Rollback() // a second one does nothing
	if err := held.Commit(ctx, nil); err == nil {
		t.Error("Commit after Rollback succeeded")
	}
	for _, r := range res.Runs {
		if _, err := st.GetRun(ctx, r.ID); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("run %d of the rolled back claim: %v", r.ID, err)
		}
	}
	again, err := st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "tick_2", Limit: 10, LeaseUntil: t0.Add(time.Minute), Plan: holdEvery})
	if err != nil || again.Claimed != 2 || len(again.Runs) != 2 {
		t.Fatalf("claim after the rollback: %+v, %v; want both schedules", again, err)
	}
	for _, r := range again.Runs {
		if slices.ContainsFunc(res.Runs, func(h core.Run) bool { return h.ID == r.ID }) {
			t.Errorf("run id %d drawn by the rolled back claim was used again", r.ID)
		}
	}
}

// TestHoldDueWithNothingToHold: with no run to execute, and on SQLite,
// HoldDue is ClaimDue: it commits and holds nothing.
func TestHoldDueWithNothingToHold(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		slot := t0.Add(-time.Minute)
		mustSync(t, st, t0, sched("a", slot), sched("b", slot))
		skipOnly := func(due []core.DueSchedule) []core.SchedulePlan {
			var out []core.SchedulePlan
			for _, d := range due {
				if d.Name == "a" {
					out = append(out, core.SchedulePlan{Schedule: d.Name, NextRun: d.NextRun.Add(time.Hour), Runs: []core.PlannedRun{{
						Schedule: d.Name, Task: "a_task", DisplayName: "A", Slot: d.NextRun, SlotsCovered: 1, Status: core.StatusSkipped, MaxAttempts: 1, Error: "overlap",
					}}})
				}
			}
			return out
		}
		res, held, err := st.HoldDue(ctx, core.ClaimDueParams{Now: t0, TickID: "t", Limit: 1, LeaseUntil: t0.Add(time.Minute), Plan: skipOnly})
		if err != nil || held != nil || len(res.Runs) != 1 || res.Runs[0].Status != core.StatusSkipped {
			t.Fatalf("skip only: %+v, held %v, %v; want the skipped run stored and nothing held", res, held != nil, err)
		}
		if r, err := st.GetRun(ctx, res.Runs[0].ID); err != nil || r.Status != core.StatusSkipped {
			t.Fatalf("skipped run: %+v, %v", r, err)
		}
		res, held, err = st.HoldDue(ctx, core.ClaimDueParams{Now: t0, TickID: "t", Limit: 10, LeaseUntil: t0.Add(time.Minute), Plan: holdEvery})
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("HoldDue: %+v, %v", res, err)
		}
		if held != nil { // PostgreSQL holds a run to execute
			if st.Dialect() == "sqlite" {
				t.Fatal("SQLite held a claim")
			}
			if err := held.Commit(ctx, nil); err != nil {
				t.Fatal(err)
			}
		} else if st.Dialect() == "postgres" {
			t.Fatal("PostgreSQL held nothing with a run to execute")
		}
		if r, err := st.GetRun(ctx, res.Runs[0].ID); err != nil || r.Status != core.StatusRunning {
			t.Fatalf("run: %+v, %v; want running", r, err)
		}
	})
}

// TestHoldDueCatchupDrawsMoreIDs: a schedule planned with several runs
// (catch-up) gets one id from its row and the others from the hold
// statement; each run is stored under its own id.
func TestHoldDueCatchupDrawsMoreIDs(t *testing.T) {
	st := sqlstoretest.Open(t, "postgres")
	ctx := context.Background()
	slot := t0.Add(-3 * time.Minute)
	mustSync(t, st, t0, sched("a", slot), sched("b", slot))
	catchup := func(due []core.DueSchedule) []core.SchedulePlan {
		var out []core.SchedulePlan
		for _, d := range due {
			pl := core.SchedulePlan{Schedule: d.Name, NextRun: t0.Add(time.Minute)}
			for k := range 3 {
				pl.Runs = append(pl.Runs, core.PlannedRun{Schedule: d.Name, Task: d.Name + "_task", DisplayName: d.Name,
					Slot: d.NextRun.Add(time.Duration(k) * time.Minute), SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1})
			}
			out = append(out, pl)
		}
		return out
	}
	res, held, err := st.HoldDue(ctx, core.ClaimDueParams{Now: t0, TickID: "tick_c", Limit: 10, LeaseUntil: t0.Add(time.Minute), Plan: catchup})
	if err != nil || held == nil || len(res.Runs) != 6 {
		t.Fatalf("HoldDue: %d runs, held %v, %v; want 6 held", len(res.Runs), held != nil, err)
	}
	var outcomes []core.Outcome
	seen := map[int64]bool{}
	for _, r := range res.Runs {
		if r.ID <= 0 || seen[r.ID] {
			t.Fatalf("run ids %v are not distinct", res.Runs)
		}
		seen[r.ID] = true
		outcomes = append(outcomes, core.Outcome{RunID: r.ID, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: t0, FinishedAt: t0.Add(time.Second)})
	}
	if err := held.Commit(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Runs {
		got, err := st.GetRun(ctx, r.ID)
		if err != nil || got.Status != core.StatusSuccess || got.Schedule != r.Schedule || !got.Slot.Equal(*r.Slot) {
			t.Errorf("run %d: %+v, %v; want %s at %v succeeded", r.ID, got, err, r.Schedule, r.Slot)
		}
	}
}

// TestClaimDueResumesAfterTheLastRow: a claim given the Last of the tick's
// previous claim locks only the due schedules after it in (next_run,
// name) order; on SQLite After is ignored.
func TestClaimDueResumesAfterTheLastRow(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		slot := t0.Add(-time.Minute)
		mustSync(t, st, t0, sched("a", slot), sched("b", slot), sched("c", slot), sched("d", slot.Add(-time.Minute)))
		p := core.ClaimDueParams{Now: t0, TickID: "t", Limit: 2, LeaseUntil: t0.Add(time.Minute), Plan: holdEvery}
		first, held, err := st.HoldDue(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if first.Claimed != 2 || first.Last == nil || first.Last.Name != "a" || !first.Last.NextRun.Equal(slot) {
			t.Fatalf("first claim: %d locked, last %+v; want d then a, the last a at %v", first.Claimed, first.Last, slot)
		}
		if held != nil {
			defer held.Rollback()
		}
		p.Limit, p.After = 10, &core.DueKey{NextRun: slot, Name: "b"}
		second, err := st.ClaimDue(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"c"} // after b; a and d are the first claim's
		if st.Dialect() == "sqlite" {
			want = []string{"b", "c"} // After ignored; the first claim committed a and d
		}
		var got []string
		for _, r := range second.Runs {
			got = append(got, r.Schedule)
		}
		if !slices.Equal(got, want) {
			t.Errorf("claim after b locked %v; want %v", got, want)
		}
	})
}
