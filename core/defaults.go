package core

import "time"

// Defaults of the Config fields that commands expose as flags: NewEngine
// gives them to zero fields, and cmd/local's help shows these same values.
const (
	// DefaultBatchSize is Config.BatchSize's default.
	DefaultBatchSize = 5000
	// DefaultWorkers is Config.Workers's default.
	DefaultWorkers = 32
	// DefaultFlushSize is Config.FlushSize's default.
	DefaultFlushSize = 2000
	// DefaultClaimHold is Config.ClaimHold's default.
	DefaultClaimHold = time.Second
	// DefaultMaxTickDuration is Config.MaxTickDuration's default.
	DefaultMaxTickDuration = 5 * time.Minute
)

// Defaults of Config.Retention: how long finished runs and ticks are kept and
// how many runs one tick deletes at most.
const (
	// DefaultRetainRuns is Retention.Runs's default: successful, cancelled
	// and skipped runs are kept 30 days after they finished.
	DefaultRetainRuns = 30 * 24 * time.Hour
	// DefaultRetainFailedRuns is Retention.FailedRuns's default: failed runs
	// are kept 90 days, longer than the others, for post-mortems.
	DefaultRetainFailedRuns = 90 * 24 * time.Hour
	// DefaultRetainTicks is Retention.Ticks's default: 7 days of tick reports.
	DefaultRetainTicks = 7 * 24 * time.Hour
	// DefaultPruneBudget is Retention.Budget's default: at most 500 runs
	// deleted per tick. Measured on PostgreSQL over 10 million old runs
	// (sqlstore's BenchmarkPruneRuns), 1000 took about 21 ms a tick, over
	// the 20 ms; 500 stays under it. When ticks finish more runs
	// than this, pruning falls behind: raise it (each tick then pays more).
	DefaultPruneBudget = 500
)
