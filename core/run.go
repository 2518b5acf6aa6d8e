package core

import (
	"encoding/json"
	"time"
)

// Status is the state of a run.
type Status string

// The statuses a run moves through. pending -> running -> success | failed;
// running -> pending (retry scheduled) ; running -> interrupted (lease expired,
// a retry is queued) -> running; pending -> cancelled; a slot that was not run
// because of the misfire or overlap policy is recorded as skipped.
const (
	StatusPending     Status = "pending"
	StatusRunning     Status = "running"
	StatusSuccess     Status = "success"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
	StatusCancelled   Status = "cancelled"
	StatusSkipped     Status = "skipped"
)

// Statuses lists every Status, in lifecycle order.
var Statuses = []Status{StatusPending, StatusRunning, StatusSuccess, StatusFailed, StatusInterrupted, StatusCancelled, StatusSkipped}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether no further attempt will happen for a run in s.
func (s Status) Final() bool {
	return s == StatusSuccess || s == StatusFailed || s == StatusCancelled || s == StatusSkipped
}

// Source says what created a run: a schedule's slot or a person/program
// (AddTask, the API's trigger).
type Source string

// The two sources, as in fastapi-taskflow's TaskRecord.source.
const (
	SourceManual    Source = "manual"
	SourceScheduled Source = "scheduled"
)

// Valid reports whether s is manual or scheduled.
func (s Source) Valid() bool { return s == SourceManual || s == SourceScheduled }

// Run is one execution record of a task: the Go counterpart of
// fastapi-taskflow's TaskRecord. Its JSON form is what every API returns.
type Run struct {
	// ID is the store-assigned identifier, increasing with creation.
	ID int64 `json:"id" db:"id"`
	// Task is the registered task function's name.
	Task string `json:"task" db:"task"`
	// DisplayName is the schedule's Name option, or the task name.
	DisplayName string `json:"display_name" db:"display_name"`
	// Schedule is the schedule name for scheduled runs and schedule triggers,
	// empty for plain manual runs.
	Schedule string `json:"schedule,omitempty" db:"schedule"`
	// Source is manual or scheduled.
	Source Source `json:"source" db:"source"`
	// Slot is the schedule slot this run stands for (UTC); nil for manual runs.
	// (Schedule, Slot) is unique: a slot is recorded at most once.
	Slot *time.Time `json:"slot,omitempty" db:"slot"`
	// SlotsCovered is how many slots this record stands for: 1 normally, more
	// when the coalesce misfire policy folded missed slots into one run, or
	// when one skipped record stands for several skipped slots.
	SlotsCovered int `json:"slots_covered" db:"slots_covered"`
	// Status is the run's current state.
	Status Status `json:"status" db:"status"`
	// Attempt is the number of attempts started so far (0 before the first).
	Attempt int `json:"attempt" db:"attempt"`
	// MaxAttempts is 1 + the Retries option at the time the run was created.
	MaxAttempts int `json:"max_attempts" db:"max_attempts"`
	// Interruptions counts attempts whose process died (lease expired).
	Interruptions int `json:"interruptions" db:"interruptions"`
	// Payload is the JSON payload given to AddTask, or the runtime
	// schedule's payload for its scheduled runs (null when none).
	Payload json.RawMessage `json:"payload,omitempty" db:"payload"`
	// Error is the last attempt's error message, or why the run was skipped.
	Error string `json:"error,omitempty" db:"error"`
	// Stack is the goroutine stack of a panic, when the last attempt panicked.
	Stack string `json:"stack,omitempty" db:"stack"`
	// RunAt is the earliest time the next attempt may start.
	RunAt time.Time `json:"run_at" db:"run_at"`
	// CreatedAt, StartedAt (of the latest attempt) and FinishedAt.
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty" db:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty" db:"finished_at"`
	// LeaseUntil is when a running attempt is presumed dead if not finished.
	LeaseUntil *time.Time `json:"lease_until,omitempty" db:"lease_until"`
	// TickID is the tick that ran (or last claimed) this run.
	TickID string `json:"tick_id,omitempty" db:"tick_id"`
	// IdempotencyKey, when given to AddTask, is unique across runs.
	IdempotencyKey string `json:"idempotency_key,omitempty" db:"idempotency_key"`
	// RunOverrides are the policies of the runtime schedule that planned
	// the run, replacing its task's (nil fields: the task's own).
	RunOverrides

	// held is the tick's held claim the run belongs to (nil: none), whose
	// commit records its outcome (see ClaimHolder).
	held *heldBatch
	// task is the registered task the run executes, bound when its claim
	// was planned (nil: the executor looks it up by name).
	task *Task
}

// RunOverrides are a runtime schedule's policies that replace its task's for
// the runs it plans; they are stored on each run (tickflow_runs'
// retry_delay_seconds, retry_backoff and timeout_seconds), so a retry or a
// recovered run claimed later keeps them. A nil field means the task's own.
// (Retries override through Run.MaxAttempts.)
type RunOverrides struct {
	// RetryDelaySeconds is the wait before the first retry.
	RetryDelaySeconds *float64 `json:"retry_delay_seconds,omitempty" db:"retry_delay_seconds"`
	// RetryBackoff multiplies the wait per retry.
	RetryBackoff *float64 `json:"retry_backoff,omitempty" db:"retry_backoff"`
	// TimeoutSeconds bounds one attempt (0: the tick deadline only).
	TimeoutSeconds *float64 `json:"timeout_seconds,omitempty" db:"timeout_seconds"`
}

// retry is the retry policy of a run of task: the task's, with the
// overrides applied.
func (o RunOverrides) retry(task *Task) RetryPolicy {
	p := task.Retry
	if o.RetryDelaySeconds != nil {
		p.Delay = seconds(*o.RetryDelaySeconds)
	}
	if o.RetryBackoff != nil {
		p.Backoff = *o.RetryBackoff
	}
	return p
}

// timeout is the attempt timeout of a run of task: the override, else the
// task's.
func (o RunOverrides) timeout(task *Task) time.Duration {
	if o.TimeoutSeconds != nil {
		return seconds(*o.TimeoutSeconds)
	}
	return task.Timeout
}

// RetriesUsed is the number of attempts after the first.
func (r Run) RetriesUsed() int {
	if r.Attempt <= 1 {
		return 0
	}
	return r.Attempt - 1
}

// RunInfo is what a task function receives about the run it executes: its
// identity, so side effects can be made idempotent per slot. (Schedule, Slot)
// or ID is a fencing token that no concurrent tick hands out twice.
type RunInfo struct {
	ID          int64
	Task        string
	Schedule    string
	Source      Source
	Slot        time.Time // zero for manual runs
	Attempt     int       // 1 on the first attempt
	MaxAttempts int
	TickID      string
	Payload     json.RawMessage
}
