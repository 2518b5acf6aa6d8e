package core

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// insertStore records InsertRun's parameters and answers Now with its now.
type insertStore struct {
	Store
	now      time.Time
	inserted []InsertRunParams
}

func (s *insertStore) Now(context.Context) (time.Time, error) { return s.now, nil }

func (s *insertStore) InsertRun(_ context.Context, p InsertRunParams) (Run, bool, error) {
	s.inserted = append(s.inserted, p)
	return Run{ID: int64(len(s.inserted)), Task: p.Task, RunAt: p.RunAt}, true, nil
}

// TestAddTaskRunAt: RunAt and Delay become the run's run_at (a delay counted
// from the engine's clock, or the database's when none is set); bad values
// are ValidationErrors naming the field, and nothing is written.
func TestAddTaskRunAt(t *testing.T) {
	at := svcT0.Add(90 * time.Minute)
	tests := []struct {
		name      string
		p         AddTaskParams
		clock     bool
		wantRunAt time.Time
		wantField string
	}{
		{name: "now", p: AddTaskParams{}, clock: true},
		{name: "run_at", p: AddTaskParams{RunAt: at}, clock: true, wantRunAt: at},
		{name: "run_at in a zone", p: AddTaskParams{RunAt: at.In(time.FixedZone("X", 3600))}, clock: true, wantRunAt: at},
		{name: "past run_at", p: AddTaskParams{RunAt: svcT0.Add(-time.Hour)}, clock: true, wantRunAt: svcT0.Add(-time.Hour)},
		{name: "delay", p: AddTaskParams{Delay: 10 * time.Minute}, clock: true, wantRunAt: svcT0.Add(10 * time.Minute)},
		{name: "delay on the database clock", p: AddTaskParams{Delay: time.Hour}, wantRunAt: svcT0.Add(time.Hour + time.Second)},
		{name: "max delay", p: AddTaskParams{Delay: MaxRunDelay}, clock: true, wantRunAt: svcT0.Add(MaxRunDelay)},
		{name: "both", p: AddTaskParams{RunAt: at, Delay: time.Minute}, clock: true, wantField: "run_at/delay"},
		{name: "negative delay", p: AddTaskParams{Delay: -time.Second}, clock: true, wantField: "delay"},
		{name: "delay too long", p: AddTaskParams{Delay: MaxRunDelay + time.Second}, clock: true, wantField: "delay"},
		{name: "run_at too early", p: AddTaskParams{RunAt: MinTime.Add(-time.Second)}, clock: true, wantField: "run_at"},
		{name: "run_at too late", p: AddTaskParams{RunAt: MaxTime}, clock: true, wantField: "run_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &insertStore{now: svcT0.Add(time.Second)}
			reg := NewRegistry()
			reg.MustRegister("job", func(context.Context, RunInfo) error { return nil })
			cfg := Config{Store: st, Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if tt.clock {
				cfg.Clock = NewStubClock(svcT0)
			}
			e, err := NewEngine(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tt.p.Task = "job"
			_, _, err = e.AddTask(t.Context(), tt.p)
			if tt.wantField != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.wantField {
					t.Fatalf("error %v, want a ValidationError on %q", err, tt.wantField)
				}
				if len(st.inserted) != 0 {
					t.Fatalf("a rejected AddTask wrote %+v", st.inserted)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(st.inserted) != 1 || !st.inserted[0].RunAt.Equal(tt.wantRunAt) {
				t.Fatalf("inserted %+v, want run_at %v", st.inserted, tt.wantRunAt)
			}
		})
	}
}
