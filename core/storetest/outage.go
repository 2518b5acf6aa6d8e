package storetest

import (
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// outageMinutes is how long no tick comes in testOutage.
const outageMinutes = 30

// testOutage simulates an outage: one-minute schedules under each misfire
// policy tick every minute, then no tick comes for 30 minutes, then ticks
// come again. The audit reports exactly the slots each policy coalesced
// (coalesce), skipped (skip; catchup beyond its bound) or, where no record
// covers them (a claim that advanced without recording), missed; a backfill
// of the window then leaves no missed slot, every slot with one run of its
// own (a skipped record keeps its slot) and run once.
func testOutage(t *testing.T, h *harness) {
	ctx := t.Context()
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "co", x.task(nil), core.Every(time.Minute))
	mustSchedule(t, reg, "sk", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireSkip))
	mustSchedule(t, reg, "cu", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireCatchup), core.MaxCatchup(10))
	mustSchedule(t, reg, "lost", x.task(nil), core.Every(time.Minute))
	e := h.engine(reg)

	// Slots +1m..+5m run; no tick from +6m to +35m; ticks at +36m again.
	for m := 0; m <= 5; m++ {
		h.set(minutes(m))
		h.tick(e)
	}
	back := 6 + outageMinutes
	h.set(minutes(back))
	// lost: a claim advanced it past the outage without recording a run.
	if res, err := h.store.ClaimDue(ctx, core.ClaimDueParams{
		Now: h.now(), TickID: "tick_lossy", Limit: 10, LeaseUntil: at(time.Hour),
		Plan: func([]core.DueSchedule) []core.SchedulePlan {
			return []core.SchedulePlan{{Schedule: "lost", NextRun: at(minutes(back + 1))}}
		},
	}); err != nil || len(res.Runs) != 0 {
		t.Fatalf("lossy claim: %+v, %v", res, err)
	}
	h.tick(e)

	// What each policy recorded at +36m, slot by slot (+1m..+36m).
	own := func(name string, m int) core.SlotAudit {
		return core.SlotAudit{Outcome: core.SlotSuccess, RunID: h.slotRunID(name, m)}
	}
	wants := map[string]func(m int) core.SlotAudit{
		"co": func(m int) core.SlotAudit { // one run at +36m for +6m..+36m
			if m <= 5 || m == back {
				return own("co", m)
			}
			return core.SlotAudit{Outcome: core.SlotCoalesced, RunID: h.slotRunID("co", back), Covered: true}
		},
		"sk": func(m int) core.SlotAudit { // a skipped record at +35m for +6m..+35m
			switch {
			case m <= 5 || m == back:
				return own("sk", m)
			case m == back-1:
				return core.SlotAudit{Outcome: core.SlotSkipped, RunID: h.slotRunID("sk", m)}
			}
			return core.SlotAudit{Outcome: core.SlotSkipped, RunID: h.slotRunID("sk", back-1), Covered: true}
		},
		"cu": func(m int) core.SlotAudit { // +27m..+36m run; +6m..+26m one skipped record
			switch {
			case m <= 5 || m > back-10:
				return own("cu", m)
			case m == back-10:
				return core.SlotAudit{Outcome: core.SlotSkipped, RunID: h.slotRunID("cu", m)}
			}
			return core.SlotAudit{Outcome: core.SlotSkipped, RunID: h.slotRunID("cu", back-10), Covered: true}
		},
		"lost": func(m int) core.SlotAudit { // nothing covers +6m..+36m
			if m <= 5 {
				return own("lost", m)
			}
			return core.SlotAudit{Outcome: core.SlotMissed}
		},
	}
	wantCountsBefore := map[string]map[core.SlotOutcome]int{
		"co":   {core.SlotSuccess: 6, core.SlotCoalesced: 30},
		"sk":   {core.SlotSuccess: 6, core.SlotSkipped: 30},
		"cu":   {core.SlotSuccess: 15, core.SlotSkipped: 21},
		"lost": {core.SlotSuccess: 5, core.SlotMissed: 31},
	}
	wantFilled := map[string]int{"co": 30, "sk": 29, "cu": 20, "lost": 31}
	window := core.AuditParams{From: at(minutes(1)), To: at(minutes(back + 1))}
	for name, want := range wants {
		p := window
		p.Schedule = name
		a, err := e.AuditSlots(ctx, p)
		if err != nil {
			t.Fatalf("audit %s: %v", name, err)
		}
		exp := map[int]core.SlotAudit{}
		for m := 1; m <= back; m++ {
			exp[m] = want(m)
		}
		wantAudit(t, name, a, 1, exp)
		wantCounts(t, name, a, wantCountsBefore[name])
		bf, err := e.Backfill(ctx, core.BackfillParams{Schedule: name, From: p.From, To: p.To})
		if err != nil || bf.Created != wantFilled[name] {
			t.Errorf("backfill %s: %d created, %v; want %d", name, bf.Created, err, wantFilled[name])
		}
	}

	// The next tick runs the backfilled runs: no slot missed, one run per
	// slot, each run once.
	h.set(minutes(back + 1))
	h.tick(e)
	for name := range wants {
		p := window
		p.Schedule = name
		a, err := e.AuditSlots(ctx, p)
		if err != nil {
			t.Fatalf("audit %s after the backfill: %v", name, err)
		}
		want := map[core.SlotOutcome]int{core.SlotSuccess: back}
		if kept := back - wantCountsBefore[name][core.SlotSuccess] - wantFilled[name]; kept > 0 {
			want = map[core.SlotOutcome]int{core.SlotSuccess: back - kept, core.SlotSkipped: kept}
		}
		wantCounts(t, name+" after the backfill", a, want)
		slots := map[int64]int{}
		for _, r := range h.scheduleRuns(name) {
			slots[r.Slot.Unix()]++
			if n := x.run(r.ID); r.Status == core.StatusSuccess && n != 1 {
				t.Errorf("%s run %d (slot %v) ran %d times", name, r.ID, r.Slot, n)
			}
		}
		for m := 1; m <= back; m++ {
			if n := slots[at(minutes(m)).Unix()]; n != 1 {
				t.Errorf("%s +%dm: %d runs, want one", name, m, n)
			}
			if n := x.slot(name, at(minutes(m))); n > 1 {
				t.Errorf("%s +%dm ran %d times", name, m, n)
			}
		}
	}
}
