// Package tickflow is a serverless-friendly periodic task scheduler for Go.
//
// Nothing runs in a loop: an external trigger (AWS EventBridge, an HTTP call,
// system cron) invokes a stateless tick, which reads the database clock once,
// claims the due schedule rows in SQL, records one run per slot, runs the Go
// task functions with retries and advances the schedules. The domain lives in
// package core, the PostgreSQL and SQLite stores in package sqlstore, the
// Lambda and HTTP transports in package handler, and the binaries in cmd.
//
// This root package holds only the PostgreSQL schema, the single source of
// truth that sqlstore applies idempotently.
package tickflow

import _ "embed"

// PostgresSchema is schema.sql: the PostgreSQL schema of every tickflow table,
// written so that applying it any number of times changes nothing after the
// first (CREATE ... IF NOT EXISTS, COMMENT ON). sqlstore.Store.Migrate applies
// it under an advisory lock.
//
//go:embed schema.sql
var PostgresSchema string
