package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Alerts tell a person, through a Notifier, what a scheduler usually keeps
// silent about:
//
//   - run_failed: a run failed for good (its last attempt failed, or its
//     lease expired with no attempt left);
//   - slots_missed: slots that did not run as planned: skipped by the
//     misfire or overlap policy, or missed while no tick came and coalesced
//     into one run (a ClaimDue batch gives one alert for all its schedules);
//   - ticks_stopped: no tick finished (without error) for longer than
//     TicksStoppedAfter.
//     It is detected by the first tick that arrives after the gap (a tick
//     that never comes cannot deliver anything): watch /healthz for the
//     live condition, and read this alert as the record of the outage.
//
// Delivery goes through an outbox (the store's tickflow_outbox): an alert is
// written in the transaction that records its event (FinishRuns, ClaimDue,
// ClaimRuns; the gap's by the next tick that sees it, keyed by the gap), one
// row per event (a unique dedupe key), and ticks deliver due rows after
// their work: claimed under a lease, sent, then marked delivered, or
// retried with exponential backoff, or given up after MaxAttempts with the
// last error kept. Racing ticks never claim the same row; a tick that dies
// after sending and before marking the row makes the next claim send it
// again after the lease: receivers dedupe by Alert.Key.
// Finished rows are kept as long as failed runs (Retention.FailedRuns),
// then deleted in bounded batches by the ticks that deliver.
type Alerts struct {
	// Notifier receives the alerts. nil (the default) turns alerts off:
	// nothing is written to the outbox and the tick's statements are those
	// of an engine without alerts.
	Notifier Notifier
	// TicksStoppedAfter: a tick that finds that no tick finished without
	// error for longer than this writes a ticks_stopped alert (default
	// DefaultTicksStoppedAfter, 5 minutes). Keep it above the trigger's
	// period and the longest tick a lone trigger runs.
	TicksStoppedAfter time.Duration
	// MaxAttempts is how many deliveries an alert gets before it is given
	// up (default 10, at most 100).
	MaxAttempts int
	// RetryDelay is the wait after the first failed delivery; it doubles
	// after each further failure, up to MaxRetryDelay (defaults 30 s, 1 h).
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// BatchSize is the most alerts one tick delivers (default 20, at most
	// 1000), one after the other, while the tick has time.
	BatchSize int
	// Lease: a claimed delivery not marked within it is claimed again
	// (default 2 minutes; keep it above the notifier's timeout).
	Lease time.Duration
}

// Alert defaults.
const (
	DefaultTicksStoppedAfter = 5 * time.Minute
	DefaultAlertAttempts     = 10
	DefaultAlertRetryDelay   = 30 * time.Second
	DefaultAlertMaxDelay     = time.Hour
	DefaultAlertBatch        = 20
	DefaultAlertLease        = 2 * time.Minute
)

// validate checks a and applies its defaults.
func (a *Alerts) validate() error {
	switch {
	case a.TicksStoppedAfter < 0 || a.RetryDelay < 0 || a.MaxRetryDelay < 0 || a.Lease < 0:
		return invalid("alerts", "", "durations must not be negative")
	case a.MaxAttempts < 0 || a.MaxAttempts > 100:
		return invalid("alerts.max_attempts", fmt.Sprint(a.MaxAttempts), "must be 0 (default) to 100")
	case a.BatchSize < 0 || a.BatchSize > 1000:
		return invalid("alerts.batch_size", fmt.Sprint(a.BatchSize), "must be 0 (default) to 1000")
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defd(&a.TicksStoppedAfter, DefaultTicksStoppedAfter)
	defd(&a.RetryDelay, DefaultAlertRetryDelay)
	defd(&a.MaxRetryDelay, DefaultAlertMaxDelay)
	defd(&a.Lease, DefaultAlertLease)
	if a.MaxAttempts == 0 {
		a.MaxAttempts = DefaultAlertAttempts
	}
	if a.BatchSize == 0 {
		a.BatchSize = DefaultAlertBatch
	}
	return nil
}

// retryAt is when a delivery that failed for the attempts-th time is tried
// again: RetryDelay·2^(attempts-1), at most MaxRetryDelay, after now.
func (a *Alerts) retryAt(now time.Time, attempts int) time.Time {
	d := a.RetryDelay
	for i := 1; i < attempts && d < a.MaxRetryDelay; i++ {
		d *= 2
	}
	return now.Add(min(d, a.MaxRetryDelay))
}

// Notifier delivers alerts: the built-in webhook notifier (package
// notify/webhook) or your own. Notify is called by ticks, one alert at a
// time, under a context that carries the tick's deadline; an error (or a
// panic) schedules a retry. It may be called again for an alert it already
// delivered (a tick died before recording the delivery): use Alert.Key to
// drop repeats.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// NotifierFunc adapts a function to a Notifier.
type NotifierFunc func(ctx context.Context, a Alert) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, a Alert) error { return f(ctx, a) }

// AlertKind says what an alert is about.
type AlertKind string

// Alert kinds.
const (
	AlertRunFailed    AlertKind = "run_failed"
	AlertSlotsMissed  AlertKind = "slots_missed"
	AlertTicksStopped AlertKind = "ticks_stopped"
)

// Alert is one event to tell a person about. Its JSON form is what the
// webhook notifier posts (with Text for chat tools).
type Alert struct {
	// ID is the outbox row's id.
	ID   int64     `json:"id"`
	Kind AlertKind `json:"kind"`
	// Key names the event, the same for every delivery of it: receivers
	// drop an alert whose key they have seen.
	Key string `json:"key"`
	// At is when the event was recorded (the tick's clock).
	At time.Time `json:"at"`
	// Text is a one-paragraph summary (Slack-compatible: the webhook's text).
	Text string `json:"text"`
	// Attempt is this delivery's number, from 1.
	Attempt int `json:"attempt"`
	AlertBody
}

// AlertBody is an alert's structured detail, stored as the outbox row's body.
type AlertBody struct {
	// Runs are the runs concerned: the failed run, or the skipped and
	// coalesced runs of slots_missed (at most MaxAlertRuns of them).
	Runs []AlertRun `json:"runs,omitempty"`
	// Slots counts the slots of slots_missed (Runs may hold fewer).
	Slots int `json:"slots,omitempty"`
	// MoreRuns counts the runs of slots_missed left out of Runs.
	MoreRuns int `json:"more_runs,omitempty"`
	// Gap is the outage of ticks_stopped.
	Gap *AlertGap `json:"gap,omitempty"`
}

// MaxAlertRuns bounds AlertBody.Runs.
const MaxAlertRuns = 50

// AlertRun is a run as an alert shows it.
type AlertRun struct {
	ID       int64      `json:"id"`
	Task     string     `json:"task"`
	Schedule string     `json:"schedule,omitempty"`
	Slot     *time.Time `json:"slot,omitempty"`
	Status   Status     `json:"status"`
	Attempt  int        `json:"attempt"`
	// SlotsCovered is how many slots the run stands for.
	SlotsCovered int `json:"slots_covered"`
	// Error is the run's last error or why it was skipped (cut to 1000
	// bytes).
	Error string `json:"error,omitempty"`
}

// AlertGap is an outage of ticks.
type AlertGap struct {
	// LastTickFinished is when the last tick before the gap finished.
	LastTickFinished time.Time `json:"last_tick_finished"`
	// ResumedAt is when the tick that found the gap started.
	ResumedAt time.Time `json:"resumed_at"`
	// Seconds is ResumedAt minus LastTickFinished.
	Seconds float64 `json:"seconds"`
}

// text summarizes the alert in one paragraph.
func (a Alert) text() string {
	var b strings.Builder
	switch a.Kind {
	case AlertRunFailed:
		for _, r := range a.Runs {
			fmt.Fprintf(&b, "tickflow: run %d of task %s", r.ID, r.Task)
			if r.Schedule != "" {
				fmt.Fprintf(&b, " (schedule %s", r.Schedule)
				if r.Slot != nil {
					fmt.Fprintf(&b, ", slot %s", r.Slot.UTC().Format(time.RFC3339))
				}
				b.WriteString(")")
			}
			fmt.Fprintf(&b, " failed after %d attempt(s)", r.Attempt)
			if r.Error != "" {
				fmt.Fprintf(&b, ": %s", firstLine(r.Error, 300))
			}
		}
	case AlertSlotsMissed:
		fmt.Fprintf(&b, "tickflow: %d slot(s) of %d run record(s) did not run as scheduled:", a.Slots, len(a.Runs)+a.MoreRuns)
		for i, r := range a.Runs {
			if i == 5 {
				fmt.Fprintf(&b, " and %d more", len(a.Runs)-i+a.MoreRuns)
				break
			}
			fmt.Fprintf(&b, " %s", r.Schedule)
			if r.Error != "" {
				fmt.Fprintf(&b, " (%s)", firstLine(r.Error, 200))
			} else {
				fmt.Fprintf(&b, " (%d slots coalesced into run %d)", r.SlotsCovered, r.ID)
			}
			if i < len(a.Runs)-1 {
				b.WriteString(";")
			}
		}
	case AlertTicksStopped:
		if g := a.Gap; g != nil {
			fmt.Fprintf(&b, "tickflow: no tick finished between %s and %s (%s): check the trigger",
				g.LastTickFinished.UTC().Format(time.RFC3339), g.ResumedAt.UTC().Format(time.RFC3339),
				time.Duration(g.Seconds*float64(time.Second)).Round(time.Second))
		}
	}
	if b.Len() == 0 {
		fmt.Fprintf(&b, "tickflow: %s alert %s", a.Kind, a.Key)
	}
	return b.String()
}

// firstLine is s's first line, cut to n bytes.
func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// OutboxAlert is an outbox row as the store returns it.
type OutboxAlert struct {
	ID   int64
	Kind AlertKind
	Key  string
	// Body is the AlertBody as JSON.
	Body        json.RawMessage
	Attempts    int
	NextAttempt *time.Time
	DeliveredAt *time.Time
	LastError   string
	ClaimedBy   string
	CreatedAt   time.Time
}

// alert decodes the row into the Alert a notifier receives.
func (o OutboxAlert) alert() (Alert, error) {
	a := Alert{ID: o.ID, Kind: o.Kind, Key: o.Key, At: o.CreatedAt.UTC(), Attempt: o.Attempts}
	if err := json.Unmarshal(o.Body, &a.AlertBody); err != nil {
		return a, fmt.Errorf("alert %d: decode body: %w", o.ID, err)
	}
	a.Text = a.text()
	return a, nil
}

// InsertAlertParams are the inputs of Store.InsertAlert.
type InsertAlertParams struct {
	// Now is the event's time (zero: the database clock): created_at, and
	// the first delivery is due then.
	Now  time.Time
	Kind AlertKind
	// Key is the event's dedupe key: a second insert of it writes nothing.
	Key  string
	Body json.RawMessage
}

// ClaimAlertsParams are the inputs of Store.ClaimAlerts.
type ClaimAlertsParams struct {
	Now    time.Time
	TickID string
	Limit  int
	// LeaseUntil: a claimed row is due again then unless FinishAlerts
	// marked it.
	LeaseUntil time.Time
}

// AlertResult is the outcome of one delivery, for FinishAlerts.
type AlertResult struct {
	ID int64
	// Attempts is the row's attempts as claimed (fencing).
	Attempts int
	// Delivered: the notifier accepted it. Otherwise RetryAt is the next
	// attempt (zero: given up) and Error the delivery's error.
	Delivered bool
	RetryAt   time.Time
	Error     string
	// Released: not attempted (the tick ran out of time): due again at
	// RetryAt with its attempt not counted.
	Released bool
}

// FinishAlertsParams are the inputs of Store.FinishAlerts.
type FinishAlertsParams struct {
	Now     time.Time
	TickID  string
	Results []AlertResult
	// PruneBefore: delivered and given-up alerts created before it are
	// deleted, a bounded batch per call (zero: none).
	PruneBefore time.Time
}

// ListAlertsParams are the inputs of Store.ListAlerts.
type ListAlertsParams struct {
	// Limit: newest first, default 50, at most 500.
	Limit int
}
