package core

import "testing"

// TestDefaultConstants: the exported defaults, which the commands' help
// shows, are the ones validate applies.
func TestDefaultConstants(t *testing.T) {
	c := Config{Store: nilStore{}, Registry: NewRegistry()}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != DefaultBatchSize || c.Workers != DefaultWorkers || c.MaxTickDuration != DefaultMaxTickDuration {
		t.Errorf("validate applied batch %d, workers %d, max tick %s; the constants say %d, %d, %s",
			c.BatchSize, c.Workers, c.MaxTickDuration, DefaultBatchSize, DefaultWorkers, DefaultMaxTickDuration)
	}
}
