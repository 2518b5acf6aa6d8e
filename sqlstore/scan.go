package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/core"
)

// nullTime scans an instant from either dialect: a time.Time (PostgreSQL
// timestamptz), an int64 of unix microseconds (SQLite), or NULL. Values are
// returned in UTC. Text is accepted as RFC 3339 or decimal microseconds, so a
// driver that hands back strings still scans.
type nullTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = nullTime{}
	case time.Time:
		*t = nullTime{Time: v.UTC(), Valid: true}
	case int64:
		*t = nullTime{Time: time.UnixMicro(v).UTC(), Valid: true}
	case float64:
		*t = nullTime{Time: time.UnixMicro(int64(v)).UTC(), Valid: true}
	case []byte:
		return t.Scan(string(v))
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			*t = nullTime{Time: time.UnixMicro(n).UTC(), Valid: true}
			return nil
		}
		p, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("scan instant %q: %w", v, err)
		}
		*t = nullTime{Time: p.UTC(), Valid: true}
	default:
		return fmt.Errorf("scan instant: unsupported type %T", src)
	}
	return nil
}

// sendTime is an instant a statement returns in timestamptz's binary form
// on PostgreSQL (timestamptz_send: 8 bytes, big-endian microseconds since
// 2000-01-01 UTC) and as unix microseconds on SQLite. The tick's statements
// return their instants so: PostgreSQL's extract(epoch …) goes through
// numeric (0.5 µs of server time each) and text output costs both sides
// more. NULL (and -infinity) is not Valid.
type sendTime struct{ nullTime }

// Scan implements sql.Scanner.
func (t *sendTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.nullTime = nullTime{}
	case int64:
		t.nullTime = nullTime{Time: time.UnixMicro(v).UTC(), Valid: true}
	case []byte:
		if len(v) != 8 {
			return fmt.Errorf("scan binary timestamptz: %d bytes, want 8", len(v))
		}
		at := pgBinaryTime(v)
		t.nullTime = nullTime{Time: at, Valid: !at.IsZero()}
	default:
		return fmt.Errorf("scan instant: unsupported type %T", src)
	}
	return nil
}

// pgEpoch is where PostgreSQL's binary timestamptz counts from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// pgBinaryTime is the instant of timestamptz's binary form b (8 bytes; the
// int64 minimum, -infinity, is the zero time).
func pgBinaryTime(b []byte) time.Time {
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MinInt64 {
		return time.Time{}
	}
	return pgEpoch.Add(time.Duration(us) * time.Microsecond)
}

// ptr returns the instant or nil when NULL.
func (t nullTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

// runRow is a tickflow_runs row as both dialects return it.
type runRow struct {
	ID             int64          `db:"id"`
	Task           string         `db:"task"`
	DisplayName    string         `db:"display_name"`
	Schedule       sql.NullString `db:"schedule"`
	Source         string         `db:"source"`
	Slot           nullTime       `db:"slot"`
	SlotsCovered   int            `db:"slots_covered"`
	Status         string         `db:"status"`
	Attempt        int            `db:"attempt"`
	MaxAttempts    int            `db:"max_attempts"`
	Interruptions  int            `db:"interruptions"`
	Payload        []byte         `db:"payload"`
	Error          string         `db:"error"`
	Stack          string         `db:"stack"`
	RunAt          nullTime       `db:"run_at"`
	CreatedAt      nullTime       `db:"created_at"`
	StartedAt      nullTime       `db:"started_at"`
	FinishedAt     nullTime       `db:"finished_at"`
	LeaseUntil     nullTime       `db:"lease_until"`
	TickID         sql.NullString `db:"tick_id"`
	IdempotencyKey sql.NullString `db:"idempotency_key"`
	// The schedule's policy overrides (NULL: the task's own).
	RetryDelaySeconds sql.NullFloat64 `db:"retry_delay_seconds"`
	RetryBackoff      sql.NullFloat64 `db:"retry_backoff"`
	TimeoutSeconds    sql.NullFloat64 `db:"timeout_seconds"`
}

func (r *runRow) run() core.Run {
	return core.Run{
		ID: r.ID, Task: r.Task, DisplayName: r.DisplayName, Schedule: r.Schedule.String,
		Source: core.Source(r.Source), Slot: r.Slot.ptr(), SlotsCovered: r.SlotsCovered,
		Status: core.Status(r.Status), Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		Interruptions: r.Interruptions, Payload: r.Payload, Error: r.Error, Stack: r.Stack,
		RunAt: r.RunAt.Time, CreatedAt: r.CreatedAt.Time, StartedAt: r.StartedAt.ptr(),
		FinishedAt: r.FinishedAt.ptr(), LeaseUntil: r.LeaseUntil.ptr(),
		TickID: r.TickID.String, IdempotencyKey: r.IdempotencyKey.String,
		RunOverrides: core.RunOverrides{
			RetryDelaySeconds: nullFloat(r.RetryDelaySeconds), RetryBackoff: nullFloat(r.RetryBackoff),
			TimeoutSeconds: nullFloat(r.TimeoutSeconds),
		},
	}
}

// nullFloat is a float column as a pointer (nil when NULL).
func nullFloat(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}

func runs(rows []runRow) []core.Run {
	out := make([]core.Run, len(rows))
	for i := range rows {
		out[i] = rows[i].run()
	}
	return out
}

// scheduleRow is a schedule (on PostgreSQL its tickflow_schedules and
// tickflow_schedule_state rows joined) with its latest run.
type scheduleRow struct {
	Name           string         `db:"name"`
	Task           string         `db:"task"`
	DisplayName    string         `db:"display_name"`
	Kind           string         `db:"kind"`
	EverySeconds   float64        `db:"every_seconds"`
	Cron           string         `db:"cron"`
	Timezone       string         `db:"timezone"`
	SpecHash       string         `db:"spec_hash"`
	RunOnStartup   bool           `db:"run_on_startup"`
	Misfire        string         `db:"misfire"`
	Overlap        string         `db:"overlap"`
	MaxCatchup     int            `db:"max_catchup"`
	Retries        int            `db:"retries"`
	DelaySeconds   float64        `db:"delay_seconds"`
	Backoff        float64        `db:"backoff"`
	TimeoutSeconds float64        `db:"timeout_seconds"`
	JitterSeconds  float64        `db:"jitter_seconds"`
	Anchor         nullTime       `db:"anchor"`
	NextRun        nullTime       `db:"next_run"`
	OnceAt         nullTime       `db:"once_at"`
	Paused         bool           `db:"paused"`
	Orphaned       bool           `db:"orphaned"`
	CreatedAt      nullTime       `db:"created_at"`
	UpdatedAt      nullTime       `db:"updated_at"`
	LastRunID      sql.NullInt64  `db:"last_run_id"`
	LastRunStatus  sql.NullString `db:"last_run_status"`
	LastRunSlot    nullTime       `db:"last_run_slot"`
	Origin         string         `db:"origin"`
	Payload        []byte         `db:"payload"`
	Labels         labelsJSON     `db:"labels"`
	StartAt        nullTime       `db:"start_at"`
	EndAt          nullTime       `db:"end_at"`
	MaxRuns        sql.NullInt64  `db:"max_runs"`
	RemainingRuns  sql.NullInt64  `db:"remaining_runs"`
	CompletedAt    nullTime       `db:"completed_at"`
}

// labelsJSON scans a labels column (a JSON object of strings: jsonb on
// PostgreSQL, text on SQLite) into a map, never nil.
type labelsJSON map[string]string

// Scan implements sql.Scanner.
func (l *labelsJSON) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("scan labels: unsupported type %T", src)
	}
	m := map[string]string{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("scan labels: %w", err)
		}
	}
	*l = m
	return nil
}

// nullInt is an integer column as a pointer (nil when NULL).
func nullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func (r *scheduleRow) record() core.ScheduleRecord {
	rec := core.ScheduleRecord{
		Name: r.Name, Task: r.Task, DisplayName: r.DisplayName, Kind: r.Kind,
		EverySeconds: r.EverySeconds, Cron: r.Cron, Timezone: r.Timezone, SpecHash: r.SpecHash,
		RunOnStartup: r.RunOnStartup, Misfire: core.MisfirePolicy(r.Misfire), Overlap: core.OverlapPolicy(r.Overlap),
		MaxCatchup: r.MaxCatchup, Retries: r.Retries, DelaySeconds: r.DelaySeconds, Backoff: r.Backoff,
		TimeoutSeconds: r.TimeoutSeconds, JitterSeconds: r.JitterSeconds,
		Anchor: r.Anchor.Time, NextRun: r.NextRun.Time, OnceAt: r.OnceAt.ptr(), Paused: r.Paused, Orphaned: r.Orphaned,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time, LastRunSlot: r.LastRunSlot.ptr(),
		Origin: r.Origin, Labels: r.Labels, StartAt: r.StartAt.ptr(), EndAt: r.EndAt.ptr(),
		MaxRuns: nullInt(r.MaxRuns), RemainingRuns: nullInt(r.RemainingRuns), CompletedAt: r.CompletedAt.ptr(),
	}
	if r.Payload != nil {
		rec.Payload = json.RawMessage(r.Payload)
	}
	if r.LastRunID.Valid {
		id := r.LastRunID.Int64
		rec.LastRunID = &id
	}
	if r.LastRunStatus.Valid {
		st := core.Status(r.LastRunStatus.String)
		rec.LastRunStatus = &st
	}
	return rec
}

// tickRow is a tickflow_ticks row.
type tickRow struct {
	ID           string   `db:"id"`
	Trigger      string   `db:"trigger"`
	StartedAt    nullTime `db:"started_at"`
	FinishedAt   nullTime `db:"finished_at"`
	DueSchedules int      `db:"due_schedules"`
	RunnableRuns int      `db:"runnable_runs"`
	OldestDue    nullTime `db:"oldest_due"`
	Claimed      int      `db:"claimed"`
	Succeeded    int      `db:"succeeded"`
	Failed       int      `db:"failed"`
	Retried      int      `db:"retried"`
	Skipped      int      `db:"skipped"`
	Interrupted  int      `db:"interrupted"`
	Released     int      `db:"released"`
	Deferred     int      `db:"deferred"`
	Conflicts    int      `db:"conflicts"`
	LagSeconds   float64  `db:"lag_seconds"`
	DurationMS   float64  `db:"duration_ms"`
	Error        string   `db:"error"`
}

func (r *tickRow) record() core.TickRecord {
	return core.TickRecord{
		ID: r.ID, Trigger: r.Trigger, StartedAt: r.StartedAt.Time, FinishedAt: r.FinishedAt.ptr(),
		DueSchedules: r.DueSchedules, Claimed: r.Claimed, Succeeded: r.Succeeded, Failed: r.Failed,
		Retried: r.Retried, Skipped: r.Skipped, LagSeconds: r.LagSeconds, DurationMS: r.DurationMS, Error: r.Error,
	}
}
