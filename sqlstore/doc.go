// Package sqlstore implements core.Store on github.com/jmoiron/sqlx for two
// dialects: PostgreSQL (github.com/lib/pq) and SQLite (modernc.org/sqlite,
// pure Go, so everything builds with CGO_ENABLED=0).
//
// Open picks the dialect from a URL:
//
//	postgres://user@host:5432/db?sslmode=disable   PostgreSQL
//	postgresql://…                                  PostgreSQL
//	sqlite:tickflow.db, sqlite:/abs/path.db         SQLite file (created if missing)
//	file:tickflow.db                                SQLite file
//	sqlite::memory:                                 SQLite in memory (one connection)
//
// Migrate applies the schema idempotently (the root package's schema.sql for
// PostgreSQL, sql/sqlite/schema.sql for SQLite), safe when many processes
// race.
//
// Every statement lives in an embedded .sql file named after the store method
// it serves, one directory per dialect (sql/postgres, sql/sqlite). Both
// dialects number their parameters $1, $2, … in the same order, so a method
// passes the same arguments to either, except for the tick's batches: on
// PostgreSQL ClaimDue's runs and FinishRuns' outcomes are one typed array per
// field (unnest reads them much faster than JSON), sent in the server's binary
// array form when lib/pq sends binary parameters (the store's default) and as
// text literals otherwise, on SQLite one JSON parameter. Statements are set-based: a tick issues a fixed number of
// statements whatever the number of schedules or runs, and an empty tick
// issues two, BeginTick and EndTick. Per phase:
//
//	BeginTick      1 statement (insert the tick, read the clock, count due work
//	               of the process's tasks)
//	SyncSchedules  1 transaction: 1 upsert per 5,000 schedules + orphan (SQLite: + a count first)
//	ClaimDue       1 transaction per batch: select due, insert runs, advance next_run
//	               (and a runtime schedule's remaining_runs and completed_at)
//	               (PostgreSQL: the insert and the advance are one statement)
//	ClaimRuns      1 transaction per batch: recover expired leases, claim runnable runs
//	FinishRuns     1 statement per flush of outcomes
//	PruneRuns      1 statement, only on ticks that did work and one empty tick
//	               in core.PruneEmptyOneIn (deletes a budget of old runs)
//	EndTick        1 statement (PostgreSQL prunes old ticks in it; SQLite in a
//	               second statement, one EndTick in 64)
//
// Outside ticks, an audit (SlotRuns) is one range read of the unique
// (schedule, slot) index (on PostgreSQL index-only: the key includes the
// run's id, status, slots_covered, started_at and finished_at), and a backfill (InsertSlotRuns) one INSERT of every
// slot, ON CONFLICT (schedule, slot) DO NOTHING. The dashboard's history
// strips for a page of schedules (SlotRunsMany) are one statement joining
// the list of windows (unnest, json_each) to that index.
//
// With core.Config.Alerts on (the Alerts flags of the params), BeginTick
// also counts due outbox rows and reads the last good tick (same statement);
// a FinishRuns flush with a failed outcome becomes one transaction of two
// statements (+ outbox_insert_failed); ClaimRuns adds outbox_insert_failed
// when a lease expired with no attempt left, and ClaimDue one outbox_insert
// when it recorded skipped or coalesced runs; a tick that has alerts to
// deliver runs outbox_claim, then outbox_finish once (see outbox.go).
//
// Time: every method that takes a Now uses it for every comparison and every
// timestamp it writes. A zero Now means the database clock: now() on
// PostgreSQL (the transaction's start); on SQLite, an embedded database whose
// clock is the host's, the process clock read once per call in microseconds.
// PostgreSQL stores timestamptz; SQLite stores INTEGER unix microseconds (UTC),
// which sort and compare as numbers. Times are truncated to microseconds
// before they are written and are always returned in UTC.
//
// SQLite concurrency: the database runs in WAL mode with a busy timeout, and
// every transaction begins with BEGIN IMMEDIATE, taking the single write lock
// up front, so claims are atomic across connections and across processes that
// share the file, and no transaction ever upgrades a read lock (which fails
// with SQLITE_BUSY that no timeout resolves). SQLite has no SKIP LOCKED:
// concurrent claims queue on the write lock instead.
//
// Runtime schedules and the caller's transaction: InsertSchedules,
// UpdateSchedule, DeleteSchedule and GetScheduleTx take a core.Tx, the
// application's own transaction, and never commit or roll it back (nil: a
// transaction of their own). On PostgreSQL it is any *sql.Tx or *sqlx.Tx on
// the same database. On SQLite it must be begun on this store's pool
// (Store.BeginTx or Store.DB().BeginTx), whose transactions take the write
// lock at BEGIN. Statements: insert_schedules (create and upsert, one
// statement per 5,000 schedules; on PostgreSQL one array per column, and a
// record identical to its row is left out before the insert, so a no-op
// upsert neither locks nor writes), schedule_keys_taken (a taken key, read
// before anything is written), lock_schedule, delete_schedule and
// list_schedules_page (PostgreSQL: the C-collated key index for prefixes and
// the cursor, GIN on labels; SQLite: the primary key, json_each on labels).
//
// Errors: driver errors are mapped in one function per dialect
// (interpretPostgres, interpretSQLite): unique violations wrap
// core.ErrDuplicate, check and not-null violations wrap core.ErrInvalid; a
// missing row wraps core.ErrNotFound and a record in the wrong state
// core.ErrConflict. Everything else is an infrastructure error.
//
// Tests: both dialects run the store conformance suite, package
// core/storetest, on fresh tables per subtest. Package sqlstoretest opens
// isolated, migrated stores for tests.
package sqlstore
