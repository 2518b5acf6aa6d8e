package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// apiRow is a runtime (origin api) schedule row, written with plain SQL by
// insertAPI: what the Engine's schedule API stores.
type apiRow struct {
	name, task string
	every      time.Duration
	once       time.Time
	payload    string // JSON; "" for none
	misfire    string // "" for coalesce
	overlap    string // "" for skip
	retries    int
	delay      float64
	backoff    float64 // 0 for 1
	timeout    float64
	start, end time.Time
	maxRuns    int
	next       time.Time
}

// execer runs a statement: a store's database or a transaction on it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// instant is t as st's dialect stores it (nil for zero).
func instant(st *sqlstore.Store, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if st.Dialect() == "sqlite" {
		return t.UTC().UnixMicro()
	}
	return t.UTC()
}

// insertAPI inserts r, stored at now, through ex.
func insertAPI(ctx context.Context, st *sqlstore.Store, ex execer, r apiRow, now time.Time) error {
	kind, every := "every", r.every.Seconds()
	if !r.once.IsZero() {
		kind = "once"
	}
	misfire, overlap, backoff := r.misfire, r.overlap, r.backoff
	if misfire == "" {
		misfire = "coalesce"
	}
	if overlap == "" {
		overlap = "skip"
	}
	if backoff == 0 {
		backoff = 1
	}
	var payload, maxRuns any
	if r.payload != "" {
		payload = r.payload
	}
	if r.maxRuns > 0 {
		maxRuns = r.maxRuns
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO tickflow_schedules (
		name, task, display_name, kind, every_seconds, spec_hash, misfire, overlap, max_catchup,
		retries, delay_seconds, backoff, timeout_seconds, anchor, next_run, created_at, updated_at,
		once_at, origin, payload, start_at, end_at, max_runs, remaining_runs)
		VALUES ($1, $2, $3, $4, $5, 'api', $6, $7, 10, $8, $9, $10, $11, $12, $13, $12, $12,
		        $14, 'api', $15, $16, $17, $18, $18)`,
		r.name, r.task, "Runtime "+r.name, kind, every, misfire, overlap,
		r.retries, r.delay, backoff, r.timeout, instant(st, now), instant(st, r.next),
		instant(st, r.once), payload, instant(st, r.start), instant(st, r.end), maxRuns)
	return err
}

func mustInsertAPI(t *testing.T, st *sqlstore.Store, r apiRow, now time.Time) {
	t.Helper()
	if err := insertAPI(t.Context(), st, st.DB(), r, now); err != nil {
		t.Fatalf("insert api schedule %s: %v", r.name, err)
	}
}

// stubEngine is an engine over st on a stub clock at t0.
func stubEngine(t *testing.T, st *sqlstore.Store, reg *core.Registry, opts ...func(*core.Config)) (*core.Engine, *core.StubClock) {
	t.Helper()
	clock := core.NewStubClock(t0)
	cfg := core.Config{Store: st, Registry: reg, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 4}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := core.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, clock
}

func mustTick(t *testing.T, e *core.Engine) core.Report {
	t.Helper()
	rep, err := e.Tick(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRuntimeScheduleTick: a runtime schedule is planned from its row: no
// slot before start_at, its payload on each run and in RunInfo, its
// overrides on the runs (kept by a retry claimed later), max_runs exact,
// then completed (next_run NULL, completed_at the tick's now). A due row
// of a task this process lacks is never claimed here and does not block
// the claim of the others (one row per batch).
func TestRuntimeScheduleTick(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		var mu sync.Mutex
		var seen []core.RunInfo
		reg := core.NewRegistry()
		reg.MustRegister("report", func(_ context.Context, info core.RunInfo) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, info)
			if len(seen) == 1 {
				return errors.New("first attempt fails")
			}
			return nil
		}, core.Retries(7), core.Delay(time.Hour), core.Timeout(time.Hour))
		e, clock := stubEngine(t, st, reg, func(c *core.Config) { c.BatchSize = 1 })
		min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
		mustInsertAPI(t, st, apiRow{name: "zz_elsewhere", task: "not_here", every: time.Minute, next: min(-60)}, t0)
		mustInsertAPI(t, st, apiRow{
			name: "acme", task: "report", every: time.Minute, payload: `{"tenant": "acme", "n": [1, 2]}`,
			overlap: "allow", retries: 1, delay: 120, backoff: 2, timeout: 30, maxRuns: 2,
			start: min(1), next: t0,
		}, t0)

		for m := 0; m <= 4; m++ {
			clock.Set(min(m))
			mustTick(t, e)
			if m == 0 {
				if rec, _ := st.GetSchedule(t.Context(), "acme"); !rec.NextRun.Equal(min(1)) {
					t.Errorf("before start_at: next_run %v, want start_at %v", rec.NextRun, min(1))
				}
			}
		}
		rec, err := st.GetSchedule(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if !rec.NextRun.IsZero() || rec.CompletedAt == nil || !rec.CompletedAt.Equal(min(2)) || rec.RemainingRuns == nil || *rec.RemainingRuns != 0 {
			t.Errorf("acme: next_run %v completed_at %v remaining %v; want NULL, %v, 0", rec.NextRun, rec.CompletedAt, rec.RemainingRuns, min(2))
		}
		other, err := st.GetSchedule(t.Context(), "zz_elsewhere")
		if err != nil {
			t.Fatal(err)
		}
		if !other.NextRun.Equal(min(-60)) || other.LastRunID != nil {
			t.Errorf("the other process's schedule: next_run %v, last run %v; want untouched", other.NextRun, other.LastRunID)
		}
		runs, err := st.ListRuns(t.Context(), core.ListRunsParams{Schedule: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 {
			t.Fatalf("%d runs, want 2 (max_runs)", len(runs))
		}
		for _, r := range runs {
			if r.Slot == nil || r.Slot.Before(min(1)) || r.Status != core.StatusSuccess || r.MaxAttempts != 2 ||
				!jsonEqual(r.Payload, `{"tenant":"acme","n":[1,2]}`) || r.DisplayName != "Runtime acme" ||
				r.RetryDelaySeconds == nil || *r.RetryDelaySeconds != 120 || r.RetryBackoff == nil || *r.RetryBackoff != 2 ||
				r.TimeoutSeconds == nil || *r.TimeoutSeconds != 30 {
				t.Errorf("run %+v: want a successful run at or after start_at with the row's payload, 2 attempts and overrides", r)
			}
		}
		first := runs[1] // newest first
		if first.Attempt != 2 || !first.Slot.Equal(min(1)) {
			t.Errorf("first run: attempt %d slot %v, want its retry (120 s later, not the task's hour) to have succeeded", first.Attempt, first.Slot)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 3 {
			t.Fatalf("%d executions, want 3", len(seen))
		}
		for _, info := range seen {
			if !jsonEqual(info.Payload, `{"tenant":"acme","n":[1,2]}`) {
				t.Errorf("task saw payload %s", info.Payload)
			}
		}
	})
}

// TestRuntimeScheduleCompletes: a runtime once fires its slot and completes;
// an end_at between slots completes the schedule after the last slot
// before it.
func TestRuntimeScheduleCompletes(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		reg := core.NewRegistry()
		reg.MustRegister("job", func(context.Context, core.RunInfo) error { return nil })
		e, clock := stubEngine(t, st, reg)
		min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
		mustInsertAPI(t, st, apiRow{name: "once", task: "job", once: min(1), next: min(1)}, t0)
		mustInsertAPI(t, st, apiRow{name: "ends", task: "job", every: time.Minute, end: min(2).Add(30 * time.Second), next: min(1)}, t0)
		for m := 0; m <= 5; m++ {
			clock.Set(min(m))
			mustTick(t, e)
		}
		for name, want := range map[string]struct {
			runs      int
			completed time.Time
		}{"once": {1, min(1)}, "ends": {2, min(2)}} {
			rec, err := st.GetSchedule(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			runs, _ := st.ListRuns(t.Context(), core.ListRunsParams{Schedule: name})
			if len(runs) != want.runs || !rec.NextRun.IsZero() || rec.CompletedAt == nil || !rec.CompletedAt.Equal(want.completed) {
				t.Errorf("%s: %d runs, next_run %v, completed_at %v; want %d runs, NULL, %v", name, len(runs), rec.NextRun, rec.CompletedAt, want.runs, want.completed)
			}
		}
	})
}

// jsonEqual reports whether got is the JSON value want (whitespace aside).
func jsonEqual(got []byte, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
