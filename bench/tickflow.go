package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// cpuProfile, when set (-cpuprofile with -only), receives a CPU profile of
// the timed ticks of a tickflow contender.
var cpuProfile string

// memProfile, when set (-memprofile with -only), receives a heap profile
// written after the timed ticks of a tickflow contender.
var memProfile string

// inlineCountN: ticks of this many schedules are timed through the counting
// proxy instead of being run once more to be counted.
const inlineCountN = 100000

// tickflowBudget: no further repetition starts after this much time, so that
// the whole command stays within its 10 minutes.
const tickflowBudget = 40 * time.Second

const (
	// tickflowResetDueSQL makes every schedule due one second ago, on its
	// anchor (so the slot is on the interval's grid), like the floor's reset.
	tickflowResetDueSQL = `
TRUNCATE tickflow_runs;
UPDATE tickflow_schedule_state
SET anchor = date_trunc('second', now()) - interval '1 second',
    next_run = date_trunc('second', now()) - interval '1 second'`
	// tickflowResetEmptySQL makes no schedule due for an hour.
	tickflowResetEmptySQL = `
TRUNCATE tickflow_runs;
UPDATE tickflow_schedule_state
SET anchor = date_trunc('second', now()) + interval '1 hour',
    next_run = date_trunc('second', now()) + interval '1 hour'`
	tickflowVacuumSQL = `VACUUM ANALYZE tickflow_schedules, tickflow_schedule_state, tickflow_runs, tickflow_ticks`
)

func tickflowContenders(s sizes, reps func(int) int) []contender {
	var cases []tickflowCase
	for _, n := range s.TickN {
		r := reps(n)
		if n == targetsN {
			r = max(r, s.CPUReps)
		}
		cases = append(cases, tickflowCase{name: fmt.Sprintf("tickflow-%d", n), n: n, engines: 1, due: true, reps: r, api: n >= apiMinN})
	}
	n := s.ConcurrentN
	cases = append(cases,
		tickflowCase{name: fmt.Sprintf("tickflow-%d-batch%d", n, n), n: n, engines: 1, due: true, reps: s.Reps, batch: n},
		tickflowCase{name: "tickflow-empty", n: s.EmptyN, engines: 1, due: false, reps: s.Reps},
		tickflowCase{name: fmt.Sprintf("tickflow-%dx-%d", s.Ticks, n), n: n, engines: s.Ticks, due: true, reps: s.Reps})
	for _, n := range s.HugeN {
		cases = append(cases, tickflowCase{name: fmt.Sprintf("tickflow-%d", n), n: n, engines: 1, due: true, reps: 1, api: true, optIn: true, maxTick: hugeMaxTick})
	}
	for _, n := range s.APIN {
		cases = append(cases, tickflowCase{name: fmt.Sprintf("tickflow-api-%d", n), n: n, engines: 1, due: true, reps: reps(n), api: true, optIn: true})
	}
	cs := make([]contender, len(cases))
	for i, tc := range cases {
		cs[i] = contender{name: tc.name, optIn: tc.optIn, run: func(ctx context.Context) (Result, error) { return benchTickflow(ctx, tc) }}
	}
	return cs
}

// tickflowCase is one tickflow measurement.
type tickflowCase struct {
	name string
	// n schedules are registered (Every 1 minute) and synced.
	n int
	// engines tick at once, each with its own store (its own pool), like
	// concurrent Lambda invocations.
	engines int
	// due: all n schedules are due; else none is (the empty tick).
	due  bool
	reps int
	// batch, when set, is the engine's BatchSize and FlushSize (else the
	// defaults).
	batch int
	// api: the n schedules are runtime schedules of one registered task,
	// created by one Engine.UpsertSchedules and copied by one set-based
	// statement (generate_series), instead of n registered code schedules
	// (a registry of 1,000,000 schedules alone took about 345 MiB).
	api bool
	// optIn: run only when named (-only), not by the full run.
	optIn bool
	// maxTick, when set, is the engine's MaxTickDuration (else the default).
	maxTick time.Duration
}

// hugeMaxTick is the MaxTickDuration of the HugeN ticks, which measure a
// tick's throughput and memory, not whether it fits a Lambda invocation:
// on a loaded machine the default (5 minutes) cut a 1,000,000-schedule
// tick after 620,000 runs, and Lambda's longest timeout (15 minutes) after
// 775,000.
const hugeMaxTick = time.Hour

func (tc tickflowCase) title() string {
	switch {
	case !tc.due:
		return fmt.Sprintf("tickflow: empty tick, %s schedules, none due", thousands(tc.n))
	case tc.engines > 1:
		return fmt.Sprintf("tickflow: %d concurrent ticks (separate engines) sharing %s due schedules", tc.engines, thousands(tc.n))
	case tc.api && tc.optIn:
		return fmt.Sprintf("tickflow: one tick, %s due no-op runtime schedules (opt-in, not in the full run)", thousands(tc.n))
	case tc.api:
		return fmt.Sprintf("tickflow: one tick, %s due no-op runtime schedules", thousands(tc.n))
	case tc.batch > 0:
		return fmt.Sprintf("tickflow: one tick, %s due no-op schedules, BatchSize and FlushSize %s", thousands(tc.n), thousands(tc.batch))
	default:
		return fmt.Sprintf("tickflow: one tick, %s due no-op schedules", thousands(tc.n))
	}
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tickflowEnv is a tickflow deployment in one schema: its engines.
type tickflowEnv struct {
	stores  []*sqlstore.Store
	engines []*core.Engine
}

func (e *tickflowEnv) close() {
	for _, s := range e.stores {
		_ = s.Close()
	}
}

// newTickflowEnv opens engines stores at dbURL, each with its own engine
// over reg, and syncs each (so the timed tick does not sync). With apiN >
// 0 it first creates apiN runtime schedules (seedAPISchedules).
func newTickflowEnv(ctx context.Context, dbURL string, reg *core.Registry, engines, batch int, maxTick time.Duration, log *slog.Logger, apiN int) (*tickflowEnv, error) {
	env := &tickflowEnv{}
	for i := 0; i < engines; i++ {
		st, err := sqlstore.Open(ctx, dbURL, sqlstore.WithLogger(log))
		if err != nil {
			env.close()
			return nil, fmt.Errorf("open store: %w", err)
		}
		env.stores = append(env.stores, st)
		if i == 0 {
			if err := st.Migrate(ctx); err != nil {
				env.close()
				return nil, fmt.Errorf("migrate: %w", err)
			}
		}
		eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Logger: log, Trigger: "bench", BatchSize: batch, FlushSize: batch, MaxTickDuration: maxTick})
		if err != nil {
			env.close()
			return nil, fmt.Errorf("new engine: %w", err)
		}
		if i == 0 && apiN > 0 {
			if err := seedAPISchedules(ctx, eng, st.DB().DB, apiN); err != nil {
				env.close()
				return nil, err
			}
		}
		if _, err := eng.Sync(ctx); err != nil {
			env.close()
			return nil, fmt.Errorf("sync: %w", err)
		}
		env.engines = append(env.engines, eng)
	}
	return env, nil
}

// tick runs one tick on every engine at once and sums their reports.
func (e *tickflowEnv) tick(ctx context.Context) (core.Report, error) {
	reps := make([]core.Report, len(e.engines))
	errs := make([]error, len(e.engines))
	var wg sync.WaitGroup
	for i, eng := range e.engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = eng.Tick(ctx)
		}()
	}
	wg.Wait()
	var sum core.Report
	for _, r := range reps {
		sum.DueSchedules = max(sum.DueSchedules, r.DueSchedules)
		sum.Claimed += r.Claimed
		sum.Succeeded += r.Succeeded
		sum.Failed += r.Failed
		sum.Skipped += r.Skipped
		sum.Conflicts += r.Conflicts
	}
	return sum, errors.Join(errs...)
}

// tickflowHarness is one tickflow case ready to tick: n registered
// schedules synced into a schema of their own, engines on direct
// connections, and a counting proxy in front of the same database.
type tickflowHarness struct {
	tc      tickflowCase
	log     *slog.Logger
	schema  *benchSchema
	reg     *core.Registry
	fired   atomic.Int64
	counter Counter
	proxy   *countingProxy
	purl    string
	// inline: the ticks are timed through the proxy (large ticks), so no
	// separate counted pass is needed.
	inline bool
	env    *tickflowEnv
	db     *sql.DB
	// breakdown is the time per statement kind of the latest timed tick.
	breakdown []StatementTime
}

func newTickflowHarness(ctx context.Context, tc tickflowCase) (*tickflowHarness, error) {
	h := &tickflowHarness{tc: tc, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	var err error
	if h.schema, err = openSchema(ctx, tc.name); err != nil {
		return nil, err
	}
	h.reg = core.NewRegistry()
	noop := func(context.Context, core.RunInfo) error { h.fired.Add(1); return nil }
	if tc.api {
		if err := h.reg.Register(apiTask, noop); err != nil {
			h.close(ctx)
			return nil, fmt.Errorf("register: %w", err)
		}
	}
	for i := 0; i < tc.n && !tc.api; i++ {
		if err := h.reg.Schedule(fmt.Sprintf("sched_%06d", i), noop, core.Every(time.Minute)); err != nil {
			h.close(ctx)
			return nil, fmt.Errorf("register: %w", err)
		}
	}
	// Large ticks are timed through the counting proxy (its overhead, about
	// 0.1 ms per statement, is far below their run-to-run noise); the others
	// are timed on direct connections and counted in one extra pass.
	h.inline = tc.n >= inlineCountN
	if h.proxy, h.purl, err = startCountingProxy(h.schema.URL, &h.counter); err != nil {
		h.close(ctx)
		return nil, err
	}
	timedURL := h.schema.URL
	if h.inline {
		timedURL = h.purl
	}
	if h.env, err = newTickflowEnv(ctx, timedURL, h.reg, tc.engines, tc.batch, tc.maxTick, h.log, apiN(tc)); err != nil {
		h.close(ctx)
		return nil, err
	}
	h.db = h.env.stores[0].DB().DB
	return h, nil
}

func (h *tickflowHarness) close(ctx context.Context) {
	if h.env != nil {
		h.env.close()
	}
	if h.proxy != nil {
		h.proxy.Close()
	}
	h.schema.Close(ctx)
}

func (h *tickflowHarness) reset(ctx context.Context) error {
	q := tickflowResetDueSQL
	if !h.tc.due {
		q = tickflowResetEmptySQL
	}
	if _, err := h.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if _, err := h.db.ExecContext(ctx, tickflowVacuumSQL); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

// check verifies a tick's report against the runs table: every due
// schedule ran exactly once.
func (h *tickflowHarness) check(ctx context.Context, rep core.Report) error {
	want := 0
	if h.tc.due {
		want = h.tc.n
	}
	ran := h.fired.Swap(0)
	if rep.Succeeded != want || rep.Failed != 0 || ran != int64(want) {
		return fmt.Errorf("tick fired %d (failed %d, task ran %d times), want %d", rep.Succeeded, rep.Failed, ran, want)
	}
	var runs, distinct int
	if err := h.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT schedule) FROM tickflow_runs WHERE status = 'success'`).Scan(&runs, &distinct); err != nil {
		return fmt.Errorf("check runs: %w", err)
	}
	if runs != want || distinct != want {
		return fmt.Errorf("%d successful runs for %d schedules, want %d", runs, distinct, want)
	}
	return nil
}

// timedTick resets the schedules (untimed), times one tick of e's engines
// and checks it; it returns the wall time, the statements and the process
// CPU time of the tick.
func (h *tickflowHarness) timedTick(ctx context.Context, e *tickflowEnv) (time.Duration, Counts, core.Report, time.Duration, error) {
	if err := h.reset(ctx); err != nil {
		return 0, Counts{}, core.Report{}, 0, err
	}
	before := h.counter.Snapshot()
	h.proxy.Reset()
	cpu0 := processCPU()
	start := time.Now()
	rep, err := e.tick(ctx)
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	counts := h.counter.Snapshot().Sub(before)
	h.breakdown = h.proxy.Spent()
	if err != nil {
		return 0, Counts{}, rep, 0, fmt.Errorf("tick: %w", err)
	}
	return elapsed, counts, rep, cpu, h.check(ctx, rep)
}

// countedPass runs the same tick once more through the counting proxy, for
// the statement counts and the time per statement kind.
func (h *tickflowHarness) countedPass(ctx context.Context) (Counts, error) {
	penv, err := newTickflowEnv(ctx, h.purl, h.reg, h.tc.engines, h.tc.batch, h.tc.maxTick, h.log, 0)
	if err != nil {
		return Counts{}, err
	}
	defer penv.close()
	_, counts, _, _, err := h.timedTick(ctx, penv)
	if err != nil {
		return Counts{}, fmt.Errorf("counted tick: %w", err)
	}
	return counts, nil
}

// benchTickflow measures tc: timed ticks on direct connections, then one
// untimed pass through the counting proxy for the statement counts and the
// time per statement kind (large ticks are timed through the proxy itself).
func benchTickflow(ctx context.Context, tc tickflowCase) (Result, error) {
	res := Result{Name: tc.name, Group: "tickflow", N: tc.n, Title: tc.title()}
	if !tc.due {
		res.N = 0
	}
	h, err := newTickflowHarness(ctx, tc)
	if err != nil {
		return res, err
	}
	defer h.close(ctx)

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
	}
	res.SetupMaxRSSKB = peakRSSKB()
	resetPeakRSS()
	loopStart := time.Now()
	for i := 0; i < tc.reps; i++ {
		if i > 0 && time.Since(loopStart) > tickflowBudget {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: %d of %d runs, stopped by the %s time budget.", tc.name, i, tc.reps, tickflowBudget))
			break
		}
		elapsed, counts, rep, cpu, err := h.timedTick(ctx, h.env)
		if err != nil {
			return res, err
		}
		res.CPUSeconds = append(res.CPUSeconds, cpu.Seconds())
		res.Breakdown = h.breakdown
		res.addRun(elapsed, counts, rep.Succeeded)
	}
	pprof.StopCPUProfile()
	res.TickMaxRSSKB = peakRSSKB()
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return res, err
		}
	}

	if !h.inline {
		counts, err := h.countedPass(ctx)
		if err != nil {
			return res, err
		}
		res.Breakdown = h.breakdown
		for i := range res.Counts {
			res.Counts[i] = counts
		}
	}
	if tc.batch == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("tickflow: core.Engine with its default Config (BatchSize %d, FlushSize %d, Workers %d, unless the row says otherwise) on sqlstore's PostgreSQL store (lib/pq via sqlx, pool of %d); the N schedules are %s before timing, then made due by SQL (next_run one second ago, runs table emptied, VACUUM ANALYZE), like the floor; one Engine.Tick is timed, with the database clock. Statements are counted by a wire-protocol counting proxy (sqlstore has no hook for a custom driver): in a separate untimed pass of the same tick, except at %s schedules, whose ticks are timed through the proxy (it adds about 0.1 ms per statement).",
			core.DefaultBatchSize, core.DefaultFlushSize, core.DefaultWorkers, h.db.Stats().MaxOpenConnections, setupText(tc), thousands(inlineCountN)))
	}
	if tc.engines > 1 {
		res.Notes = append(res.Notes, fmt.Sprintf("tickflow concurrent: %d engines, each with its own store and pool, tick at once; the runs table is checked for exactly one run per schedule.", tc.engines))
	}
	return res, nil
}

// setupText says how tc's schedules are set up, for the notes.
func setupText(tc tickflowCase) string {
	if tc.api {
		return fmt.Sprintf("runtime schedules of one task, Every(1 minute) (from %s due schedules on; one created by Engine.UpsertSchedules and copied by one INSERT … SELECT)", thousands(apiMinN))
	}
	return "registered Every(1 minute) and synced"
}

// writeHeapProfile writes the heap profile (in use after a GC, and every
// allocation since the process started) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// resetPeakRSS returns the memory the setup freed to the operating system
// and resets the process's peak resident set size to its current size
// (Linux; elsewhere the reset does nothing).
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSKB is the process's peak resident set size in KiB since it started
// or since the last resetPeakRSS (Linux's VmHWM), or 0 when unknown.
func peakRSSKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// apiMinN: the tick contenders of at least this many schedules use runtime
// schedules (tickflowCase.api).
const apiMinN = 100000

// apiTask is the one task of the runtime schedules.
const apiTask = "noop"

// seedAPISchedulesSQL copies the runtime schedule sched_0000000 (created
// by the engine) as sched_0000001 … sched_<$1-1>, definition and state,
// every column equal but the name, whatever the columns are. $1 n.
const seedAPISchedulesSQL = `
WITH def AS (
    INSERT INTO tickflow_schedules
    SELECT r.*
    FROM tickflow_schedules s,
         generate_series(1, $1 - 1) AS i,
         LATERAL jsonb_populate_record(s, jsonb_build_object('name', 'sched_' || lpad(i::text, 7, '0'))) AS r
    WHERE s.name = 'sched_0000000'
)
INSERT INTO tickflow_schedule_state
SELECT r.*
FROM tickflow_schedule_state s,
     generate_series(1, $1 - 1) AS i,
     LATERAL jsonb_populate_record(s, jsonb_build_object('name', 'sched_' || lpad(i::text, 7, '0'))) AS r
WHERE s.name = 'sched_0000000'`

// apiN is how many runtime schedules tc creates (0: none).
func apiN(tc tickflowCase) int {
	if tc.api {
		return tc.n
	}
	return 0
}

// seedAPISchedules creates n runtime schedules of apiTask, Every(1 minute)
// with the defaults: one through eng (the row the API writes), copied by
// one statement.
func seedAPISchedules(ctx context.Context, eng *core.Engine, db *sql.DB, n int) error {
	p := core.ScheduleParams{Key: "sched_0000000", Task: apiTask, Every: time.Minute}
	if _, err := eng.UpsertSchedules(ctx, []core.ScheduleParams{p}); err != nil {
		return fmt.Errorf("seed: create the first runtime schedule: %w", err)
	}
	if _, err := db.ExecContext(ctx, seedAPISchedulesSQL, n); err != nil {
		return fmt.Errorf("seed: copy the runtime schedule: %w", err)
	}
	return nil
}
