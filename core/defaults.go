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
	// DefaultMaxTickDuration is Config.MaxTickDuration's default.
	DefaultMaxTickDuration = 5 * time.Minute
)
