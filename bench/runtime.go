package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/handler/dashboard"
	"github.com/tickflow/tickflow/sqlstore"
)

// The runtime-schedule contenders (issue 13, "schedules as data"): a table
// of stored runtime schedules (origin api), most of them not due, and what
// a tick, a batch upsert, a filtered list and the dashboard cost at that
// size. All are opt-in (-only NAME); -stored sets the stored count.

// runtimeTask is the one task every runtime schedule of the bench runs.
const runtimeTask = "noop"

// runtimeTenantRows is how many schedules share one tenant label, so that
// the list's label filter matches about that many rows at any size.
const runtimeTenantRows = 1000

// runtimeTemplateKey is the schedule the seed copies: created through the
// Engine, so that the seeded rows are what UpsertSchedules writes.
const runtimeTemplateKey = "rt_template"

// runtimeSeedSQL copies the template row into $1 schedules named
// rt_0000000 …, every $2-th one due one second ago (none when $2 is 0), the
// others due in a day, with the label tenant=t<i mod $3>; the template row
// is $4 (definition and state). The anchor moves with next_run (the slot
// stays on the grid).
const runtimeSeedSQL = `
WITH def AS (
    INSERT INTO tickflow_schedules
    SELECT r.*
    FROM tickflow_schedules t,
         generate_series(0, $1 - 1) AS i,
         LATERAL jsonb_populate_record(t, jsonb_build_object(
             'name', 'rt_' || lpad(i::text, 7, '0'),
             'labels', jsonb_build_object('tenant', 't' || lpad((i % $3)::text, 6, '0')))) AS r
    WHERE t.name = $4
)
INSERT INTO tickflow_schedule_state
SELECT r.*
FROM tickflow_schedule_state t,
     (SELECT date_trunc('second', now()) AS now) c,
     generate_series(0, $1 - 1) AS i,
     LATERAL jsonb_populate_record(t, jsonb_build_object(
         'name', 'rt_' || lpad(i::text, 7, '0'),
         'anchor', CASE WHEN $2 > 0 AND i % $2 = 0 THEN c.now - interval '1 second' ELSE c.now + interval '1 day' END,
         'next_run', CASE WHEN $2 > 0 AND i % $2 = 0 THEN c.now - interval '1 second' ELSE c.now + interval '1 day' END)) AS r
WHERE t.name = $4`

// runtimeResetDueSQL makes the due schedules due again (a tick moved them
// a minute on; the others stay a day ahead) and empties the runs.
const runtimeResetDueSQL = `
TRUNCATE tickflow_runs;
UPDATE tickflow_schedule_state
SET anchor = date_trunc('second', now()) - interval '1 second',
    next_run = date_trunc('second', now()) - interval '1 second'
WHERE next_run < now() + interval '1 hour' AND NOT paused AND NOT orphaned`

func runtimeContenders(s sizes) []contender {
	if s.StoredN <= 0 {
		return nil
	}
	n := s.StoredN
	return []contender{
		{name: fmt.Sprintf("stored-%d", n), optIn: true, run: func(ctx context.Context) (Result, error) {
			return benchStored(ctx, n, s.StoredDue, s.Pairs)
		}},
		{name: fmt.Sprintf("stored-empty-%d", n), optIn: true, run: func(ctx context.Context) (Result, error) {
			return benchStoredEmpty(ctx, n, s.RuntimeReps)
		}},
		{name: fmt.Sprintf("upsert-%d", s.UpsertN), optIn: true, run: func(ctx context.Context) (Result, error) {
			return benchUpsert(ctx, s.UpsertN, n, s.SlowReps)
		}},
		{name: fmt.Sprintf("list-%d", n), optIn: true, run: func(ctx context.Context) (Result, error) {
			return benchList(ctx, n, s.RuntimeReps)
		}},
		{name: fmt.Sprintf("dashboard-%d", n), optIn: true, run: func(ctx context.Context) (Result, error) {
			return benchDashboard(ctx, n, s.RuntimeReps)
		}},
	}
}

// runtimeEnv is a tickflow deployment in a schema of its own whose
// registry knows one task, runtimeTask, and whose stored schedules are
// runtime ones: an engine on direct connections and, for counting, one
// through the counting proxy.
type runtimeEnv struct {
	schema  *benchSchema
	log     *slog.Logger
	reg     *core.Registry
	fired   atomic.Int64
	store   *sqlstore.Store
	engine  *core.Engine
	db      *sql.DB
	counter Counter
	proxy   *countingProxy
	pstore  *sqlstore.Store
	pengine *core.Engine
	// stored and due are the seeded schedules and how many of them are due.
	stored, due int
}

// newRuntimeEnv migrates a fresh schema, creates the template schedule
// through the Engine and seeds stored copies of it, due of them due (0:
// none).
func newRuntimeEnv(ctx context.Context, name string, stored, due int) (*runtimeEnv, error) {
	if due < 0 || (due > 0 && stored%due != 0) {
		return nil, fmt.Errorf("%s: %d stored schedules cannot hold %d due ones evenly", name, stored, due)
	}
	e := &runtimeEnv{stored: stored, due: due, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	var err error
	if e.schema, err = openSchema(ctx, name); err != nil {
		return nil, err
	}
	e.reg = core.NewRegistry()
	e.reg.MustRegister(runtimeTask, func(context.Context, core.RunInfo) error { e.fired.Add(1); return nil })
	if e.store, e.engine, err = e.open(ctx, e.schema.URL); err != nil {
		e.close(ctx)
		return nil, err
	}
	e.db = e.store.DB().DB
	if err := e.store.Migrate(ctx); err != nil {
		e.close(ctx)
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := e.seed(ctx); err != nil {
		e.close(ctx)
		return nil, err
	}
	return e, nil
}

// open opens a store at dbURL and an engine over it with the bench's
// registry, synced.
func (e *runtimeEnv) open(ctx context.Context, dbURL string) (*sqlstore.Store, *core.Engine, error) {
	st, err := sqlstore.Open(ctx, dbURL, sqlstore.WithLogger(e.log))
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	eng, err := core.NewEngine(core.Config{Store: st, Registry: e.reg, Logger: e.log, Trigger: "bench"})
	if err != nil {
		_ = st.Close()
		return nil, nil, fmt.Errorf("new engine: %w", err)
	}
	return st, eng, nil
}

// counted returns the engine that works through the counting proxy,
// opening it on first use.
func (e *runtimeEnv) counted(ctx context.Context) (*core.Engine, error) {
	if e.pengine != nil {
		return e.pengine, nil
	}
	var (
		purl string
		err  error
	)
	if e.proxy, purl, err = startCountingProxy(e.schema.URL, &e.counter); err != nil {
		return nil, err
	}
	if e.pstore, e.pengine, err = e.open(ctx, purl); err != nil {
		return nil, err
	}
	return e.pengine, nil
}

func (e *runtimeEnv) close(ctx context.Context) {
	for _, st := range []*sqlstore.Store{e.store, e.pstore} {
		if st != nil {
			_ = st.Close()
		}
	}
	if e.proxy != nil {
		e.proxy.Close()
	}
	e.schema.Close(ctx)
}

// tenants is how many distinct tenant labels the seed spreads the
// schedules over (runtimeTenantRows each).
func (e *runtimeEnv) tenants() int { return max(1, e.stored/runtimeTenantRows) }

// runtimeParams is the bench's runtime schedule key: every minute, a
// small payload, one tenant label.
func runtimeParams(key, tenant string) core.ScheduleParams {
	return core.ScheduleParams{
		Key: key, Task: runtimeTask, Every: time.Minute,
		Payload: json.RawMessage(`{"report":"daily","format":"pdf"}`),
		Labels:  map[string]string{"tenant": tenant},
	}
}

// seed creates the template through Engine.UpsertSchedules, copies it into
// the stored schedules with one INSERT … SELECT, deletes it and analyzes.
func (e *runtimeEnv) seed(ctx context.Context) error {
	t0 := time.Now()
	if _, err := e.engine.UpsertSchedules(ctx, []core.ScheduleParams{runtimeParams(runtimeTemplateKey, "t000000")}); err != nil {
		return fmt.Errorf("seed template: %w", err)
	}
	stride := 0
	if e.due > 0 {
		stride = e.stored / e.due
	}
	if _, err := e.db.ExecContext(ctx, runtimeSeedSQL, e.stored, stride, e.tenants(), runtimeTemplateKey); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := e.engine.DeleteSchedule(ctx, runtimeTemplateKey); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := e.db.ExecContext(ctx, tickflowVacuumSQL); err != nil {
		return fmt.Errorf("seed vacuum: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: seeded %s runtime schedules (%s due) in %s\n", thousands(e.stored), thousands(e.due), time.Since(t0).Round(time.Millisecond))
	return nil
}

// timedTick makes the due schedules due again (untimed), times one tick of
// eng and checks that every due schedule ran once.
func (e *runtimeEnv) timedTick(ctx context.Context, eng *core.Engine) (time.Duration, core.Report, error) {
	if _, err := e.db.ExecContext(ctx, runtimeResetDueSQL); err != nil {
		return 0, core.Report{}, fmt.Errorf("reset: %w", err)
	}
	if _, err := e.db.ExecContext(ctx, tickflowVacuumSQL); err != nil {
		return 0, core.Report{}, fmt.Errorf("vacuum: %w", err)
	}
	e.fired.Store(0)
	start := time.Now()
	rep, err := eng.Tick(ctx)
	elapsed := time.Since(start)
	if err != nil {
		return 0, rep, fmt.Errorf("tick: %w", err)
	}
	if ran := e.fired.Load(); rep.Succeeded != e.due || rep.Failed != 0 || ran != int64(e.due) {
		return 0, rep, fmt.Errorf("tick at %s stored fired %d (failed %d, task ran %d times), want %d", thousands(e.stored), rep.Succeeded, rep.Failed, ran, e.due)
	}
	return elapsed, rep, nil
}

// storedSide is one size of the stored pair: the floor and tickflow with
// the same stored and due rows.
type storedSide struct {
	floor *floorEnv
	tf    *runtimeEnv
	figs  PairFigures
	ticks []float64
}

// pair times one floor tick and one tickflow tick back to back, tickflow
// first when tfFirst.
func (s *storedSide) pair(ctx context.Context, tfFirst bool) error {
	var floorTime, tfTime time.Duration
	floor := func() error {
		t, _, done, err := s.floor.timedTick(ctx)
		if err == nil && done != s.floor.n {
			err = fmt.Errorf("floor fired %d of %d schedules", done, s.floor.n)
		}
		floorTime = t
		return err
	}
	tf := func() (err error) {
		tfTime, _, err = s.tf.timedTick(ctx, s.tf.engine)
		return err
	}
	first, second := floor, tf
	if tfFirst {
		first, second = tf, floor
	}
	if err := first(); err != nil {
		return err
	}
	if err := second(); err != nil {
		return err
	}
	s.ticks = append(s.ticks, tfTime.Seconds())
	s.figs.Floor = append(s.figs.Floor, floorTime.Seconds())
	s.figs.Ratios = append(s.figs.Ratios, tfTime.Seconds()/floorTime.Seconds())
	return nil
}

func (s *storedSide) close(ctx context.Context) {
	if s.floor != nil {
		s.floor.close(ctx)
	}
	if s.tf != nil {
		s.tf.close(ctx)
	}
}

func newStoredSide(ctx context.Context, stored, due int) (*storedSide, error) {
	s := &storedSide{}
	var err error
	if s.floor, err = newFloorEnv(ctx, fmt.Sprintf("stored-floor-%d", stored), due, stored); err != nil {
		return nil, err
	}
	if s.tf, err = newRuntimeEnv(ctx, fmt.Sprintf("stored-tickflow-%d", stored), stored, due); err != nil {
		s.close(ctx)
		return nil, err
	}
	return s, nil
}

// StoredFigures compare the tick at due of stored schedules with the tick
// at due of due stored, each paired with the set-based floor over a table
// of the same size.
type StoredFigures struct {
	Due       int         `json:"due"`
	SmallN    int         `json:"small_n"`
	LargeN    int         `json:"large_n"`
	Small     PairFigures `json:"small"`
	Large     PairFigures `json:"large"`
	SmallTick []float64   `json:"small_tick"`
	// MaxOver is the largest Large ratio divided by the median Small ratio.
	MaxOver float64 `json:"max_over"`
	// Within: every Large ratio is at most 1.10 × the median Small ratio.
	Within bool `json:"within"`
}

// benchStored is the pair at due of stored runtime schedules against the
// pair at due of due stored: four envs in one process, the sizes and the
// floor/tickflow order swapped pair by pair.
func benchStored(ctx context.Context, stored, due, pairs int) (Result, error) {
	res := Result{Name: fmt.Sprintf("stored-%d", stored), Group: "stored", N: due,
		Title: fmt.Sprintf("tickflow and the floor alternating, %s due of %s stored runtime schedules vs %s of %s", thousands(due), thousands(stored), thousands(due), thousands(due))}
	small, err := newStoredSide(ctx, due, due)
	if err != nil {
		return res, err
	}
	defer small.close(ctx)
	large, err := newStoredSide(ctx, stored, due)
	if err != nil {
		return res, err
	}
	defer large.close(ctx)
	for i := 0; i < pairs; i++ {
		sides := []*storedSide{small, large}
		if i%2 == 1 {
			sides[0], sides[1] = large, small
		}
		for _, s := range sides {
			if err := s.pair(ctx, (i/2)%2 == 1); err != nil {
				return res, fmt.Errorf("pair %d: %w", i, err)
			}
		}
		fmt.Fprintf(os.Stderr, "bench: pair %d: %s stored %.2f× (%s / %s), %s stored %.2f× (%s / %s)\n", i,
			thousands(due), small.figs.Ratios[i], fmtDuration(small.ticks[i]), fmtDuration(small.figs.Floor[i]),
			thousands(stored), large.figs.Ratios[i], fmtDuration(large.ticks[i]), fmtDuration(large.figs.Floor[i]))
	}
	for _, t := range large.ticks {
		res.addRun(time.Duration(t*float64(time.Second)), Counts{}, due)
	}
	res.Pairs = &large.figs
	sf := &StoredFigures{Due: due, SmallN: due, LargeN: stored, Small: small.figs, Large: large.figs, SmallTick: small.ticks, Within: true}
	base := median(small.figs.Ratios)
	for _, r := range large.figs.Ratios {
		sf.MaxOver = max(sf.MaxOver, r/base)
	}
	sf.Within = sf.MaxOver <= 1.10
	res.Stored = sf
	res.Figures = append(res.Figures,
		Figure{Label: fmt.Sprintf("median per-pair ratio to the floor, %s stored", thousands(due)), Value: base, Unit: "×"},
		Figure{Label: fmt.Sprintf("median per-pair ratio to the floor, %s stored", thousands(stored)), Value: median(large.figs.Ratios), Unit: "×"},
		Figure{Label: fmt.Sprintf("largest %s-stored ratio / median %s-stored ratio (target ≤ 1.10 in every pair)", thousands(stored), thousands(due)), Value: sf.MaxOver, Unit: "×"},
		Figure{Label: fmt.Sprintf("tickflow tick median, %s stored", thousands(due)), Value: median(small.ticks), Unit: "s"},
		Figure{Label: fmt.Sprintf("tickflow tick median, %s stored", thousands(stored)), Value: median(large.ticks), Unit: "s"},
		Figure{Label: fmt.Sprintf("floor tick median, %s stored", thousands(due)), Value: median(small.figs.Floor), Unit: "s"},
		Figure{Label: fmt.Sprintf("floor tick median, %s stored", thousands(stored)), Value: median(large.figs.Floor), Unit: "s"},
	)
	res.Notes = append(res.Notes, fmt.Sprintf("stored: %s runtime schedules (origin api, Every 1 minute, a payload and a tenant label; seeded by INSERT … SELECT from one created through Engine.UpsertSchedules), every %d-th due, against the floor whose table also holds %s rows (the same ones due); and the same pair with only the %s due stored. Each of the %d rounds times both pairs, the sizes and the floor/tickflow order swapped round by round; the runs tables are emptied and VACUUM ANALYZE run between ticks, outside the timing.",
		thousands(stored), stored/due, thousands(stored), thousands(due), pairs))
	return res, nil
}

// benchStoredEmpty times the empty tick over stored runtime schedules,
// none due, on direct connections, then counts its statements through the
// proxy.
func benchStoredEmpty(ctx context.Context, stored, reps int) (Result, error) {
	res := Result{Name: fmt.Sprintf("stored-empty-%d", stored), Group: "stored",
		Title: fmt.Sprintf("tickflow: empty tick, %s stored runtime schedules, none due", thousands(stored))}
	e, err := newRuntimeEnv(ctx, res.Name, stored, 0)
	if err != nil {
		return res, err
	}
	defer e.close(ctx)
	if _, err := e.engine.Tick(ctx); err != nil { // warm the pool and the sync
		return res, fmt.Errorf("warm-up tick: %w", err)
	}
	for i := 0; i < reps; i++ {
		elapsed, _, err := e.timedTick(ctx, e.engine)
		if err != nil {
			return res, err
		}
		res.addRun(elapsed, Counts{}, 0)
	}
	peng, err := e.counted(ctx)
	if err != nil {
		return res, err
	}
	if _, err := peng.Tick(ctx); err != nil { // its sync and pool warm-up are not counted
		return res, fmt.Errorf("counted warm-up tick: %w", err)
	}
	for i := range res.Counts {
		before := e.counter.Snapshot()
		e.proxy.Reset()
		if _, _, err := e.timedTick(ctx, peng); err != nil {
			return res, fmt.Errorf("counted tick: %w", err)
		}
		res.Counts[i] = e.counter.Snapshot().Sub(before)
		res.Breakdown = e.proxy.Spent()
	}
	c := res.MedianCounts()
	fmt.Fprintf(os.Stderr, "bench: empty tick, counted: %s\n", breakdownText(res.Breakdown, 8))
	res.Figures = append(res.Figures,
		Figure{Label: "empty tick median (target ≤ 10 ms)", Value: res.Median(), Unit: "s"},
		Figure{Label: "statements per empty tick (target 2)", Value: float64(c.Statements), Unit: ""},
		Figure{Label: "transaction control per empty tick", Value: float64(c.TxControl), Unit: ""},
	)
	res.Notes = append(res.Notes, fmt.Sprintf("stored-empty: %s runtime schedules, none due (next slot in a day); %d ticks timed on direct connections after a warm-up tick, VACUUM ANALYZE between ticks outside the timing; statements counted by the proxy in as many further ticks.", thousands(stored), reps))
	return res, nil
}

// benchUpsert times UpsertSchedules of n new runtime schedules (in calls
// of core.MaxUpsertBatch) on top of stored ones, then the no-op upsert of
// the same n, reps times (the new ones deleted between repetitions,
// outside the timing).
func benchUpsert(ctx context.Context, n, stored, reps int) (Result, error) {
	res := Result{Name: fmt.Sprintf("upsert-%d", n), Group: "stored", N: n,
		Title: fmt.Sprintf("tickflow: Engine.UpsertSchedules of %s new runtime schedules (%s per call), %s stored", thousands(n), thousands(core.MaxUpsertBatch), thousands(stored))}
	e, err := newRuntimeEnv(ctx, res.Name, stored, 0)
	if err != nil {
		return res, err
	}
	defer e.close(ctx)
	ps := make([]core.ScheduleParams, n)
	for i := range ps {
		ps[i] = runtimeParams(fmt.Sprintf("up_%07d", i), fmt.Sprintf("u%06d", i%max(1, n/runtimeTenantRows)))
	}
	upsertAll := func(eng *core.Engine, want func(core.UpsertResult) bool) (time.Duration, error) {
		start := time.Now()
		var sum core.UpsertResult
		for rest := ps; len(rest) > 0; {
			batch := rest[:min(len(rest), core.MaxUpsertBatch)]
			rest = rest[len(batch):]
			r, err := eng.UpsertSchedules(ctx, batch)
			if err != nil {
				return 0, err
			}
			sum.Created += r.Created
			sum.Changed += r.Changed
			sum.Unchanged += r.Unchanged
		}
		elapsed := time.Since(start)
		if !want(sum) {
			return 0, fmt.Errorf("upsert of %d: %+v", n, sum)
		}
		return elapsed, nil
	}
	clear := func(i int) error {
		if i > 0 {
			if _, err := e.db.ExecContext(ctx, `DELETE FROM tickflow_schedules WHERE name LIKE 'up\_%'`); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
		}
		if _, err := e.db.ExecContext(ctx, tickflowVacuumSQL); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		return nil
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		return res, err
	}
	var noop []float64
	for i := 0; i < reps; i++ {
		if err := clear(i); err != nil {
			return res, err
		}
		cpu0 := processCPU()
		created, err := upsertAll(e.engine, func(r core.UpsertResult) bool { return r.Created == n })
		if err != nil {
			return res, err
		}
		res.CPUSeconds = append(res.CPUSeconds, (processCPU() - cpu0).Seconds())
		res.addRun(created, Counts{}, n)
		again, err := upsertAll(e.engine, func(r core.UpsertResult) bool { return r.Unchanged == n })
		if err != nil {
			return res, err
		}
		noop = append(noop, again.Seconds())
		fmt.Fprintf(os.Stderr, "bench: upsert %d: new %s (%s/s), no-op %s (%s/s)\n", i, fmtDuration(created.Seconds()), thousands(int(float64(n)/created.Seconds())), fmtDuration(again.Seconds()), thousands(int(float64(n)/again.Seconds())))
	}
	stopProfile()
	// One more pass through the counting proxy, untimed: the statements and
	// the time per statement kind, seen from the client.
	peng, err := e.counted(ctx)
	if err != nil {
		return res, err
	}
	if err := clear(reps); err != nil {
		return res, err
	}
	before := e.counter.Snapshot()
	e.proxy.Reset()
	if _, err := upsertAll(peng, func(r core.UpsertResult) bool { return r.Created == n }); err != nil {
		return res, fmt.Errorf("counted upsert: %w", err)
	}
	res.Breakdown = e.proxy.Spent()
	for i := range res.Counts {
		res.Counts[i] = e.counter.Snapshot().Sub(before)
	}
	fmt.Fprintf(os.Stderr, "bench: upsert: Go CPU %s per %s new; counted pass: %s\n", fmtDuration(median(res.CPUSeconds)), thousands(n), breakdownText(res.Breakdown, 8))
	res.Figures = append(res.Figures,
		Figure{Label: fmt.Sprintf("new schedules per second, %s in calls of %s (target ≥ 20,000/s)", thousands(n), thousands(core.MaxUpsertBatch)), Value: float64(n) / res.Median(), Unit: "/s"},
		Figure{Label: fmt.Sprintf("no-op re-upsert of the same %s, schedules per second", thousands(n)), Value: float64(n) / median(noop), Unit: "/s"},
		Figure{Label: "no-op re-upsert median", Value: median(noop), Unit: "s"},
		Figure{Label: fmt.Sprintf("process CPU (Go side) per %s new, median", thousands(n)), Value: median(res.CPUSeconds), Unit: "s"},
	)
	res.Notes = append(res.Notes, fmt.Sprintf("upsert: %s ScheduleParams built before the timing (Every 1 minute, a payload, a tenant label), upserted through Engine.UpsertSchedules in calls of %s on a table holding %s runtime schedules; then the same %s again (every one unchanged, nothing written). %d repetitions, the new rows deleted and VACUUM ANALYZE run between them, outside the timing.", thousands(n), thousands(core.MaxUpsertBatch), thousands(stored), thousands(n), reps))
	return res, nil
}

// benchList times Engine.ListSchedules at stored runtime schedules: a
// label filter matching runtimeTenantRows rows, a key-prefix page and a
// page deep into the keys, reps times each.
func benchList(ctx context.Context, stored, reps int) (Result, error) {
	res := Result{Name: fmt.Sprintf("list-%d", stored), Group: "stored",
		Title: fmt.Sprintf("tickflow: Engine.ListSchedules, label filter (~%s rows), limit 50, %s stored", thousands(runtimeTenantRows), thousands(stored))}
	e, err := newRuntimeEnv(ctx, res.Name, stored, 0)
	if err != nil {
		return res, err
	}
	defer e.close(ctx)
	tenant := fmt.Sprintf("t%06d", 42%e.tenants())
	deep := fmt.Sprintf("rt_%07d", stored*9/10)
	cases := []struct {
		label string
		f     core.ScheduleFilter
		want  int
	}{
		{fmt.Sprintf("label tenant=%s (%s rows match), limit 50 (target ≤ 20 ms)", tenant, thousands(min(stored, runtimeTenantRows))), core.ScheduleFilter{Labels: map[string]string{"tenant": tenant}, Limit: 50}, min(50, stored)},
		{"key prefix rt_05, limit 50", core.ScheduleFilter{KeyPrefix: "rt_05", Limit: 50}, -1},
		{fmt.Sprintf("cursor after %s, limit 50", deep), core.ScheduleFilter{After: deep, Limit: 50}, min(50, stored-stored*9/10-1)},
		{fmt.Sprintf("label tenant=%s and cursor past half its rows, limit 50", tenant), core.ScheduleFilter{Labels: map[string]string{"tenant": tenant}, After: fmt.Sprintf("rt_%07d", stored/2), Limit: 50}, -1},
	}
	for ci, c := range cases {
		var times []float64
		for i := 0; i < reps; i++ {
			start := time.Now()
			page, err := e.engine.ListSchedules(ctx, c.f)
			elapsed := time.Since(start)
			if err != nil {
				return res, fmt.Errorf("list %s: %w", c.label, err)
			}
			if c.want >= 0 && len(page.Schedules) != c.want {
				return res, fmt.Errorf("list %s: %d schedules, want %d", c.label, len(page.Schedules), c.want)
			}
			times = append(times, elapsed.Seconds())
			if ci == 0 {
				res.addRun(elapsed, Counts{}, len(page.Schedules))
			}
		}
		res.Figures = append(res.Figures, Figure{Label: c.label + ": median", Value: median(times), Unit: "s"})
	}
	res.Notes = append(res.Notes, fmt.Sprintf("list: %s runtime schedules, tenant labels spread so that each matches %s rows; each page read %d times through Engine.ListSchedules (a direct connection, the pool warm).", thousands(stored), thousands(runtimeTenantRows), reps))
	return res, nil
}

// startCPUProfile starts the CPU profile asked for by -cpuprofile (none:
// a no-op) and returns its stop.
func startCPUProfile() (func(), error) {
	if cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// dashboardToken is the API token the dashboard contender signs in with.
const dashboardToken = "bench-dashboard-token"

// benchDashboard times GET /ui/schedules through handler.New with the
// dashboard, signed in with a session cookie (as the dashboard's tests
// do), at stored runtime schedules.
func benchDashboard(ctx context.Context, stored, reps int) (Result, error) {
	res := Result{Name: fmt.Sprintf("dashboard-%d", stored), Group: "stored",
		Title: fmt.Sprintf("dashboard: GET /ui/schedules pages signed in, %s stored runtime schedules", thousands(stored))}
	e, err := newRuntimeEnv(ctx, res.Name, stored, 0)
	if err != nil {
		return res, err
	}
	defer e.close(ctx)
	dash, err := dashboard.New(dashboard.Config{Engine: e.engine, Token: dashboardToken, Logger: e.log})
	if err != nil {
		return res, err
	}
	h, err := handler.New(handler.Config{Engine: e.engine, Token: dashboardToken, Logger: e.log, Dashboard: dash})
	if err != nil {
		return res, err
	}
	login := httptest.NewRequestWithContext(ctx, http.MethodPost, "/ui/login", strings.NewReader(url.Values{"token": {dashboardToken}, "next": {"/ui/schedules"}}.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, login)
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "tickflow_session" && c.Value != "" {
			session = c
		}
	}
	if rec.Code != http.StatusSeeOther || session == nil {
		return res, fmt.Errorf("sign in: status %d, session cookie %v", rec.Code, session != nil)
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		return res, err
	}
	defer stopProfile()
	tenant := fmt.Sprintf("t%06d", 42%e.tenants())
	deep := fmt.Sprintf("rt_%07d", stored*9/10)
	pages := []struct{ label, path, want string }{
		{"GET /ui/schedules (first page) median (target ≤ 200 ms)", "/ui/schedules", "rt_0000001"},
		{"GET /ui/schedules?label=tenant=" + tenant + " median", "/ui/schedules?" + url.Values{"label": {"tenant=" + tenant}}.Encode(), ""},
		{"GET /ui/schedules?after=" + deep + " median", "/ui/schedules?" + url.Values{"after": {deep}}.Encode(), fmt.Sprintf("rt_%07d", stored*9/10+1)},
	}
	for pi, pg := range pages {
		var times []float64
		bytes := 0
		loopStart := time.Now()
		for i := 0; i < reps; i++ {
			if i > 0 && time.Since(loopStart) > tickflowBudget {
				res.Notes = append(res.Notes, fmt.Sprintf("dashboard: %s: %d of %d requests, stopped by the %s time budget.", pg.path, i, reps, tickflowBudget))
				break
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, pg.path, nil)
			req.AddCookie(session)
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			elapsed := time.Since(start)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.Contains(body, pg.want) {
				return res, fmt.Errorf("GET %s: status %d, %d bytes, %q missing", pg.path, rec.Code, len(body), pg.want)
			}
			if strings.Contains(body, `id="signin-link"`) {
				return res, fmt.Errorf("GET %s: not signed in", pg.path)
			}
			bytes = len(body)
			times = append(times, elapsed.Seconds())
			if pi == 0 {
				res.addRun(elapsed, Counts{}, 0)
			}
		}
		res.Figures = append(res.Figures, Figure{Label: pg.label, Value: median(times), Unit: "s"},
			Figure{Label: "  its page size", Value: float64(bytes), Unit: "bytes"})
	}
	res.Notes = append(res.Notes, fmt.Sprintf("dashboard: handler.New with the dashboard and a token, signed in through POST /ui/login (session cookie); the schedules pages (first, label-filtered, deep cursor) served into an httptest.ResponseRecorder, each timed from the request to the last byte written, %d times, %s runtime schedules stored.", reps, thousands(stored)))
	return res, nil
}
