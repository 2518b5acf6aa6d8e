// Package reliability holds tickflow's reliability suite: tests that attack
// the promise "every slot runs once and nothing is lost" with concurrent and
// duplicate ticks, late triggers, killed tick processes, a database that
// drops its connections, a skewed application clock, tasks that outlive
// their time, hostile input and missing tokens, and print what they measured.
//
// The package has no API; everything is in its tests. They run with
// `go test ./reliability/` against the PostgreSQL server named by
// TEST_DATABASE_URL (and SQLite files where a scenario applies), each in a
// schema of its own. Tests that need separate tick processes build
// reliability/internal/ticker once. RELIABILITY.md at the repository root
// tabulates the figures of a run and the command that reproduces each row;
// each test prints its figures as one line starting with "RELIABILITY".
package reliability
