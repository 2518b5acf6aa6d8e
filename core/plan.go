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
// next_run, by the misfire and overlap policies. It is pure.
func plan(s *Schedule, d DueSchedule, now time.Time, grace time.Duration) SchedulePlan {
	keep := 2
	if s.Misfire == MisfireCatchup {
		keep = s.MaxCatchup + 1
	}
	n, tail, next := dueSlots(s, d.NextRun, now, keep)
	p := SchedulePlan{Schedule: s.Name, NextRun: next}
	if n == 0 || len(tail) == 0 {
		return p
	}
	latest := tail[len(tail)-1]
	mk := func(slot time.Time, covered int, st Status, msg string) PlannedRun {
		r := PlannedRun{
			Schedule: s.Name, Task: s.Task.Name, DisplayName: s.Task.DisplayName,
			Slot: slot, SlotsCovered: covered, Status: st, RunAt: now,
			MaxAttempts: s.Task.Retry.MaxAttempts(), Error: msg,
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
		p.Runs = append(p.Runs, mk(latest, n, StatusSkipped,
			fmt.Sprintf("overlap: the previous run still holds its lease; %s skipped (policy skip)", span(n))))
		return p
	}
	late := now.Sub(latest) > grace
	switch s.Misfire {
	case MisfireSkip:
		if late {
			p.Runs = append(p.Runs, mk(latest, n, StatusSkipped,
				fmt.Sprintf("misfire: %s missed, the latest %s late (policy skip)", span(n), now.Sub(latest).Round(time.Second))))
			return p
		}
		if n > 1 {
			p.Runs = append(p.Runs, mk(tail[len(tail)-2], n-1, StatusSkipped,
				fmt.Sprintf("misfire: %s missed (policy skip)", span(n-1))))
		}
		p.Runs = append(p.Runs, mk(latest, 1, StatusRunning, ""))
	case MisfireCatchup:
		runs := tail
		if len(runs) > s.MaxCatchup {
			runs = runs[len(runs)-s.MaxCatchup:]
		}
		if extra := n - len(runs); extra > 0 {
			older := tail[len(tail)-len(runs)-1]
			if len(tail) <= len(runs) { // cannot happen: keep = MaxCatchup+1
				older = runs[0].Add(-time.Nanosecond)
			}
			p.Runs = append(p.Runs, mk(older, extra, StatusSkipped,
				fmt.Sprintf("misfire: %s beyond the catch-up bound of %d (policy catchup)", span(extra), s.MaxCatchup)))
		}
		for _, slot := range runs {
			p.Runs = append(p.Runs, mk(slot, 1, StatusRunning, ""))
		}
	default: // coalesce
		p.Runs = append(p.Runs, mk(latest, n, StatusRunning, ""))
	}
	return p
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
