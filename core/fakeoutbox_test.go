package core

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The fake store's outbox: what the SQL statements do, kept in memory with
// the same keys, so core's alert part can be tested without a database.

// beginTickAlerts fills ts's alert fields: the due outbox rows and the end
// of the latest tick that ended without error.
func (f *fakeStore) beginTickAlerts(ts *TickStart) {
	for _, o := range f.outbox {
		if o.NextAttempt != nil && !o.NextAttempt.After(ts.Now) {
			ts.DueAlerts++
		}
	}
	for _, e := range f.endTicks {
		if e.Error == "" && (ts.LastTickFinished == nil || e.FinishedAt.After(*ts.LastTickFinished)) {
			t := e.FinishedAt
			ts.LastTickFinished = &t
		}
	}
}

// addAlert writes an outbox row unless key exists; the lock is held.
func (f *fakeStore) addAlert(now time.Time, kind AlertKind, key string, body AlertBody) bool {
	for _, o := range f.outbox {
		if o.Key == key {
			return false
		}
	}
	js, _ := json.Marshal(body)
	due := now
	f.outbox = append(f.outbox, &OutboxAlert{ID: int64(len(f.outbox) + 1), Kind: kind, Key: key, Body: js, NextAttempt: &due, CreatedAt: now})
	return true
}

func alertRun(r *Run) AlertRun {
	return AlertRun{ID: r.ID, Task: r.Task, Schedule: r.Schedule, Slot: r.Slot, Status: r.Status, Attempt: r.Attempt, SlotsCovered: r.SlotsCovered, Error: r.Error}
}

func (f *fakeStore) alertFailed(r *Run, at time.Time) {
	f.addAlert(at, AlertRunFailed, fmt.Sprintf("run-failed:%d:%d", r.ID, r.Attempt), AlertBody{Runs: []AlertRun{alertRun(r)}})
}

func (f *fakeStore) alertMissed(now time.Time, runs []Run) {
	var body AlertBody
	var first int64
	for i := range runs {
		r := &runs[i]
		if r.Status != StatusSkipped && r.SlotsCovered <= 1 {
			continue
		}
		if first == 0 {
			first = r.ID
		}
		body.Slots += r.SlotsCovered
		if r.Status != StatusSkipped {
			body.Slots--
		}
		body.Runs = append(body.Runs, alertRun(r))
	}
	if first != 0 {
		f.addAlert(now, AlertSlotsMissed, fmt.Sprintf("slots-missed:%d", first), body)
	}
}

func (f *fakeStore) InsertAlert(ctx context.Context, p InsertAlertParams) (bool, error) {
	if err := f.enter(ctx, "InsertAlert"); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var body AlertBody
	if err := json.Unmarshal(p.Body, &body); err != nil {
		return false, err
	}
	return f.addAlert(p.Now, p.Kind, p.Key, body), nil
}

func (f *fakeStore) ClaimAlerts(ctx context.Context, p ClaimAlertsParams) ([]OutboxAlert, error) {
	if err := f.enter(ctx, "ClaimAlerts"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []OutboxAlert
	for _, o := range f.outbox {
		if len(out) == p.Limit || o.NextAttempt == nil || o.NextAttempt.After(p.Now) {
			continue
		}
		lease := p.LeaseUntil
		o.Attempts, o.ClaimedBy, o.NextAttempt = o.Attempts+1, p.TickID, &lease
		out = append(out, *o)
	}
	return out, nil
}

func (f *fakeStore) FinishAlerts(ctx context.Context, p FinishAlertsParams) (int, error) {
	if err := f.enter(ctx, "FinishAlerts"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range p.Results {
		o := f.outbox[r.ID-1]
		if o.ClaimedBy != p.TickID || o.Attempts != r.Attempts || o.DeliveredAt != nil {
			continue
		}
		switch {
		case r.Delivered:
			now := p.Now
			o.DeliveredAt, o.NextAttempt, o.LastError = &now, nil, ""
		case r.Released:
			at := r.RetryAt
			o.NextAttempt, o.Attempts = &at, o.Attempts-1
		default:
			o.NextAttempt, o.LastError = nil, r.Error
			if !r.RetryAt.IsZero() {
				at := r.RetryAt
				o.NextAttempt = &at
			}
		}
		n++
	}
	return n, nil
}

// alerts returns copies of the outbox rows, oldest first.
func (f *fakeStore) alerts() []OutboxAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]OutboxAlert, len(f.outbox))
	for i, o := range f.outbox {
		out[i] = *o
	}
	return out
}
