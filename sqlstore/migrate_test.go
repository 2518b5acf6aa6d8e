package sqlstore_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// objects counts the tickflow tables and indexes of a store's schema.
func objects(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	q := `SELECT count(*) FROM sqlite_master WHERE name LIKE 'tickflow%'`
	if st.Dialect() == "postgres" {
		q = `SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname LIKE 'tickflow%'`
	}
	var n int
	if err := st.DB().Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateIdempotent(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.Open(t, dialect) // migrated once
			before := objects(t, st)
			if before < 4+8 { // four tables and their indexes
				t.Fatalf("only %d tickflow objects after Migrate", before)
			}
			r, _, err := st.InsertRun(ctx, core.InsertRunParams{Task: "keep", MaxAttempts: 1, IdempotencyKey: "k"})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if err := st.Migrate(ctx); err != nil {
					t.Fatalf("Migrate again: %v", err)
				}
			}
			if after := objects(t, st); after != before {
				t.Fatalf("%d tickflow objects after migrating again; want %d", after, before)
			}
			if got, err := st.GetRun(ctx, r.ID); err != nil || got.IdempotencyKey != "k" {
				t.Fatalf("run lost by Migrate: %+v, %v", got, err)
			}
		})
	}
}

// migrateConcurrently opens n stores on url at once and migrates them at
// once, as n processes starting together would.
func migrateConcurrently(t *testing.T, url string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, err := sqlstore.Open(ctx, url, sqlstore.WithMaxOpenConns(1))
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			errs <- st.Migrate(ctx)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
}

func TestMigrateConcurrentPostgres(t *testing.T) {
	url := sqlstoretest.URLPostgresEmpty(t)
	migrateConcurrently(t, url, 8)
	st, err := sqlstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := objects(t, sqlstoretest.OpenPostgres(t))
	if got := objects(t, st); got != want {
		t.Fatalf("%d tickflow objects after 8 concurrent migrations; want %d", got, want)
	}
}

func TestMigrateConcurrentSQLite(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "race.db")
	migrateConcurrently(t, url, 8)
	st, err := sqlstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := objects(t, sqlstoretest.OpenSQLite(t))
	if got := objects(t, st); got != want {
		t.Fatalf("%d tickflow objects after 8 concurrent migrations; want %d", got, want)
	}
}

// TestMigrateFastPathTakesNoTableLock: once the schema is current, Migrate is
// one read of tickflow_meta, so a cold start cannot queue behind (or deadlock
// with) a claim holding locks on the runs and schedules tables.
func TestMigrateFastPathTakesNoTableLock(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	ctx := context.Background()
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// What a claim holds mid-transaction: row-exclusive locks on both tables.
	if _, err := tx.ExecContext(ctx, "LOCK TABLE tickflow_runs, tickflow_schedules IN ROW EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := st.Migrate(mctx); err != nil {
		t.Fatalf("Migrate on a current schema waited for table locks: %v", err)
	}
}

// TestMigrateAddsSessions: a database migrated before tickflow_sessions
// existed (no table, an older schema hash) gains the table on the next
// Migrate, keeping its data, and sessions work.
func TestMigrateAddsSessions(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.Open(t, dialect)
			r, _, err := st.InsertRun(ctx, core.InsertRunParams{Task: "keep", MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`DROP TABLE tickflow_sessions`,
				`UPDATE tickflow_meta SET value = 'before-sessions' WHERE key = 'schema_hash'`,
			} {
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if _, err := st.CreateSession(ctx, core.CreateSessionParams{IDHash: "h", Fingerprint: "fp", TTL: time.Hour}); err != nil {
				t.Fatalf("create session after migrating forward: %v", err)
			}
			if ok, err := st.CheckSession(ctx, core.CheckSessionParams{IDHash: "h", Fingerprint: "fp"}); !ok || err != nil {
				t.Fatalf("check session after migrating forward: %v, %v", ok, err)
			}
			if _, err := st.GetRun(ctx, r.ID); err != nil {
				t.Fatalf("run lost by Migrate: %v", err)
			}
		})
	}
}

// indexNames lists the tickflow_runs indexes of a store's schema.
func indexNames(t *testing.T, st *sqlstore.Store) map[string]bool {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickflow_runs'`
	if st.Dialect() == "postgres" {
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickflow_runs'`
	}
	var names []string
	if err := st.DB().Select(&names, q); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return set
}

// TestMigrateMergesLiveIndexes: a database migrated when tickflow_runs had a
// lease index and an active index (an older schema hash) gets the one live
// index that replaced them on the next Migrate; its runs stay, a running run
// whose lease expired is still recovered and a pending run still claimed.
func TestMigrateMergesLiveIndexes(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.Open(t, dialect)
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			pending, _, err := st.InsertRun(ctx, core.InsertRunParams{Now: now, Task: "keep", MaxAttempts: 2})
			if err != nil {
				t.Fatal(err)
			}
			claimed, err := st.ClaimRuns(ctx, core.ClaimRunsParams{Now: now, TickID: "tick_old", Limit: 10,
				LeaseUntil: now.Add(time.Minute), Tasks: []string{"keep"}})
			if err != nil || len(claimed.Runs) != 1 {
				t.Fatalf("claim before migrating: %+v, %v", claimed, err)
			}
			for _, q := range []string{
				`DROP INDEX tickflow_runs_live_idx`,
				`CREATE INDEX tickflow_runs_lease_idx ON tickflow_runs (lease_until) WHERE status = 'running'`,
				`CREATE INDEX tickflow_runs_active_idx ON tickflow_runs (schedule, status) WHERE status IN ('running', 'pending')`,
				`UPDATE tickflow_meta SET value = 'before-live-index' WHERE key = 'schema_hash'`,
			} {
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			idx := indexNames(t, st)
			if !idx["tickflow_runs_live_idx"] || idx["tickflow_runs_lease_idx"] || idx["tickflow_runs_active_idx"] {
				t.Fatalf("indexes after migrating forward: %v", idx)
			}
			// The lease expired: the run is recovered (interrupted) and claimed again.
			later := now.Add(2 * time.Minute)
			again, err := st.ClaimRuns(ctx, core.ClaimRunsParams{Now: later, TickID: "tick_new", Limit: 10,
				LeaseUntil: later.Add(time.Minute), Tasks: []string{"keep"}})
			if err != nil {
				t.Fatalf("claim after migrating forward: %v", err)
			}
			if len(again.Runs) != 1 || again.Runs[0].ID != pending.ID || again.Runs[0].Attempt != 2 {
				t.Fatalf("run after migrating forward: %+v", again)
			}
		})
	}
}

// TestMigrateAddsOnce: a database migrated before the once kind (no
// once_at, kind and spec checks without 'once', an older schema hash) is
// carried forward by the next Migrate, keeping its schedules, and then
// stores a once schedule.
func TestMigrateAddsOnce(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.Open(t, dialect)
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			every := core.ScheduleRecord{Name: "old", Task: "old", Kind: core.KindEvery, EverySeconds: 60, SpecHash: "h1", Anchor: t0, NextRun: t0.Add(time.Minute)}
			if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: []core.ScheduleRecord{every}}); err != nil {
				t.Fatal(err)
			}
			var stmts []string
			if dialect == "postgres" {
				stmts = append(unsplitStatePostgres(),
					`ALTER TABLE tickflow_schedules DROP CONSTRAINT tickflow_schedules_kind_check, DROP CONSTRAINT tickflow_schedules_spec_check`,
					`ALTER TABLE tickflow_schedules DROP COLUMN once_at`,
					`ALTER TABLE tickflow_schedules ADD CONSTRAINT tickflow_schedules_kind_check CHECK (kind IN ('every', 'cron')),
					 ADD CONSTRAINT tickflow_schedules_spec_check CHECK ((kind = 'every' AND every_seconds > 0) OR (kind = 'cron' AND cron <> ''))`,
				)
			} else {
				var ddl string
				if err := st.DB().GetContext(ctx, &ddl, `SELECT sql FROM sqlite_master WHERE name = 'tickflow_schedules'`); err != nil {
					t.Fatal(err)
				}
				old := strings.NewReplacer("    once_at         INTEGER,\n", "", ", 'once')", ")",
					" OR (kind = 'once' AND once_at IS NOT NULL)", "").Replace(ddl)
				if old == ddl || strings.Contains(old, "once") {
					t.Fatalf("could not derive the old table from %s", ddl)
				}
				cols := `name, task, display_name, kind, every_seconds, cron, timezone, spec_hash, run_on_startup, misfire, overlap,
					max_catchup, retries, delay_seconds, backoff, timeout_seconds, jitter_seconds, anchor, next_run, paused, orphaned, created_at, updated_at`
				stmts = []string{
					`DROP INDEX tickflow_schedules_due_key_idx`,
					`ALTER TABLE tickflow_schedules RENAME TO tmp_schedules`,
					old,
					`INSERT INTO tickflow_schedules (` + cols + `) SELECT ` + cols + ` FROM tmp_schedules`,
					`DROP TABLE tmp_schedules`,
					`CREATE INDEX tickflow_schedules_due_idx ON tickflow_schedules (next_run) WHERE NOT paused AND NOT orphaned`,
				}
			}
			stmts = append(stmts, `UPDATE tickflow_meta SET value = 'before-once' WHERE key = 'schema_hash'`)
			for _, q := range stmts {
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			at := t0.Add(time.Hour)
			once := core.ScheduleRecord{Name: "once", Task: "once", Kind: core.KindOnce, OnceAt: &at, SpecHash: "h2", Anchor: t0, NextRun: at}
			if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: []core.ScheduleRecord{every, once}}); err != nil {
				t.Fatalf("sync a once schedule after migrating forward: %v", err)
			}
			got, err := st.GetSchedule(ctx, "once")
			if err != nil || got.OnceAt == nil || !got.OnceAt.Equal(at) {
				t.Fatalf("once schedule after migrating forward: %+v, %v", got, err)
			}
			if old, err := st.GetSchedule(ctx, "old"); err != nil || !old.NextRun.Equal(t0.Add(time.Minute)) {
				t.Fatalf("old schedule after migrating forward: %+v, %v", old, err)
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		})
	}
}

// unsplitStatePostgres returns statements that turn a current PostgreSQL
// schema into the layout from before tickflow_schedule_state: its columns
// back in tickflow_schedules (with their values, checks and the due index
// there), the state table dropped.
func unsplitStatePostgres() []string {
	return []string{
		`ALTER TABLE tickflow_schedules
			ADD COLUMN spec_hash text, ADD COLUMN anchor timestamptz, ADD COLUMN next_run timestamptz,
			ADD COLUMN paused boolean NOT NULL DEFAULT false, ADD COLUMN orphaned boolean NOT NULL DEFAULT false,
			ADD COLUMN max_runs integer CONSTRAINT tickflow_schedules_max_runs_check CHECK (max_runs >= 1),
			ADD COLUMN remaining_runs integer CONSTRAINT tickflow_schedules_remaining_runs_check CHECK (remaining_runs >= 0),
			ADD COLUMN completed_at timestamptz`,
		`UPDATE tickflow_schedules s
			SET spec_hash = st.spec_hash, anchor = st.anchor, next_run = st.next_run, paused = st.paused,
			    orphaned = st.orphaned, max_runs = st.max_runs, remaining_runs = st.remaining_runs,
			    completed_at = st.completed_at
			FROM tickflow_schedule_state st WHERE st.name = s.name`,
		`ALTER TABLE tickflow_schedules ALTER COLUMN spec_hash SET NOT NULL, ALTER COLUMN anchor SET NOT NULL`,
		`DROP TABLE tickflow_schedule_state`,
		`CREATE INDEX tickflow_schedules_due_idx ON tickflow_schedules (next_run) WHERE NOT paused AND NOT orphaned`,
	}
}

// TestMigrateSplitsScheduleState: a PostgreSQL database from before
// tickflow_schedule_state (the state columns in tickflow_schedules) is
// carried forward by the next Migrate: every schedule reads back as it was
// (code and runtime, paused, orphaned, with a run budget, completed), the
// old columns and due index are gone, a tick claims from the new table
// exactly the schedules that were due, and a second Migrate is a no-op.
func TestMigrateSplitsScheduleState(t *testing.T) {
	ctx := context.Background()
	st := sqlstoretest.Open(t, "postgres")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(name string) core.ScheduleRecord {
		return core.ScheduleRecord{Name: name, Task: "t-" + name, Kind: core.KindEvery, EverySeconds: 60,
			SpecHash: "h-" + name, Anchor: t0.Add(-time.Hour), NextRun: t0.Add(-time.Minute)}
	}
	code := []core.ScheduleRecord{rec("due"), rec("paused"), rec("gone"), rec("later")}
	code[3].NextRun = t0.Add(time.Hour)
	if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSchedulePaused(ctx, core.SetSchedulePausedParams{Name: "paused", Paused: true, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: code[:2]}); err != nil { // orphans gone, later
		t.Fatal(err)
	}
	budget := rec("budget")
	five, two := 5, 2
	budget.Origin, budget.MaxRuns, budget.RemainingRuns = core.OriginAPI, &five, &two
	budget.Payload, budget.Labels = []byte(`{"k":1}`), map[string]string{"tenant": "acme"}
	done := rec("done")
	done.Origin, done.NextRun, done.CompletedAt = core.OriginAPI, time.Time{}, &t0
	if _, err := st.InsertSchedules(ctx, nil, core.InsertSchedulesParams{Now: t0, Records: []core.ScheduleRecord{budget, done}}); err != nil {
		t.Fatal(err)
	}
	before, err := st.ListSchedules(ctx)
	if err != nil || len(before) != 6 {
		t.Fatalf("schedules before: %d, %v", len(before), err)
	}
	for _, q := range append(unsplitStatePostgres(), `UPDATE tickflow_meta SET value = 'before-state' WHERE key = 'schema_hash'`) {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	after, err := st.ListSchedules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("schedules changed by the migration:\nbefore %+v\nafter  %+v", before, after)
	}
	var left []string
	if err := st.DB().Select(&left, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'tickflow_schedules'
		  AND column_name IN ('spec_hash', 'anchor', 'next_run', 'paused', 'orphaned', 'max_runs', 'remaining_runs', 'completed_at')`); err != nil {
		t.Fatal(err)
	}
	var dueIdx bool
	if err := st.DB().Get(&dueIdx, `SELECT to_regclass('tickflow_schedules_due_idx') IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 || dueIdx {
		t.Fatalf("tickflow_schedules keeps %v (due index %v) after the split", left, dueIdx)
	}
	var due []string
	_, err = st.ClaimDue(ctx, core.ClaimDueParams{Now: t0, TickID: "tick_1", Limit: 100, LeaseUntil: t0.Add(time.Minute),
		Plan: func(ds []core.DueSchedule) []core.SchedulePlan {
			for _, d := range ds {
				due = append(due, d.Name)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(due)
	if want := []string{"budget", "due"}; !slices.Equal(due, want) {
		t.Fatalf("due after migrating forward = %v; want %v", due, want)
	}
	n := objects(t, st)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	if again := objects(t, st); again != n {
		t.Fatalf("second Migrate changed the objects: %d, then %d", n, again)
	}
}

// runtimeScheduleColumns are the columns runtime schedules added, by table.
var runtimeScheduleColumns = map[string][]string{
	"tickflow_schedules": {"origin", "payload", "labels", "start_at", "end_at", "max_runs", "remaining_runs", "completed_at"},
	"tickflow_runs":      {"retry_delay_seconds", "retry_backoff", "timeout_seconds"},
}

// stripRuntimeColumnsSQLite returns statements that rebuild table as it was
// before runtime schedules: its DDL without their columns and constraints.
func stripRuntimeColumnsSQLite(t *testing.T, st *sqlstore.Store, table string) []string {
	t.Helper()
	var ddl string
	if err := st.DB().Get(&ddl, `SELECT sql FROM sqlite_master WHERE name = ?`, table); err != nil {
		t.Fatal(err)
	}
	var keep, cols []string
	for _, line := range strings.Split(ddl, "\n") {
		f := strings.Fields(line)
		drop := false
		for _, c := range runtimeScheduleColumns[table] {
			if len(f) > 0 && (f[0] == c || strings.Contains(line, "CHECK ("+c) || strings.Contains(line, "CHECK (end_at")) {
				drop = true
			}
		}
		if drop {
			continue
		}
		keep = append(keep, line)
		if len(f) > 1 && f[0] != "CREATE" && f[0] != "CONSTRAINT" && f[0] != ")" {
			cols = append(cols, f[0])
		}
	}
	old := strings.Join(keep, "\n")
	old = strings.Replace(old, ",\n)", "\n)", 1)
	for _, c := range runtimeScheduleColumns[table] {
		if strings.Contains(old, c) {
			t.Fatalf("could not strip %s from %s:\n%s", c, table, old)
		}
	}
	list := strings.Join(cols, ", ")
	return []string{
		`ALTER TABLE ` + table + ` RENAME TO tmp_old`,
		old,
		`INSERT INTO ` + table + ` (` + list + `) SELECT ` + list + ` FROM tmp_old`,
		`DROP TABLE tmp_old`,
	}
}

// TestMigrateAddsRuntimeSchedules: a database migrated before runtime
// schedules (no origin, payload, labels, start/end, max_runs, completion on
// schedules, no policy overrides on runs, an older schema hash) is carried
// forward by the next Migrate: its schedules become code schedules with no
// labels, its runs read back, and a second Migrate is a no-op.
func TestMigrateAddsRuntimeSchedules(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.Open(t, dialect)
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			every := core.ScheduleRecord{Name: "old", Task: "old", Kind: core.KindEvery, EverySeconds: 60, SpecHash: "h1", Anchor: t0, NextRun: t0.Add(time.Minute)}
			if _, err := st.SyncSchedules(ctx, core.SyncSchedulesParams{Now: t0, Schedules: []core.ScheduleRecord{every}}); err != nil {
				t.Fatal(err)
			}
			run, _, err := st.InsertRun(ctx, core.InsertRunParams{Now: t0, Task: "old", Source: core.SourceManual, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			var stmts []string
			if dialect == "postgres" {
				stmts = unsplitStatePostgres()
				for table, cols := range runtimeScheduleColumns {
					for _, c := range cols {
						stmts = append(stmts, `ALTER TABLE `+table+` DROP COLUMN `+c)
					}
				}
				stmts = append(stmts, `DROP INDEX IF EXISTS tickflow_schedules_task_idx`, `DROP INDEX IF EXISTS tickflow_schedules_key_idx`)
			} else {
				stmts = append(stmts, `DROP INDEX tickflow_schedules_task_idx`)
				stmts = append(stmts, stripRuntimeColumnsSQLite(t, st, "tickflow_schedules")...)
				stmts = append(stmts, `CREATE INDEX IF NOT EXISTS tickflow_schedules_due_idx ON tickflow_schedules (next_run) WHERE NOT paused AND NOT orphaned`)
				stmts = append(stmts, stripRuntimeColumnsSQLite(t, st, "tickflow_runs")...)
			}
			stmts = append(stmts, `UPDATE tickflow_meta SET value = 'before-runtime-schedules' WHERE key = 'schema_hash'`)
			for _, q := range stmts {
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			got, err := st.GetSchedule(ctx, "old")
			if err != nil || got.Origin != core.OriginCode || got.Labels == nil || len(got.Labels) != 0 ||
				got.MaxRuns != nil || got.CompletedAt != nil || !got.NextRun.Equal(t0.Add(time.Minute)) {
				t.Fatalf("old schedule after migrating forward: %+v, %v", got, err)
			}
			if r, err := st.GetRun(ctx, run.ID); err != nil || r.Task != "old" {
				t.Fatalf("old run after migrating forward: %+v, %v", r, err)
			}
			// The constraints came with the columns.
			if _, err := st.DB().ExecContext(ctx, `UPDATE tickflow_schedules SET origin = 'bogus'`); err == nil {
				t.Fatal("origin check missing after migrating forward")
			}
			maxRuns := `UPDATE tickflow_schedules SET max_runs = 0`
			if dialect == "postgres" {
				maxRuns = `UPDATE tickflow_schedule_state SET max_runs = 0`
			}
			if _, err := st.DB().ExecContext(ctx, maxRuns); err == nil {
				t.Fatal("max_runs check missing after migrating forward")
			}
			before := objects(t, st)
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
			if after := objects(t, st); after != before {
				t.Fatalf("second Migrate changed the objects: %d, then %d", before, after)
			}
		})
	}
}

// TestMigrateCoversSlotKey: a PostgreSQL database migrated when the
// (schedule, slot) key was the constraint tickflow_runs_schedule_slot_key,
// without included columns, gets tickflow_runs_slot_key in its place on the
// next Migrate; its runs stay, a slot recorded before is still recorded
// once, and an audit reads the window by an index-only scan.
func TestMigrateCoversSlotKey(t *testing.T) {
	ctx := context.Background()
	st := sqlstoretest.Open(t, "postgres")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	reg := core.NewRegistry()
	if err := reg.Schedule("minute", func(context.Context, core.RunInfo) error { return nil }, core.Every(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e, err := core.NewEngine(core.Config{Store: st, Registry: reg, Clock: core.NewStubClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	slot := now.Add(time.Minute)
	if rs, err := st.InsertSlotRuns(ctx, core.InsertSlotRunsParams{Now: now, Schedule: "minute", Slots: []time.Time{slot}}); err != nil || len(rs) != 1 {
		t.Fatalf("insert a slot run: %+v, %v", rs, err)
	}
	for _, q := range []string{
		`ALTER TABLE tickflow_runs DROP CONSTRAINT tickflow_runs_slot_key`,
		`ALTER TABLE tickflow_runs ADD CONSTRAINT tickflow_runs_schedule_slot_key UNIQUE (schedule, slot)`,
		`UPDATE tickflow_meta SET value = 'before-slot-key-include' WHERE key = 'schema_hash'`,
	} {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	idx := indexNames(t, st)
	if !idx["tickflow_runs_slot_key"] || idx["tickflow_runs_schedule_slot_key"] {
		t.Fatalf("indexes after migrating forward: %v", idx)
	}
	if rs, err := st.InsertSlotRuns(ctx, core.InsertSlotRunsParams{Now: now, Schedule: "minute", Slots: []time.Time{slot, slot.Add(time.Minute)}}); err != nil || len(rs) != 1 {
		t.Fatalf("insert after migrating forward: %+v, %v; want only the new slot", rs, err)
	}
	var plan string
	if _, err := st.DB().ExecContext(ctx, `VACUUM ANALYZE tickflow_runs`); err != nil {
		t.Fatal(err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// Two rows: without these the planner reads the table itself.
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
		t.Fatal(err)
	}
	// Both calls of slot_runs.sql: the window, and the run after it.
	for _, args := range [][]any{{"minute", now.Add(-time.Hour), now, nil}, {"minute", now, nil, 1}} {
		rows, err := tx.QueryContext(ctx, "EXPLAIN (COSTS OFF) "+st.Statement("slot_runs"), args...)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		plan = strings.Join(lines, "\n")
		if !strings.Contains(plan, "Index Only Scan using tickflow_runs_slot_key") || strings.Contains(plan, "Sort") {
			t.Errorf("an audit's range read %v: %q, want an index-only scan of tickflow_runs_slot_key, no sort", args, plan)
		}
	}
}

// TestMigratePartialLabelsIndex: a database migrated when every schedule had
// an entry in the labels GIN index (tickflow_schedules_labels_idx, an older
// schema hash) gets the partial index of labelled schedules on the next
// Migrate, and a label filter still finds its schedules.
func TestMigratePartialLabelsIndex(t *testing.T) {
	ctx := context.Background()
	st := sqlstoretest.OpenPostgres(t)
	for _, q := range []string{
		`DROP INDEX tickflow_schedules_labelled_idx`,
		`CREATE INDEX tickflow_schedules_labels_idx ON tickflow_schedules USING gin (labels jsonb_path_ops)`,
		`UPDATE tickflow_meta SET value = 'before-labelled-index' WHERE key = 'schema_hash'`,
	} {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	var idx []string
	if err := st.DB().SelectContext(ctx, &idx, `SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'tickflow_schedules' ORDER BY indexname`); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(idx, "tickflow_schedules_labelled_idx") || slices.Contains(idx, "tickflow_schedules_labels_idx") {
		t.Fatalf("indexes after migrating forward: %v", idx)
	}
	var pred string
	if err := st.DB().QueryRowContext(ctx, `SELECT pg_get_expr(indpred, indrelid) FROM pg_index
		WHERE indexrelid = 'tickflow_schedules_labelled_idx'::regclass`).Scan(&pred); err != nil || !strings.Contains(pred, "'{}'::jsonb") {
		t.Fatalf("tickflow_schedules_labelled_idx predicate = %q, %v; want labels <> '{}'", pred, err)
	}
}

// TestMigrateOrdersDueByName: a database whose due index is on next_run
// alone (an older schema hash) gets the index on (next_run, name), which
// a tick's next claim resumes in, and loses the old one.
func TestMigrateOrdersDueByName(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.Open(t, dialect)
			table, old, fresh := "tickflow_schedule_state", "tickflow_schedule_state_due_idx", "tickflow_schedule_state_due_key_idx"
			if dialect == "sqlite" {
				table, old, fresh = "tickflow_schedules", "tickflow_schedules_due_idx", "tickflow_schedules_due_key_idx"
			}
			for _, q := range []string{
				`DROP INDEX ` + fresh,
				`CREATE INDEX ` + old + ` ON ` + table + ` (next_run) WHERE NOT paused AND NOT orphaned`,
				`UPDATE tickflow_meta SET value = 'before-due-key' WHERE key = 'schema_hash'`,
			} {
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			var names []string
			q := `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`
			if dialect == "sqlite" {
				q = `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`
			}
			if err := st.DB().SelectContext(ctx, &names, q, table); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(names, fresh) || slices.Contains(names, old) {
				t.Fatalf("%s's indexes after migrating forward: %v; want %s, not %s", table, names, fresh, old)
			}
		})
	}
}
