package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// recNotifier records alerts; fail decides each call's error.
type recNotifier struct {
	mu     sync.Mutex
	alerts []Alert
	fail   func(Alert) error
}

func (n *recNotifier) Notify(_ context.Context, a Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.alerts = append(n.alerts, a)
	if n.fail != nil {
		return n.fail(a)
	}
	return nil
}

// alertEngine is an engine over f with alerts sent to n, a failing
// schedule "bad" (every minute, from tickT0+1m) and a stub clock at tickT0.
func alertEngine(t *testing.T, f *fakeStore, n Notifier, adjust ...func(*Alerts)) (*Engine, *StubClock) {
	t.Helper()
	reg := NewRegistry()
	reg.MustSchedule("bad", func(context.Context, RunInfo) error { return errors.New("disk full\nat line 2") }, Every(time.Minute))
	clock := NewStubClock(tickT0)
	log, _ := testLogger()
	cfg := Config{Store: f, Registry: reg, Clock: clock, Logger: log, Workers: 2}
	if n != nil {
		cfg.Alerts.Notifier = n
	}
	for _, a := range adjust {
		a(&cfg.Alerts)
	}
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, clock
}

func mustTick(t *testing.T, e *Engine) Report {
	t.Helper()
	rep, err := e.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAlertRunFailed: a run that fails for good reaches the notifier in the
// tick that failed it, with its fields and a one-line text.
func TestAlertRunFailed(t *testing.T) {
	f := newFakeStore()
	n := &recNotifier{}
	e, clock := alertEngine(t, f, n)
	mustTick(t, e)
	clock.Set(tickT0.Add(time.Minute))
	rep := mustTick(t, e)
	if rep.Failed != 1 || rep.AlertsDelivered != 1 || len(n.alerts) != 1 {
		t.Fatalf("report %+v, alerts %+v; want one failure alerted", rep, n.alerts)
	}
	a := n.alerts[0]
	if a.Kind != AlertRunFailed || a.Key != "run-failed:1:1" || a.Attempt != 1 || len(a.Runs) != 1 || a.Runs[0].Schedule != "bad" {
		t.Fatalf("alert %+v", a)
	}
	want := "tickflow: run 1 of task bad (schedule bad, slot " + tickT0.Add(time.Minute).Format(time.RFC3339) + ") failed after 1 attempt(s): disk full"
	if a.Text != want {
		t.Fatalf("text %q, want %q", a.Text, want)
	}
	if o := f.alerts()[0]; o.DeliveredAt == nil || o.NextAttempt != nil {
		t.Fatalf("outbox row %+v, want delivered", o)
	}
}

// TestAlertsOffAndEmptyTicksStayCheap: without a notifier no alert is
// written; with one, an empty tick is still BeginTick and EndTick only.
func TestAlertsOffAndEmptyTicksStayCheap(t *testing.T) {
	f := newFakeStore()
	e, clock := alertEngine(t, f, nil)
	mustTick(t, e)
	clock.Set(tickT0.Add(time.Minute))
	if rep := mustTick(t, e); rep.Failed != 1 || len(f.alerts()) != 0 {
		t.Fatalf("alerts off: %+v, outbox %+v", rep, f.alerts())
	}

	f = newFakeStore()
	e, clock = alertEngine(t, f, &recNotifier{})
	mustTick(t, e) // syncs
	clock.Set(tickT0.Add(30 * time.Second))
	before := map[string]int{}
	for _, m := range []string{"BeginTick", "EndTick", "ClaimAlerts", "InsertAlert", "ClaimDue", "ClaimRuns"} {
		before[m] = f.count(m)
	}
	mustTick(t, e)
	for m, n := range before {
		want := n
		if m == "BeginTick" || m == "EndTick" {
			want++
		}
		if got := f.count(m); got != want {
			t.Errorf("empty tick with alerts on: %s called %d times, want %d", m, got-n, want-n)
		}
	}
}

// TestAlertDeliveryFailures: an error or a panic of the notifier schedules
// a retry with exponential backoff; the tick itself succeeds.
func TestAlertDeliveryFailures(t *testing.T) {
	f := newFakeStore()
	calls := 0
	n := &recNotifier{fail: func(Alert) error {
		calls++
		if calls == 1 {
			panic("notifier bug")
		}
		return errors.New("status 503")
	}}
	e, clock := alertEngine(t, f, n, func(a *Alerts) { a.RetryDelay, a.MaxAttempts, a.TicksStoppedAfter = time.Minute, 3, time.Hour })
	mustTick(t, e)
	clock.Set(tickT0.Add(time.Minute))
	if rep := mustTick(t, e); rep.AlertsFailed != 1 || rep.Error != "" {
		t.Fatalf("tick with a panicking notifier: %+v", rep)
	}
	o := f.alerts()[0]
	if !strings.Contains(o.LastError, "notifier panicked: notifier bug") || o.NextAttempt == nil || o.NextAttempt.Before(tickT0.Add(2*time.Minute)) {
		t.Fatalf("after a panic: %+v, want a retry a minute later", o)
	}
	clock.Set(tickT0.Add(2*time.Minute + time.Second)) // a second failure of bad, and the retry
	mustTick(t, e)
	clock.Set(tickT0.Add(3*time.Minute + time.Second))
	mustTick(t, e)
	clock.Set(tickT0.Add(10 * time.Minute))
	mustTick(t, e)
	o = f.alerts()[0]
	if o.Attempts != 3 || o.NextAttempt != nil || o.DeliveredAt != nil || o.LastError != "status 503" {
		t.Fatalf("after 3 failed deliveries: %+v, want given up with the last error", o)
	}
}

func TestAlertRetryBackoff(t *testing.T) {
	a := Alerts{}
	if err := a.validate(); err != nil {
		t.Fatal(err)
	}
	for attempts, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 8: time.Hour, 9: time.Hour, 100: time.Hour} {
		if got := a.retryAt(tickT0, attempts).Sub(tickT0); got != want {
			t.Errorf("retry after attempt %d: %s, want %s", attempts, got, want)
		}
	}
}

func TestAlertsConfigRejectsBadValues(t *testing.T) {
	for name, a := range map[string]Alerts{
		"negative gap":     {TicksStoppedAfter: -time.Second},
		"negative delay":   {RetryDelay: -1},
		"too many tries":   {MaxAttempts: 101},
		"negative tries":   {MaxAttempts: -1},
		"huge batch":       {BatchSize: 5000},
		"negative lease":   {Lease: -time.Minute},
		"negative max gap": {MaxRetryDelay: -time.Hour},
	} {
		_, err := NewEngine(Config{Store: newFakeStore(), Registry: NewRegistry(), Alerts: a})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: NewEngine error %v, want ErrInvalid", name, err)
		}
	}
}

// TestAlertTicksStopped: a gap longer than TicksStoppedAfter gives one
// alert; failing to write it fails the tick, so the next one writes it.
func TestAlertTicksStopped(t *testing.T) {
	f := newFakeStore()
	n := &recNotifier{}
	e, clock := alertEngine(t, f, n, func(a *Alerts) { a.TicksStoppedAfter = 10 * time.Minute })
	mustTick(t, e)
	clock.Set(tickT0.Add(30 * time.Second))
	mustTick(t, e)
	f.hook = failOn("InsertAlert", 1)
	clock.Set(tickT0.Add(time.Hour + 30*time.Second)) // bad's slots: coalesced, no failure yet counted
	if _, err := e.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "ticks-stopped") {
		t.Fatalf("tick whose gap alert failed: %v, want its error", err)
	}
	f.hook = nil
	clock.Set(tickT0.Add(time.Hour + 45*time.Second))
	mustTick(t, e)
	var gaps []Alert
	for _, a := range n.alerts {
		if a.Kind == AlertTicksStopped {
			gaps = append(gaps, a)
		}
	}
	if len(gaps) != 1 || gaps[0].Gap == nil || gaps[0].Gap.LastTickFinished.Sub(tickT0.Add(30*time.Second)) > 5*time.Second ||
		!strings.HasPrefix(gaps[0].Text, "tickflow: no tick finished between") {
		t.Fatalf("gap alerts %+v, want one from +30s", gaps)
	}
}

func TestAlertTexts(t *testing.T) {
	slot := tickT0
	for _, tt := range []struct {
		a    Alert
		want string
	}{
		{Alert{Kind: AlertSlotsMissed, AlertBody: AlertBody{Slots: 9, Runs: []AlertRun{
			{ID: 4, Schedule: "a", Status: StatusSkipped, SlotsCovered: 5, Error: "misfire: 5 slots missed (policy skip)"},
			{ID: 5, Schedule: "b", Status: StatusRunning, SlotsCovered: 5, Slot: &slot},
		}}}, "tickflow: 9 slot(s) of 2 run record(s) did not run as scheduled: a (misfire: 5 slots missed (policy skip)); b (5 slots coalesced into run 5)"},
		{Alert{Kind: AlertTicksStopped, Key: "k"}, "tickflow: ticks_stopped alert k"},
		{Alert{Kind: AlertRunFailed, AlertBody: AlertBody{Runs: []AlertRun{{ID: 1, Task: "t", Attempt: 2, Error: strings.Repeat("x", 400)}}}},
			"tickflow: run 1 of task t failed after 2 attempt(s): " + strings.Repeat("x", 300) + "…"},
	} {
		if got := tt.a.text(); got != tt.want {
			t.Errorf("text = %q\nwant %q", got, tt.want)
		}
	}
}

// TestREADMEAlerts: the README's Alerts table states core's defaults.
func TestREADMEAlerts(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for field, def := range map[string]string{
		"TicksStoppedAfter": DefaultTicksStoppedAfter.String(),
		"MaxAttempts":       fmt.Sprint(DefaultAlertAttempts),
		"RetryDelay":        DefaultAlertRetryDelay.String(),
		"MaxRetryDelay":     DefaultAlertMaxDelay.String(),
		"BatchSize":         fmt.Sprint(DefaultAlertBatch),
		"Lease":             DefaultAlertLease.String(),
	} {
		_, row, ok := strings.Cut(string(b), "\n| `"+field+"` |")
		row, _, _ = strings.Cut(row, "\n")
		if !ok || !strings.Contains(row, " `"+def+"` |") {
			t.Errorf("README's Alerts row of %s does not say the default %s: %q", field, def, row)
		}
	}
}
