package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// notifier records the alerts it receives; fail, when set, decides the
// error of each call (1-based).
type notifier struct {
	mu     sync.Mutex
	alerts []core.Alert
	byKey  map[string]int
	fail   func(call int) error
}

func (n *notifier) Notify(_ context.Context, a core.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byKey == nil {
		n.byKey = map[string]int{}
	}
	n.byKey[a.Key]++
	n.alerts = append(n.alerts, a)
	if n.fail != nil {
		return n.fail(len(n.alerts))
	}
	return nil
}

func (n *notifier) got() []core.Alert {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]core.Alert(nil), n.alerts...)
}

// alerting turns alerts on with n.
func alerting(n core.Notifier, adjust ...func(*core.Alerts)) func(*core.Config) {
	return func(c *core.Config) {
		c.Alerts.Notifier = n
		for _, f := range adjust {
			f(&c.Alerts)
		}
	}
}

// outbox returns every outbox row, newest first.
func (h *harness) outbox() []core.OutboxAlert {
	h.t.Helper()
	rows, err := h.store.ListAlerts(h.t.Context(), core.ListAlertsParams{Limit: 500})
	if err != nil {
		h.t.Fatalf("list alerts: %v", err)
	}
	return rows
}

// testAlertRunFailed: a run that fails for good writes one run_failed
// alert in FinishRuns' transaction, delivered by the same tick with its
// structured fields; without a notifier nothing is written.
func testAlertRunFailed(t *testing.T, h *harness) {
	x := newExecs()
	fail := x.task(func(context.Context, core.RunInfo) error { return errFlaky })
	reg := core.NewRegistry()
	mustSchedule(t, reg, "bad", fail, core.Every(time.Minute))

	// Alerts off: a failure writes nothing.
	off := h.engine(reg)
	h.tick(off)
	h.set(minutes(1))
	if rep := h.tick(off); rep.Failed != 1 {
		t.Fatalf("tick without alerts: %+v, want 1 failed", rep)
	}
	if rows := h.outbox(); len(rows) != 0 {
		t.Fatalf("alerts off wrote %d outbox rows", len(rows))
	}

	n := &notifier{}
	e := h.engine(reg, alerting(n))
	h.set(minutes(2))
	rep := h.tick(e)
	if rep.Failed != 1 || rep.AlertsDelivered != 1 || rep.AlertsFailed != 0 {
		t.Fatalf("tick at +2m: %+v, want 1 failed run and 1 alert delivered", rep)
	}
	got := n.got()
	if len(got) != 1 {
		t.Fatalf("notifier got %d alerts, want 1: %+v", len(got), got)
	}
	a := got[0]
	badRuns := h.scheduleRuns("bad")
	bad := badRuns[len(badRuns)-1]
	if a.Kind != core.AlertRunFailed || a.Key != fmt.Sprintf("run-failed:%d:1", bad.ID) || a.Attempt != 1 || len(a.Runs) != 1 {
		t.Fatalf("alert = %+v, want run_failed for run %d", a, bad.ID)
	}
	r := a.Runs[0]
	if r.ID != bad.ID || r.Task != "bad" || r.Schedule != "bad" || r.Slot == nil || !r.Slot.Equal(at(minutes(2))) ||
		r.Status != core.StatusFailed || r.Attempt != 1 || r.Error != errFlaky.Error() {
		t.Fatalf("alert run = %+v, want run %d of bad at +2m failed with %q", r, bad.ID, errFlaky)
	}
	if !a.At.Equal(*bad.FinishedAt) || !strings.Contains(a.Text, "bad") || !strings.Contains(a.Text, errFlaky.Error()) {
		t.Fatalf("alert at %v text %q, want the run's finish %v and its task and error", a.At, a.Text, bad.FinishedAt)
	}
	rows := h.outbox()
	if len(rows) != 1 || rows[0].DeliveredAt == nil || rows[0].NextAttempt != nil || rows[0].Attempts != 1 || rows[0].LastError != "" {
		t.Fatalf("outbox = %+v, want one delivered row", rows)
	}
	// The same tick time again: nothing new, nothing sent twice.
	if rep := h.tick(e); rep.AlertsDelivered != 0 {
		t.Fatalf("second tick at +2m delivered %d alerts", rep.AlertsDelivered)
	}
	if len(n.got()) != 1 {
		t.Fatalf("notifier got %d alerts, want 1", len(n.got()))
	}
}

// testAlertRetry: a failed delivery is retried after RetryDelay, doubling,
// and given up after MaxAttempts with its last error kept.
func testAlertRetry(t *testing.T, h *harness) {
	reg := core.NewRegistry()
	mustSchedule(t, reg, "bad", newExecs().task(func(context.Context, core.RunInfo) error { return errFlaky }), core.Every(time.Hour))
	n := &notifier{fail: func(call int) error {
		if call == 1 {
			return errors.New("status 500")
		}
		return nil
	}}
	e := h.engine(reg, alerting(n, func(a *core.Alerts) { a.RetryDelay, a.TicksStoppedAfter = time.Minute, 24*time.Hour }))
	h.tick(e)
	h.set(time.Hour)
	if rep := h.tick(e); rep.Failed != 1 || rep.AlertsFailed != 1 || rep.AlertsDelivered != 0 {
		t.Fatalf("tick at +1h: %+v, want 1 failed run and 1 failed delivery", rep)
	}
	row := h.outbox()[0]
	if row.DeliveredAt != nil || row.NextAttempt == nil || row.Attempts != 1 || row.LastError != "status 500" {
		t.Fatalf("after a failed delivery: %+v, want a retry with the error", row)
	}
	within(t, "retry at", *row.NextAttempt, at(time.Hour+time.Minute), at(time.Hour+time.Minute+10*time.Second))
	h.set(time.Hour + 30*time.Second)
	if rep := h.tick(e); rep.AlertsDelivered+rep.AlertsFailed != 0 {
		t.Fatalf("tick before the retry is due: %+v", rep)
	}
	h.set(time.Hour + 2*time.Minute)
	if rep := h.tick(e); rep.AlertsDelivered != 1 {
		t.Fatalf("tick after the retry is due: %+v, want 1 delivered", rep)
	}
	row = h.outbox()[0]
	if row.DeliveredAt == nil || row.NextAttempt != nil || row.Attempts != 2 || row.LastError != "" {
		t.Fatalf("after the retry: %+v, want delivered on attempt 2", row)
	}
	if got := n.got(); len(got) != 2 || got[0].Key != got[1].Key || got[1].Attempt != 2 {
		t.Fatalf("deliveries = %+v, want the same alert twice, attempt 2 last", got)
	}

	// Give up: every delivery fails, two attempts allowed.
	down := &notifier{fail: func(int) error { return errors.New("connection refused") }}
	g := h.engine(reg, alerting(down, func(a *core.Alerts) { a.RetryDelay, a.MaxAttempts, a.TicksStoppedAfter = time.Minute, 2, 24*time.Hour }))
	h.set(2 * time.Hour)
	h.tick(g)
	h.set(2*time.Hour + 5*time.Minute)
	h.tick(g)
	h.set(3*time.Hour - time.Minute)
	h.tick(g)
	row = h.outbox()[0]
	if row.DeliveredAt != nil || row.NextAttempt != nil || row.Attempts != 2 || row.LastError != "connection refused" {
		t.Fatalf("given up: %+v, want 2 attempts, not due, the last error kept", row)
	}
	if got := down.got(); len(got) != 2 {
		t.Fatalf("deliveries of a given-up alert = %d, want 2", len(got))
	}
}

// testAlertRace: ticks of several processes racing over the same due
// alerts deliver each exactly once.
func testAlertRace(t *testing.T, h *harness) {
	ctx := t.Context()
	const alerts = 24
	for i := range alerts {
		body, _ := json.Marshal(core.AlertBody{Slots: i + 1})
		created, err := h.store.InsertAlert(ctx, core.InsertAlertParams{Now: h.now(), Kind: core.AlertSlotsMissed, Key: fmt.Sprintf("race:%d", i), Body: body})
		if err != nil || !created {
			t.Fatalf("insert alert %d: %v, %v", i, created, err)
		}
	}
	if created, err := h.store.InsertAlert(ctx, core.InsertAlertParams{Now: h.now(), Kind: core.AlertSlotsMissed, Key: "race:0", Body: []byte(`{}`)}); err != nil || created {
		t.Fatalf("insert a duplicate key: created %v, %v; want nothing written", created, err)
	}
	n := &notifier{}
	var engines []*core.Engine
	for range 4 {
		engines = append(engines, h.engine(core.NewRegistry(), alerting(n, func(a *core.Alerts) { a.BatchSize = 5 })))
	}
	for round := 0; round < 4 && len(n.got()) < alerts; round++ {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() {
				if _, err := e.Tick(ctx); err != nil {
					t.Errorf("tick: %v", err)
				}
			})
		}
		wg.Wait()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.byKey) != alerts || len(n.alerts) != alerts {
		t.Fatalf("delivered %d alerts with %d keys, want %d each once", len(n.alerts), len(n.byKey), alerts)
	}
	for k, c := range n.byKey {
		if c != 1 {
			t.Errorf("alert %s delivered %d times", k, c)
		}
	}
	for _, row := range h.outbox() {
		if row.DeliveredAt == nil || row.Attempts != 1 {
			t.Errorf("row %s: %+v, want delivered on its first attempt", row.Key, row)
		}
	}

	// Pruning: finished alerts created before the cut-off go, 100 at most
	// per call; a pending one stays.
	if _, err := h.store.InsertAlert(ctx, core.InsertAlertParams{Now: h.now(), Kind: core.AlertSlotsMissed, Key: "pending", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.FinishAlerts(ctx, core.FinishAlertsParams{Now: h.now(), TickID: "tick_prune", PruneBefore: h.now()}); err != nil {
		t.Fatal(err)
	}
	if rows := h.outbox(); len(rows) != alerts+1 {
		t.Fatalf("pruned with a cut-off at their creation: %d rows left, want %d", len(rows), alerts+1)
	}
	if _, err := h.store.FinishAlerts(ctx, core.FinishAlertsParams{Now: h.now(), TickID: "tick_prune", PruneBefore: h.now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if rows := h.outbox(); len(rows) != 1 || rows[0].Key != "pending" {
		t.Fatalf("after pruning: %+v, want the pending alert only", rows)
	}
}

// testAlertSlotsMissed: skipped and coalesced slots of one claim batch give
// one slots_missed alert; a lease that expires with no attempt left gives a
// run_failed alert.
func testAlertSlotsMissed(t *testing.T, h *harness) {
	ctx := t.Context()
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "skipper", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireSkip))
	mustSchedule(t, reg, "coalescer", x.task(nil), core.Every(time.Minute))
	mustRegister(t, reg, "manual", x.task(nil))
	n := &notifier{}
	e := h.engine(reg, alerting(n, func(a *core.Alerts) { a.TicksStoppedAfter = time.Hour }))
	h.tick(e)
	h.set(minutes(1))
	h.tick(e)
	if len(n.got()) != 0 {
		t.Fatalf("alerts on time: %+v", n.got())
	}
	h.set(minutes(10)) // +2m..+10m due: 9 slots each
	rep := h.tick(e)
	got := n.got()
	if rep.Skipped != 1 || len(got) != 1 || got[0].Kind != core.AlertSlotsMissed {
		t.Fatalf("tick at +10m: %+v, alerts %+v; want one slots_missed alert", rep, got)
	}
	a := got[0]
	// skipper: 8 slots skipped (+2m..+9m) and +10m runs; coalescer: 9
	// slots in one run, 8 of them missed.
	if a.Slots != 16 || len(a.Runs) != 2 || a.MoreRuns != 0 {
		t.Fatalf("slots_missed = %+v, want 16 slots over 2 runs", a)
	}
	for _, r := range a.Runs {
		switch {
		case r.Schedule == "skipper" && r.Status == core.StatusSkipped && r.SlotsCovered == 8 && strings.Contains(r.Error, "misfire"):
		case r.Schedule == "coalescer" && r.Status == core.StatusRunning && r.SlotsCovered == 9:
		default:
			t.Errorf("unexpected run in the alert: %+v", r)
		}
	}
	if !strings.Contains(a.Text, "skipper") || !strings.Contains(a.Text, "16 slot") {
		t.Errorf("text %q", a.Text)
	}

	// A lease that expires with no attempt left: the expiry writes the alert.
	run, _, err := h.store.InsertRun(ctx, core.InsertRunParams{Now: h.now(), Task: "elsewhere", Source: core.SourceManual, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.store.ClaimRuns(ctx, core.ClaimRunsParams{Now: h.now(), TickID: "tick_dead", Limit: 1, LeaseUntil: at(minutes(10) + 30*time.Second), Tasks: []string{"elsewhere"}}); err != nil || len(res.Runs) != 1 {
		t.Fatalf("claim: %+v, %v", res, err)
	}
	h.set(minutes(11))
	if rep := h.tick(e); rep.Failed != 1 || rep.AlertsDelivered != 1 {
		t.Fatalf("tick after the lease expired: %+v, want 1 failed, 1 alert", rep)
	}
	got = n.got()
	last := got[len(got)-1]
	if last.Kind != core.AlertRunFailed || last.Key != fmt.Sprintf("run-failed:%d:1", run.ID) || len(last.Runs) != 1 ||
		!strings.Contains(last.Runs[0].Error, "lease expired") || !last.At.Equal(at(minutes(11))) {
		t.Fatalf("expiry alert = %+v", last)
	}
}

// testAlertTicksStopped: the first tick after a gap (no tick finished)
// longer than TicksStoppedAfter writes one ticks_stopped alert for it,
// whatever the number of ticks that see it.
func testAlertTicksStopped(t *testing.T, h *harness) {
	n := &notifier{}
	reg := core.NewRegistry()
	e := h.engine(reg, alerting(n, func(a *core.Alerts) { a.TicksStoppedAfter = 5 * time.Minute }))
	h.tick(e) // the first tick ever: no gap
	h.set(minutes(1))
	h.tick(e)
	h.set(minutes(6)) // exactly the threshold: no gap
	h.tick(e)
	if len(n.got()) != 0 {
		t.Fatalf("alerts without a gap: %+v", n.got())
	}
	h.set(minutes(37))
	rep := h.tick(e)
	got := n.got()
	if rep.AlertsDelivered != 1 || len(got) != 1 || got[0].Kind != core.AlertTicksStopped || got[0].Gap == nil {
		t.Fatalf("tick after a 31m gap: %+v, alerts %+v; want one ticks_stopped", rep, got)
	}
	g := got[0].Gap
	within(t, "last tick finished", g.LastTickFinished, at(minutes(6)), at(minutes(6)+10*time.Second))
	if !g.ResumedAt.Equal(at(minutes(37))) || g.Seconds != g.ResumedAt.Sub(g.LastTickFinished).Seconds() {
		t.Fatalf("gap = %+v, want +6m to +37m", g)
	}
	if !strings.Contains(got[0].Text, "31m0s") {
		t.Errorf("text %q", got[0].Text)
	}
	// Another process ticking at the same time: no second alert.
	h.tick(h.engine(reg, alerting(n)))
	if len(n.got()) != 1 {
		t.Fatalf("alerts after a second tick: %d", len(n.got()))
	}
}

// testAlertOutage: 30 minutes without ticks, then two processes tick at
// once: exactly one ticks_stopped and one slots_missed alert, each
// delivered once, and nothing more on the following minutes.
func testAlertOutage(t *testing.T, h *harness) {
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "coalesced", x.task(nil), core.Every(time.Minute))
	mustSchedule(t, reg, "skipped", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireSkip))
	n := &notifier{}
	a, b := h.engine(reg, alerting(n)), h.engine(reg, alerting(n))
	for m := 0; m <= 5; m++ {
		h.set(minutes(m))
		h.tick(a)
	}
	h.set(minutes(36))
	var wg sync.WaitGroup
	for _, e := range []*core.Engine{a, b} {
		wg.Go(func() {
			if _, err := e.Tick(t.Context()); err != nil {
				t.Errorf("tick: %v", err)
			}
		})
	}
	wg.Wait()
	for m := 37; m <= 40; m++ {
		h.set(minutes(m))
		h.tick(a)
		h.tick(b)
	}
	kinds := map[core.AlertKind]int{}
	for _, al := range n.got() {
		kinds[al.Kind]++
		if al.Kind == core.AlertSlotsMissed && al.Slots != 2*30 {
			t.Errorf("slots_missed counts %d slots, want 60 (+6m..+35m of each schedule; +36m runs)", al.Slots)
		}
	}
	if len(n.got()) != 2 || kinds[core.AlertTicksStopped] != 1 || kinds[core.AlertSlotsMissed] != 1 {
		t.Fatalf("alerts after the outage: %v (%d deliveries), want one ticks_stopped and one slots_missed", kinds, len(n.got()))
	}
	for k, c := range n.byKey {
		if c != 1 {
			t.Errorf("alert %s delivered %d times", k, c)
		}
	}
}
