package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

func TestParseURL(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x.db")
	good := []struct {
		url, dialect, dsn string
	}{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"postgresql://u:p@db.example:5432/app?search_path=s1", "postgres", "postgresql://u:p@db.example:5432/app?search_path=s1"},
		{"POSTGRES://h/db", "postgres", "POSTGRES://h/db"},
		{"postgres:///db?host=/var/run/postgresql", "postgres", "postgres:///db?host=/var/run/postgresql"},
		{"sqlite:tickflow.db", "sqlite", "tickflow.db"},
		{sqlstore.DefaultURL, "sqlite", "tickflow.db"},
		{"sqlite:data/./runs.db", "sqlite", "data/runs.db"},
		{"sqlite:" + abs, "sqlite", abs},
		{"sqlite://" + abs, "sqlite", abs},
		{"file:tickflow.db", "sqlite", "tickflow.db"},
		{"file:" + abs, "sqlite", abs},
		{"sqlite::memory:", "sqlite", ":memory:"},
		{"file::memory:", "sqlite", ":memory:"},
	}
	for _, tt := range good {
		d, dsn, err := sqlstore.ParseURL(tt.url)
		if err != nil || d != tt.dialect || dsn != tt.dsn {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q, nil", tt.url, d, dsn, err, tt.dialect, tt.dsn)
		}
	}
	bad := []struct {
		url, why string
	}{
		{"", "no scheme"},
		{"tickflow.db", "no scheme"},
		{"/var/lib/tickflow.db", "no scheme"},
		{"mysql://root@localhost/db", `unsupported scheme "mysql"`},
		{"http://example.com", `unsupported scheme "http"`},
		{"sqlite:", "no path"},
		{"file:", "no path"},
		{"sqlite://host/x.db", "not a host"},
		{"sqlite:x.db?mode=ro", "query parameters"},
		{"sqlite:x.db#frag", "query parameters"},
		{"sqlite::temp:", "only :memory:"},
		{"postgres:db", "starts with postgres://"},
		{"postgres://", "no host"},
		{"postgres://h:notaport/db", "malformed"},
	}
	for _, tt := range bad {
		d, dsn, err := sqlstore.ParseURL(tt.url)
		if err == nil {
			t.Errorf("ParseURL(%q) = %q, %q, nil; want an error", tt.url, d, dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.why) || !strings.Contains(msg, "postgres://") || !strings.Contains(msg, "sqlite:PATH") {
			t.Errorf("ParseURL(%q) error %q: want it to say %q and name the accepted forms", tt.url, msg, tt.why)
		}
	}
}

func TestOpenRejectsBadURL(t *testing.T) {
	_, err := sqlstore.Open(context.Background(), "mysql://root@localhost/db")
	if err == nil || !strings.Contains(err.Error(), "accepted forms") {
		t.Fatalf("Open(mysql://…) error = %v; want one naming the accepted forms", err)
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := sqlstore.Open(ctx, "postgres://tickflow:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("Open of a PostgreSQL server that is not there succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "connect to postgres") || strings.Contains(msg, "secret") {
		t.Fatalf("error %q: want it to say it could not connect, without the password", msg)
	}
}

func TestOpenSQLiteCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	st, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Dialect() != "sqlite" {
		t.Fatalf("Dialect() = %q", st.Dialect())
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := st.DB().Get(&mode, "PRAGMA journal_mode"); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	head, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(head, []byte("SQLite format 3\x00")) {
		t.Fatalf("%s is not a SQLite file after Migrate (%v)", path, err)
	}
}

func TestOpenSQLiteMemory(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite::memory:", sqlstore.WithMaxOpenConns(8))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.DB().Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("in-memory SQLite pool has %d connections; want 1 (each connection is its own database)", n)
	}
	r, _, err := st.InsertRun(ctx, core.InsertRunParams{Task: "t", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetRun(ctx, r.ID); err != nil {
		t.Fatalf("run written on the in-memory database is not there: %v", err)
	}
}

func TestOpenSQLiteRefusesNonDatabase(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"text":  []byte("these are my notes, not a database\n"),
		"short": []byte("SQLite"),
		"json":  []byte(`{"runs": []}`),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".db")
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Stat(path)
			st, err := sqlstore.Open(context.Background(), "sqlite:"+path)
			if err == nil {
				st.Close()
				t.Fatal("Open of a file that is not a SQLite database succeeded")
			}
			if !strings.Contains(err.Error(), "not a SQLite database") {
				t.Errorf("error %q: want it to say the file is not a SQLite database", err)
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, content) {
				t.Fatalf("file changed by a failed Open: %q (%v)", after, rerr)
			}
			if st, _ := os.Stat(path); !st.ModTime().Equal(before.ModTime()) {
				t.Errorf("file's modification time changed")
			}
			for _, side := range []string{"-wal", "-shm", "-journal"} {
				if _, err := os.Stat(path + side); err == nil {
					t.Errorf("a failed Open left %s%s", path, side)
				}
			}
		})
	}
}

func TestOpenSQLiteNotWritable(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(regular, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"parent is a file", filepath.Join(regular, "x.db"), "not a directory"},
		{"parent missing", filepath.Join(dir, "missing", "x.db"), "no such file or directory"},
		{"path is a directory", dir, "is a directory"},
	}
	if os.Geteuid() != 0 { // root writes through permission bits
		ro := filepath.Join(dir, "ro.db")
		if err := os.WriteFile(ro, nil, 0o444); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, path, want string }{"read-only file", ro, "not writable"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlstore.Open(context.Background(), "sqlite:"+tt.path)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%s) succeeded", tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("error %q: want it to name the path and say %q", err, tt.want)
			}
		})
	}
	if b, err := os.ReadFile(regular); err != nil || string(b) != "x" {
		t.Fatalf("plain file changed: %q, %v", b, err)
	}
}

func TestBadURLErrorHidesPasswordAndIsInvalid(t *testing.T) {
	for _, raw := range []string{
		"postgres://user:s3cret@/db",          // no host
		"postgres://user:s3cret@host:badport", // malformed
		"mysql://user:s3cret@host/db",         // unsupported
	} {
		_, err := sqlstore.Open(context.Background(), raw)
		if err == nil {
			t.Fatalf("Open(%q): want an error", raw)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) error %q leaks the password", raw, err)
		}
		if !errors.Is(err, core.ErrInvalid) {
			t.Errorf("Open(%q) error %q: want it to wrap core.ErrInvalid", raw, err)
		}
	}
}

// TestRedactURL: every form of password leaves the message: user info,
// query parameters (password, sslpassword, any case), key=value strings,
// and unparseable URLs. What is not a secret stays readable.
func TestRedactURL(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"postgres://u:s3cret@db.example/app", "postgres://u:xxxxx@db.example/app"},
		{"postgres://u@db.example/app?sslmode=disable", "postgres://u@db.example/app?sslmode=disable"},
		{"postgres://db.example/app?user=u&password=s3cret", "postgres://db.example/app?password=xxxxx&user=u"},
		{"postgres://db.example/app?sslpassword=s3cret&sslmode=verify-full", "postgres://db.example/app?sslmode=verify-full&sslpassword=xxxxx"},
		{"postgres://db.example/app?PASSWORD=s3cret", "postgres://db.example/app?PASSWORD=xxxxx"},
		{"postgres://u:p1@h/db?password=s3cret", "postgres://u:xxxxx@h/db?password=xxxxx"},
		{"host=db.example user=u password=s3cret dbname=app", "host=db.example user=u password=xxxxx dbname=app"},
		{"host=db.example password='s3 cr\\'et' sslpassword = s3cret", "host=db.example password=xxxxx sslpassword = xxxxx"},
		{"postgres://u:s3cret@host:badport/db?password=s3cret", "postgres://xxxxx@host:badport/db?password=xxxxx"},
		{"sqlite:tickflow.db", "sqlite:tickflow.db"},
	}
	for _, tt := range tests {
		got := sqlstore.RedactURL(tt.raw)
		if got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.raw, got, tt.want)
		}
		if strings.Contains(got, "s3") {
			t.Errorf("RedactURL(%q) = %q leaks the password", tt.raw, got)
		}
	}
}

// TestCheckURLValidatesPostgresParameters: lib/pq's parameter values are
// checked before any connection, as bad input (core.ErrInvalid), with the
// password hidden.
func TestCheckURLValidatesPostgresParameters(t *testing.T) {
	for _, raw := range []string{
		"postgres://u:s3cret@127.0.0.1:1/db?sslmode=bogus",
		"postgres://127.0.0.1:1/db?password=s3cret&sslnegotiation=sideways",
		"postgres://127.0.0.1:1/db?password=s3cret&target_session_attrs=any-old",
	} {
		err := sqlstore.CheckURL(raw)
		if !errors.Is(err, core.ErrInvalid) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("CheckURL(%q) = %v; want core.ErrInvalid without the password", raw, err)
		}
		if _, err := sqlstore.Open(context.Background(), raw); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("Open(%q) = %v; want core.ErrInvalid before connecting", raw, err)
		}
	}
	for _, raw := range []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres://h/db?sslmode=verify-full&search_path=s1",
		"sqlite:tickflow.db",
	} {
		if err := sqlstore.CheckURL(raw); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", raw, err)
		}
	}
}

// TestOpenPostgresPassesSessionParameters: a URL's other parameters (jit
// here) reach the server as session parameters, and the store adds none of
// its own (a pooler may refuse them): without one the session has the
// server's setting. The claim turns JIT off per transaction instead (see
// TestClaimDueRunsWithoutJIT).
func TestOpenPostgresPassesSessionParameters(t *testing.T) {
	base := sqlstoretest.URLPostgres(t)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	show := func(url string) string {
		t.Helper()
		st, err := sqlstore.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var jit string
		if err := st.DB().Get(&jit, "SHOW jit"); err != nil {
			t.Fatal(err)
		}
		return jit
	}
	var server string
	if err := sqlstoretest.OpenPostgres(t).DB().Get(&server, "SELECT boot_val FROM pg_settings WHERE name = 'jit'"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"off", "on"} {
		if got := show(base + sep + "jit=" + want); got != want {
			t.Errorf("with jit=%s in the URL, SHOW jit = %q", want, got)
		}
	}
	if got := show(base); got != server {
		t.Errorf("without jit in the URL, SHOW jit = %q; want the server's %q", got, server)
	}
}

// TestClaimJITOffIsTransactionScoped: the statement ClaimDue begins its
// transaction with turns JIT off for that transaction only; the connection
// goes back to the pool (or a pooler) with the server's setting.
func TestClaimJITOffIsTransactionScoped(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	ctx := context.Background()
	conn, err := st.DB().Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET jit = on"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, st.Statement("claim_due_jit_off")); err != nil {
		t.Fatal(err)
	}
	var in, after string
	if err := tx.GetContext(ctx, &in, "SHOW jit"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := conn.GetContext(ctx, &after, "SHOW jit"); err != nil {
		t.Fatal(err)
	}
	if in != "off" || after != "on" {
		t.Errorf("jit in the claim's transaction %q, after it %q; want off, then on", in, after)
	}
}

// TestClaimDueRunsWithoutJIT: ClaimDue's transaction runs with JIT off on
// PostgreSQL, whatever the session's setting.
func TestClaimDueRunsWithoutJIT(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	var in string
	st.OnClaimTx(func(tx *sqlx.Tx) error { return tx.Get(&in, "SHOW jit") })
	_, err := st.ClaimDue(context.Background(), core.ClaimDueParams{
		Now: t0, TickID: "tick_1", Limit: 10, LeaseUntil: t0.Add(time.Minute),
		Plan: func([]core.DueSchedule) []core.SchedulePlan { return nil },
	})
	if err != nil || in != "off" {
		t.Errorf("ClaimDue: %v; jit in its transaction %q, want off", err, in)
	}
}
