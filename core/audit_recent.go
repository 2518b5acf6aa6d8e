package core

import (
	"context"
	"fmt"
	"time"
)

// MaxRecentSlots bounds RecentSlotsParams.Last.
const MaxRecentSlots = 100

// RecentSlotsParams are the inputs of Engine.RecentSlots.
type RecentSlotsParams struct {
	// Schedules are stored records, as ListSchedules returns them (at most
	// MaxListLimit): their spec, anchor, next run and paused state are
	// used as given, not read again.
	Schedules []ScheduleRecord
	// Last is how many of each schedule's latest slots to judge,
	// 1..MaxRecentSlots.
	Last int
}

// RecentSlots judges the last p.Last slots of each schedule that are not
// in the future (as AuditSlots would: success, failed, coalesced, missed,
// due, …), oldest first, keyed by schedule name. It reads the clock once
// and the runs of every schedule in one Store.SlotRunsMany call, so a page
// of schedules costs one query whatever its length. A schedule whose
// stored spec cannot be read gets no entry.
func (e *Engine) RecentSlots(ctx context.Context, p RecentSlotsParams) (map[string][]SlotAudit, error) {
	switch {
	case p.Last < 1 || p.Last > MaxRecentSlots:
		return nil, invalid("last", fmt.Sprint(p.Last), "must be from 1 to %d", MaxRecentSlots)
	case len(p.Schedules) > MaxListLimit:
		return nil, invalid("schedules", fmt.Sprint(len(p.Schedules)), "at most %d at once", MaxListLimit)
	}
	now, err := e.now(ctx)
	if err == nil && now.IsZero() {
		now, err = e.cfg.Store.Now(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("recent slots: read clock: %w", err)
	}
	now = now.UTC()
	type item struct {
		rec   *ScheduleRecord
		s     *Schedule
		slots []time.Time
	}
	items := make([]item, 0, len(p.Schedules))
	var windows []SlotRunsParams
	for i := range p.Schedules {
		rec := &p.Schedules[i]
		s, err := recordSchedule(rec)
		if err != nil {
			continue // judged nowhere else either: the audit reports the error
		}
		slots := lastSlots(s, rec.Anchor, now, p.Last)
		if len(slots) == 0 {
			continue
		}
		items = append(items, item{rec: rec, s: s, slots: slots})
		windows = append(windows, SlotRunsParams{Schedule: rec.Name, From: slots[0], To: slots[len(slots)-1].Add(time.Microsecond)})
	}
	out := make(map[string][]SlotAudit, len(items))
	if len(items) == 0 {
		return out, nil
	}
	runs, err := e.cfg.Store.SlotRunsMany(ctx, SlotRunsManyParams{Windows: windows})
	if err != nil {
		return nil, fmt.Errorf("recent slots: %w", err)
	}
	bySchedule := make(map[string][]SlotRun, len(items))
	for _, r := range runs {
		bySchedule[r.Schedule] = append(bySchedule[r.Schedule], r)
	}
	for _, it := range items {
		var next *time.Time
		if !it.rec.NextRun.IsZero() {
			t := it.rec.NextRun.UTC()
			next = &t
		}
		to := it.slots[len(it.slots)-1].Add(time.Microsecond)
		out[it.rec.Name] = judgeSlots(it.s, it.slots, bySchedule[it.rec.Name], to, next, now, it.rec.Paused)
	}
	return out, nil
}

// lastSlots returns the last n slots of s anchored at anchor that are not
// after now, oldest first. Kinds that count their slots do it by
// arithmetic; others (cron, once) are walked over a look-back window that
// starts at about n periods and grows fourfold until it holds n slots, reaches
// the first slot or spans MaxAuditWindow.
func lastSlots(s *Schedule, anchor, now time.Time, n int) []time.Time {
	first := s.FirstSlot(anchor)
	if first.IsZero() || first.After(now) {
		return nil
	}
	if _, ok := s.spec.(slotCounter); ok {
		_, tail, _ := dueSlots(s, first, now, n)
		return tail
	}
	span := time.Hour
	if a := s.NextSlot(now); !a.IsZero() {
		if b := s.NextSlot(a); !b.IsZero() {
			span = max(b.Sub(a)*time.Duration(n+1), time.Minute)
		}
	}
	for {
		start, from := first, now.Add(-span)
		if first.Before(from) {
			start = s.NextSlot(from.Add(-time.Nanosecond))
		}
		count, tail, _ := dueSlots(s, start, now, n)
		if count >= n || !first.Before(from) || span >= MaxAuditWindow {
			return tail
		}
		span = min(span*4, MaxAuditWindow)
	}
}
