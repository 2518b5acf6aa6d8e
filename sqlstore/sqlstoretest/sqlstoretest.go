package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	_ "modernc.org/sqlite" // links the SQLite driver for tests on that dialect
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickflow/tickflow/sqlstore"
)

// EnvURL is the environment variable naming the PostgreSQL server tests use.
const EnvURL = "TEST_DATABASE_URL"

// PostgresBaseURL returns TEST_DATABASE_URL, skipping the test when it is
// unset (failing it instead when the CI environment variable is set).
func PostgresBaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL tests", EnvURL)
		}
		t.Skipf("%s is not set; skipping a PostgreSQL test", EnvURL)
	}
	return base
}

// URLPostgres returns a PostgreSQL URL whose search_path is a fresh, migrated
// schema of its own, dropped when the test ends. Use it for tests that hand
// the URL to another process; OpenPostgres opens a store on it.
func URLPostgres(t testing.TB) string {
	t.Helper()
	u := URLPostgresEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := sqlstore.Open(ctx, u, sqlstore.WithMaxOpenConns(2))
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate test schema: %v", err)
	}
	return u
}

// URLPostgresEmpty is URLPostgres without the migration: the schema exists
// and is empty, for tests of Migrate itself.
func URLPostgresEmpty(t testing.TB) string {
	t.Helper()
	base := PostgresBaseURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "tickflow_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvURL, err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres returns a migrated PostgreSQL store on a fresh schema of its
// own (see URLPostgres), closed and dropped when the test ends.
func OpenPostgres(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	return open(t, URLPostgres(t), opts...)
}

// URLSQLite returns the URL of a fresh, migrated SQLite file in the test's
// temporary directory.
func URLSQLite(t testing.TB) string {
	t.Helper()
	u := "sqlite:" + filepath.Join(t.TempDir(), "tickflow.db")
	st := open(t, u)
	if err := st.Close(); err != nil {
		t.Fatalf("close test store: %v", err)
	}
	return u
}

// OpenSQLite returns a migrated SQLite store on a file in the test's
// temporary directory, closed when the test ends.
func OpenSQLite(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "tickflow.db"), opts...)
}

// Open returns a migrated store of the named dialect ("postgres" or
// "sqlite"), for tests that run once per dialect.
func Open(t testing.TB, dialect string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	switch dialect {
	case "postgres":
		return OpenPostgres(t, opts...)
	case "sqlite":
		return OpenSQLite(t, opts...)
	}
	t.Fatalf("sqlstoretest: unknown dialect %q (want postgres or sqlite)", dialect)
	return nil
}

// Dialects lists the dialects Open accepts.
var Dialects = []string{"postgres", "sqlite"}

func open(t testing.TB, u string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := sqlstore.Open(ctx, u, opts...)
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate test store: %v", err)
	}
	return st
}
