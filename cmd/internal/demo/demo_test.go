package demo

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

func TestRegister(t *testing.T) {
	reg := core.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got, want := reg.TaskNames(), []string{CleanupExpiredSessions, MorningReport, SendEmail}; !slices.Equal(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}

	cleanup, ok := reg.ScheduleByName(CleanupExpiredSessions)
	if !ok {
		t.Fatalf("%s is not a schedule", CleanupExpiredSessions)
	}
	if cleanup.Every != 300*time.Second || cleanup.Task.Retry.Retries != 1 || !cleanup.RunOnStartup {
		t.Errorf("%s: every=%s retries=%d run_on_startup=%t, want 5m0s, 1, true",
			cleanup.Name, cleanup.Every, cleanup.Task.Retry.Retries, cleanup.RunOnStartup)
	}
	stored := time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC)
	if got := cleanup.FirstSlot(stored); !got.Equal(stored) {
		t.Errorf("first slot of %s stored at %s = %s, want the store time (run on startup)", cleanup.Name, stored, got)
	}

	report, ok := reg.ScheduleByName(MorningReport)
	if !ok {
		t.Fatalf("%s is not a schedule", MorningReport)
	}
	if report.Cron != "0 9 * * *" || report.Timezone != "America/New_York" {
		t.Errorf("%s: cron=%q tz=%q", report.Name, report.Cron, report.Timezone)
	}
	// 09:00 New York is 14:00Z before the spring-forward and 13:00Z after it.
	after := time.Date(2026, 3, 7, 15, 0, 0, 0, time.UTC)
	first := report.NextSlot(after)
	second := report.NextSlot(first)
	if want := time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC); !first.Equal(want) {
		t.Errorf("%s next after %s = %s, want %s", report.Name, after, first, want)
	}
	if want := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC); !second.Equal(want) {
		t.Errorf("%s next after %s = %s, want %s", report.Name, first, second, want)
	}

	if _, ok := reg.ScheduleByName(SendEmail); ok {
		t.Errorf("%s must be manual-only", SendEmail)
	}
	for _, task := range reg.Tasks() {
		info := core.RunInfo{ID: 1, Task: task.Name, Source: core.SourceManual, Attempt: 1, Payload: json.RawMessage(`{"to":"ada@example.com"}`)}
		if err := task.Fn(context.Background(), info); err != nil {
			t.Errorf("%s returned %v, want nil", task.Name, err)
		}
	}
}

func TestRegisterTwiceIsADuplicate(t *testing.T) {
	reg := core.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	err := Register(reg)
	var verr *core.ValidationError
	if !errors.As(err, &verr) || verr.Field != "name" {
		t.Fatalf("second Register = %v, want a name validation error", err)
	}
}
