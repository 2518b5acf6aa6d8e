//go:build !race

package storetest

// raceEnabled reports whether the race detector is on: it slows pure-Go
// SQLite by an order of magnitude, so heavy workloads scale down.
const raceEnabled = false
