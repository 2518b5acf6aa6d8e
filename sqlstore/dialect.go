package sqlstore

import (
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/core"
)

//go:embed sql
var sqlFiles embed.FS

// dialect holds one database's statements and its conversions. Statements of
// both dialects take the same parameters in the same order, except the batch
// statements, which take arrays on PostgreSQL (see arrays).
type dialect struct {
	name string
	// schema and stmts are read from the embedded files on first use, so a
	// process (a Lambda cold start) pays only for the dialect it opens.
	schema func() string
	stmts  func() map[string]string
	// arg converts an instant to a parameter: zero is NULL.
	arg func(t time.Time) any
	// now converts a call's Now to a parameter: on PostgreSQL zero stays NULL
	// (the statement reads now()); on SQLite zero is the host clock.
	now func(t time.Time) any
	// strings converts a list of strings to one parameter.
	strings func(v []string) any
	// interpret maps a driver error onto the core sentinels.
	interpret func(err error) error
	// arrays: the batch statements (finish_runs, claim_due_insert_runs,
	// insert_schedules) take one array parameter per column (PostgreSQL)
	// instead of one JSON document.
	arrays bool
	// packed: values come back packed into one bytea in binary form
	// (PostgreSQL, see the statements): slot_runs.sql's three instants of a
	// run (instead of three unix-µs integers) and claim_due_select's api
	// column (instead of a JSON object).
	packed bool
	// jitOff: ClaimDue turns JIT compilation off for its transaction first
	// (claim_due_jit_off.sql, PostgreSQL).
	jitOff bool
}

var dialects = map[string]*dialect{
	"postgres": {
		name:   "postgres",
		schema: func() string { return tickflow.PostgresSchema },
		stmts:  sync.OnceValue(func() map[string]string { return loadStatements("postgres") }),
		arg: func(t time.Time) any {
			if t.IsZero() {
				return nil
			}
			return t.UTC().Truncate(time.Microsecond)
		},
		now: func(t time.Time) any {
			if t.IsZero() {
				return nil
			}
			return t.UTC().Truncate(time.Microsecond)
		},
		strings:   func(v []string) any { return stringArray(v) },
		interpret: interpretPostgres,
		arrays:    true,
		packed:    true,
		jitOff:    true,
	},
	"sqlite": {
		name:   "sqlite",
		schema: sync.OnceValue(func() string { return mustRead("sql/sqlite/schema.sql") }),
		stmts:  sync.OnceValue(func() map[string]string { return loadStatements("sqlite") }),
		arg: func(t time.Time) any {
			if t.IsZero() {
				return nil
			}
			return t.UnixMicro()
		},
		now: func(t time.Time) any {
			if t.IsZero() {
				t = time.Now()
			}
			return t.UnixMicro()
		},
		strings: func(v []string) any {
			if v == nil {
				v = []string{}
			}
			b, _ := json.Marshal(v) // cannot fail for strings
			return string(b)
		},
		interpret: interpretSQLite,
	},
}

func mustRead(name string) string {
	b, err := sqlFiles.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("sqlstore: embedded %s: %v", name, err))
	}
	return string(b)
}

// loadStatements reads sql/<dialect>/*.sql except the schema, keyed by file
// name without extension.
func loadStatements(dialect string) map[string]string {
	dir := "sql/" + dialect
	entries, err := fs.ReadDir(sqlFiles, dir)
	if err != nil {
		panic(fmt.Sprintf("sqlstore: embedded %s: %v", dir, err))
	}
	m := make(map[string]string, len(entries))
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		if name == "schema" || name == e.Name() {
			continue
		}
		m[name] = mustRead(path.Join(dir, e.Name()))
	}
	return m
}

// q returns the named statement; a missing one is a programming error.
func (d *dialect) q(name string) string {
	s, ok := d.stmts()[name]
	if !ok {
		panic(fmt.Sprintf("sqlstore: no %s statement %q", d.name, name))
	}
	return s
}

// jsonParam encodes a batch as one JSON parameter.
func jsonParam(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode batch: %w", err)
	}
	return string(b), nil
}

// interpretPostgres maps a lib/pq error onto the core sentinels; the result
// wraps both the sentinel and the driver error.
func interpretPostgres(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", core.ErrNotFound, err)
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w: %w", core.ErrDuplicate, err)
	case "23514", "23502", "22P02", "22007", "22008", "22003": // check, not null, bad text, bad datetime, datetime/number out of range
		return fmt.Errorf("%w: %w", core.ErrInvalid, err)
	}
	return err
}

// interpretSQLite maps a modernc.org/sqlite error onto the core sentinels;
// the result wraps both the sentinel and the driver error.
func interpretSQLite(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", core.ErrNotFound, err)
	}
	// modernc.org/sqlite's *sqlite.Error has Code() int; matching the method
	// keeps the driver out of this package's imports (see openSQLite).
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return err
	}
	// Extended result codes of the SQLite C API.
	const (
		sqliteMismatch            = 20
		sqliteConstraintCheck     = 275
		sqliteConstraintNotNull   = 1299
		sqliteConstraintPrimary   = 1555
		sqliteConstraintUniqueKey = 2067
	)
	switch se.Code() {
	case sqliteConstraintUniqueKey, sqliteConstraintPrimary:
		return fmt.Errorf("%w: %w", core.ErrDuplicate, err)
	case sqliteConstraintCheck, sqliteConstraintNotNull, sqliteMismatch:
		return fmt.Errorf("%w: %w", core.ErrInvalid, err)
	}
	return err
}
