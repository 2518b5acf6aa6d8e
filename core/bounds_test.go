package core

import (
	"testing"
	"time"
)

// TestClockOutOfRange: a Clock reading outside [MinTime, MaxTime) fails the
// tick and every manual operation before the store is touched; the zero
// time (which the store would read as "use the database clock") included.
func TestClockOutOfRange(t *testing.T) {
	for _, at := range []time.Time{
		{},
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		MaxTime,
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		e := quietEngine(t, Config{Store: untouchedStore{t: t}, Clock: NewStubClock(at)})
		rep, err := e.Tick(t.Context())
		wantField(t, "Tick at "+at.String(), err, "clock")
		if rep.Error == "" {
			t.Errorf("tick at %s: report without the error", at)
		}
		_, _, err = e.AddTask(t.Context(), AddTaskParams{Task: "send_email"})
		wantField(t, "AddTask at "+at.String(), err, "clock")
	}
	for _, at := range []time.Time{MinTime, MaxTime.Add(-time.Nanosecond)} {
		if err := CheckTime("now", at); err != nil {
			t.Errorf("CheckTime(%s) = %v, want ok", at, err)
		}
	}
}

func TestConfigBounds(t *testing.T) {
	for name, cfg := range map[string]Config{
		"workers":           {Workers: MaxWorkers + 1},
		"batch_size":        {BatchSize: MaxBatchSize + 1},
		"flush_size":        {FlushSize: MaxFlushSize + 1},
		"max_tick_duration": {MaxTickDuration: MaxMaxTickDuration + time.Second},
	} {
		cfg.Store, cfg.Registry = nilStore{}, NewRegistry()
		_, err := NewEngine(cfg)
		wantField(t, name, err, name)
	}
	if _, err := NewEngine(Config{Store: nilStore{}, Registry: NewRegistry(), Workers: MaxWorkers, BatchSize: MaxBatchSize,
		FlushSize: MaxFlushSize, MaxTickDuration: MaxMaxTickDuration}); err != nil {
		t.Errorf("the bounds themselves refused: %v", err)
	}
}
