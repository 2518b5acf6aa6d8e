package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tickflow/tickflow/core"
)

// The names of the demo tasks.
const (
	// CleanupExpiredSessions runs every 300 s with one retry, and on the
	// first tick after it is first stored (RunOnStartup), so a fresh install
	// shows a run at once.
	CleanupExpiredSessions = "cleanup_expired_sessions"
	// MorningReport runs at 09:00 every day, America/New_York.
	MorningReport = "morning_report"
	// SendEmail is manual-only: enqueue it with a payload such as
	// {"to": "ada@example.com", "subject": "Welcome"}.
	SendEmail = "send_email"
)

// Register adds the demo tasks and schedules to reg. Tasks log through
// slog.Default(), so the binaries set their logger as the default first.
func Register(reg *core.Registry) error {
	if err := reg.Schedule(CleanupExpiredSessions, cleanupExpiredSessions,
		core.Every(300*time.Second), core.Retries(1), core.RunOnStartup()); err != nil {
		return fmt.Errorf("register %s: %w", CleanupExpiredSessions, err)
	}
	if err := reg.Schedule(MorningReport, morningReport,
		core.Cron("0 9 * * *"), core.Timezone("America/New_York")); err != nil {
		return fmt.Errorf("register %s: %w", MorningReport, err)
	}
	if err := reg.Register(SendEmail, sendEmail); err != nil {
		return fmt.Errorf("register %s: %w", SendEmail, err)
	}
	return nil
}

func cleanupExpiredSessions(ctx context.Context, run core.RunInfo) error {
	slog.InfoContext(ctx, "demo: expired sessions cleaned up", runAttrs(run)...)
	return nil
}

func morningReport(ctx context.Context, run core.RunInfo) error {
	slog.InfoContext(ctx, "demo: morning report sent", runAttrs(run)...)
	return nil
}

func sendEmail(ctx context.Context, run core.RunInfo) error {
	attrs := append(runAttrs(run), "payload", string(run.Payload))
	slog.InfoContext(ctx, "demo: email sent", attrs...)
	return nil
}

// runAttrs identifies a run in a log line.
func runAttrs(run core.RunInfo) []any {
	attrs := []any{"run_id", run.ID, "task", run.Task, "source", string(run.Source), "attempt", run.Attempt}
	if !run.Slot.IsZero() {
		attrs = append(attrs, "slot", run.Slot.UTC().Format(time.RFC3339))
	}
	return attrs
}
