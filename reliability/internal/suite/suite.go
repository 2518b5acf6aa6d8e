// Package suite holds what the reliability tests and their tick process
// (reliability/internal/ticker) must agree on: the registries of test tasks,
// the timing specs of the load scenario, and the JSON lines the tick process
// prints. It computes no expectation: the tests work out which slots are due
// on their own, from the specs alone.
package suite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Execution is one attempt a task function actually made, as the task saw
// it. The tests count executions per (schedule, slot) across processes to
// find duplicates that the run table alone could hide.
type Execution struct {
	RunID    int64     `json:"run_id"`
	Task     string    `json:"task"`
	Schedule string    `json:"schedule,omitempty"`
	Slot     time.Time `json:"slot"`
	Attempt  int       `json:"attempt"`
}

// Recorder collects the executions of one process. Safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	execs []Execution
}

// Record notes one attempt.
func (r *Recorder) Record(info core.RunInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.execs = append(r.execs, Execution{RunID: info.ID, Task: info.Task, Schedule: info.Schedule, Slot: info.Slot, Attempt: info.Attempt})
}

// Drain returns the executions recorded since the last Drain.
func (r *Recorder) Drain() []Execution {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.execs
	r.execs = nil
	return out
}

// Snapshot returns a copy of the executions recorded since the last Drain.
func (r *Recorder) Snapshot() []Execution {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Execution(nil), r.execs...)
}

// Line is one JSON line the tick process prints on standard output.
type Line struct {
	// Kind is "tick" (a tick finished) or "started" (a blocking task began).
	Kind string `json:"kind"`
	// AppNow is the process's own clock (time.Now) when the tick began.
	AppNow time.Time `json:"app_now,omitzero"`
	// Report and Error are the tick's report and its infrastructure error.
	Report *core.Report `json:"report,omitempty"`
	Error  string       `json:"error,omitempty"`
	// Executions are the attempts the process's tasks made during the tick.
	Executions []Execution `json:"executions,omitempty"`
	// RunID is the run a blocking task started (Kind "started").
	RunID int64 `json:"run_id,omitempty"`
}

// Spec is a schedule's timing: Every, or Cron read in Timezone.
type Spec struct {
	Every    time.Duration
	Cron     string
	Timezone string
}

func (s Spec) options() []core.Option {
	if s.Every > 0 {
		return []core.Option{core.Every(s.Every)}
	}
	return []core.Option{core.Cron(s.Cron), core.Timezone(s.Timezone)}
}

// String names the spec for logs.
func (s Spec) String() string {
	if s.Every > 0 {
		return "every " + s.Every.String()
	}
	return fmt.Sprintf("cron %q in %s", s.Cron, s.Timezone)
}

// LoadSpecs are the timing specs the load scenario cycles through: anchored
// intervals of one minute and more (so every slot gets a run of its own when
// ticks come each minute), and cron expressions in zones with whole, half-
// and quarter-hour offsets. The cron hour field is always *, so the
// scenario's window may cross a daylight-saving change (LoadStart does, in
// Europe/Berlin and Europe/London) and each slot is still simply the UTC
// minute whose wall time matches.
var LoadSpecs = []Spec{
	{Every: time.Minute},
	{Every: 2 * time.Minute},
	{Every: 3 * time.Minute},
	{Every: 5 * time.Minute},
	{Every: 90 * time.Second},
	{Every: 150 * time.Second},
	{Every: 7 * time.Minute},
	{Every: 10 * time.Minute},
	{Cron: "* * * * *", Timezone: "UTC"},
	{Cron: "*/5 * * * *", Timezone: "America/New_York"},
	{Cron: "0 * * * *", Timezone: "Asia/Kolkata"},
	{Cron: "15,45 * * * *", Timezone: "Europe/Berlin"},
	{Cron: "*/10 * * * *", Timezone: "Australia/Adelaide"},
	{Cron: "45 * * * *", Timezone: "Asia/Kathmandu"},
	{Cron: "0-59/7 * * * *", Timezone: "America/Sao_Paulo"},
	{Cron: "30 * * * *", Timezone: "Europe/London"},
	{Cron: "*/3 * * * 0", Timezone: "Europe/Berlin"},
	{Cron: "*/4 * 29 3 *", Timezone: "Pacific/Chatham"},
}

// LoadStart is the simulated instant of the load scenario's first tick:
// half an hour before Europe/Berlin and Europe/London move their clocks
// forward (2026-03-29 01:00 UTC).
var LoadStart = time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)

var misfires = []core.MisfirePolicy{core.MisfireCoalesce, core.MisfireCatchup, core.MisfireSkip}

// LoadName is the name of load schedule i.
func LoadName(i int) string { return fmt.Sprintf("load_%04d", i) }

// LoadSpec is the spec of load schedule i.
func LoadSpec(i int) Spec { return LoadSpecs[i%len(LoadSpecs)] }

// Load registers n schedules: schedule i runs LoadSpec(i) with misfire
// policy i%3 (coalesce, catchup, skip); its task records the execution.
func Load(n int, rec *Recorder) (*core.Registry, error) {
	reg := core.NewRegistry()
	fn := func(_ context.Context, info core.RunInfo) error {
		rec.Record(info)
		return nil
	}
	for i := 0; i < n; i++ {
		opts := append(LoadSpec(i).options(), core.Misfire(misfires[i%len(misfires)]))
		if err := reg.Schedule(LoadName(i), fn, opts...); err != nil {
			return nil, fmt.Errorf("load schedule %d: %w", i, err)
		}
	}
	return reg, nil
}

// The crash suite's schedules and manual task.
const (
	// CrashRetry runs every minute with 2 retries: an interrupted attempt
	// is run again.
	CrashRetry = "crash_retry"
	// CrashNoRetry runs every minute without retries: an interrupted
	// attempt has none left and is failed.
	CrashNoRetry = "crash_noretry"
	// CrashCron runs every minute by cron in America/New_York, 1 retry.
	CrashCron = "crash_cron"
	// CrashManual is a manual-only task with 1 retry.
	CrashManual = "crash_manual"
)

// Crash registers the crash suite. When block is non-nil every task calls
// it instead of returning (the tick process is killed while they block);
// otherwise tasks record the execution and succeed.
func Crash(rec *Recorder, block func(ctx context.Context, info core.RunInfo) error) (*core.Registry, error) {
	reg := core.NewRegistry()
	fn := func(ctx context.Context, info core.RunInfo) error {
		rec.Record(info)
		if block != nil {
			return block(ctx, info)
		}
		return nil
	}
	steps := []error{
		reg.Schedule(CrashRetry, fn, core.Every(time.Minute), core.Retries(2)),
		reg.Schedule(CrashNoRetry, fn, core.Every(time.Minute)),
		reg.Schedule(CrashCron, fn, core.Cron("* * * * *"), core.Timezone("America/New_York"), core.Retries(1)),
		reg.Register(CrashManual, fn, core.Retries(1)),
	}
	for _, err := range steps {
		if err != nil {
			return nil, fmt.Errorf("crash suite: %w", err)
		}
	}
	return reg, nil
}

// SkewNames are the skew suite's schedules: hourly intervals whose next_run
// the test sets around the database clock.
var SkewNames = []string{"skew_a", "skew_b", "skew_c", "skew_d"}

// Skew registers the skew suite: SkewNames, each every hour, recording.
func Skew(rec *Recorder) (*core.Registry, error) {
	reg := core.NewRegistry()
	fn := func(_ context.Context, info core.RunInfo) error {
		rec.Record(info)
		return nil
	}
	for _, name := range SkewNames {
		if err := reg.Schedule(name, fn, core.Every(time.Hour)); err != nil {
			return nil, fmt.Errorf("skew suite: %w", err)
		}
	}
	return reg, nil
}
