package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// BenchmarkTickStatements times the store side of a tick that fires n due
// schedules: ClaimDue (select, insert n runs, advance n schedules) and one
// FinishRuns of n outcomes. Run with
//
//	go test ./sqlstore -run '^$' -bench TickStatements -benchtime 5x
func BenchmarkTickStatements(b *testing.B) {
	for _, d := range sqlstoretest.Dialects {
		for _, n := range []int{100, 10000} {
			b.Run(fmt.Sprintf("%s/%d", d, n), func(b *testing.B) {
				benchTick(b, sqlstoretest.Open(b, d), n)
			})
		}
	}
}

func benchTick(b *testing.B, st *sqlstore.Store, n int) {
	ctx := context.Background()
	recs := make([]core.ScheduleRecord, n)
	for i := range recs {
		recs[i] = sched(fmt.Sprintf("s%06d", i), t0.Add(-time.Minute))
	}
	if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: recs}); err != nil {
		b.Fatal(err)
	}
	task := make(map[string]string, n) // schedule name -> task name
	for _, r := range recs {
		task[r.Name] = r.Task
	}
	planFn := func(due []core.DueSchedule) []core.SchedulePlan {
		out := make([]core.SchedulePlan, len(due))
		for i, d := range due {
			out[i] = core.SchedulePlan{Schedule: d.Name, NextRun: d.NextRun.Add(time.Minute), Runs: []core.PlannedRun{
				{Schedule: d.Name, Task: task[d.Name], Slot: d.NextRun, SlotsCovered: 1, Status: core.StatusRunning, MaxAttempts: 1}}}
		}
		return out
	}
	reset := `UPDATE tickflow_schedules SET next_run = $1`
	if st.Dialect() == "postgres" {
		reset = `UPDATE tickflow_schedule_state SET next_run = $1`
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var next any = t0.Add(-time.Minute).UnixMicro()
		if st.Dialect() == "postgres" {
			next = t0.Add(-time.Minute)
		}
		if _, err := st.DB().Exec(`DELETE FROM tickflow_runs`); err != nil {
			b.Fatal(err)
		}
		if _, err := st.DB().Exec(reset, next); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "tick", Limit: n, LeaseUntil: t0.Add(time.Minute), Plan: planFn})
		if err != nil || len(res.Runs) != n {
			b.Fatalf("claimed %d runs, %v; want %d", len(res.Runs), err, n)
		}
		outs := make([]core.Outcome, n)
		for j, r := range res.Runs {
			outs[j] = core.Outcome{RunID: r.ID, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: t0, FinishedAt: t0.Add(time.Second)}
		}
		if done, err := st.FinishRuns(ctx, core.FinishRunsParams{TickID: "tick", Outcomes: outs}); err != nil || done != n {
			b.Fatalf("finished %d, %v; want %d", done, err, n)
		}
	}
}
