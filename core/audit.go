package core

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Audit and backfill limits (the README's API table states them).
const (
	// MaxAuditWindow bounds AuditParams and BackfillParams' window (366
	// days: a year, leap or not).
	MaxAuditWindow = 366 * 24 * time.Hour
	// MaxAuditSlots bounds the expected slots of an audited window.
	MaxAuditSlots = 100_000
	// MaxBackfillSlots bounds the runs one Backfill creates.
	MaxBackfillSlots = 10_000
)

// SlotOutcome is what became of one expected slot of a schedule (see
// Engine.AuditSlots).
type SlotOutcome string

// The outcomes of a slot. A slot with a run of its own has its run's status
// (success, failed, running, pending, interrupted, cancelled, skipped); a slot
// folded into a later run (slots_covered > 1) is coalesced, or skipped when
// that record is a skipped block; a slot with no run is missed when the
// schedule has moved past it, else due (its tick has not come yet), paused
// (the schedule is paused) or not yet due (in the future).
const (
	SlotSuccess     SlotOutcome = "success"
	SlotFailed      SlotOutcome = "failed"
	SlotRunning     SlotOutcome = "running"
	SlotPending     SlotOutcome = "pending"
	SlotInterrupted SlotOutcome = "interrupted"
	SlotCancelled   SlotOutcome = "cancelled"
	SlotSkipped     SlotOutcome = "skipped"
	SlotCoalesced   SlotOutcome = "coalesced"
	SlotMissed      SlotOutcome = "missed"
	SlotDue         SlotOutcome = "due"
	SlotPaused      SlotOutcome = "paused"
	SlotNotYetDue   SlotOutcome = "not_yet_due"
)

// AuditParams are the inputs of Engine.AuditSlots: a schedule and a window
// [From, To) of at most MaxAuditWindow and MaxAuditSlots slots.
type AuditParams struct {
	Schedule string
	From, To time.Time
}

// SlotAudit is one expected slot and what became of it.
type SlotAudit struct {
	Slot    time.Time   `json:"slot"`
	Outcome SlotOutcome `json:"outcome"`
	// RunID is the run recorded for the slot, or the later run whose
	// slots_covered folds it in (coalesced, skipped blocks); 0 when none.
	RunID int64 `json:"run_id,omitempty"`
	// Covered: RunID is a later run that folds this slot in, not the
	// slot's own run.
	Covered bool `json:"covered,omitempty"`
	// Reason is the run's error text: why it failed or was skipped.
	Reason string `json:"reason,omitempty"`
	// StartedAt and FinishedAt are the slot's own run's latest attempt
	// (nil: not started, not finished, or no run of its own).
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Duration is how long the slot's own run took (0 and false until it
// finished).
func (s SlotAudit) Duration() (time.Duration, bool) {
	if s.StartedAt == nil || s.FinishedAt == nil {
		return 0, false
	}
	return s.FinishedAt.Sub(*s.StartedAt), true
}

// AuditResult is every expected slot of a schedule in a window, oldest
// first, with counts per outcome.
type AuditResult struct {
	Schedule string    `json:"schedule"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	// Now is the clock reading the outcomes were judged at.
	Now time.Time `json:"now"`
	// NextRun is the schedule's next slot (nil: it never fires again).
	NextRun *time.Time          `json:"next_run,omitempty"`
	Slots   []SlotAudit         `json:"slots"`
	Counts  map[SlotOutcome]int `json:"counts"`
}

// Missed is how many slots were missed.
func (a AuditResult) Missed() int { return a.Counts[SlotMissed] }

// BackfillParams are the inputs of Engine.Backfill. DryRun lists what it
// would create and writes nothing.
type BackfillParams struct {
	Schedule string
	From, To time.Time
	DryRun   bool
}

// BackfillResult lists the slots Backfill created runs for (or would, on a
// dry run), oldest first.
type BackfillResult struct {
	Schedule string    `json:"schedule"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	DryRun   bool      `json:"dry_run"`
	// Created counts the runs inserted (on a dry run, that would be).
	Created int `json:"created"`
	// Slots are the slots filled; RunID is 0 on a dry run.
	Slots []SlotAudit `json:"slots"`
}

// checkWindow validates an audit or backfill window before anything is read.
func checkWindow(schedule string, from, to time.Time) error {
	if err := CheckText("schedule", schedule); err != nil {
		return err
	}
	if schedule == "" {
		return invalid("schedule", "", "is required")
	}
	if err := CheckTime("from", from); err != nil {
		return err
	}
	if err := CheckTime("to", to); err != nil {
		return err
	}
	if !to.After(from) {
		return invalid("to", to.UTC().Format(time.RFC3339), "must be after from (%s)", from.UTC().Format(time.RFC3339))
	}
	if to.Sub(from) > MaxAuditWindow {
		return invalid("to", to.UTC().Format(time.RFC3339), "the window must be at most 366 days")
	}
	return nil
}

// AuditSlots lists every expected slot of a schedule in [p.From, p.To),
// from its stored spec and anchor, with what became of it (see
// SlotOutcome), in one range query over its runs. A bad or reversed window,
// one over MaxAuditWindow or MaxAuditSlots slots, is a ValidationError; an
// unknown schedule wraps ErrNotFound.
func (e *Engine) AuditSlots(ctx context.Context, p AuditParams) (AuditResult, error) {
	a, _, err := e.audit(ctx, p.Schedule, p.From, p.To)
	return a, err
}

// audit is AuditSlots, also returning the stored schedule.
func (e *Engine) audit(ctx context.Context, name string, from, to time.Time) (AuditResult, ScheduleRecord, error) {
	if err := checkWindow(name, from, to); err != nil {
		return AuditResult{}, ScheduleRecord{}, err
	}
	from, to = from.UTC(), to.UTC()
	rec, err := e.cfg.Store.GetSchedule(ctx, name)
	if err != nil {
		return AuditResult{}, rec, fmt.Errorf("audit %q: %w", name, err)
	}
	s, err := recordSchedule(&rec)
	if err != nil {
		return AuditResult{}, rec, fmt.Errorf("audit %q: stored spec: %w", name, err)
	}
	slots, err := expectedSlots(s, &rec, from, to, MaxAuditSlots)
	if err != nil {
		return AuditResult{}, rec, err
	}
	now, err := e.now(ctx)
	if err == nil && now.IsZero() {
		now, err = e.cfg.Store.Now(ctx)
	}
	if err != nil {
		return AuditResult{}, rec, fmt.Errorf("audit %q: read clock: %w", name, err)
	}
	runs, err := e.cfg.Store.SlotRuns(ctx, SlotRunsParams{Schedule: name, From: from, To: to, Expected: len(slots)})
	if err != nil {
		return AuditResult{}, rec, fmt.Errorf("audit %q: %w", name, err)
	}
	if rec.NextRun.IsZero() {
		slots = untilLastRun(slots, runs)
	}
	res := AuditResult{Schedule: name, From: from, To: to, Now: now.UTC(), Counts: map[SlotOutcome]int{}}
	if !rec.NextRun.IsZero() {
		next := rec.NextRun.UTC()
		res.NextRun = &next
	}
	res.Slots = judgeSlots(s, slots, runs, to, res.NextRun, res.Now, rec.Paused)
	for _, sl := range res.Slots {
		res.Counts[sl.Outcome]++
	}
	return res, rec, nil
}

// expectedSlots returns the slots in [from, to) of s, the schedule rec
// stores, that its life allows, oldest first: none before its first slot
// (from its anchor, or its start_at and when it was stored) and none after
// its end_at. More than max is a ValidationError.
func expectedSlots(s *Schedule, rec *ScheduleRecord, from, to time.Time, max int) ([]time.Time, error) {
	storedAt := rec.Anchor
	if !s.StartAt.IsZero() && !rec.CreatedAt.IsZero() {
		// The anchor is start_at: the first slot also depends on when the
		// schedule was stored (a start_at in the past starts at the next
		// slot of its grid after that).
		storedAt = rec.CreatedAt
	}
	t := s.FirstSlot(storedAt)
	if !t.IsZero() && t.Before(from) {
		if _, ok := s.spec.(slotCounter); ok {
			// Anchored kinds: count up to from by arithmetic.
			_, _, t = dueSlots(s, t, from.Add(-time.Nanosecond), 0)
		} else {
			// Kinds whose slots do not depend on the anchor (cron, once).
			t = s.NextSlot(from.Add(-time.Nanosecond))
		}
	}
	if rec.EndAt != nil && rec.EndAt.Before(to) {
		to = rec.EndAt.Add(time.Nanosecond) // a slot at end_at is its last
	}
	var out []time.Time
	for ; !t.IsZero() && t.Before(to); t = s.NextSlot(t) {
		if len(out) == max {
			return nil, invalid("to", to.Format(time.RFC3339), "the window holds more than %d slots of the schedule", max)
		}
		out = append(out, t)
	}
	return out, nil
}

// untilLastRun drops the slots after the last of runs (SlotRuns, oldest
// first) for a schedule that never fires again: it completed (a once fired,
// max_runs used up, past end_at) with that run, so no slot after it was
// due, and none is missed.
func untilLastRun(slots []time.Time, runs []SlotRun) []time.Time {
	if len(runs) == 0 {
		return slots[:0]
	}
	last := runs[len(runs)-1].Slot
	n, _ := slices.BinarySearchFunc(slots, last, time.Time.Compare)
	if n < len(slots) && slots[n].Equal(last) {
		n++
	}
	return slots[:n]
}

// judgeSlots gives each expected slot its outcome. runs are the schedule's
// runs in the window and at most one after it, oldest first (SlotRuns): one
// merge walk of the two sorted lists, no index of the slots.
func judgeSlots(s *Schedule, slots []time.Time, runs []SlotRun, to time.Time, next *time.Time, now time.Time, paused bool) []SlotAudit {
	out := make([]SlotAudit, len(slots))
	for i, t := range slots {
		out[i].Slot = t
	}
	// The slots' StartedAt and FinishedAt point into one array rather than
	// two allocations per slot (an audit has up to 100,000).
	times := make([]time.Time, 0, 2*len(runs))
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		times = append(times, t.UTC())
		return &times[len(times)-1]
	}
	// A run covering k slots stands for its own and the k-1 slots before it.
	cover := func(r SlotRun, at int) {
		outcome := SlotCoalesced
		if r.Status == StatusSkipped {
			outcome = SlotSkipped
		}
		for j := max(at-r.SlotsCovered+1, 0); j < min(at, len(out)); j++ {
			if out[j].Outcome == "" {
				out[j] = SlotAudit{Slot: slots[j], Outcome: outcome, RunID: r.ID, Covered: true, Reason: r.Error}
			}
		}
	}
	i := 0
	for _, r := range runs {
		for i < len(slots) && slots[i].Before(r.Slot) {
			i++
		}
		if i < len(slots) && r.Slot.Equal(slots[i]) {
			reason := ""
			if r.Status == StatusSkipped || r.Status == StatusFailed || r.Status == StatusInterrupted {
				reason = r.Error
			}
			out[i] = SlotAudit{Slot: slots[i], Outcome: SlotOutcome(r.Status), RunID: r.ID, Reason: reason,
				StartedAt: at(r.StartedAt), FinishedAt: at(r.FinishedAt)}
			if r.SlotsCovered > 1 {
				cover(r, i)
			}
			continue
		}
		if r.SlotsCovered > 1 && !r.Slot.Before(to) && len(slots) > 0 {
			// The first run after the window: count the slots between.
			first := s.NextSlot(slots[len(slots)-1])
			n, _, _ := dueSlots(s, first, r.Slot.Add(-time.Nanosecond), 0)
			if n < r.SlotsCovered {
				cover(r, len(slots)+n)
			}
		}
	}
	for i := range out {
		if out[i].Outcome != "" {
			continue
		}
		t := out[i].Slot
		switch {
		case next == nil || t.Before(*next):
			out[i].Outcome = SlotMissed
		case t.After(now):
			out[i].Outcome = SlotNotYetDue
		case paused:
			out[i].Outcome = SlotPaused
		default:
			out[i].Outcome = SlotDue
		}
	}
	return out
}

// Backfill creates a pending run (source scheduled, runnable now) for each
// slot of the window that the schedule has passed without a run of its own:
// missed slots and slots folded into a coalesced or skipped record. Slots
// with a run, and slots not yet reached, are left alone; the insert is
// unique per (schedule, slot), so a repeat creates nothing. At most
// MaxBackfillSlots per call (more is a ValidationError); a paused schedule
// wraps ErrConflict, an unknown or orphaned one ErrNotFound. Ticks run the
// created runs as any pending run (in processes that register the task).
func (e *Engine) Backfill(ctx context.Context, p BackfillParams) (BackfillResult, error) {
	a, rec, err := e.audit(ctx, p.Schedule, p.From, p.To)
	if err != nil {
		return BackfillResult{}, fmt.Errorf("backfill: %w", err)
	}
	switch {
	case rec.Orphaned:
		return BackfillResult{}, fmt.Errorf("backfill %q: the schedule was removed from the code (orphaned): %w", p.Schedule, ErrNotFound)
	case rec.Paused:
		return BackfillResult{}, fmt.Errorf("backfill %q: the schedule is paused; resume it first: %w", p.Schedule, ErrConflict)
	}
	res := BackfillResult{Schedule: a.Schedule, From: a.From, To: a.To, DryRun: p.DryRun, Slots: []SlotAudit{}}
	var slots []time.Time
	for _, sl := range a.Slots {
		if sl.Outcome == SlotMissed || sl.Covered {
			slots = append(slots, sl.Slot)
		}
	}
	if len(slots) > MaxBackfillSlots {
		return BackfillResult{}, invalid("to", a.To.Format(time.RFC3339),
			"the window has %d slots to backfill, more than %d: backfill a shorter window", len(slots), MaxBackfillSlots)
	}
	if p.DryRun || len(slots) == 0 {
		for _, t := range slots {
			res.Slots = append(res.Slots, SlotAudit{Slot: t, Outcome: SlotPending})
		}
		res.Created = len(res.Slots)
		return res, nil
	}
	created, err := e.cfg.Store.InsertSlotRuns(ctx, InsertSlotRunsParams{
		Now: a.Now, Schedule: rec.Name, Slots: slots})
	if err != nil {
		return BackfillResult{}, fmt.Errorf("backfill %q: %w", p.Schedule, err)
	}
	for _, r := range created {
		res.Slots = append(res.Slots, SlotAudit{Slot: r.Slot, Outcome: SlotPending, RunID: r.ID})
	}
	res.Created = len(res.Slots)
	return res, nil
}
