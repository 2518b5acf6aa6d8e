package core

import (
	"time"
)

// MisfirePolicy says what a tick does with slots that came due while no tick
// ran (an outage, a late trigger).
type MisfirePolicy string

// The misfire policies. A slot is missed when a later slot is also due, or
// when it is older than Config.MisfireGrace.
const (
	// MisfireCoalesce (default) runs once, for the latest due slot; the run's
	// SlotsCovered says how many slots it stands for.
	MisfireCoalesce MisfirePolicy = "coalesce"
	// MisfireCatchup runs once per missed slot, at most MaxCatchup runs per
	// tick; older slots beyond the bound are recorded as one skipped run.
	MisfireCatchup MisfirePolicy = "catchup"
	// MisfireSkip runs none of the missed slots; they are recorded as one
	// skipped run and the schedule jumps to its next future slot.
	MisfireSkip MisfirePolicy = "skip"
)

// Valid reports whether p is a known policy.
func (p MisfirePolicy) Valid() bool {
	return p == MisfireCoalesce || p == MisfireCatchup || p == MisfireSkip
}

// OverlapPolicy says what happens when a slot comes due while the schedule's
// previous run still holds its lease (or waits for a retry).
type OverlapPolicy string

// The overlap policies.
const (
	// OverlapSkip (default) records the slot as skipped.
	OverlapSkip OverlapPolicy = "skip"
	// OverlapAllow runs the slot concurrently with the previous run.
	OverlapAllow OverlapPolicy = "allow"
)

// Valid reports whether p is a known policy.
func (p OverlapPolicy) Valid() bool { return p == OverlapSkip || p == OverlapAllow }

// DefaultMaxCatchup bounds the runs one tick creates for one schedule under
// MisfireCatchup.
const DefaultMaxCatchup = 100

// Option configures a task or schedule at registration: the Go version of the
// keyword arguments of fastapi-taskflow's @task_manager.schedule.
type Option func(*spec)

// spec collects options before validation.
type spec struct {
	every        time.Duration
	everySet     bool
	cron         string
	cronSet      bool
	once         time.Time
	onceSet      bool
	timezone     string
	retries      int
	delay        time.Duration
	backoff      float64
	backoffSet   bool
	maxDelay     time.Duration
	name         string
	runOnStartup bool
	timeout      time.Duration
	misfire      MisfirePolicy
	overlap      OverlapPolicy
	maxCatchup   int
	jitter       time.Duration
	startAt      time.Time // runtime schedules only (ScheduleParams.StartAt)
}

// Every schedules a slot every d, anchored at the time the schedule is first
// stored (slot k = anchor + k·d, never re-based on "now", so no drift).
// Exclusive with Cron. The seed's every= in seconds; d must be > 0.
func Every(d time.Duration) Option { return func(s *spec) { s.every, s.everySet = d, true } }

// Cron schedules by a five-field cron expression (minute hour day-of-month
// month day-of-week), read in Timezone (UTC by default). Exclusive with Every.
func Cron(expr string) Option { return func(s *spec) { s.cron, s.cronSet = expr, true } }

// Once schedules one slot at t (truncated to the second), then never again:
// after it fires the schedule's next_run is NULL. A t already past when the
// schedule is first stored fires at the next tick (within MisfireGrace; later
// than that, MisfireSkip records it as skipped). Exclusive with Every and
// Cron; t must be in [MinTime, MaxTime); RunOnStartup is refused with it.
func Once(t time.Time) Option { return func(s *spec) { s.once, s.onceSet = t, true } }

// Timezone sets the IANA zone a Cron expression is read in (default UTC).
// Ignored with Every.
func Timezone(iana string) Option { return func(s *spec) { s.timezone = iana } }

// Retries sets how many additional attempts a failed run gets (default 0).
func Retries(n int) Option { return func(s *spec) { s.retries = n } }

// Delay sets the wait before the first retry (default 0).
func Delay(d time.Duration) Option { return func(s *spec) { s.delay = d } }

// Backoff sets the multiplier applied per retry: retry n waits
// Delay·Backoff^(n-1). Default 1 (constant delay); must be >= 1.
func Backoff(f float64) Option { return func(s *spec) { s.backoff, s.backoffSet = f, true } }

// MaxDelay caps the wait between retries (default 0: no cap).
func MaxDelay(d time.Duration) Option { return func(s *spec) { s.maxDelay = d } }

// Name sets the display name (default: the task name).
func Name(display string) Option { return func(s *spec) { s.name = display } }

// RunOnStartup makes the schedule's first slot the first tick after it is
// first stored or its timing spec changes. (Serverless has no process start.)
func RunOnStartup() Option { return func(s *spec) { s.runOnStartup = true } }

// Timeout bounds one attempt (default 0: only the tick's deadline bounds it).
func Timeout(d time.Duration) Option { return func(s *spec) { s.timeout = d } }

// Misfire sets the misfire policy (default MisfireCoalesce).
func Misfire(p MisfirePolicy) Option { return func(s *spec) { s.misfire = p } }

// Overlap sets the overlap policy (default OverlapSkip).
func Overlap(p OverlapPolicy) Option { return func(s *spec) { s.overlap = p } }

// MaxCatchup bounds the runs MisfireCatchup creates per tick (default 100).
func MaxCatchup(n int) Option { return func(s *spec) { s.maxCatchup = n } }

// Jitter delays each scheduled run by a deterministic pseudo-random amount in
// [0, d), derived from the schedule name and slot, to spread load (default 0).
// A jittered run is stored as pending and started by the first tick at or
// after its run time.
func Jitter(d time.Duration) Option { return func(s *spec) { s.jitter = d } }
