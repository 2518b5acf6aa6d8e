package core

import (
	"fmt"
	"hash/fnv"
	"time"
)

// maxSlotWalk bounds how many slots one plan enumerates for a kind that is
// walked slot by slot (cron); past it the remaining missed slots are counted
// as one block (a minutely schedule after a two-year outage).
const maxSlotWalk = 1_000_000

// dueSlots enumerates the slots of s from first (inclusive) up to now
// (inclusive). It returns how many there are, the last keep of them (oldest
// first), and the slot after the last due one. Kinds that can count their
// slots (a slotCounter, such as Interval) do it in O(keep); others are walked
// with Next.
func dueSlots(s *Schedule, first, now time.Time, keep int) (n int, tail []time.Time, next time.Time) {
	if first.After(now) {
		return 0, nil, first
	}
	if c, ok := s.spec.(slotCounter); ok {
		return c.dueSlots(first, now, keep)
	}
	ring := make([]time.Time, 0, keep)
	t := first
	for !t.IsZero() && !t.After(now) {
		n++
		if keep > 0 {
			if len(ring) == keep {
				copy(ring, ring[1:])
				ring = ring[:keep-1]
			}
			ring = append(ring, t)
		}
		if n >= maxSlotWalk {
			// Give up walking: jump to the first slot after now.
			return n, ring, s.spec.Next(now)
		}
		t = s.spec.Next(t)
	}
	return n, ring, t
}

// plan decides, for one due schedule, which runs to record and the next
// next_run, by the misfire and overlap policies and the row's bounds: no slot
// before StartAt or after EndAt, and never more runs that are not skipped
// than RemainingRuns. A schedule with no slot left (a once fired, past
// EndAt, RemainingRuns used up) gets a zero NextRun: done. It is pure.
func plan(s *Schedule, d *DueSchedule, now time.Time, grace time.Duration, arena *runArena) SchedulePlan {
	first := d.NextRun
	if d.StartAt != nil {
		first = slotAtOrAfter(s, first, *d.StartAt)
	}
	until := now
	if d.EndAt != nil && d.EndAt.Before(until) {
		until = *d.EndAt
	}
	keep := 2
	if s.Misfire == MisfireCatchup {
		keep = s.MaxCatchup + 1
	}
	n, tail, next := dueSlots(s, first, until, keep)
	if d.EndAt != nil && next.After(*d.EndAt) {
		next = time.Time{}
	}
	p := SchedulePlan{Schedule: s.Name, NextRun: next}
	remaining := -1 // unlimited
	if d.RemainingRuns != nil {
		remaining = max(*d.RemainingRuns, 0)
		if remaining == 0 { // used up already (not expected: done rows are not due)
			p.NextRun, p.RemainingRuns = time.Time{}, new(0)
			return p
		}
	}
	if n == 0 || len(tail) == 0 {
		return p
	}
	p.Runs = planRuns(s, d, now, grace, n, tail, remaining, arena)
	if remaining >= 0 {
		for _, r := range p.Runs {
			if r.Status != StatusSkipped {
				remaining--
			}
		}
		// Set apart: &remaining for every plan moved remaining to the heap
		// for every plan, those without max_runs too.
		p.RemainingRuns = new(remaining)
		if remaining == 0 {
			p.NextRun = time.Time{}
		}
	}
	return p
}

// runArena is the storage of one batch's single-run plans (most plans):
// one allocation per batch rather than one per plan. nil: none.
type runArena struct{ runs []PlannedRun }

// one returns r as a slice of one run, from a's storage when it has room;
// its capacity is one, so an append copies it rather than writing over
// the next plan's run.
func (a *runArena) one(r PlannedRun) []PlannedRun {
	if a == nil || len(a.runs) == cap(a.runs) {
		return []PlannedRun{r}
	}
	a.runs = append(a.runs, r)
	k := len(a.runs)
	return a.runs[k-1 : k : k]
}

// planRuns is plan's choice of runs for the n due slots of s whose last
// ones are tail (oldest first), at most remaining of them not skipped
// (-1: no bound).
func planRuns(s *Schedule, d *DueSchedule, now time.Time, grace time.Duration, n int, tail []time.Time, remaining int, arena *runArena) []PlannedRun {
	latest := tail[len(tail)-1]
	var ov RunOverrides
	if d.api() {
		ov = d.overrides()
	}
	mk := func(slot time.Time, covered int, st Status, msg string) PlannedRun {
		r := PlannedRun{
			Schedule: s.Name, Task: s.Task.Name, DisplayName: s.Task.DisplayName,
			Slot: slot, SlotsCovered: covered, Status: st, RunAt: now,
			MaxAttempts: s.Task.Retry.MaxAttempts(), Error: msg,
		}
		if d.api() {
			r.Payload, r.Overrides = d.Payload, ov
		}
		if st == StatusRunning && s.Jitter > 0 {
			r.Status, r.RunAt = StatusPending, slot.Add(jitter(s.Name, slot, s.Jitter))
		}
		return r
	}
	span := func(k int) string {
		if k <= 1 {
			return "1 slot"
		}
		return fmt.Sprintf("%d slots", k)
	}

	if d.Active && s.Overlap == OverlapSkip {
		return []PlannedRun{mk(latest, n, StatusSkipped,
			fmt.Sprintf("overlap: the previous run still holds its lease; %s skipped (policy skip)", span(n)))}
	}
	late := now.Sub(latest) > grace
	var runs []PlannedRun
	switch s.Misfire {
	case MisfireSkip:
		if late {
			return []PlannedRun{mk(latest, n, StatusSkipped,
				fmt.Sprintf("misfire: %s missed, the latest %s late (policy skip)", span(n), now.Sub(latest).Round(time.Second)))}
		}
		if n == 1 {
			return arena.one(mk(latest, 1, StatusRunning, ""))
		}
		runs = append(runs, mk(tail[len(tail)-2], n-1, StatusSkipped,
			fmt.Sprintf("misfire: %s missed (policy skip)", span(n-1))))
		runs = append(runs, mk(latest, 1, StatusRunning, ""))
	case MisfireCatchup:
		bound, why := s.MaxCatchup, fmt.Sprintf("the catch-up bound of %d (policy catchup)", s.MaxCatchup)
		if remaining >= 0 && remaining < bound {
			bound, why = remaining, fmt.Sprintf("the %d runs left of max_runs", remaining)
		}
		slots := tail
		if len(slots) > bound {
			slots = slots[len(slots)-bound:]
		}
		if extra := n - len(slots); extra > 0 {
			older := tail[len(tail)-len(slots)-1]
			if len(tail) <= len(slots) { // cannot happen: keep = MaxCatchup+1
				older = slots[0].Add(-time.Nanosecond)
			}
			runs = append(runs, mk(older, extra, StatusSkipped,
				fmt.Sprintf("misfire: %s beyond %s", span(extra), why)))
		}
		for _, slot := range slots {
			runs = append(runs, mk(slot, 1, StatusRunning, ""))
		}
	default: // coalesce
		return arena.one(mk(latest, n, StatusRunning, ""))
	}
	return runs
}

// slotAtOrAfter is the first slot of s at or after start, counting from
// from (a slot of s): from itself when it is not before start.
func slotAtOrAfter(s *Schedule, from, start time.Time) time.Time {
	if from.IsZero() || !from.Before(start) {
		return from
	}
	_, _, next := dueSlots(s, from, start.Add(-time.Nanosecond), 0)
	return next
}

// jitter returns a deterministic offset in [0, max) for a schedule's slot, so
// every tick computes the same run time for it.
func jitter(name string, slot time.Time, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d", name, slot.UnixNano())
	return time.Duration(h.Sum64() % uint64(max))
}
