package sqlstore_test

import (
	"context"
	"path/filepath"
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
