// Command local is tickflow on your machine: an HTTP server with a built-in
// trigger, and the CLI around the same engine.
//
//	go run ./cmd/local                 # serve on 127.0.0.1:8080 (SQLite file tickflow.db)
//	go run ./cmd/local tick            # one tick, JSON report on stdout
//	go run ./cmd/local next --cron "30 2 * * *" --tz America/New_York
//	go run ./cmd/local schedules       # the schedules as a table
//	go run ./cmd/local enqueue send_email --payload '{"to":"ada@example.com"}'
//	go run ./cmd/local migrate         # apply the schema and sync the schedules
//
// Every command that touches the store reads it from --database-url (or
// DATABASE_URL), default sqlite:tickflow.db, and applies the schema
// idempotently first. serve calls the tick every --interval (default 10 s): the
// local stand-in for EventBridge. It refuses to listen on a non-loopback
// address without a token (--token or TICKFLOW_TOKEN).
//
// Exit codes: 0 success, 1 an infrastructure failure (the database), 2 bad
// usage or bad input.
//
// The binary registers the demo tasks of package cmd/internal/demo; register
// your own the same way in a copy of this command.
package main
