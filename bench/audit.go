package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// auditRows is how many runs the audit contender stores:
// TICKFLOW_BENCH_AUDIT_ROWS when set, else def (sizes.AuditRows).
func auditRows(def int) (int, error) {
	v := os.Getenv("TICKFLOW_BENCH_AUDIT_ROWS")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("TICKFLOW_BENCH_AUDIT_ROWS %q: want a positive count", v)
	}
	return n, nil
}

// auditContender is opt-in (run it with -only audit-30d): RuntimeReps timed
// Engine.AuditSlots of a one-minute schedule over 30 days (43,200 slots)
// among rows stored runs of 200 one-minute schedules, one of them the
// audited one.
func auditContender(s sizes) contender {
	return contender{name: "audit-30d", optIn: true, run: func(ctx context.Context) (Result, error) {
		return benchAudit(ctx, s.AuditRows, s.RuntimeReps)
	}}
}

func benchAudit(ctx context.Context, defRows, reps int) (Result, error) {
	const slots = 30 * 24 * 60
	rows, err := auditRows(defRows)
	if err != nil {
		return Result{}, err
	}
	st, schemaURL, closeStore, err := openMigrated(ctx, "audit")
	if err != nil {
		return Result{}, err
	}
	defer closeStore()
	log := slog.New(slog.DiscardHandler)
	anchor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := core.NewRegistry()
	if err := reg.Schedule("audited", func(context.Context, core.RunInfo) error { return nil }, core.Every(time.Minute)); err != nil {
		return Result{}, err
	}
	// The runs: schedule i % 200, slot anchor + (i / 200 + 1) minutes.
	perSchedule := rows / 200
	clock := core.NewStubClock(anchor.Add(time.Duration(perSchedule+1) * time.Minute))
	eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Logger: log, Clock: core.NewStubClock(anchor)})
	if err != nil {
		return Result{}, err
	}
	if _, err := eng.Sync(ctx); err != nil {
		return Result{}, err
	}
	db := st.DB()
	if _, err := db.ExecContext(ctx, `
		INSERT INTO tickflow_runs (task, schedule, source, slot, status, attempt, run_at, created_at, started_at, finished_at)
		SELECT s, s, 'scheduled', m, 'success', 1, m, m, m, m + interval '1 second'
		FROM (SELECT CASE WHEN i % 200 = 0 THEN 'audited' ELSE 'bulk-' || (i % 200) END AS s,
		             $1::timestamptz + (i / 200 + 1) * interval '1 minute' AS m
		      FROM generate_series(0, $2::int - 1) AS i) g`, anchor, rows); err != nil {
		return Result{}, fmt.Errorf("seed %d runs: %w", rows, err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE tickflow_schedule_state SET next_run = $1 WHERE name = 'audited'`, clock.Advance(0)); err != nil {
		return Result{}, err
	}
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE tickflow_runs`); err != nil {
		return Result{}, err
	}
	// The seed dirtied gigabytes of pages: write them out before timing, so
	// that the audits do not run beside a checkpoint of the seed (a server
	// in use has its writes spread out).
	checkpointNote := "the seed's dirty pages are written out (CHECKPOINT) before timing"
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		checkpointNote = fmt.Sprintf("CHECKPOINT before timing refused (%v): the audits may run beside the seed's checkpoint", err)
	}
	if eng, err = core.NewEngine(core.Config{Store: st, Registry: reg, Logger: log, Clock: clock}); err != nil {
		return Result{}, err
	}
	from := anchor.Add(time.Duration(perSchedule-slots) * time.Minute)
	if perSchedule < slots {
		from = anchor.Add(time.Minute) // the first slot
	}
	res := Result{Name: "audit-30d", Group: "audit", N: slots,
		Title: fmt.Sprintf("tickflow: audit of a one-minute schedule over 30 days (%s slots) among %s stored runs", thousands(slots), thousands(rows)),
		Notes: []string{"audit: Engine.AuditSlots on PostgreSQL: the schedule read, one range read of the (schedule, slot) key and the run after the window, the outcomes judged in Go; statements counted by the wire-protocol proxy in an untimed pass; N is slots, schedules/s is slots/s; opt-in (-only audit-30d, TICKFLOW_BENCH_AUDIT_ROWS); " + checkpointNote}}
	params := core.AuditParams{Schedule: "audited", From: from, To: from.Add(slots * time.Minute)}
	for range reps {
		start := time.Now()
		a, err := eng.AuditSlots(ctx, params)
		d := time.Since(start)
		if err != nil {
			return res, err
		}
		if len(a.Slots) != slots || (rows/200 >= slots+1 && a.Counts[core.SlotSuccess] != slots) {
			return res, fmt.Errorf("audit: %d slots, counts %v", len(a.Slots), a.Counts)
		}
		res.Runs = append(res.Runs, d.Seconds())
		res.Completed = len(a.Slots)
	}
	// The statements of one audit, counted by the wire-protocol proxy in an
	// untimed pass through a store of its own.
	counts, err := countAudit(ctx, schemaURL, reg, clock, params)
	if err != nil {
		return res, err
	}
	for range res.Runs {
		res.Counts = append(res.Counts, counts)
	}
	return res, nil
}

// countAudit runs one audit on a store connected through the counting
// proxy and returns its statements.
func countAudit(ctx context.Context, schemaURL string, reg *core.Registry, clock core.Clock, p core.AuditParams) (Counts, error) {
	var c Counter
	proxy, proxied, err := startCountingProxy(schemaURL, &c)
	if err != nil {
		return Counts{}, err
	}
	defer proxy.Close()
	st, err := sqlstore.Open(ctx, proxied, sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return Counts{}, err
	}
	defer st.Close()
	eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Logger: slog.New(slog.DiscardHandler), Clock: clock})
	if err != nil {
		return Counts{}, err
	}
	before := c.Snapshot()
	if _, err := eng.AuditSlots(ctx, p); err != nil {
		return Counts{}, fmt.Errorf("counted audit: %w", err)
	}
	return c.Snapshot().Sub(before), nil
}

// openMigrated opens a migrated tickflow store in a fresh schema of its
// own for contender and returns it with the schema's database URL; close
// closes the store and drops the schema.
func openMigrated(ctx context.Context, contender string) (st *sqlstore.Store, schemaURL string, close func(), err error) {
	schema, err := openSchema(ctx, contender)
	if err != nil {
		return nil, "", nil, err
	}
	st, err = sqlstore.Open(ctx, schema.URL, sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err == nil {
		err = st.Migrate(ctx)
		if err != nil {
			st.Close()
		}
	}
	if err != nil {
		schema.Close(ctx)
		return nil, "", nil, err
	}
	return st, schema.URL, func() { st.Close(); schema.Close(ctx) }, nil
}
