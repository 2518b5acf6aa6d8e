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
// This directory is its own Go module so that River, pgx and gocron never
// enter tickflow's go.mod.
package main
