package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/core"
)

// retentionSim is the opt-in retention simulation's workload: Schedules
// one-minute schedules over Days simulated days, runs kept Retain, pruned
// by ticks at Budget runs each (0: core's default).
type retentionSim struct {
	Schedules int
	Days      int
	Retain    time.Duration
	Budget    int
}

// retentionSimFromEnv reads TICKFLOW_BENCH_RETENTION_SCHEDULES, _DAYS,
// _RETAIN (as core.ParseRetention reads it: 30d, 36h) and _BUDGET; each
// unset one keeps the figure (1,000 schedules, 60 days, 30d, the
// default budget).
func retentionSimFromEnv() (retentionSim, error) {
	sim := retentionSim{Schedules: 1000, Days: 60, Retain: core.DefaultRetainRuns}
	for _, v := range []struct {
		env string
		dst *int
	}{{"TICKFLOW_BENCH_RETENTION_SCHEDULES", &sim.Schedules}, {"TICKFLOW_BENCH_RETENTION_DAYS", &sim.Days}, {"TICKFLOW_BENCH_RETENTION_BUDGET", &sim.Budget}} {
		if s := os.Getenv(v.env); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || (n == 0 && v.dst != &sim.Budget) {
				return sim, fmt.Errorf("%s %q: want a positive count", v.env, s)
			}
			*v.dst = n
		}
	}
	if s := os.Getenv("TICKFLOW_BENCH_RETENTION_RETAIN"); s != "" {
		d, err := core.ParseRetention(s)
		if err != nil || d == 0 || d == core.RetainForever {
			return sim, fmt.Errorf("TICKFLOW_BENCH_RETENTION_RETAIN %q: want a duration such as 30d", s)
		}
		sim.Retain = d
	}
	return sim, nil
}

// retentionContender is opt-in (run it with -only retention-sim): a
// simulated clock moves one minute per tick over the simulated days. Each
// minute the runs of all but one schedule are inserted by one set-based
// statement (finished successes, as a tick records them); the last
// schedule is registered and run by the tick itself, so every tick did
// work and prunes at its budget, as ticks of a busy deployment do. The
// runs table's row count and size are sampled twelve times.
func retentionContender(s sizes) contender {
	return contender{name: "retention-sim", optIn: true, run: func(ctx context.Context) (Result, error) {
		sim, err := retentionSimFromEnv()
		if err != nil {
			return Result{}, err
		}
		return benchRetention(ctx, sim)
	}}
}

func benchRetention(ctx context.Context, sim retentionSim) (Result, error) {
	st, _, closeStore, err := openMigrated(ctx, "retention")
	if err != nil {
		return Result{}, err
	}
	defer closeStore()
	log := slog.New(slog.DiscardHandler)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := core.NewStubClock(start)
	reg := core.NewRegistry()
	if err := reg.Schedule("ret-ticked", func(context.Context, core.RunInfo) error { return nil }, core.Every(time.Minute)); err != nil {
		return Result{}, err
	}
	eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Logger: log, Clock: clock,
		Retention: core.Retention{Runs: sim.Retain, Budget: sim.Budget}})
	if err != nil {
		return Result{}, err
	}
	if _, err := eng.Sync(ctx); err != nil {
		return Result{}, err
	}
	budget := sim.Budget
	if budget == 0 {
		budget = core.DefaultPruneBudget
	}
	db := st.DB()
	minutes := sim.Days * 24 * 60
	every := max(minutes/12, 1)
	res := Result{Name: "retention-sim", Group: "retention", N: sim.Schedules,
		Title: fmt.Sprintf("tickflow: retention over %d simulated days of %s one-minute schedules (runs kept %s, prune budget %d per tick)",
			sim.Days, thousands(sim.Schedules), core.FormatRetention(sim.Retain), budget),
		Notes: []string{"retention: one tick per simulated minute prunes at its budget; the other schedules' runs are inserted set-based each minute; opt-in (-only retention-sim, TICKFLOW_BENCH_RETENTION_SCHEDULES, _DAYS, _RETAIN, _BUDGET)"}}
	// With autovacuum off (as on some test servers), nothing would reclaim
	// the pruned rows' space: the simulation then vacuums the table each
	// simulated hour, as autovacuum would, and says so.
	var autovacuum string
	if err := db.QueryRowContext(ctx, `SHOW autovacuum`).Scan(&autovacuum); err != nil {
		return res, err
	}
	if autovacuum != "on" {
		res.Notes = append(res.Notes, "autovacuum is off on this server: the simulation runs VACUUM tickflow_runs each simulated hour in its place")
	}
	wall := time.Now()
	pruned := 0
	for m := 1; m <= minutes; m++ {
		now := start.Add(time.Duration(m) * time.Minute)
		clock.Set(now)
		if sim.Schedules > 1 {
			if _, err := db.ExecContext(ctx, `
				INSERT INTO tickflow_runs (task, schedule, source, slot, status, attempt, run_at, created_at, started_at, finished_at)
				SELECT s, s, 'scheduled', $1::timestamptz, 'success', 1, $1, $1, $1, $1::timestamptz + interval '1 second'
				FROM (SELECT 'ret-' || i AS s FROM generate_series(1, $2::int) AS i) g`, now, sim.Schedules-1); err != nil {
				return res, fmt.Errorf("minute %d: insert runs: %w", m, err)
			}
		}
		rep, err := eng.Tick(ctx)
		if err != nil {
			return res, fmt.Errorf("minute %d: tick: %w", m, err)
		}
		pruned += rep.PrunedRuns
		if autovacuum != "on" && m%60 == 0 {
			if _, err := db.ExecContext(ctx, `VACUUM tickflow_runs`); err != nil {
				return res, fmt.Errorf("minute %d: vacuum: %w", m, err)
			}
		}
		if m%every == 0 || m == minutes {
			var rows, bytes int64
			if err := db.QueryRowContext(ctx, `SELECT count(*), pg_total_relation_size('tickflow_runs') FROM tickflow_runs`).Scan(&rows, &bytes); err != nil {
				return res, err
			}
			line := fmt.Sprintf("day %.2f: %s runs, %s (table and indexes), %s pruned so far, %s wall",
				float64(m)/1440, thousands(int(rows)), mib(bytes), thousands(pruned), time.Since(wall).Round(time.Second))
			fmt.Fprintln(os.Stderr, "retention-sim:", line)
			res.Notes = append(res.Notes, line)
		}
	}
	res.Runs = []float64{time.Since(wall).Seconds()}
	res.Counts = []Counts{{}}
	res.Completed = pruned
	return res, nil
}

// mib formats a byte count in MiB.
func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
