package main

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// Counter counts the SQL statements a contender sends to PostgreSQL, split
// into transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) and the rest.
// It is safe for concurrent use.
type Counter struct {
	stmts atomic.Int64
	txctl atomic.Int64
}

// Counts is a snapshot of a Counter.
type Counts struct {
	// Statements excludes transaction control.
	Statements int64 `json:"statements"`
	// TxControl counts BEGIN, COMMIT, ROLLBACK and savepoint statements.
	TxControl int64 `json:"tx_control"`
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() Counts {
	return Counts{Statements: c.stmts.Load(), TxControl: c.txctl.Load()}
}

// Sub returns c minus o.
func (c Counts) Sub(o Counts) Counts {
	return Counts{Statements: c.Statements - o.Statements, TxControl: c.TxControl - o.TxControl}
}

// RoundTrips is every statement, transaction control included.
func (c Counts) RoundTrips() int64 { return c.Statements + c.TxControl }

func (c *Counter) count(query string) {
	if isTxControl(query) {
		c.txctl.Add(1)
		return
	}
	c.stmts.Add(1)
}

func isTxControl(query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	for _, p := range []string{"begin", "start transaction", "commit", "end", "rollback", "savepoint", "release"} {
		if q == p || strings.HasPrefix(q, p+" ") || strings.HasPrefix(q, p+";") {
			return true
		}
	}
	return false
}

// PgxTracer returns a pgx tracer (queries, batches, copies) that counts into c.
// pgx sends BEGIN and COMMIT through Exec, so they are seen too.
func (c *Counter) PgxTracer() pgx.QueryTracer { return pgxCounter{c} }

type pgxCounter struct{ c *Counter }

func (p pgxCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	p.c.count(d.SQL)
	return ctx
}

func (pgxCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (pgxCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (p pgxCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	p.c.count(d.SQL)
}

func (pgxCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (p pgxCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	p.c.stmts.Add(1)
	return ctx
}

func (pgxCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// countingDriver wraps a database/sql driver (lib/pq) and counts every
// statement executed through it: direct Exec/Query, prepared statement
// executions, and BEGIN/COMMIT/ROLLBACK.
type countingDriver struct {
	base driver.Driver
	c    *Counter
}

func (d countingDriver) Open(name string) (driver.Conn, error) {
	conn, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingConn{base: conn, c: d.c}, nil
}

// OpenConnector lets database/sql use the base driver's connector.
func (d countingDriver) OpenConnector(name string) (driver.Connector, error) {
	dc, ok := d.base.(driver.DriverContext)
	if !ok {
		return dsnConnector{name: name, d: d}, nil
	}
	conn, err := dc.OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return countingConnector{base: conn, c: d.c}, nil
}

type dsnConnector struct {
	name string
	d    countingDriver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.name) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// countingConnector wraps a driver.Connector (for sql.OpenDB).
type countingConnector struct {
	base driver.Connector
	c    *Counter
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{base: conn, c: c.c}, nil
}

func (c countingConnector) Driver() driver.Driver {
	return countingDriver{base: c.base.Driver(), c: c.c}
}

type countingConn struct {
	base driver.Conn
	c    *Counter
}

var (
	_ driver.ExecerContext      = (*countingConn)(nil)
	_ driver.QueryerContext     = (*countingConn)(nil)
	_ driver.ConnPrepareContext = (*countingConn)(nil)
	_ driver.ConnBeginTx        = (*countingConn)(nil)
	_ driver.NamedValueChecker  = (*countingConn)(nil)
	_ driver.SessionResetter    = (*countingConn)(nil)
	_ driver.Validator          = (*countingConn)(nil)
	_ driver.Pinger             = (*countingConn)(nil)
)

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	s, err := c.base.Prepare(query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{base: s, query: query, c: c.c}, nil
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	pc, ok := c.base.(driver.ConnPrepareContext)
	if !ok {
		return c.Prepare(query)
	}
	s, err := pc.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{base: s, query: query, c: c.c}, nil
}

func (c *countingConn) Close() error { return c.base.Close() }

// Begin is the legacy entry point; database/sql calls BeginTx.
func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var (
		tx  driver.Tx
		err error
	)
	if bt, ok := c.base.(driver.ConnBeginTx); ok {
		tx, err = bt.BeginTx(ctx, opts)
	} else {
		tx, err = c.base.Begin() //nolint:staticcheck // fallback for old drivers
	}
	if err != nil {
		return nil, err
	}
	c.c.txctl.Add(1)
	return countingTx{base: tx, c: c.c}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.base.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := e.ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.c.count(query)
	}
	return r, err
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.base.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := q.QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.c.count(query)
	}
	return r, err
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.base.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.base.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.base.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.base.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

type countingTx struct {
	base driver.Tx
	c    *Counter
}

func (t countingTx) Commit() error {
	t.c.txctl.Add(1)
	return t.base.Commit()
}

func (t countingTx) Rollback() error {
	t.c.txctl.Add(1)
	return t.base.Rollback()
}

type countingStmt struct {
	base  driver.Stmt
	query string
	c     *Counter
}

func (s *countingStmt) Close() error  { return s.base.Close() }
func (s *countingStmt) NumInput() int { return s.base.NumInput() }

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.count(s.query)
	return s.base.Exec(args) //nolint:staticcheck // required by driver.Stmt
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.count(s.query)
	return s.base.Query(args) //nolint:staticcheck // required by driver.Stmt
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.base.(driver.StmtExecContext); ok {
		s.c.count(s.query)
		return e.ExecContext(ctx, args)
	}
	vals, err := namedToValues(args)
	if err != nil {
		return nil, err
	}
	return s.Exec(vals)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.base.(driver.StmtQueryContext); ok {
		s.c.count(s.query)
		return q.QueryContext(ctx, args)
	}
	vals, err := namedToValues(args)
	if err != nil {
		return nil, err
	}
	return s.Query(vals)
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.base.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func namedToValues(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("named parameters are not supported")
		}
		out[i] = a.Value
	}
	return out, nil
}
