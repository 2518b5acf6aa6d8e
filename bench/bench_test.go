package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// needDatabase skips without TEST_DATABASE_URL, except under CI, where a
// missing database is a failure.
func needDatabase(t *testing.T) {
	t.Helper()
	if os.Getenv("TEST_DATABASE_URL") != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("TEST_DATABASE_URL is not set")
	}
	t.Skip("TEST_DATABASE_URL is not set")
}

func TestStatementLabel(t *testing.T) {
	for q, want := range map[string]string{
		"-- ClaimDue: insert every planned run\nINSERT INTO x": "ClaimDue insert",
		"-- BeginTick: record the tick\nWITH c AS (SELECT 1)":  "BeginTick record",
		"-- Stats\nSELECT 1":                "Stats",
		"  select 1":                        "SELECT",
		"BEGIN;":                            "BEGIN",
		"-- just a comment\n-- and another": "just",
		"":                                  "(empty)",
	} {
		if got := statementLabel(q); got != want {
			t.Errorf("statementLabel(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestIsTxControl(t *testing.T) {
	for q, want := range map[string]bool{
		"BEGIN":                               true,
		" begin isolation level serializable": true,
		"COMMIT":                              true,
		"rollback":                            true,
		"SAVEPOINT sp1":                       true,
		"RELEASE SAVEPOINT sp1":               true,
		"SELECT 1":                            false,
		"UPDATE t SET begin_at = now()":       false,
		"beginning":                           false,
		"":                                    false,
	} {
		if got := isTxControl(q); got != want {
			t.Errorf("isTxControl(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestCountersAgree runs the same statements through the counting driver
// and through the counting proxy: both must see the same counts.
func TestCountersAgree(t *testing.T) {
	needDatabase(t)
	ctx := context.Background()
	var viaDriver, viaProxy Counter
	proxy, purl, err := startCountingProxy(databaseURL(), &viaProxy)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	db, err := openCounted(purl, &viaDriver)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	before, pbefore := viaDriver.Snapshot(), viaProxy.Snapshot()

	if _, err := db.ExecContext(ctx, "CREATE TEMP TABLE bench_count (v int)"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO bench_count VALUES ($1), ($2)", 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := db.PrepareContext(ctx, "INSERT INTO bench_count VALUES ($1)")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := st.ExecContext(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM bench_count WHERE v >= $1", 0).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("count = %d, want 5", n)
	}
	want := Counts{Statements: 6, TxControl: 2}
	if got := viaDriver.Snapshot().Sub(before); got != want {
		t.Errorf("driver counted %+v, want %+v", got, want)
	}
	if got := viaProxy.Snapshot().Sub(pbefore); got != want {
		t.Errorf("proxy counted %+v, want %+v", got, want)
	}
	timed := map[string]int{}
	for _, st := range proxy.Spent() {
		if st.Seconds <= 0 {
			t.Errorf("%s: no time charged", st.Label)
		}
		timed[st.Label] = st.Count
	}
	for label, n := range map[string]int{"INSERT": 4, "SELECT": 1, "BEGIN": 1, "COMMIT": 1, "CREATE": 1} {
		if timed[label] != n {
			t.Errorf("proxy timed %d %s statements, want %d (all: %v)", timed[label], label, n, timed)
		}
	}
}

// TestSmoke runs every contender at a small size and renders the report.
func TestSmoke(t *testing.T) {
	needDatabase(t)
	// The retention simulation reads its size from the environment (60
	// days of 1,000 schedules by default: hours); one simulated day of 20
	// schedules keeping 12 hours still prunes.
	t.Setenv("TICKFLOW_BENCH_RETENTION_SCHEDULES", "20")
	t.Setenv("TICKFLOW_BENCH_RETENTION_DAYS", "1")
	t.Setenv("TICKFLOW_BENCH_RETENTION_RETAIN", "12h")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := sizes{
		FloorN: []int{40}, TickN: []int{40}, EmptyN: 60, ConcurrentN: 40, Ticks: 2,
		PeerN: 30, RiverWorkers: []int{10}, GocronConns: []int{0, 8}, Reps: 2, SlowReps: 1,
		PairN: []int{40}, Pairs: 2, PairLoad: 1, HugeN: []int{50}, APIN: []int{30}, AuditRows: 2000,
		StoredN: 200, StoredDue: 20, UpsertN: 100, RuntimeReps: 2,
	}
	var results []Result
	for _, c := range contenders(s) {
		if strings.HasPrefix(c.name, "lambda") && os.Getenv("BENCH_SMOKE_LAMBDA") == "" {
			continue // builds a binary and needs the emulator: too slow for a smoke test
		}
		res, err := c.run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(res.Runs) == 0 || res.Median() <= 0 {
			t.Errorf("%s: no timed runs: %+v", c.name, res.Runs)
		}
		if res.N > 0 && res.Completed != res.N && res.Group != "retention" { // retention: Completed counts pruned runs
			t.Errorf("%s: completed %d of %d", c.name, res.Completed, res.N)
		}
		// Pair, stored pair, list and dashboard timings are on direct
		// connections, uncounted; the retention simulation reports sizes.
		uncounted := res.Group == "lambda" || res.Group == "pair" || res.Group == "retention" ||
			(res.Group == "stored" && !strings.HasPrefix(res.Name, "stored-empty-") && !strings.HasPrefix(res.Name, "upsert-"))
		if !uncounted && res.MedianCounts().RoundTrips() == 0 {
			t.Errorf("%s: no SQL statements counted", c.name)
		}
		results = append(results, res)
	}
	rep := report{Results: results}
	md := rep.markdown()
	for _, want := range []string{"| contender |", "floor: set-based SQL, 40 due schedules", "## Targets", "River", "gocron", "alternating"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if _, ok := rep.floorFor(40); !ok {
		t.Error("no floor result at N=40")
	}
}

// TestTargets checks the verdicts on synthetic figures.
func TestTargets(t *testing.T) {
	run := func(name, group string, n int, sec float64, c Counts) Result {
		return Result{Name: name, Group: group, N: n, Runs: []float64{sec, sec * 2, sec / 2}, Counts: []Counts{c, c, c}}
	}
	rep := report{Results: []Result{
		run("floor-10000", "floor", 10000, 0.2, Counts{Statements: 2}),
		run("tickflow-10000", "tickflow", 10000, 0.5, Counts{Statements: 50}),
		run("tickflow-empty", "tickflow", 0, 0.01, Counts{Statements: 2, TxControl: 2}),
		run("river-1000", "river", 10000, 2, Counts{}),
		run("gocron", "gocron", 10000, 6, Counts{}),
		run("gocron-pool50", "gocron", 10000, 1, Counts{}),
		{Name: "lambda", Group: "lambda", Lambda: &LambdaFigures{BootstrapBytes: 9_000_000, ColdMS: 30, ConnectMS: 12}},
	}}
	want := []string{"NOT MET", "met", "NOT MET", "NOT MET", "met", "met",
		"not measured", "not measured", "not measured", "not measured", "not measured"}
	ts := rep.targets()
	if len(ts) != len(want) {
		t.Fatalf("%d targets, want %d", len(ts), len(want))
	}
	for i, tg := range ts {
		if tg.status() != want[i] {
			t.Errorf("%s: %s (%s), want %s", tg.Goal, tg.status(), tg.Got, want[i])
		}
	}
	// A paired measurement decides the 1.5× target over the separate rows,
	// and one pair above 2.0× fails it.
	for _, c := range []struct {
		ratios []float64
		want   string
	}{{[]float64{1.2, 1.6, 1.4}, "met"}, {[]float64{1.2, 2.1, 1.4}, "NOT MET"}, {[]float64{1.6, 1.7, 1.4}, "NOT MET"}} {
		paired := rep
		paired.Results = append(append([]Result{}, rep.Results...), Result{Name: "pair-10000", Group: "pair", N: 10000,
			Runs: []float64{0.3, 0.5, 0.4}, Pairs: &PairFigures{Floor: []float64{0.2, 0.2, 0.2}, Ratios: c.ratios}})
		if pt := paired.targets()[0]; pt.status() != c.want || !strings.Contains(pt.Got, "paired") {
			t.Errorf("paired target with ratios %v: %s (%s), want %s", c.ratios, pt.status(), pt.Got, c.want)
		}
	}
	if !strings.Contains(ts[2].Got, "gocron-pool50") {
		t.Errorf("gocron target should compare with the fastest gocron: %s", ts[2].Got)
	}
	if got := (report{}).targets()[0].status(); got != "not measured" {
		t.Errorf("empty report: %s, want not measured", got)
	}
}

// TestKeptSections: a regenerated report keeps the opt-in sections.
func TestKeptSections(t *testing.T) {
	if got := keptSections("# Benchmarks\n\n## Targets\n"); got != "" {
		t.Errorf("no marker: kept %q", got)
	}
	old := "# Benchmarks\n\n## Targets\n\n" + keptMarker + "\n\n## Runtime schedules at 1,000,000\n\nfigures\n"
	if got, want := keptSections(old), keptMarker+"\n\n## Runtime schedules at 1,000,000\n\nfigures\n"; got != want {
		t.Errorf("kept %q, want %q", got, want)
	}
}
