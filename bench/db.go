package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lib/pq"
)

// defaultDatabaseURL is used when TEST_DATABASE_URL is unset.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// databaseURL returns TEST_DATABASE_URL or the local default.
func databaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultDatabaseURL
}

var schemaNameRE = regexp.MustCompile(`[^a-z0-9_]+`)

// newSchemaName returns a fresh, valid schema name for one contender.
func newSchemaName(contender string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	base := schemaNameRE.ReplaceAllString(strings.ToLower(contender), "_")
	return "bench_" + base + "_" + hex.EncodeToString(b[:])
}

// withSearchPath adds search_path=schema to a postgres:// URL; lib/pq and
// pgx both send unknown URL parameters as session parameters.
func withSearchPath(dbURL, schema string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// openCounted opens lib/pq through the counting wrapper.
func openCounted(dbURL string, c *Counter) (*sql.DB, error) {
	conn, err := pq.NewConnector(dbURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return sql.OpenDB(countingConnector{base: conn, c: c}), nil
}

// createSchema creates schema (dropping a leftover of the same name).
func createSchema(ctx context.Context, db *sql.DB, schema string) error {
	q := pq.QuoteIdentifier(schema)
	if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+q+" CASCADE; CREATE SCHEMA "+q); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// dropSchema removes schema and everything in it.
func dropSchema(ctx context.Context, db *sql.DB, schema string) error {
	if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pq.QuoteIdentifier(schema)+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// newPgxPool opens a pgx pool with its default (production) settings, the
// statement counter as tracer, search_path set to schema when given, and at
// most maxConns connections when maxConns > 0.
func newPgxPool(ctx context.Context, dbURL, schema string, c *Counter, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("parse pgx config: %w", err)
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	if c != nil {
		cfg.ConnConfig.Tracer = c.PgxTracer()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pgx pool: %w", err)
	}
	return pool, nil
}

// benchSchema is a fresh schema one contender works in.
type benchSchema struct {
	admin *sql.DB
	// Name is the schema's name; URL is the database URL with search_path
	// set to it.
	Name string
	URL  string
}

// openSchema creates a fresh schema for contender.
func openSchema(ctx context.Context, contender string) (*benchSchema, error) {
	admin, err := adminDB()
	if err != nil {
		return nil, err
	}
	s := &benchSchema{admin: admin, Name: newSchemaName(contender)}
	if err := createSchema(ctx, admin, s.Name); err != nil {
		admin.Close()
		return nil, err
	}
	if s.URL, err = withSearchPath(databaseURL(), s.Name); err != nil {
		s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Close drops the schema, even when ctx is done.
func (s *benchSchema) Close(ctx context.Context) {
	_ = dropSchema(context.WithoutCancel(ctx), s.admin, s.Name)
	_ = s.admin.Close()
}

// adminDB opens a plain (uncounted) connection for setup and teardown.
func adminDB() (*sql.DB, error) {
	db, err := sql.Open("postgres", databaseURL())
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(4)
	return db, nil
}
