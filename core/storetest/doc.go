// Package storetest is the conformance suite every core.Store runs: the
// tick engine (core.Engine) and a store exercised end to end under a stub
// clock, in the manner of river's riverdrivertest.
//
// It lives beside the interface it checks and imports only core and the
// standard library, so a store in any package (sqlstore's PostgreSQL and
// SQLite dialects, a MySQL store elsewhere) runs the same suite. A store
// package calls Run from a test with a function that opens a fresh, migrated
// and isolated store per subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) core.Store { return openTestStore(t) })
//	}
//
// The subtests cover what DESIGN.md promises: concurrent ticks record and run
// each slot exactly once; the misfire, overlap, jitter and run-on-startup
// policies; lease expiry and fencing; retries with backoff across ticks;
// panics and timeouts failing only their run; a failing store leaving nothing
// half-advanced; manual runs, the schedule lock and the admin operations.
package storetest
