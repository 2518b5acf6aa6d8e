// Command bench measures tickflow against the floor (hand-written set-based
// SQL) and against the schedulers users would pick instead (River periodic
// jobs, gocron v2 with a PostgreSQL locker), all on the same PostgreSQL, and
// writes BENCHMARKS.md.
//
// Run it from this directory:
//
//	go run . -out ../BENCHMARKS.md
//
// It reads TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable); every contender
// works in its own schema, dropped afterwards. Each contender runs in a child
// process (the same binary with -only NAME) so that its peak memory can be
// read from the operating system. -list prints the contenders; -skip and
// -reps trim a run.
//
// Opt-in contenders are left out of the full run (and of CI) and run alone
// with -only NAME:
//
//   - tickflow-1000000: one tick of 1,000,000 due code schedules.
//   - stored-1000000: runtime schedules (issue 13): 10,000 due of
//     1,000,000 stored, paired with the set-based floor whose table holds
//     as many rows, alternating in one process with the same pair at
//     10,000 stored; it reports both median per-pair ratios and whether
//     every 1,000,000-stored ratio is within 10 % of the 10,000-stored one.
//   - stored-empty-1000000: the empty tick over 1,000,000 runtime
//     schedules: wall time and statements.
//   - upsert-100000: Engine.UpsertSchedules of 100,000 new runtime
//     schedules in calls of core.MaxUpsertBatch on top of 1,000,000 stored,
//     then the no-op re-upsert of the same 100,000.
//   - list-1000000: Engine.ListSchedules pages at 1,000,000 stored: a label
//     filter matching 1,000 rows, a key prefix, a deep cursor.
//   - dashboard-1000000: the dashboard's schedules pages (first page, a
//     label filter, a deep cursor) through handler.New, signed in, at
//     1,000,000 stored.
//
// -stored N and -upsert N change those sizes (and the names with them):
//
//	go run . -stored 10000 -only stored-10000
//
// -cpuprofile writes a CPU profile of the timed part of a tickflow,
// upsert or dashboard contender.
//
// This directory is its own Go module so that River, pgx and gocron never
// enter tickflow's go.mod.
package main
