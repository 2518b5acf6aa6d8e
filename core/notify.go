package core

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// The tick's alert part (see Alerts): noteTickGap writes the ticks_stopped
// alert of a gap the tick ends, and deliverAlerts delivers due outbox rows
// after the tick's work. The other alerts are written by the store in the
// transactions of their events (ClaimDue, ClaimRuns, FinishRuns).

// alerting reports whether alerts are on.
func (e *Engine) alerting() bool { return e.cfg.Alerts.Notifier != nil }

// noteTickGap writes a ticks_stopped alert when the latest tick that
// finished without error finished more than TicksStoppedAfter before this
// one started. Its key is that instant, so every tick that sees the same
// gap writes the same row once; a failed write is the tick's error, so the
// tick is not recorded as finished without error and the next one writes it.
// Finishes, not starts, are compared: a long tick is not a gap.
func (e *Engine) noteTickGap(ctx context.Context, ts TickStart, tt tickTime, tl *tally, log *slog.Logger) {
	if !e.alerting() || ts.LastTickFinished == nil {
		return
	}
	last := ts.LastTickFinished.UTC()
	gap := tt.now.Sub(last)
	if gap <= e.cfg.Alerts.TicksStoppedAfter {
		return
	}
	body, _ := json.Marshal(AlertBody{Gap: &AlertGap{LastTickFinished: last, ResumedAt: tt.now, Seconds: gap.Seconds()}}) // cannot fail
	key := "ticks-stopped:" + last.Format(time.RFC3339Nano)
	created, err := e.cfg.Store.InsertAlert(ctx, InsertAlertParams{Now: tt.now, Kind: AlertTicksStopped, Key: key, Body: body})
	if err != nil {
		log.Error("record ticks-stopped alert failed", "error", err)
		tl.fail("record ticks-stopped alert", err)
		return
	}
	if created {
		log.Warn("ticks stopped arriving", "last_tick_finished", last, "gap_seconds", gap.Seconds())
	}
	tl.noteGap()
}

// deliverAlerts delivers a batch of due alerts when some are due (BeginTick
// counted them) or this tick may have written some, while the tick has
// time. A store error is logged, not the tick's error: the rows stay
// claimed until their lease ends, and a later tick delivers them.
func (e *Engine) deliverAlerts(ctx context.Context, ts TickStart, tl *tally, tt tickTime, tickID string, log *slog.Logger) {
	if !e.alerting() || (ts.DueAlerts == 0 && !tl.alertWorthy()) || !tt.enough() || ctx.Err() != nil {
		return
	}
	a := &e.cfg.Alerts
	now := tt.at()
	claimed, err := e.cfg.Store.ClaimAlerts(ctx, ClaimAlertsParams{Now: now, TickID: tickID, Limit: a.BatchSize, LeaseUntil: now.Add(a.Lease)})
	if err != nil {
		log.Warn("claim alerts failed", "error", err)
		return
	}
	if len(claimed) == 0 {
		return
	}
	results := make([]AlertResult, 0, len(claimed))
	delivered, failed := 0, 0
	for _, o := range claimed {
		res := AlertResult{ID: o.ID, Attempts: o.Attempts}
		if !tt.enough() || ctx.Err() != nil {
			res.Released, res.RetryAt = true, tt.at()
			results = append(results, res)
			continue
		}
		err := e.notify(ctx, tt, o)
		switch {
		case err == nil:
			res.Delivered = true
			delivered++
		case o.Attempts >= a.MaxAttempts:
			res.Error = firstLine(err.Error(), 1000)
			failed++
			log.Error("alert given up", "alert_id", o.ID, "kind", o.Kind, "key", o.Key, "attempts", o.Attempts, "error", err)
		default:
			res.Error, res.RetryAt = firstLine(err.Error(), 1000), a.retryAt(tt.at(), o.Attempts)
			failed++
			log.Warn("alert delivery failed; retried later", "alert_id", o.ID, "kind", o.Kind, "attempts", o.Attempts, "retry_at", res.RetryAt, "error", err)
		}
		results = append(results, res)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// Finished alerts are kept as long as failed runs (Retention.FailedRuns).
	fin := FinishAlertsParams{Now: tt.at(), TickID: tickID, Results: results, PruneBefore: before(tt.now, e.cfg.Retention.FailedRuns)}
	if _, err := e.cfg.Store.FinishAlerts(fctx, fin); err != nil {
		log.Warn("record alert deliveries failed; they are claimed again after their lease", "error", err)
	}
	tl.alerted(delivered, failed)
}

// notify sends one alert under the tick's attempt deadline; a notifier's
// panic is its error.
func (e *Engine) notify(ctx context.Context, tt tickTime, o OutboxAlert) (err error) {
	al, err := o.alert()
	if err != nil {
		return err
	}
	nctx, cancel := context.WithDeadline(ctx, tt.attemptDeadline())
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("notifier panicked: %v", p)
		}
	}()
	return e.cfg.Alerts.Notifier.Notify(nctx, al)
}

// noteGap notes that the tick wrote a ticks_stopped alert.
func (t *tally) noteGap() {
	t.mu.Lock()
	t.gap = true
	t.mu.Unlock()
}

// alertWorthy reports whether the tick recorded events that write alerts:
// failed, skipped or coalesced runs, or a gap.
func (t *tally) alertWorthy() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gap || t.missed > 0 || t.rep.Failed > 0 || t.rep.Skipped > 0
}

// alerted counts deliveries.
func (t *tally) alerted(delivered, failed int) {
	t.mu.Lock()
	t.rep.AlertsDelivered += delivered
	t.rep.AlertsFailed += failed
	t.mu.Unlock()
}
