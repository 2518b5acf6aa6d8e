package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // registers the "postgres" driver

	"github.com/tickflow/tickflow/core"
)

// DefaultURL is the store URL used when none is configured: a SQLite file
// named tickflow.db in the working directory.
const DefaultURL = "sqlite:tickflow.db"

// acceptedForms names the URL forms Open accepts, for error messages.
const acceptedForms = "postgres://…, postgresql://…, sqlite:PATH, file:PATH or sqlite::memory:"

var _ core.Store = (*Store)(nil)

// Store is core.Store on a SQL database: PostgreSQL or SQLite. It is safe for
// concurrent use; open it once per process with Open and Close it at exit.
type Store struct {
	db  *sqlx.DB
	d   *dialect
	log *slog.Logger
	// tasks caches the parameter of the last task list (see taskStrings).
	tasks taskStringsCache
	// pruneOneIn: SQLite prunes old ticks in one EndTick out of this many.
	pruneOneIn int
	// inClaim, set by tests only, runs in ClaimDue's transaction just
	// before its lock select.
	inClaim func(tx *sqlx.Tx) error
}

type options struct {
	logger       *slog.Logger
	maxOpenConns int
	busyTimeout  time.Duration
}

// Option is a small knob of Open.
type Option func(*options)

// WithLogger sets the logger for migrations and recovered faults (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithMaxOpenConns bounds the connection pool (default 10 for PostgreSQL, 4
// for a SQLite file; an in-memory SQLite database always uses 1). Values < 1
// keep the default.
func WithMaxOpenConns(n int) Option { return func(o *options) { o.maxOpenConns = n } }

// WithBusyTimeout sets how long a SQLite connection waits for the write lock
// before failing with SQLITE_BUSY (default 10 s). PostgreSQL ignores it.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// target is a parsed store URL.
type target struct {
	dialect string // "postgres" or "sqlite"
	dsn     string // postgres: the URL; sqlite: the file path or ":memory:"
}

// secretParams are the connection parameters whose values RedactURL hides.
var secretParams = []string{"password", "sslpassword"}

// secretKV matches a secret parameter in a key=value connection string or a
// query, with its value (bare, or single-quoted with backslash escapes).
// Compiled on first use: a Lambda cold start that logs no URL skips it.
var secretKV = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(ssl)?(password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&\s]*)`)
})

// redactKV hides the values of secret parameters in s.
func redactKV(s string) string { return secretKV().ReplaceAllString(s, "${1}${2}xxxxx") }

// RedactURL hides the secrets of a store URL or connection string, so
// errors and logs never carry them: the password of the user info
// (postgres://u:xxxxx@host), the password and sslpassword query parameters
// (?password=xxxxx), and password=… / sslpassword=… in key=value form.
// Anything else is returned as given.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && strings.Contains(raw, "://") {
		changed := false
		if _, ok := u.User.Password(); ok {
			u.User, changed = url.UserPassword(u.User.Username(), "xxxxx"), true
		}
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			for k := range q {
				for _, name := range secretParams {
					if strings.EqualFold(k, name) {
						q[k], changed = []string{"xxxxx"}, true
					}
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
		if changed {
			return redactKV(u.String())
		}
		return redactKV(raw)
	}
	raw = redactKV(raw)
	// Unparseable: hide whatever sits between "://" and the last "@".
	if i := strings.Index(raw, "://"); i >= 0 {
		if j := strings.LastIndex(raw, "@"); j > i {
			return raw[:i+3] + "xxxxx" + raw[j:]
		}
	}
	return raw
}

// CheckURL validates a store URL as Open does, without opening anything:
// the form, and on PostgreSQL every connection parameter lib/pq knows
// (sslmode, sslnegotiation, port, ...). The error is a ValidationError for
// the field database_url, with secrets redacted.
func CheckURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

// parseURL validates a store URL and picks the dialect.
func parseURL(raw string) (target, error) {
	bad := func(format string, args ...any) (target, error) {
		return target{}, &core.ValidationError{Field: "database_url", Value: RedactURL(raw),
			Reason: fmt.Sprintf(format, args...) + " (accepted forms: " + acceptedForms + ")"}
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" {
		return bad("no scheme")
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error quotes the whole URL, password included
			}
			return bad("malformed: %v", err)
		}
		if !strings.HasPrefix(rest, "//") {
			return bad("a PostgreSQL URL starts with %s://", scheme)
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return bad("no host")
		}
		// lib/pq checks its parameters only when it connects: check them now,
		// so a typo is bad input (sslmode=bogus), not a connection failure.
		if _, err := pq.NewConfig(withBinaryParameters(raw)); err != nil {
			return bad("%s", RedactURL(err.Error()))
		}
		return target{dialect: "postgres", dsn: raw}, nil
	case "sqlite", "file":
		path := rest
		if strings.HasPrefix(path, "//") {
			// URL form: only sqlite:///absolute/path (empty host).
			if !strings.HasPrefix(path, "///") {
				return bad("a SQLite URL names a path, not a host: use %s:relative/path or %s:///absolute/path", scheme, scheme)
			}
			path = path[2:]
		}
		switch {
		case path == "":
			return bad("no path")
		case path == ":memory:":
			return target{dialect: "sqlite", dsn: ":memory:"}, nil
		case strings.ContainsAny(path, "?#"):
			return bad("query parameters and fragments are not supported in a SQLite path")
		case strings.HasPrefix(path, ":"):
			return bad("unknown special name %q (only :memory: is supported)", path)
		}
		return target{dialect: "sqlite", dsn: filepath.Clean(path)}, nil
	}
	return bad("unsupported scheme %q", scheme)
}

// Open opens a store from a URL and pings it. postgres://… or postgresql://…
// selects PostgreSQL (lib/pq; unknown URL parameters such as search_path are
// sent as session parameters); sqlite:PATH or file:PATH selects a SQLite file,
// created if missing (PATH relative or absolute; sqlite:///abs also works);
// sqlite::memory: is an in-memory database on a single connection, gone at
// Close. A malformed or unsupported URL is an error naming the accepted forms.
// A SQLite path that cannot be written or a file that is not a SQLite
// database is an error, and the file is left unchanged. Open does not create
// tables: call Migrate.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o := options{logger: slog.Default(), busyTimeout: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var db *sqlx.DB
	switch t.dialect {
	case "postgres":
		db, err = openPostgres(ctx, t.dsn, o)
	default:
		db, err = openSQLite(ctx, t.dsn, o)
	}
	if err != nil {
		return nil, err
	}
	return &Store{db: db, d: dialects[t.dialect], log: o.logger, pruneOneIn: pruneOneIn}, nil
}

// withBinaryParameters turns on lib/pq's binary_parameters unless the URL
// sets it: statements with parameters then take one round trip instead of
// two (prepare, then execute), which halves a tick's latency to a remote
// database. Every parameter sqlstore sends (text, numbers, times, JSON as
// text) works in that mode.
//
// Nothing else is added to the URL: a connection pooler (PgBouncer by
// default, for one) refuses startup parameters it does not know, and a
// session SET pins an RDS Proxy connection. What the tick needs of the
// session it sets per transaction (see claim_due_jit_off.sql).
func withBinaryParameters(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Has("binary_parameters") {
		return dsn
	}
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(ctx context.Context, dsn string, o options) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", withBinaryParameters(dsn))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	n := o.maxOpenConns
	if n < 1 {
		n = 10
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect to postgres %s: %w", RedactURL(dsn), err)
	}
	return db, nil
}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// checkSQLitePath fails with a clear error, before SQLite touches anything,
// when path cannot hold a writable SQLite database.
func checkSQLitePath(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		dir := filepath.Dir(path)
		di, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("sqlstore: cannot create SQLite database %s: directory %s: %w", path, dir, err)
		}
		if !di.IsDir() {
			return fmt.Errorf("sqlstore: cannot create SQLite database %s: %s is not a directory", path, dir)
		}
		return nil
	case err != nil:
		return fmt.Errorf("sqlstore: SQLite database %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("sqlstore: SQLite database %s is a directory", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("sqlstore: SQLite database %s is not a regular file", path)
	}
	// Opening read-write writes nothing; it fails when the file is not writable.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sqlstore: SQLite database %s is not writable: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF) {
		return nil // an empty file is an empty database
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("sqlstore: read SQLite database %s: %w", path, err)
	}
	if !bytes.Equal(head[:n], sqliteHeader) {
		return fmt.Errorf("sqlstore: %s is not a SQLite database (it does not start with the SQLite header); refusing to open it", path)
	}
	return nil
}

func openSQLite(ctx context.Context, path string, o options) (*sqlx.DB, error) {
	if !slices.Contains(sql.Drivers(), "sqlite") {
		return nil, &core.ValidationError{Field: "database_url", Value: "sqlite:" + path,
			Reason: `SQLite is not linked into this binary: add import _ "modernc.org/sqlite" to its main package (cmd/local does; the Lambda binary leaves it out to stay small)`}
	}
	memory := path == ":memory:"
	if !memory {
		if err := checkSQLitePath(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	// Every transaction takes the write lock up front (BEGIN IMMEDIATE).
	q.Set("_txlock", "immediate")
	db, err := sqlx.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open SQLite database %s: %w", path, err)
	}
	n := o.maxOpenConns
	if n < 1 {
		n = 4
	}
	if memory {
		// Each connection to :memory: is its own database: keep exactly one.
		n = 1
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Ping opens a connection (applying the pragmas) and reads the schema, so
	// a file that is not a database fails here.
	// While another process turns a new file into WAL mode, the first read
	// can fail with SQLITE_BUSY at once, without waiting for busy_timeout:
	// it is retried until that timeout.
	var count int
	deadline := time.Now().Add(o.busyTimeout)
	for {
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&count)
		if err == nil {
			return db, nil
		}
		if !sqliteBusy(err) || time.Now().After(deadline) || ctx.Err() != nil {
			db.Close()
			return nil, fmt.Errorf("sqlstore: open SQLite database %s: %w", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func sqliteBusy(err error) bool {
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.d.name }

// DB returns the underlying connection pool, for tests and tools.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Migrate applies the schema idempotently: every object is created if it does
// not exist, nothing is created twice and no data changes. It is safe when
// many processes migrate at once: on PostgreSQL it runs in one transaction
// under pg_advisory_xact_lock (keyed by the current schema), on SQLite inside
// BEGIN IMMEDIATE.
func (s *Store) Migrate(ctx context.Context) error {
	start := time.Now()
	hash := s.schemaHash()
	// Fast path: the schema in force is this one. One read of a table no tick
	// touches, so a cold start never queues behind (or deadlocks with) a
	// running claim: CREATE INDEX IF NOT EXISTS takes a SHARE lock on its
	// table even when the index exists.
	var applied string
	if err := s.db.QueryRowContext(ctx, s.d.q("migrate_check")).Scan(&applied); err == nil && applied == hash {
		return nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", s.d.interpret(err))
	}
	defer tx.Rollback()
	if s.d.name == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('tickflow_migrate:' || current_schema()))"); err != nil {
			return fmt.Errorf("migrate: lock: %w", s.d.interpret(err))
		}
	}
	// SQLite cannot alter a CHECK constraint: a schedules table from before
	// the once kind is moved aside, created anew by the schema, and copied.
	rebuild := false
	if q, ok := s.d.stmts()["migrate_once_check"]; ok {
		if err := tx.GetContext(ctx, &rebuild, q); err != nil {
			return fmt.Errorf("migrate: check schedules table: %w", s.d.interpret(err))
		}
	}
	if rebuild {
		if _, err := tx.ExecContext(ctx, s.d.q("migrate_once_before")); err != nil {
			return fmt.Errorf("migrate: move schedules aside: %w", s.d.interpret(err))
		}
	}
	// SQLite has no ADD COLUMN IF NOT EXISTS: tables from before runtime
	// schedules gain their columns here, before the schema's indexes name them.
	if q, ok := s.d.stmts()["migrate_api_check"]; ok {
		var missing struct {
			Schedules bool `db:"schedules"`
			Runs      bool `db:"runs"`
		}
		if err := tx.GetContext(ctx, &missing, q); err != nil {
			return fmt.Errorf("migrate: check for runtime schedule columns: %w", s.d.interpret(err))
		}
		for _, m := range []struct {
			missing bool
			stmt    string
		}{{missing.Schedules, "migrate_api_schedules"}, {missing.Runs, "migrate_api_runs"}} {
			if !m.missing {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.d.q(m.stmt)); err != nil {
				return fmt.Errorf("migrate: %s: %w", m.stmt, s.d.interpret(err))
			}
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.schema()); err != nil {
		return fmt.Errorf("migrate: apply %s schema: %w", s.d.name, s.d.interpret(err))
	}
	if rebuild {
		if _, err := tx.ExecContext(ctx, s.d.q("migrate_once_after")); err != nil {
			return fmt.Errorf("migrate: copy schedules: %w", s.d.interpret(err))
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.q("migrate_done"), hash); err != nil {
		return fmt.Errorf("migrate: record schema hash: %w", s.d.interpret(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", s.d.interpret(err))
	}
	s.log.Debug("schema migrated", "dialect", s.d.name, "schema_hash", hash, "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// schemaHash identifies the embedded schema of the store's dialect.
func (s *Store) schemaHash() string {
	sum := sha256.Sum256([]byte(s.d.schema()))
	return hex.EncodeToString(sum[:8])
}
