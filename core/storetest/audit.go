package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// testAuditBackfill checks Engine.AuditSlots and Backfill on Store.SlotRuns
// and InsertSlotRuns: after an outage (stub clock) the audit reports the
// slots the misfire policy folded in as coalesced or skipped with the
// covering run, slots that left no trace as missed, and future slots as not
// yet due; a backfill fills exactly the passed slots without a run of their
// own, ticks run them once, and a second backfill creates nothing. Bad
// windows, paused and unknown schedules write nothing.
func testAuditBackfill(t *testing.T, h *harness) {
	ctx := t.Context()
	x := newExecs()
	reg := core.NewRegistry()
	mustSchedule(t, reg, "co", x.task(nil), core.Every(time.Minute))
	mustSchedule(t, reg, "sk", x.task(nil), core.Every(time.Minute), core.Misfire(core.MisfireSkip))
	mustSchedule(t, reg, "bad", x.task(func(context.Context, core.RunInfo) error { return errFlaky }), core.Every(time.Minute))
	mustSchedule(t, reg, "gap", x.task(nil), core.Every(time.Minute))
	e := h.engine(reg)

	// +1m, +2m run; no tick until +10m (the outage).
	for _, m := range []int{0, 1, 2, 10} {
		h.set(minutes(m))
		h.tick(e)
	}
	// At +13m a claim advances co past +11m..+13m and gap by 11,000
	// minutes without recording a run: slots that left no trace.
	h.set(minutes(13))
	res, err := h.store.ClaimDue(ctx, core.ClaimDueParams{
		Now: h.now(), TickID: "tick_lossy", Limit: 10, LeaseUntil: at(time.Hour),
		Plan: func(due []core.DueSchedule) []core.SchedulePlan {
			return []core.SchedulePlan{{Schedule: "co", NextRun: at(minutes(14))}, {Schedule: "gap", NextRun: at(minutes(11000))}}
		},
	})
	if err != nil || len(res.Runs) != 0 {
		t.Fatalf("lossy claim: %+v, %v", res, err)
	}
	h.set(minutes(14))
	h.tick(e)

	audit := func(name string, from, to time.Duration) core.AuditResult {
		t.Helper()
		a, err := e.AuditSlots(ctx, core.AuditParams{Schedule: name, From: at(from), To: at(to)})
		if err != nil {
			t.Fatalf("audit %s [%v, %v): %v", name, from, to, err)
		}
		return a
	}

	// co: +1m, +2m succeeded; +3m..+9m folded into +10m's run; +11m..+13m
	// missed; +14m ran; +15m..+19m are in the future.
	co := audit("co", minutes(1), minutes(20))
	want := map[int]core.SlotAudit{}
	for m := 1; m <= 19; m++ {
		switch {
		case m <= 2 || m == 10 || m == 14:
			want[m] = core.SlotAudit{Outcome: core.SlotSuccess, RunID: h.slotRunID("co", m)}
		case m <= 9:
			want[m] = core.SlotAudit{Outcome: core.SlotCoalesced, RunID: h.slotRunID("co", 10), Covered: true}
		case m <= 13:
			want[m] = core.SlotAudit{Outcome: core.SlotMissed}
		default:
			want[m] = core.SlotAudit{Outcome: core.SlotNotYetDue}
		}
	}
	wantAudit(t, "co", co, 1, want)
	wantCounts(t, "co", co, map[core.SlotOutcome]int{core.SlotSuccess: 4, core.SlotCoalesced: 7, core.SlotMissed: 3, core.SlotNotYetDue: 5})

	// A window that ends inside the folded block: the covering run is the
	// first one after the window.
	part := audit("co", minutes(1), minutes(6))
	wantCounts(t, "co [+1m, +6m)", part, map[core.SlotOutcome]int{core.SlotSuccess: 2, core.SlotCoalesced: 3})

	// sk: +3m..+8m are one skipped block recorded at +9m, with its reason.
	sk := audit("sk", minutes(1), minutes(11))
	for i, s := range sk.Slots {
		m := i + 1
		switch {
		case m <= 2 || m == 10:
			if s.Outcome != core.SlotSuccess {
				t.Errorf("sk +%dm: %+v, want success", m, s)
			}
		case m <= 9:
			if s.Outcome != core.SlotSkipped || s.RunID != h.slotRunID("sk", 9) || s.Reason == "" || s.Covered != (m < 9) {
				t.Errorf("sk +%dm: %+v, want skipped by run %d with a reason, covered %t", m, s, h.slotRunID("sk", 9), m < 9)
			}
		}
	}
	wantCounts(t, "sk", sk, map[core.SlotOutcome]int{core.SlotSuccess: 3, core.SlotSkipped: 7})

	// RecentSlots: the last 12 slots up to now (+14m) of co, sk and gap in
	// one read, judged as the audit judges them.
	recs := []core.ScheduleRecord{h.schedule("co"), h.schedule("sk"), h.schedule("gap")}
	recent, err := e.RecentSlots(ctx, core.RecentSlotsParams{Schedules: recs, Last: 12})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"co", "sk", "gap"} {
		a := audit(name, minutes(3), minutes(15))
		if got, want := fmt.Sprint(slotOutcomes(recent[name])), fmt.Sprint(slotOutcomes(a.Slots)); got != want || len(recent[name]) != 12 {
			t.Errorf("recent %s = %s, want the audit's %s", name, got, want)
		}
	}
	// gap's next slot is 11,000 minutes away: its last 12 due slots end
	// missed.
	if got := slotOutcomes(recent["gap"]); len(got) != 12 || got[7] != core.SlotSuccess || got[11] != core.SlotMissed {
		t.Errorf("recent gap = %v", got)
	}
	// SlotRunsMany reads each window of its own, by schedule then slot.
	many, err := h.store.SlotRunsMany(ctx, core.SlotRunsManyParams{Windows: []core.SlotRunsParams{
		{Schedule: "sk", From: at(minutes(9)), To: at(minutes(11))},
		{Schedule: "co", From: at(minutes(1)), To: at(minutes(3))},
		{Schedule: "nope", From: at(0), To: at(time.Hour)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range many {
		got = append(got, fmt.Sprintf("%s+%v:%s", r.Schedule, r.Slot.Sub(t0), r.Status))
		if r.Status == core.StatusSuccess && (r.StartedAt.IsZero() || r.FinishedAt.Before(r.StartedAt)) {
			t.Errorf("run %d: started %v, finished %v", r.ID, r.StartedAt, r.FinishedAt)
		}
	}
	if fmt.Sprint(got) != "[co+1m0s:success co+2m0s:success sk+9m0s:skipped sk+10m0s:success]" {
		t.Errorf("SlotRunsMany = %v", got)
	}

	// bad: failed, with the task's error as the reason.
	bad := audit("bad", minutes(1), minutes(3))
	for _, s := range bad.Slots {
		if s.Outcome != core.SlotFailed || s.Reason != errFlaky.Error() {
			t.Errorf("bad: %+v, want failed with reason %q", s, errFlaky)
		}
	}

	// Bad input: a ValidationError or ErrNotFound, nothing written.
	before := len(h.runs(core.ListRunsParams{}))
	for _, tt := range []struct {
		name     string
		schedule string
		from, to time.Time
		target   error
	}{
		{"reversed", "co", at(minutes(20)), at(minutes(1)), core.ErrInvalid},
		{"empty", "co", at(minutes(1)), at(minutes(1)), core.ErrInvalid},
		{"over a year", "co", at(0), at(367 * 24 * time.Hour), core.ErrInvalid},
		{"over 100,000 slots", "co", at(0), at(70 * 24 * time.Hour), core.ErrInvalid},
		{"far future", "co", at(0), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), core.ErrInvalid},
		{"unknown", "nope", at(0), at(time.Hour), core.ErrNotFound},
		{"bad text", "co\x00", at(0), at(time.Hour), core.ErrInvalid},
	} {
		_, err := e.AuditSlots(ctx, core.AuditParams{Schedule: tt.schedule, From: tt.from, To: tt.to})
		wantErrIs(t, "audit "+tt.name, err, tt.target)
		_, err = e.Backfill(ctx, core.BackfillParams{Schedule: tt.schedule, From: tt.from, To: tt.to})
		wantErrIs(t, "backfill "+tt.name, err, tt.target)
	}
	_, err = e.Backfill(ctx, core.BackfillParams{Schedule: "gap", From: at(0), To: at(8 * 24 * time.Hour)})
	wantErrIs(t, "backfill of 10,986 slots", err, core.ErrInvalid)
	if _, err := e.SetSchedulePaused(ctx, "sk", true); err != nil {
		t.Fatal(err)
	}
	_, err = e.Backfill(ctx, core.BackfillParams{Schedule: "sk", From: at(0), To: at(minutes(11))})
	wantErrIs(t, "backfill of a paused schedule", err, core.ErrConflict)
	if rs, err := h.store.InsertSlotRuns(ctx, core.InsertSlotRunsParams{Now: h.now(), Schedule: "sk", Slots: []time.Time{at(minutes(3))}}); err != nil || len(rs) != 0 {
		t.Errorf("InsertSlotRuns of a paused schedule: %+v, %v; want nothing inserted", rs, err)
	}
	if rs, err := h.store.InsertSlotRuns(ctx, core.InsertSlotRunsParams{Now: h.now(), Schedule: "nope", Slots: []time.Time{at(minutes(3))}}); err != nil || len(rs) != 0 {
		t.Errorf("InsertSlotRuns of an unknown schedule: %+v, %v; want nothing inserted", rs, err)
	}
	if after := len(h.runs(core.ListRunsParams{})); after != before {
		t.Fatalf("bad input wrote runs: %d before, %d after", before, after)
	}

	// Backfill co: a dry run lists the 7 folded and 3 missed slots and
	// writes nothing; the real one creates them; a repeat creates none.
	dry, err := e.Backfill(ctx, core.BackfillParams{Schedule: "co", From: at(minutes(1)), To: at(minutes(20)), DryRun: true})
	if err != nil || dry.Created != 10 || len(dry.Slots) != 10 || !dry.Slots[0].Slot.Equal(at(minutes(3))) || !dry.Slots[9].Slot.Equal(at(minutes(13))) {
		t.Fatalf("dry run: %+v, %v; want +3m..+9m and +11m..+13m", dry, err)
	}
	if after := len(h.runs(core.ListRunsParams{})); after != before {
		t.Fatalf("dry run wrote runs: %d before, %d after", before, after)
	}
	bf, err := e.Backfill(ctx, core.BackfillParams{Schedule: "co", From: at(minutes(1)), To: at(minutes(20))})
	if err != nil || bf.Created != 10 || len(bf.Slots) != 10 || bf.Slots[0].RunID == 0 {
		t.Fatalf("backfill: %+v, %v; want 10 runs", bf, err)
	}
	for i, s := range bf.Slots {
		if !s.Slot.Equal(dry.Slots[i].Slot) {
			t.Errorf("backfill slot %d: %v, the dry run said %v", i, s.Slot, dry.Slots[i].Slot)
		}
		r := h.run(s.RunID)
		if r.Status != core.StatusPending || r.Source != core.SourceScheduled || r.Schedule != "co" || r.Task != "co" || r.SlotsCovered != 1 || !r.RunAt.Equal(h.now()) {
			t.Errorf("backfilled run: %+v", r)
		}
	}
	co = audit("co", minutes(1), minutes(20))
	wantCounts(t, "co after backfill", co, map[core.SlotOutcome]int{core.SlotSuccess: 4, core.SlotPending: 10, core.SlotNotYetDue: 5})
	again, err := e.Backfill(ctx, core.BackfillParams{Schedule: "co", From: at(minutes(1)), To: at(minutes(20))})
	if err != nil || again.Created != 0 {
		t.Errorf("second backfill: %+v, %v; want 0 created", again, err)
	}

	// The next tick runs the backfilled runs, each slot once.
	h.set(minutes(15))
	h.tick(e)
	// SlotRuns decodes each run's instants exactly (PostgreSQL packs them
	// in binary): they are GetRun's, to the microsecond, and NULL stays
	// zero (a skipped record never started).
	for _, name := range []string{"co", "sk", "gap"} {
		runs, err := h.store.SlotRuns(ctx, core.SlotRunsParams{Schedule: name, From: at(0), To: at(minutes(20)), Expected: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 0 {
			t.Fatalf("SlotRuns %s: no runs", name)
		}
		for _, r := range runs {
			run, err := h.store.GetRun(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			same := func(a time.Time, b *time.Time) bool { return (b == nil && a.IsZero()) || (b != nil && a.Equal(*b)) }
			if run.Slot == nil || !r.Slot.Equal(*run.Slot) || !same(r.StartedAt, run.StartedAt) || !same(r.FinishedAt, run.FinishedAt) ||
				r.Status != run.Status || r.SlotsCovered != run.SlotsCovered || r.Error != run.Error {
				t.Errorf("SlotRuns %s run %d = %+v; GetRun: slot %v started %v finished %v status %s covered %d error %q",
					name, r.ID, r, run.Slot, run.StartedAt, run.FinishedAt, run.Status, run.SlotsCovered, run.Error)
			}
		}
	}
	co = audit("co", minutes(1), minutes(16))
	wantCounts(t, "co after the tick", co, map[core.SlotOutcome]int{core.SlotSuccess: 15})
	for m := 1; m <= 15; m++ {
		if n := x.slot("co", at(minutes(m))); n != 1 {
			t.Errorf("co +%dm ran %d times, want once", m, n)
		}
	}
}

// wantAudit checks an audit's slots (by minute from t0, starting at first)
// against want; Slot is filled in here, RunID 0 means none.
func wantAudit(t *testing.T, name string, a core.AuditResult, first int, want map[int]core.SlotAudit) {
	t.Helper()
	if len(a.Slots) != len(want) {
		t.Fatalf("%s: %d slots, want %d: %+v", name, len(a.Slots), len(want), a.Slots)
	}
	for i, got := range a.Slots {
		m := first + i
		w := want[m]
		w.Slot = at(minutes(m))
		got.Reason = ""
		// A skipped record finished without starting.
		own := got.RunID != 0 && !got.Covered
		if started := own && got.Outcome != core.SlotSkipped; own != (got.FinishedAt != nil) || started != (got.StartedAt != nil) {
			t.Errorf("%s +%dm: started %v, finished %v; want both when the slot's own run finished (a skipped record: finished only), else neither", name, m, got.StartedAt, got.FinishedAt)
		}
		got.StartedAt, got.FinishedAt = nil, nil
		if got != w {
			t.Errorf("%s +%dm: %+v, want %+v", name, m, got, w)
		}
	}
}

// wantCounts checks an audit's counts per outcome.
func wantCounts(t *testing.T, name string, a core.AuditResult, want map[core.SlotOutcome]int) {
	t.Helper()
	if fmt.Sprint(a.Counts) != fmt.Sprint(want) {
		t.Errorf("%s: counts %v, want %v", name, a.Counts, want)
	}
	total := 0
	for _, n := range a.Counts {
		total += n
	}
	if total != len(a.Slots) {
		t.Errorf("%s: counts add up to %d, %d slots", name, total, len(a.Slots))
	}
}

// slotRunID is the id of a schedule's run at t0 + m minutes; none fails the
// test.
func (h *harness) slotRunID(name string, m int) int64 {
	h.t.Helper()
	rs := h.scheduleRuns(name)
	for _, r := range rs {
		if r.Slot.Equal(at(minutes(m))) {
			return r.ID
		}
	}
	h.t.Fatalf("%s has no run at +%dm:\n%s", name, m, describeRuns(rs))
	return 0
}

// slotOutcomes lists the outcomes of slots.
func slotOutcomes(slots []core.SlotAudit) []core.SlotOutcome {
	out := make([]core.SlotOutcome, len(slots))
	for i, s := range slots {
		out[i] = s.Outcome
	}
	return out
}
