package sqlstore_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// BenchmarkPruneRuns times PruneRuns on PostgreSQL at the default budget
// over a table of old runs (TICKFLOW_BENCH_PRUNE_ROWS, default 1,000,000;
// the target is 10,000,000), one run a minute per schedule over
// 1,000 schedules, 1 in 10 failed. "budget" deletes DefaultPruneBudget
// old runs per op; "nothing_old" is a tick's prune when no run is old
// enough (the common case once retention has caught up). Run with
//
//	TEST_DATABASE_URL=postgres://… TICKFLOW_BENCH_PRUNE_ROWS=10000000 \
//	  go test ./sqlstore -run '^$' -bench PruneRuns -benchtime 20x
func BenchmarkPruneRuns(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("TICKFLOW_BENCH_PRUNE_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("TICKFLOW_BENCH_PRUNE_ROWS %q: want a positive count", v)
		}
		rows = n
	}
	st := sqlstoretest.OpenPostgres(b)
	ctx := context.Background()
	// Slots end a year before t0; each run finished a second after its slot.
	start := t0.AddDate(-1, 0, 0).Add(-time.Duration(rows/1000) * time.Minute)
	if _, err := st.DB().ExecContext(ctx, `
		INSERT INTO tickflow_runs (task, schedule, source, slot, status, attempt, run_at, created_at, started_at, finished_at)
		SELECT 't', 's' || (i % 1000), 'scheduled', $1::timestamptz + (i / 1000) * interval '1 minute',
		       CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END, 1,
		       $1::timestamptz + (i / 1000) * interval '1 minute', $1::timestamptz + (i / 1000) * interval '1 minute',
		       $1::timestamptz + (i / 1000) * interval '1 minute', $1::timestamptz + (i / 1000) * interval '1 minute' + interval '1 second'
		FROM generate_series(0, $2::int - 1) AS i`, start, rows); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `VACUUM ANALYZE tickflow_runs`); err != nil {
		b.Fatal(err)
	}
	cut := func(now time.Time) core.PruneRunsParams {
		return core.PruneRunsParams{Now: now, FinishedBefore: now.Add(-core.DefaultRetainRuns),
			FailedBefore: now.Add(-core.DefaultRetainFailedRuns), Limit: core.DefaultPruneBudget}
	}
	b.Run("budget", func(b *testing.B) {
		pruned := 0
		for b.Loop() {
			n, err := st.PruneRuns(ctx, cut(t0))
			if err != nil {
				b.Fatal(err)
			}
			if n != core.DefaultPruneBudget {
				b.Fatalf("pruned %d, want the budget %d", n, core.DefaultPruneBudget)
			}
			pruned += n
		}
		b.ReportMetric(float64(pruned)/float64(b.N), "runs/op")
	})
	b.Run("nothing_old", func(b *testing.B) {
		for b.Loop() {
			// A year back: every run is younger than the cut-offs.
			if n, err := st.PruneRuns(ctx, cut(start)); err != nil || n != 0 {
				b.Fatalf("pruned %d, %v; want nothing", n, err)
			}
		}
	})
}
