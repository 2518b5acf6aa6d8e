package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// t0 is the stub "now" of these tests.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// each runs fn on a fresh store of each dialect.
func each(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	t.Helper()
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, sqlstoretest.Open(t, d)) })
	}
}

// sched is a valid interval schedule record due at next.
func sched(name string, next time.Time) core.ScheduleRecord {
	return core.ScheduleRecord{
		Name: name, Task: name + "_task", DisplayName: "Task " + name, Kind: "every", EverySeconds: 60,
		SpecHash: "h1", Misfire: core.MisfireCoalesce, Overlap: core.OverlapSkip, MaxCatchup: 10,
		Backoff: 1, Anchor: next.Add(-time.Minute), NextRun: next,
	}
}

func mustSync(t *testing.T, st *sqlstore.Store, now time.Time, recs ...core.ScheduleRecord) core.SyncResult {
	t.Helper()
	res, err := st.SyncSchedules(context.Background(), core.SyncSchedulesParams{Now: now, Schedules: recs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustInsert(t *testing.T, st *sqlstore.Store, p core.InsertRunParams) core.Run {
	t.Helper()
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 1
	}
	r, created, err := st.InsertRun(context.Background(), p)
	if err != nil || !created {
		t.Fatalf("InsertRun(%+v) = created %v, %v", p, created, err)
	}
	return r
}

func mustGet(t *testing.T, st *sqlstore.Store, id int64) core.Run {
	t.Helper()
	r, err := st.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func claimRuns(t *testing.T, st *sqlstore.Store, now time.Time, tick string, limit int, tasks ...string) core.ClaimRunsResult {
	t.Helper()
	res, err := st.ClaimRuns(context.Background(), core.ClaimRunsParams{
		Now: now, TickID: tick, Limit: limit, LeaseUntil: now.Add(5 * time.Minute), Tasks: tasks,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestTimesRoundTripInUTC(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		kolkata := time.FixedZone("IST", 5*3600+1800)
		now := time.Date(2026, 3, 2, 15, 30, 0, 123456789, kolkata)
		runAt := time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)
		r := mustInsert(t, st, core.InsertRunParams{Now: now, Task: "t", RunAt: runAt})
		got := mustGet(t, st, r.ID)
		wantNow := now.UTC().Truncate(time.Microsecond)
		if !got.CreatedAt.Equal(wantNow) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at = %v (%v); want %v in UTC", got.CreatedAt, got.CreatedAt.Location(), wantNow)
		}
		if want := runAt.Truncate(time.Microsecond); !got.RunAt.Equal(want) || got.RunAt.Location() != time.UTC {
			t.Errorf("run_at = %v; want %v in UTC", got.RunAt, want)
		}
		if got.StartedAt != nil || got.FinishedAt != nil || got.LeaseUntil != nil || got.Slot != nil {
			t.Errorf("unset instants are not nil: %+v", got)
		}
	})
}

func TestZeroNowReadsDatabaseClock(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		before := time.Now()
		ts, err := st.BeginTick(context.Background(), core.BeginTickParams{TickID: "tick_db", Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if d := ts.Now.Sub(before); d < -time.Minute || d > time.Minute || ts.Now.Location() != time.UTC {
			t.Fatalf("BeginTick with zero Now read %v (%v); want the clock near %v in UTC", ts.Now, ts.Now.Location(), before)
		}
		if ts.Now.Nanosecond()%1000 != 0 {
			t.Fatalf("clock reading %v has sub-microsecond digits", ts.Now)
		}
	})
}

// TestBeginTickTellsOtherTasksDue: BeginTick reports whether every due
// schedule is of the given tasks (then the claims may leave the task filter
// out); paused and future schedules of other tasks do not count.
func TestBeginTickTellsOtherTasksDue(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		mustSync(t, st, t0,
			sched("a", t0.Add(-time.Minute)), sched("b", t0.Add(-time.Minute)),
			sched("c", t0.Add(time.Minute)), sched("d", t0.Add(-time.Hour)))
		if _, err := st.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "d", Paused: true, Now: t0}); err != nil {
			t.Fatal(err)
		}
		for i, c := range []struct {
			tasks  []string
			due    int
			allOwn bool
		}{
			{nil, 2, true},
			{[]string{"a_task", "b_task"}, 2, true},
			{[]string{"a_task"}, 1, false},
			{[]string{"c_task", "d_task"}, 0, false},
			{[]string{"a_task", "b_task", "c_task"}, 2, true},
		} {
			ts, err := st.BeginTick(ctx, core.BeginTickParams{TickID: fmt.Sprint("tick_", i), Now: t0, Tasks: c.tasks})
			if err != nil {
				t.Fatal(err)
			}
			if ts.DueSchedules != c.due || ts.DueAllOwnTasks != c.allOwn {
				t.Errorf("tasks %v: due %d, all own %v; want %d, %v", c.tasks, ts.DueSchedules, ts.DueAllOwnTasks, c.due, c.allOwn)
			}
		}
	})
}

func TestBeginTickCountsDueWork(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		mustSync(t, st, t0,
			sched("a", t0.Add(-2*time.Minute)), sched("b", t0.Add(-time.Minute)),
			sched("c", t0.Add(time.Minute)), sched("d", t0.Add(-time.Hour)))
		if _, err := st.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "d", Paused: true, Now: t0}); err != nil {
			t.Fatal(err)
		}
		mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t"})
		mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t", RunAt: t0.Add(time.Hour)})
		leased := mustInsert(t, st, core.InsertRunParams{Now: t0.Add(-time.Hour), Task: "t"})
		claimRuns(t, st, t0.Add(-time.Hour), "tick_old", 10, "t") // leased until t0-55m: expired at t0

		ts, err := st.BeginTick(ctx, core.BeginTickParams{TickID: "tick_1", Now: t0, Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if !ts.Now.Equal(t0) || ts.DueSchedules != 2 || ts.RunnableRuns != 2 || ts.OldestDue == nil || !ts.OldestDue.Equal(t0.Add(-2*time.Minute)) {
			t.Fatalf("BeginTick = %+v; want now %v, 2 due, 2 runnable (1 pending, 1 expired lease %d), oldest %v", ts, t0, leased.ID, t0.Add(-2*time.Minute))
		}
		rep := core.Report{TickID: "tick_1", Claimed: 3, Succeeded: 2, Failed: 1, Retried: 4, Skipped: 5, DurationMS: 12.5}
		if err := st.EndTick(ctx, core.EndTickParams{Report: rep, FinishedAt: t0.Add(time.Second), Error: "boom"}); err != nil {
			t.Fatal(err)
		}
		ticks, err := st.ListTicks(ctx, 10)
		if err != nil || len(ticks) != 1 {
			t.Fatalf("ListTicks = %+v, %v; want the one tick", ticks, err)
		}
		tk := ticks[0]
		if tk.ID != "tick_1" || tk.Trigger != "test" || !tk.StartedAt.Equal(t0) || tk.FinishedAt == nil ||
			!tk.FinishedAt.Equal(t0.Add(time.Second)) || tk.DueSchedules != 2 || tk.Claimed != 3 || tk.Succeeded != 2 ||
			tk.Failed != 1 || tk.Retried != 4 || tk.Skipped != 5 || tk.LagSeconds != 120 || tk.DurationMS != 12.5 || tk.Error != "boom" {
			t.Fatalf("tick record = %+v", tk)
		}
		stats, err := st.Stats(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !stats.Now.Equal(t0) || stats.DueUnclaimed != 2 || stats.OldestDueLag != 2*time.Minute ||
			stats.LastTickAt == nil || !stats.LastTickAt.Equal(t0) || stats.RunsByStatus[core.StatusPending] != 2 ||
			stats.RunsByStatus[core.StatusRunning] != 1 || len(stats.RunsByStatus) != len(core.Statuses) {
			t.Fatalf("Stats = %+v", stats)
		}
	})
}

func TestEndTickPrunesOldTicks(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		st.PruneEveryEndTick()
		for i, at := range []time.Time{t0.Add(-8 * 24 * time.Hour), t0.Add(-6 * 24 * time.Hour), t0} {
			if _, err := st.BeginTick(ctx, core.BeginTickParams{TickID: fmt.Sprint("tick_", i), Now: at}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.EndTick(ctx, core.EndTickParams{Report: core.Report{TickID: "tick_2"}, FinishedAt: t0, TicksBefore: t0.Add(-7 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ticks, err := st.ListTicks(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tk := range ticks {
			ids = append(ids, tk.ID)
		}
		if strings.Join(ids, ",") != "tick_2,tick_1" {
			t.Fatalf("ticks after EndTick = %v; want tick_2,tick_1 (tick_0 is 8 days old)", ids)
		}
	})
}

func TestSyncSchedules(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		a, b, c := sched("a", t0.Add(time.Minute)), sched("b", t0.Add(time.Minute)), sched("c", t0.Add(time.Minute))
		if res := mustSync(t, st, t0, a, b, c); res != (core.SyncResult{Inserted: 3}) {
			t.Fatalf("first sync = %+v", res)
		}
		if res := mustSync(t, st, t0.Add(time.Second), a, b, c); res != (core.SyncResult{Unchanged: 3}) {
			t.Fatalf("same sync = %+v", res)
		}
		if _, err := st.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "b", Paused: true, Now: t0.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		// a: new spec; b: display change only, with another next_run that must
		// be ignored; c: dropped from the code.
		a2 := a
		a2.SpecHash, a2.EverySeconds, a2.NextRun, a2.Anchor = "h2", 120, t0.Add(2*time.Minute), t0
		b2 := b
		b2.DisplayName, b2.Retries, b2.NextRun = "Renamed", 3, t0.Add(time.Hour)
		later := t0.Add(time.Minute)
		if res := mustSync(t, st, later, a2, b2); res != (core.SyncResult{Changed: 2, Orphaned: 1}) {
			t.Fatalf("changed sync = %+v", res)
		}
		ga, _ := st.GetSchedule(ctx, "a")
		gb, _ := st.GetSchedule(ctx, "b")
		gc, _ := st.GetSchedule(ctx, "c")
		if ga.SpecHash != "h2" || !ga.NextRun.Equal(a2.NextRun) || !ga.Anchor.Equal(t0) || ga.EverySeconds != 120 || !ga.UpdatedAt.Equal(later) || !ga.CreatedAt.Equal(t0) {
			t.Errorf("a after a spec change = %+v", ga)
		}
		if gb.DisplayName != "Renamed" || gb.Retries != 3 || !gb.NextRun.Equal(b.NextRun) || !gb.Paused {
			t.Errorf("b after a display change = %+v; want next_run kept at %v and still paused", gb, b.NextRun)
		}
		if !gc.Orphaned || ga.Orphaned {
			t.Errorf("orphaned: a %v, c %v; want false, true", ga.Orphaned, gc.Orphaned)
		}
		if res := mustSync(t, st, later, a2, b2, c); res != (core.SyncResult{Changed: 1, Unchanged: 2}) {
			t.Fatalf("re-adding c = %+v", res)
		}
		if gc, _ := st.GetSchedule(ctx, "c"); gc.Orphaned || !gc.NextRun.Equal(c.NextRun) {
			t.Errorf("c re-added = %+v", gc)
		}
		list, err := st.ListSchedules(ctx)
		if err != nil || len(list) != 3 || list[0].Name != "a" || list[2].Name != "c" {
			t.Fatalf("ListSchedules = %+v, %v", list, err)
		}
		// A never-again schedule (zero next_run) is stored and never due.
		d := sched("d", time.Time{})
		d.Anchor = t0
		mustSync(t, st, later, a2, b2, c, d)
		if gd, err := st.GetSchedule(ctx, "d"); err != nil || !gd.NextRun.IsZero() {
			t.Fatalf("d = %+v, %v", gd, err)
		}
	})
}

// TestSyncSchedulesInChunks syncs more schedules than one upsert statement
// takes, with a name listed twice across chunks (the last entry wins).
func TestSyncSchedulesInChunks(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		const n = 2*sqlstore.SyncChunk + 3
		recs := make([]core.ScheduleRecord, 0, n+1)
		for i := range n {
			recs = append(recs, sched(fmt.Sprintf("s%05d", i), t0.Add(time.Minute)))
		}
		last := sched("s00001", t0.Add(time.Minute))
		last.DisplayName = "last wins"
		recs = append(recs, last)
		if res := mustSync(t, st, t0, recs...); res != (core.SyncResult{Inserted: n}) {
			t.Fatalf("first sync = %+v", res)
		}
		if g, err := st.GetSchedule(ctx, "s00001"); err != nil || g.DisplayName != "last wins" {
			t.Fatalf("s00001 = %+v, %v", g, err)
		}
		recs[n-1].Retries = 2
		if res := mustSync(t, st, t0, recs[1:]...); res != (core.SyncResult{Changed: 1, Unchanged: n - 2, Orphaned: 1}) {
			t.Fatalf("second sync = %+v", res)
		}
	})
}

// plan returns a ClaimDue plan function that records what it saw and plans
// the given runs for every due schedule, advancing it to next.
func plan(saw *[]core.DueSchedule, next time.Time, runs func(d core.DueSchedule) []core.PlannedRun) func([]core.DueSchedule) []core.SchedulePlan {
	return func(due []core.DueSchedule) []core.SchedulePlan {
		*saw = append(*saw, due...)
		var out []core.SchedulePlan
		for _, d := range due {
			out = append(out, core.SchedulePlan{Schedule: d.Name, NextRun: next, Runs: runs(d)})
		}
		return out
	}
}

func TestClaimDue(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		mustSync(t, st, t0, sched("a", t0.Add(-time.Minute)), sched("b", t0.Add(-30*time.Second)))
		slot := t0.Add(-time.Minute)
		lease := t0.Add(5 * time.Minute)
		var saw []core.DueSchedule
		res, err := st.ClaimDue(ctx, core.ClaimDueParams{
			Now: t0, TickID: "tick_1", Limit: 1, LeaseUntil: lease,
			Plan: plan(&saw, t0.Add(-10*time.Second), func(d core.DueSchedule) []core.PlannedRun {
				return []core.PlannedRun{
					{Schedule: d.Name, Task: d.Name + "_task", DisplayName: "A", Slot: slot.Add(-time.Hour), SlotsCovered: 59, Status: core.StatusSkipped, MaxAttempts: 1, Error: "misfire"},
					{Schedule: d.Name, Task: d.Name + "_task", DisplayName: "A", Slot: slot, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 3},
					{Schedule: d.Name, Task: d.Name + "_task", DisplayName: "A", Slot: slot.Add(time.Second), SlotsCovered: 1, Status: core.StatusPending, RunAt: t0.Add(7 * time.Second), MaxAttempts: 3},
				}
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Claimed != 1 || len(saw) != 1 || saw[0].Name != "a" || saw[0].SpecHash != "h1" ||
			!saw[0].NextRun.Equal(slot) || saw[0].Active || res.Conflicts != 0 || len(res.Runs) != 3 {
			t.Fatalf("ClaimDue(limit 1) = %+v, saw %+v; want schedule a (the oldest) claimed, 3 runs", res, saw)
		}
		sk, run, pend := res.Runs[0], res.Runs[1], res.Runs[2]
		if sk.Status != core.StatusSkipped || sk.Attempt != 0 || sk.FinishedAt == nil || !sk.FinishedAt.Equal(t0) || sk.Error != "misfire" || sk.SlotsCovered != 59 || sk.LeaseUntil != nil {
			t.Errorf("skipped run = %+v", sk)
		}
		if run.Status != core.StatusRunning || run.Attempt != 1 || run.MaxAttempts != 3 || run.StartedAt == nil || !run.StartedAt.Equal(t0) ||
			run.LeaseUntil == nil || !run.LeaseUntil.Equal(lease) || run.TickID != "tick_1" || run.Source != core.SourceScheduled ||
			run.Schedule != "a" || run.Slot == nil || !run.Slot.Equal(slot) || run.FinishedAt != nil || run.DisplayName != "A" {
			t.Errorf("running run = %+v", run)
		}
		if pend.Status != core.StatusPending || pend.Attempt != 0 || !pend.RunAt.Equal(t0.Add(7*time.Second)) || pend.StartedAt != nil || pend.LeaseUntil != nil {
			t.Errorf("pending run = %+v", pend)
		}
		if a, _ := st.GetSchedule(ctx, "a"); !a.NextRun.Equal(t0.Add(-10*time.Second)) || a.LastRunID == nil || *a.LastRunID != pend.ID {
			t.Errorf("schedule a after the claim = %+v", a)
		}

		// Both are due now; a has a live lease (Active). Planning a's running
		// slot again is a conflict; b's plan refers to a schedule not claimed
		// as well, which is ignored.
		saw = nil
		res, err = st.ClaimDue(ctx, core.ClaimDueParams{
			Now: t0, TickID: "tick_2", Limit: 10, LeaseUntil: lease,
			Plan: func(due []core.DueSchedule) []core.SchedulePlan {
				saw = slices.Clone(due) // due is reused after Plan returns
				return []core.SchedulePlan{
					{Schedule: "a", NextRun: t0.Add(time.Minute), Runs: []core.PlannedRun{
						{Schedule: "a", Task: "a_task", Slot: slot, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1},
						{Schedule: "a", Task: "a_task", Slot: t0, SlotsCovered: 1, Status: core.StatusSkipped, MaxAttempts: 1, Error: "overlap"},
					}},
					{Schedule: "zzz", NextRun: t0, Runs: []core.PlannedRun{{Schedule: "zzz", Task: "x", Slot: t0, Status: core.StatusRunning, MaxAttempts: 1}}},
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		active := map[string]bool{}
		for _, d := range saw {
			active[d.Name] = d.Active
		}
		if res.Claimed != 2 || !active["a"] || active["b"] || res.Conflicts != 1 || len(res.Runs) != 1 || res.Runs[0].Error != "overlap" {
			t.Fatalf("second ClaimDue = %+v, active %v; want 2 claimed, a active, 1 conflict, 1 run", res, active)
		}
		if b, _ := st.GetSchedule(ctx, "b"); !b.NextRun.Equal(t0.Add(-30 * time.Second)) {
			t.Errorf("b had no plan but its next_run moved to %v", b.NextRun)
		}
		if runs, _ := st.ListRuns(ctx, core.ListRunsParams{Schedule: "zzz"}); len(runs) != 0 {
			t.Errorf("a plan for an unclaimed schedule inserted %+v", runs)
		}
		// Nothing due: nothing claimed, Plan not called.
		called := false
		res, err = st.ClaimDue(ctx, core.ClaimDueParams{Now: t0.Add(-time.Hour), TickID: "tick_3", LeaseUntil: lease,
			Plan: func([]core.DueSchedule) []core.SchedulePlan { called = true; return nil }})
		if err != nil || res.Claimed != 0 || called {
			t.Fatalf("ClaimDue with nothing due = %+v, %v, plan called %v", res, err, called)
		}
	})
}

// TestClaimDueConcurrentClaimsNeverOverlap holds one claim open inside Plan
// while a second claim runs: on PostgreSQL the second skips the locked row
// at once (SKIP LOCKED); on SQLite it waits for the write lock. Either way it
// claims nothing that the first claimed.
func TestClaimDueConcurrentClaimsNeverOverlap(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		mustSync(t, st, t0, sched("a", t0.Add(-time.Minute)))
		claim := func(tick string, inPlan func()) (core.ClaimDueResult, error) {
			return st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: tick, Limit: 10, LeaseUntil: t0.Add(time.Minute),
				Plan: func(due []core.DueSchedule) []core.SchedulePlan {
					inPlan()
					var out []core.SchedulePlan
					for _, d := range due {
						out = append(out, core.SchedulePlan{Schedule: d.Name, NextRun: t0.Add(time.Minute), Runs: []core.PlannedRun{
							{Schedule: d.Name, Task: d.Name + "_task", Slot: d.NextRun, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1}}})
					}
					return out
				}})
		}
		second := make(chan core.ClaimDueResult, 1)
		secondErr := make(chan error, 1)
		first, err := claim("tick_1", func() {
			go func() {
				r, err := claim("tick_2", func() { t.Error("the second claim saw a due schedule") })
				second <- r
				secondErr <- err
			}()
			if st.Dialect() == "postgres" {
				select { // SKIP LOCKED: the second claim does not wait for us
				case <-secondErr:
				case <-time.After(20 * time.Second):
					t.Error("the second claim blocked on the first one's row lock")
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Dialect() != "postgres" {
			if err := <-secondErr; err != nil {
				t.Fatal(err)
			}
		}
		if r := <-second; first.Claimed != 1 || len(first.Runs) != 1 || r.Claimed != 0 || len(r.Runs) != 0 {
			t.Fatalf("first claim %+v, second %+v; want 1 and 0", first, r)
		}
	})
}

func TestClaimRuns(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		r1 := mustInsert(t, st, core.InsertRunParams{Now: t0.Add(-2 * time.Second), Task: "t", MaxAttempts: 2})
		r2 := mustInsert(t, st, core.InsertRunParams{Now: t0.Add(-time.Second), Task: "t"})
		mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t", RunAt: t0.Add(time.Hour)})
		mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "other"})

		res := claimRuns(t, st, t0, "tick_1", 1, "t")
		if len(res.Runs) != 1 || res.Runs[0].ID != r1.ID {
			t.Fatalf("claim with limit 1 = %+v; want the oldest run %d", res, r1.ID)
		}
		got := res.Runs[0]
		if got.Status != core.StatusRunning || got.Attempt != 1 || got.TickID != "tick_1" || got.StartedAt == nil ||
			!got.StartedAt.Equal(t0) || got.LeaseUntil == nil || !got.LeaseUntil.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("claimed run = %+v", got)
		}
		res = claimRuns(t, st, t0, "tick_1", 10, "t")
		if len(res.Runs) != 1 || res.Runs[0].ID != r2.ID {
			t.Fatalf("second claim = %+v; want only run %d (the others are in the future or of another task)", res, r2.ID)
		}
		if res := claimRuns(t, st, t0, "tick_1", 10); len(res.Runs) != 0 {
			t.Fatalf("claim with no tasks = %+v", res)
		}

		// Both leases (t0+5m) expire: r1 has an attempt left and is retried;
		// r2 (max_attempts 1) fails. The future run and the other task's run
		// stay pending.
		late := t0.Add(10 * time.Minute)
		res = claimRuns(t, st, late, "tick_2", 10, "t")
		byID := map[int64]core.Run{}
		for _, r := range res.Runs {
			byID[r.ID] = r
		}
		again, ok := byID[r1.ID]
		if !ok || again.Attempt != 2 || again.Interruptions != 1 || again.TickID != "tick_2" ||
			!strings.HasPrefix(again.Error, "interrupted: lease expired at 2026-03-02T10:05:00Z") {
			t.Fatalf("r1 after its lease expired = %+v (claim %+v)", again, res)
		}
		failed := mustGet(t, st, r2.ID)
		if failed.Status != core.StatusFailed || failed.Interruptions != 1 || failed.FinishedAt == nil || !failed.FinishedAt.Equal(late) ||
			failed.LeaseUntil != nil || !strings.Contains(failed.Error, "no attempts left") {
			t.Fatalf("r2 after its lease expired with no attempts left = %+v", failed)
		}
		if res.Interrupted != 1 || res.Failed != 1 || len(res.Runs) != 1 {
			t.Fatalf("claim after the leases expired = interrupted %d, failed %d, runs %d; want 1, 1, 1", res.Interrupted, res.Failed, len(res.Runs))
		}
	})
}

func TestFinishRunsFencing(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		r := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t", MaxAttempts: 3})
		claimRuns(t, st, t0, "tick_1", 10, "t")
		ok := core.Outcome{RunID: r.ID, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: t0, FinishedAt: t0.Add(time.Second)}
		finish := func(tick string, o ...core.Outcome) int {
			t.Helper()
			n, err := st.FinishRuns(ctx, core.FinishRunsParams{TickID: tick, Outcomes: o})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		wrongAttempt := ok
		wrongAttempt.ClaimedAttempt = 2
		if n := finish("tick_other", ok); n != 0 {
			t.Fatalf("an outcome from another tick applied (%d)", n)
		}
		if n := finish("tick_1", wrongAttempt); n != 0 {
			t.Fatalf("an outcome for another attempt applied (%d)", n)
		}
		if got := mustGet(t, st, r.ID); got.Status != core.StatusRunning {
			t.Fatalf("run changed by fenced-off outcomes: %+v", got)
		}
		// A retry for later, then the same outcome again (no longer running).
		// The error and stack hold what array and JSON encodings must quote.
		const boom, stack = `boom, {"quoted"} \\ NULL é`, "goroutine 1 [running]:\n\tmain.go:1 +0x1d\n"
		retry := core.Outcome{RunID: r.ID, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusPending, Error: boom, Stack: stack,
			StartedAt: t0, FinishedAt: t0.Add(time.Second), RunAt: t0.Add(time.Minute)}
		if n := finish("tick_1", retry, core.Outcome{RunID: 999999, ClaimedAttempt: 1, Status: core.StatusSuccess}); n != 1 {
			t.Fatalf("FinishRuns applied %d outcomes; want 1", n)
		}
		if n := finish("tick_1", ok); n != 0 {
			t.Fatalf("an outcome applied to a run that is no longer running (%d)", n)
		}
		got := mustGet(t, st, r.ID)
		if got.Status != core.StatusPending || got.Error != boom || got.Stack != stack || !got.RunAt.Equal(t0.Add(time.Minute)) ||
			got.FinishedAt != nil || got.LeaseUntil != nil || got.Attempt != 1 {
			t.Fatalf("run after a retry outcome = %+v", got)
		}
		// Claimed again as attempt 2 by tick_2, then released unstarted: the
		// attempt is given back and the previous error kept.
		claimRuns(t, st, t0.Add(time.Minute), "tick_2", 10, "t")
		rel := core.Outcome{RunID: r.ID, ClaimedAttempt: 2, Attempt: 1, Status: core.StatusPending,
			StartedAt: t0.Add(time.Minute), FinishedAt: t0.Add(time.Minute), RunAt: t0.Add(time.Minute)}
		if n := finish("tick_2", rel); n != 1 {
			t.Fatalf("release applied %d", n)
		}
		if got := mustGet(t, st, r.ID); got.Attempt != 1 || got.Error != boom || got.Status != core.StatusPending {
			t.Fatalf("run after release = %+v", got)
		}
		claimRuns(t, st, t0.Add(2*time.Minute), "tick_3", 10, "t")
		done := core.Outcome{RunID: r.ID, ClaimedAttempt: 2, Attempt: 3, Status: core.StatusFailed, Error: "again",
			StartedAt: t0.Add(2 * time.Minute), FinishedAt: t0.Add(3 * time.Minute)}
		if n := finish("tick_3", done); n != 1 {
			t.Fatalf("final outcome applied %d", n)
		}
		got = mustGet(t, st, r.ID)
		if got.Status != core.StatusFailed || got.Attempt != 3 || got.Error != "again" || got.Stack != "" ||
			got.FinishedAt == nil || !got.FinishedAt.Equal(t0.Add(3*time.Minute)) || !got.StartedAt.Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("run after the final outcome = %+v", got)
		}
	})
}

func TestInsertRunIdempotencyKey(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		p := core.InsertRunParams{Now: t0, Task: "send", DisplayName: "Send", Payload: []byte(`{"to":"a@b.c",  "n":1}`), IdempotencyKey: "k1", MaxAttempts: 2}
		first := mustInsert(t, st, p)
		if string(first.Payload) != string(p.Payload) || first.Source != core.SourceManual || first.Status != core.StatusPending ||
			first.Attempt != 0 || first.MaxAttempts != 2 || first.IdempotencyKey != "k1" || first.Schedule != "" || first.DisplayName != "Send" {
			t.Fatalf("inserted run = %+v (payload %s)", first, first.Payload)
		}
		p2 := p
		p2.Payload, p2.Now = []byte(`{"other":true}`), t0.Add(time.Hour)
		again, created, err := st.InsertRun(ctx, p2)
		if err != nil || created || again.ID != first.ID || string(again.Payload) != string(p.Payload) {
			t.Fatalf("InsertRun with an existing key = %+v, created %v, %v; want run %d unchanged", again, created, err, first.ID)
		}
		other := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "send", IdempotencyKey: "k2"})
		noKey1 := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "send"})
		noKey2 := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "send", Schedule: "nightly"})
		if other.ID == first.ID || noKey1.ID == noKey2.ID || noKey2.Schedule != "nightly" || noKey2.Slot != nil || noKey1.Payload != nil {
			t.Fatalf("runs without the key: %+v %+v %+v", other, noKey1, noKey2)
		}
		// Eight racing inserts of one key create one run.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[int64]int{}
		createdN := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, c, err := st.InsertRun(ctx, core.InsertRunParams{Now: t0, Task: "send", IdempotencyKey: "race", MaxAttempts: 1})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				ids[r.ID]++
				if c {
					createdN++
				}
			}()
		}
		wg.Wait()
		if len(ids) != 1 || createdN != 1 {
			t.Fatalf("racing inserts of one key: ids %v, created %d; want one id, created once", ids, createdN)
		}
	})
}

func TestCancelAndRetryRun(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		r := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t"})
		c, err := st.CancelRun(ctx, core.RunActionParams{ID: r.ID, Now: t0.Add(time.Second)})
		if err != nil || c.Status != core.StatusCancelled || c.FinishedAt == nil || !c.FinishedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("CancelRun = %+v, %v", c, err)
		}
		if _, err := st.CancelRun(ctx, core.RunActionParams{ID: r.ID}); !errors.Is(err, core.ErrConflict) || !strings.Contains(err.Error(), "cancelled") {
			t.Fatalf("cancelling a cancelled run: %v; want ErrConflict naming the status", err)
		}
		if _, err := st.RetryRun(ctx, core.RunActionParams{ID: r.ID}); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("retrying a cancelled run: %v; want ErrConflict", err)
		}
		// Fail a run, then retry it.
		f := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t", MaxAttempts: 1})
		claimRuns(t, st, t0, "tick_1", 10, "t")
		if _, err := st.CancelRun(ctx, core.RunActionParams{ID: f.ID}); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("cancelling a running run: %v; want ErrConflict", err)
		}
		n, err := st.FinishRuns(ctx, core.FinishRunsParams{TickID: "tick_1", Outcomes: []core.Outcome{{RunID: f.ID, ClaimedAttempt: 1, Attempt: 1,
			Status: core.StatusFailed, Error: "boom", StartedAt: t0, FinishedAt: t0.Add(time.Second)}}})
		if err != nil || n != 1 {
			t.Fatalf("FinishRuns = %d, %v", n, err)
		}
		rr, err := st.RetryRun(ctx, core.RunActionParams{ID: f.ID, Now: t0.Add(time.Hour)})
		if err != nil || rr.Status != core.StatusPending || rr.MaxAttempts != 2 || rr.Attempt != 1 || rr.FinishedAt != nil ||
			!rr.RunAt.Equal(t0.Add(time.Hour)) || rr.Error != "boom" {
			t.Fatalf("RetryRun = %+v, %v", rr, err)
		}
		if got := claimRuns(t, st, t0.Add(time.Hour), "tick_2", 10, "t"); len(got.Runs) != 1 || got.Runs[0].Attempt != 2 {
			t.Fatalf("the retried run is not claimable as attempt 2: %+v", got)
		}
	})
}

func TestListRuns(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		var ids []int64
		for i := 0; i < 7; i++ {
			p := core.InsertRunParams{Now: t0, Task: []string{"x", "y"}[i%2]}
			if i%3 == 0 {
				p.Schedule = "s"
			}
			ids = append(ids, mustInsert(t, st, p).ID)
		}
		if _, err := st.CancelRun(ctx, core.RunActionParams{ID: ids[6]}); err != nil {
			t.Fatal(err)
		}
		// Two runs of y running (ids[1], ids[3]): the list merges them with
		// the rest by id.
		if res := claimRuns(t, st, t0, "tick_1", 2, "y"); len(res.Runs) != 2 {
			t.Fatalf("claimed %d runs of y; want 2", len(res.Runs))
		}
		list := func(p core.ListRunsParams) []int64 {
			t.Helper()
			runs, err := st.ListRuns(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, r := range runs {
				out = append(out, r.ID)
			}
			return out
		}
		check := func(name string, got []int64, want ...int64) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s = %v; want %v", name, got, want)
			}
		}
		check("all", list(core.ListRunsParams{}), ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0])
		check("task y", list(core.ListRunsParams{Task: "y"}), ids[5], ids[3], ids[1])
		check("schedule s", list(core.ListRunsParams{Schedule: "s"}), ids[6], ids[3], ids[0])
		check("cancelled", list(core.ListRunsParams{Status: core.StatusCancelled}), ids[6])
		check("running", list(core.ListRunsParams{Status: core.StatusRunning}), ids[3], ids[1])
		check("running in s", list(core.ListRunsParams{Status: core.StatusRunning, Schedule: "s"}), ids[3])
		check("pending of y", list(core.ListRunsParams{Status: core.StatusPending, Task: "y"}), ids[5])
		check("y after a running one", list(core.ListRunsParams{Task: "y", BeforeID: ids[5], Limit: 1}), ids[3])
		check("pending of x in s", list(core.ListRunsParams{Status: core.StatusPending, Task: "x", Schedule: "s"}), ids[0])
		check("manual", list(core.ListRunsParams{Source: core.SourceManual, Limit: 2}), ids[6], ids[5])
		check("scheduled", list(core.ListRunsParams{Source: core.SourceScheduled}))
		check("page after", list(core.ListRunsParams{BeforeID: ids[5], Limit: 2}), ids[4], ids[3])
		check("last page", list(core.ListRunsParams{BeforeID: ids[1]}), ids[0])
		if got := list(core.ListRunsParams{Limit: 100000}); len(got) != 7 {
			t.Errorf("huge limit returned %d runs", len(got))
		}
	})
}

func TestSchedulePausedAndLastRun(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		mustSync(t, st, t0, sched("a", t0.Add(-time.Minute)))
		if a, err := st.GetSchedule(ctx, "a"); err != nil || a.LastRunID != nil || a.LastRunStatus != nil || a.LastRunSlot != nil {
			t.Fatalf("schedule with no runs = %+v, %v", a, err)
		}
		p, err := st.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "a", Paused: true, Now: t0.Add(time.Minute)})
		if err != nil || !p.Paused {
			t.Fatalf("pause = %+v, %v", p, err)
		}
		if !p.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("pause stamped updated_at %v, want the given Now %v", p.UpdatedAt, t0.Add(time.Minute))
		}
		if ts, _ := st.BeginTick(ctx, core.BeginTickParams{TickID: "t1", Now: t0}); ts.DueSchedules != 0 {
			t.Fatalf("a paused schedule counts as due: %+v", ts)
		}
		if p, err = st.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "a", Paused: false, Now: t0}); err != nil || p.Paused {
			t.Fatalf("resume = %+v, %v", p, err)
		}
		var saw []core.DueSchedule
		res, err := st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "t2", LeaseUntil: t0.Add(time.Minute),
			Plan: plan(&saw, t0.Add(time.Minute), func(d core.DueSchedule) []core.PlannedRun {
				return []core.PlannedRun{{Schedule: d.Name, Task: d.Name + "_task", Slot: d.NextRun, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1}}
			})})
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("claim after resume = %+v, %v", res, err)
		}
		if a, err := st.GetSchedule(ctx, "a"); err != nil || a.LastRunID == nil || *a.LastRunID != res.Runs[0].ID ||
			a.LastRunStatus == nil || *a.LastRunStatus != core.StatusRunning {
			t.Fatalf("last run = %+v, %v; want the running run %d", a, err, res.Runs[0].ID)
		}
		trig := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "a_task", Schedule: "a"})
		all, err := st.ListSchedules(ctx)
		if err != nil || len(all) != 1 {
			t.Fatal(all, err)
		}
		a := all[0]
		if a.LastRunID == nil || *a.LastRunID != trig.ID || a.LastRunStatus == nil || *a.LastRunStatus != core.StatusPending || a.LastRunSlot != nil {
			t.Fatalf("last run = %+v; want the trigger %d (pending, no slot)", a, trig.ID)
		}
	})
}

func TestLocksByDatabaseClock(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		acquire := func(owner string, ttl time.Duration) bool {
			t.Helper()
			ok, err := st.AcquireLock(ctx, core.LockParams{Key: "schedule:a", Owner: owner, TTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire("A", time.Hour) {
			t.Fatal("A could not take a free lock")
		}
		var span time.Duration
		q := `SELECT (expires_at - acquired_at) FROM tickflow_locks WHERE key = 'schedule:a'`
		if st.Dialect() == "postgres" {
			q = `SELECT (EXTRACT(EPOCH FROM expires_at - acquired_at) * 1000000)::bigint FROM tickflow_locks WHERE key = 'schedule:a'`
		}
		var micros int64
		if err := st.DB().Get(&micros, q); err != nil {
			t.Fatal(err)
		}
		if span = time.Duration(micros) * time.Microsecond; span != time.Hour {
			t.Fatalf("lock spans %v; want the TTL, 1h", span)
		}
		if acquire("B", time.Hour) {
			t.Fatal("B took a lock A holds")
		}
		if !acquire("A", time.Hour) {
			t.Fatal("A could not extend its own lock")
		}
		if err := st.ReleaseLock(ctx, core.LockParams{Key: "schedule:a", Owner: "B"}); err != nil {
			t.Fatal(err)
		}
		if acquire("B", time.Hour) {
			t.Fatal("B's release freed A's lock")
		}
		// Expire A's lock: move it two hours into the past (database clock).
		shift := `UPDATE tickflow_locks SET expires_at = expires_at - 7200000000, acquired_at = acquired_at - 7200000000`
		if st.Dialect() == "postgres" {
			shift = `UPDATE tickflow_locks SET expires_at = expires_at - interval '2 hours', acquired_at = acquired_at - interval '2 hours'`
		}
		if _, err := st.DB().Exec(shift); err != nil {
			t.Fatal(err)
		}
		if !acquire("B", time.Minute) {
			t.Fatal("B could not take an expired lock")
		}
		if acquire("A", time.Hour) {
			t.Fatal("A took the lock back from B")
		}
		if err := st.ReleaseLock(ctx, core.LockParams{Key: "schedule:a", Owner: "B"}); err != nil {
			t.Fatal(err)
		}
		if !acquire("A", time.Hour) {
			t.Fatal("A could not take a released lock")
		}
		if _, err := st.AcquireLock(ctx, core.LockParams{Key: "k", Owner: "A"}); !errors.Is(err, core.ErrInvalid) {
			t.Fatalf("AcquireLock with no TTL: %v; want ErrInvalid", err)
		}
	})
}

// driverError reports whether err still carries the driver's error.
func driverError(err error) bool {
	var pe *pq.Error
	var se *sqlite.Error
	return errors.As(err, &pe) || errors.As(err, &se)
}

func TestErrorMapping(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		if _, err := st.BeginTick(ctx, core.BeginTickParams{TickID: "dup", Now: t0}); err != nil {
			t.Fatal(err)
		}
		_, err := st.BeginTick(ctx, core.BeginTickParams{TickID: "dup", Now: t0})
		if !errors.Is(err, core.ErrDuplicate) || !driverError(err) {
			t.Errorf("a second tick with the same id: %v; want ErrDuplicate wrapping the driver error", err)
		}
		_, _, err = st.InsertRun(ctx, core.InsertRunParams{Task: "t", Source: core.SourceScheduled, Schedule: "s"})
		if !errors.Is(err, core.ErrInvalid) || !driverError(err) {
			t.Errorf("a scheduled run without a slot: %v; want ErrInvalid (check constraint)", err)
		}
		_, _, err = st.InsertRun(ctx, core.InsertRunParams{Task: "t", Source: "bogus"})
		if !errors.Is(err, core.ErrInvalid) {
			t.Errorf("a run with source bogus: %v; want ErrInvalid", err)
		}
		bad := sched("bad", t0)
		bad.Kind = "hourly"
		if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: []core.ScheduleRecord{sched("ok", t0), bad}}); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("a schedule of kind hourly: %v; want ErrInvalid", err)
		}
		if all, _ := st.ListSchedules(ctx); len(all) != 0 {
			t.Errorf("a failed sync left %d schedules: it must change nothing", len(all))
		}
		bad = sched("bad", t0)
		bad.Misfire = "sometimes"
		if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: []core.ScheduleRecord{bad}}); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("a schedule with misfire sometimes: %v; want ErrInvalid", err)
		}
		pauseNope := core.SetSchedulePausedParams{Name: "nope", Paused: true}
		for name, err := range map[string]error{
			"GetRun":            func() error { _, err := st.GetRun(ctx, 424242); return err }(),
			"CancelRun":         func() error { _, err := st.CancelRun(ctx, core.RunActionParams{ID: 424242}); return err }(),
			"RetryRun":          func() error { _, err := st.RetryRun(ctx, core.RunActionParams{ID: 424242}); return err }(),
			"GetSchedule":       func() error { _, err := st.GetSchedule(ctx, "nope"); return err }(),
			"SetSchedulePaused": func() error { _, err := st.SetSchedulePaused(ctx, pauseNope); return err }(),
		} {
			if !errors.Is(err, core.ErrNotFound) {
				t.Errorf("%s of a missing record: %v; want ErrNotFound", name, err)
			}
		}
		_, err = st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "x", Plan: func([]core.DueSchedule) []core.SchedulePlan { return nil }})
		if !errors.Is(err, core.ErrInvalid) {
			t.Errorf("ClaimDue without a lease: %v; want ErrInvalid", err)
		}
		// A planned run the schema rejects fails the whole claim: nothing
		// half-advanced.
		mustSync(t, st, t0, sched("a", t0.Add(-time.Minute)))
		_, err = st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "x", LeaseUntil: t0.Add(time.Minute),
			Plan: func(due []core.DueSchedule) []core.SchedulePlan {
				return []core.SchedulePlan{{Schedule: "a", NextRun: t0.Add(time.Hour), Runs: []core.PlannedRun{
					{Schedule: "a", Task: "a_task", Slot: t0, Status: "exploded", MaxAttempts: 1}}}}
			}})
		if !errors.Is(err, core.ErrInvalid) {
			t.Errorf("ClaimDue with an invalid status: %v; want ErrInvalid", err)
		}
		if a, _ := st.GetSchedule(ctx, "a"); !a.NextRun.Equal(t0.Add(-time.Minute)) {
			t.Errorf("a failed claim advanced next_run to %v", a.NextRun)
		}
	})
}

// TestNowReadsTheDatabaseClock: Store.Now is the clock Sync, locks and API
// actions use outside a tick; it must be close to the host clock here (the
// database runs on this machine) and in UTC.
func TestNowReadsTheDatabaseClock(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			st := sqlstoretest.Open(t, dialect)
			got, err := st.Now(context.Background())
			if err != nil {
				t.Fatalf("Now: %v", err)
			}
			if got.Location() != time.UTC {
				t.Errorf("Now() location = %v, want UTC", got.Location())
			}
			if d := time.Since(got); d < -time.Minute || d > time.Minute {
				t.Errorf("Now() = %v, %v away from the host clock", got, d)
			}
		})
	}
}

// TestClaimDueStoresWhatWasPlanned reads back every column ClaimDue
// writes from a plan, for a batch whose runs all take the common values
// (on PostgreSQL most of its arrays are then left out, see claimArrays)
// and for one whose runs each depart from them, and the next runs of
// both: the stored rows are the plan, not only the runs ClaimDue returns.
func TestClaimDueStoresWhatWasPlanned(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		slot := t0.Add(-time.Minute)
		mustSync(t, st, t0, sched("a", slot), sched("b", slot), sched("c", slot), sched("d", slot))
		lease := t0.Add(5 * time.Minute)
		claim := func(names []string, runs func(name string) []core.PlannedRun) []core.Run {
			t.Helper()
			res, err := st.ClaimDue(ctx, core.ClaimDueParams{
				Now: t0, TickID: "tick_1", Limit: 10, LeaseUntil: lease,
				Plan: func(due []core.DueSchedule) []core.SchedulePlan {
					var out []core.SchedulePlan
					for _, d := range due {
						if slices.Contains(names, d.Name) {
							out = append(out, core.SchedulePlan{Schedule: d.Name, NextRun: t0.Add(time.Duration(len(d.Name)) * time.Hour), Runs: runs(d.Name)})
						}
					}
					return out
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			var stored []core.Run
			for _, r := range res.Runs {
				got, err := st.GetRun(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				stored = append(stored, got)
			}
			return stored
		}
		type row struct {
			schedule, task, display string
			status                  core.Status
			covered, maxAttempts    int
			errText                 string
			runAt                   time.Time
		}
		check := func(label string, got []core.Run, want []row) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %d runs stored, want %d", label, len(got), len(want))
			}
			for i, w := range want {
				r := got[i]
				if r.Schedule != w.schedule || r.Task != w.task || r.DisplayName != w.display || r.Status != w.status ||
					r.SlotsCovered != w.covered || r.MaxAttempts != w.maxAttempts || r.Error != w.errText || !r.RunAt.Equal(w.runAt) {
					t.Errorf("%s: run %d stored as %s/%s/%q %s covered %d max %d error %q run_at %v; want %+v", label, i,
						r.Schedule, r.Task, r.DisplayName, r.Status, r.SlotsCovered, r.MaxAttempts, r.Error, r.RunAt, w)
				}
			}
		}
		common := claim([]string{"a", "b"}, func(name string) []core.PlannedRun {
			return []core.PlannedRun{{Schedule: name, Task: name, DisplayName: name, Slot: slot, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1}}
		})
		check("common values", common, []row{
			{"a", "a", "a", core.StatusRunning, 1, 1, "", t0},
			{"b", "b", "b", core.StatusRunning, 1, 1, "", t0},
		})
		departing := claim([]string{"c", "d"}, func(name string) []core.PlannedRun {
			if name == "c" {
				return []core.PlannedRun{
					{Schedule: "c", Task: "c_task", DisplayName: "C", Slot: slot.Add(-time.Hour), SlotsCovered: 59, Status: core.StatusSkipped, MaxAttempts: 1, Error: "misfire"},
					{Schedule: "c", Task: "c_task", DisplayName: "C", Slot: slot, SlotsCovered: 1, Status: core.StatusPending, RunAt: t0.Add(7 * time.Second), MaxAttempts: 4},
				}
			}
			return []core.PlannedRun{{Schedule: "d", Task: "d", DisplayName: "d", Slot: slot, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1}}
		})
		check("departing values", departing, []row{
			{"c", "c_task", "C", core.StatusSkipped, 59, 1, "misfire", t0},
			{"c", "c_task", "C", core.StatusPending, 1, 4, "", t0.Add(7 * time.Second)},
			{"d", "d", "d", core.StatusRunning, 1, 1, "", t0},
		})
		for _, name := range []string{"a", "b", "c", "d"} {
			if s, err := st.GetSchedule(ctx, name); err != nil || !s.NextRun.Equal(t0.Add(time.Hour)) {
				t.Errorf("schedule %s next_run %v (%v); want %v", name, s.NextRun, err, t0.Add(time.Hour))
			}
		}
	})
}
