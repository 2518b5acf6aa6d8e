package core

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// auditStore is a Store with what AuditSlots and Backfill use: one stored
// schedule and its runs. Every other method panics (the nil Store).
type auditStore struct {
	Store
	rec      ScheduleRecord
	runs     []SlotRun
	reads    int
	inserted []InsertSlotRunsParams
}

func (s *auditStore) GetSchedule(_ context.Context, name string) (ScheduleRecord, error) {
	if name != s.rec.Name {
		return ScheduleRecord{}, ErrNotFound
	}
	return s.rec, nil
}

func (s *auditStore) SlotRuns(_ context.Context, p SlotRunsParams) ([]SlotRun, error) {
	s.reads++
	var out []SlotRun
	after := false
	for _, r := range s.runs { // oldest first
		switch {
		case !r.Slot.Before(p.From) && r.Slot.Before(p.To):
			out = append(out, r)
		case !r.Slot.Before(p.To) && !after:
			out, after = append(out, r), true
		}
	}
	return out, nil
}

func (s *auditStore) InsertSlotRuns(_ context.Context, p InsertSlotRunsParams) ([]SlotRun, error) {
	s.inserted = append(s.inserted, p)
	out := make([]SlotRun, len(p.Slots))
	for i, t := range p.Slots {
		out[i] = SlotRun{ID: int64(100 + i), Slot: t, SlotsCovered: 1, Status: StatusPending}
	}
	return out, nil
}

var auditT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func auditEngine(t *testing.T, st *auditStore, now time.Time) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Store: st, Registry: NewRegistry(), Clock: NewStubClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mins(n int) time.Time { return auditT0.Add(time.Duration(n) * time.Minute) }

func TestExpectedSlots(t *testing.T) {
	ny := "America/New_York"
	tests := []struct {
		name     string
		rec      ScheduleRecord
		from, to time.Time
		want     []time.Time
	}{
		{"interval keeps its anchor", ScheduleRecord{Kind: KindEvery, EverySeconds: 60, Anchor: auditT0.Add(30 * time.Second)},
			mins(5), mins(8), []time.Time{mins(5).Add(30 * time.Second), mins(6).Add(30 * time.Second), mins(7).Add(30 * time.Second)}},
		{"nothing before the anchor", ScheduleRecord{Kind: KindEvery, EverySeconds: 60, Anchor: mins(2)},
			mins(0), mins(5), []time.Time{mins(3), mins(4)}},
		{"run on startup: the anchor is a slot", ScheduleRecord{Kind: KindEvery, EverySeconds: 60, Anchor: mins(2), RunOnStartup: true},
			mins(0), mins(4), []time.Time{mins(2), mins(3)}},
		{"from on a slot is included, to is not", ScheduleRecord{Kind: KindEvery, EverySeconds: 120, Anchor: auditT0},
			mins(4), mins(8), []time.Time{mins(4), mins(6)}},
		{"cron across the spring-forward gap", ScheduleRecord{Kind: KindCron, Cron: "30 2 * * *", Timezone: ny, Anchor: auditT0},
			time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 3, 7, 7, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), time.Date(2026, 3, 9, 6, 30, 0, 0, time.UTC)}},
		{"once in the window", ScheduleRecord{Kind: KindOnce, OnceAt: ptrTime(mins(3)), Anchor: auditT0},
			mins(0), mins(10), []time.Time{mins(3)}},
		{"once before the window", ScheduleRecord{Kind: KindOnce, OnceAt: ptrTime(mins(3)), Anchor: auditT0},
			mins(4), mins(10), nil},
		// Runtime schedules: start_at (the anchor), when stored, end_at.
		{"start_at after creation: start_at is the first slot", ScheduleRecord{Kind: KindEvery, EverySeconds: 120,
			Origin: OriginAPI, StartAt: ptrTime(mins(3)), Anchor: mins(3), CreatedAt: auditT0},
			mins(0), mins(8), []time.Time{mins(3), mins(5), mins(7)}},
		{"start_at before creation: its grid, from the next slot after creation", ScheduleRecord{Kind: KindEvery, EverySeconds: 120,
			Origin: OriginAPI, StartAt: ptrTime(mins(-10)), Anchor: mins(-10), CreatedAt: mins(1).Add(10 * time.Second)},
			mins(-10), mins(7), []time.Time{mins(2), mins(4), mins(6)}},
		{"cron from start_at", ScheduleRecord{Kind: KindCron, Cron: "*/5 * * * *", Timezone: "UTC",
			Origin: OriginAPI, StartAt: ptrTime(mins(7)), Anchor: mins(7), CreatedAt: auditT0},
			mins(0), mins(21), []time.Time{mins(10), mins(15), mins(20)}},
		{"a slot at end_at is the last", ScheduleRecord{Kind: KindEvery, EverySeconds: 60,
			Origin: OriginAPI, EndAt: ptrTime(mins(4)), Anchor: auditT0, CreatedAt: auditT0},
			mins(2), mins(10), []time.Time{mins(2), mins(3), mins(4)}},
		{"end_at before the window", ScheduleRecord{Kind: KindEvery, EverySeconds: 60,
			Origin: OriginAPI, EndAt: ptrTime(mins(4).Add(-time.Second)), Anchor: auditT0, CreatedAt: auditT0},
			mins(5), mins(10), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := recordSchedule(&tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := expectedSlots(s, &tt.rec, tt.from, tt.to, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("slots %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) {
					t.Errorf("slot %d: %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
	rec := ScheduleRecord{Kind: KindEvery, EverySeconds: 1, Anchor: auditT0}
	s, _ := recordSchedule(&rec)
	if _, err := expectedSlots(s, &rec, auditT0, auditT0.Add(time.Hour), 3598); !errors.Is(err, ErrInvalid) {
		t.Errorf("3,599 slots over a bound of 3,598: %v, want ErrInvalid", err)
	}
}

// TestAuditOutcomes: each slot's outcome from its own run, a later run
// that covers it (inside or after the window), or the schedule's next run.
func TestAuditOutcomes(t *testing.T) {
	st := &auditStore{
		rec: ScheduleRecord{Name: "s", Task: "s", Kind: KindEvery, EverySeconds: 60, Anchor: auditT0, NextRun: mins(12)},
		runs: []SlotRun{
			{ID: 1, Slot: mins(1), SlotsCovered: 1, Status: StatusSuccess},
			{ID: 2, Slot: mins(2), SlotsCovered: 1, Status: StatusFailed, Error: "boom"},
			{ID: 3, Slot: mins(4), SlotsCovered: 2, Status: StatusSkipped, Error: "misfire"},
			{ID: 4, Slot: mins(5), SlotsCovered: 1, Status: StatusRunning},
			{ID: 5, Slot: mins(9), SlotsCovered: 3, Status: StatusSuccess},
		},
	}
	e := auditEngine(t, st, mins(11).Add(30*time.Second))
	a, err := e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(1), To: mins(14)})
	if err != nil {
		t.Fatal(err)
	}
	want := []SlotAudit{
		{mins(1), SlotSuccess, 1, false, "", nil, nil},
		{mins(2), SlotFailed, 2, false, "boom", nil, nil},
		{mins(3), SlotSkipped, 3, true, "misfire", nil, nil},
		{mins(4), SlotSkipped, 3, false, "misfire", nil, nil},
		{mins(5), SlotRunning, 4, false, "", nil, nil},
		{mins(6), SlotMissed, 0, false, "", nil, nil},
		{mins(7), SlotCoalesced, 5, true, "", nil, nil},
		{mins(8), SlotCoalesced, 5, true, "", nil, nil},
		{mins(9), SlotSuccess, 5, false, "", nil, nil},
		{mins(10), SlotMissed, 0, false, "", nil, nil},
		{mins(11), SlotMissed, 0, false, "", nil, nil},
		{mins(12), SlotNotYetDue, 0, false, "", nil, nil}, // next_run, after now
		{mins(13), SlotNotYetDue, 0, false, "", nil, nil},
	}
	if len(a.Slots) != len(want) {
		t.Fatalf("%d slots, want %d: %+v", len(a.Slots), len(want), a.Slots)
	}
	for i := range want {
		if a.Slots[i] != want[i] {
			t.Errorf("slot %d: %+v, want %+v", i, a.Slots[i], want[i])
		}
	}
	if a.Missed() != 3 || a.Counts[SlotCoalesced] != 2 || st.reads != 1 {
		t.Errorf("counts %v, %d reads; want 3 missed, 2 coalesced, one read", a.Counts, st.reads)
	}

	// The first run after the window covers its last slots; a due slot of
	// a paused schedule is paused, not missed.
	st.rec.NextRun, st.rec.Paused = mins(10), true
	a, err = e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(6), To: mins(8)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Slots[0].Outcome != SlotMissed || a.Slots[1].Outcome != SlotCoalesced || a.Slots[1].RunID != 5 {
		t.Errorf("window [+6m, +8m): %+v", a.Slots)
	}
	a, err = e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(10), To: mins(13)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Slots[0].Outcome != SlotPaused || a.Slots[1].Outcome != SlotPaused || a.Slots[2].Outcome != SlotNotYetDue {
		t.Errorf("paused window: %+v", a.Slots)
	}
}

// TestBackfillUnit: only passed slots without a run of their own are
// inserted; a dry run, a paused, orphaned or unknown schedule insert nothing.
func TestBackfillUnit(t *testing.T) {
	st := &auditStore{
		rec: ScheduleRecord{Name: "s", Task: "s", Kind: KindEvery, EverySeconds: 60, Anchor: auditT0, NextRun: mins(6)},
		runs: []SlotRun{
			{ID: 1, Slot: mins(1), SlotsCovered: 1, Status: StatusSuccess},
			{ID: 2, Slot: mins(4), SlotsCovered: 2, Status: StatusSuccess},
		},
	}
	e := auditEngine(t, st, mins(5))
	p := BackfillParams{Schedule: "s", From: mins(0), To: mins(10), DryRun: true}
	dry, err := e.Backfill(t.Context(), p)
	if err != nil || dry.Created != 3 || len(st.inserted) != 0 {
		t.Fatalf("dry run: %+v, %v, %d inserts", dry, err, len(st.inserted))
	}
	p.DryRun = false
	res, err := e.Backfill(t.Context(), p)
	if err != nil || res.Created != 3 || len(st.inserted) != 1 {
		t.Fatalf("backfill: %+v, %v", res, err)
	}
	got := st.inserted[0].Slots
	if len(got) != 3 || !got[0].Equal(mins(2)) || !got[1].Equal(mins(3)) || !got[2].Equal(mins(5)) {
		t.Errorf("inserted %v, want +2m, +3m, +5m", got)
	}
	for _, tt := range []struct {
		name   string
		change func(*ScheduleRecord)
		target error
	}{
		{"paused", func(r *ScheduleRecord) { r.Paused = true }, ErrConflict},
		{"orphaned", func(r *ScheduleRecord) { r.Orphaned = true }, ErrNotFound},
		{"unknown", func(r *ScheduleRecord) { r.Name = "other" }, ErrNotFound},
	} {
		saved := st.rec
		tt.change(&st.rec)
		if _, err := e.Backfill(t.Context(), p); !errors.Is(err, tt.target) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.target)
		}
		st.rec = saved
	}
	if len(st.inserted) != 1 {
		t.Errorf("refused backfills inserted: %d calls", len(st.inserted))
	}
}

// TestAuditRuntimeLife: a runtime schedule's audit expects no slot before
// its start_at or after its end_at, and none after the run that completed
// it (max_runs used up): those slots are not missed.
func TestAuditRuntimeLife(t *testing.T) {
	maxRuns, left := 3, 0
	st := &auditStore{
		rec: ScheduleRecord{Name: "s", Task: "s", Kind: KindEvery, EverySeconds: 60, Origin: OriginAPI,
			StartAt: ptrTime(mins(2)), Anchor: mins(2), CreatedAt: auditT0,
			MaxRuns: &maxRuns, RemainingRuns: &left, CompletedAt: ptrTime(mins(6).Add(5 * time.Second))},
		runs: []SlotRun{
			{ID: 1, Slot: mins(2), SlotsCovered: 1, Status: StatusSuccess},
			{ID: 2, Slot: mins(5), SlotsCovered: 2, Status: StatusSuccess}, // a tick late: coalesced
			{ID: 3, Slot: mins(6), SlotsCovered: 1, Status: StatusFailed, Error: "boom"},
		},
	}
	e := auditEngine(t, st, mins(30))
	a, err := e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(0), To: mins(20)})
	if err != nil {
		t.Fatal(err)
	}
	want := []SlotAudit{
		{mins(2), SlotSuccess, 1, false, "", nil, nil},
		{mins(3), SlotMissed, 0, false, "", nil, nil},
		{mins(4), SlotCoalesced, 2, true, "", nil, nil},
		{mins(5), SlotSuccess, 2, false, "", nil, nil},
		{mins(6), SlotFailed, 3, false, "boom", nil, nil},
	}
	if len(a.Slots) != len(want) {
		t.Fatalf("%d slots, want %d: %+v", len(a.Slots), len(want), a.Slots)
	}
	for i := range want {
		if a.Slots[i] != want[i] {
			t.Errorf("slot %d: %+v, want %+v", i, a.Slots[i], want[i])
		}
	}
	if a.Missed() != 1 || a.NextRun != nil {
		t.Errorf("counts %v, next run %v; want 1 missed, none next", a.Counts, a.NextRun)
	}

	// A window after the completing run holds no slot; nor does one of
	// a schedule that completed at its end_at.
	if a, err = e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(7), To: mins(20)}); err != nil || len(a.Slots) != 0 {
		t.Errorf("after completion: %+v, %v; want no slot", a.Slots, err)
	}
	st.rec.MaxRuns, st.rec.RemainingRuns, st.rec.EndAt = nil, nil, ptrTime(mins(6))
	if a, err = e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(0), To: mins(20)}); err != nil || len(a.Slots) != 5 || a.Missed() != 1 {
		t.Errorf("ended at +6m: %+v, %v; want 5 slots, 1 missed", a.Slots, err)
	}

	// While it runs (next_run set), the slots after its last run are
	// missed or due as usual, from start_at on.
	st.rec.EndAt, st.rec.CompletedAt, st.rec.NextRun = nil, nil, mins(8)
	a, err = e.AuditSlots(t.Context(), AuditParams{Schedule: "s", From: mins(0), To: mins(10)})
	if err != nil || len(a.Slots) != 8 || a.Slots[0].Slot != mins(2) || a.Slots[5].Outcome != SlotMissed || a.Slots[6].Outcome != SlotDue {
		t.Errorf("active: %+v, %v", a.Slots, err)
	}
}

func (s *auditStore) SlotRunsMany(_ context.Context, p SlotRunsManyParams) ([]SlotRun, error) {
	s.reads++
	var out []SlotRun
	for _, w := range p.Windows {
		if w.Schedule != s.rec.Name {
			continue
		}
		for _, r := range s.runs {
			if !r.Slot.Before(w.From) && r.Slot.Before(w.To) {
				r.Schedule = w.Schedule
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// TestRecentSlots: the last N slots not after now, judged as the audit
// judges them, in one read; future slots are left out.
func TestRecentSlots(t *testing.T) {
	mins := func(n int) time.Time { return auditT0.Add(time.Duration(n) * time.Minute) }
	started, finished := mins(9).Add(time.Second), mins(9).Add(3*time.Second)
	st := &auditStore{
		rec: ScheduleRecord{Name: "s", Kind: KindEvery, EverySeconds: 60, Anchor: auditT0, NextRun: mins(12)},
		runs: []SlotRun{
			{ID: 1, Slot: mins(7), SlotsCovered: 1, Status: StatusFailed, Error: "boom"},
			{ID: 2, Slot: mins(9), SlotsCovered: 1, Status: StatusSuccess, StartedAt: started, FinishedAt: finished},
		},
	}
	e := auditEngine(t, st, mins(11).Add(30*time.Second))
	got, err := e.RecentSlots(t.Context(), RecentSlotsParams{Schedules: []ScheduleRecord{st.rec}, Last: 5})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []SlotOutcome
	for _, s := range got["s"] {
		outcomes = append(outcomes, s.Outcome)
	}
	want := []SlotOutcome{SlotFailed, SlotMissed, SlotSuccess, SlotMissed, SlotMissed}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) || !got["s"][0].Slot.Equal(mins(7)) || st.reads != 1 {
		t.Fatalf("recent = %v from %v (%d reads), want %v from %v", outcomes, got["s"][0].Slot, st.reads, want, mins(7))
	}
	if d, ok := got["s"][2].Duration(); !ok || d != 2*time.Second {
		t.Errorf("duration = %v %v, want 2s", d, ok)
	}
	if _, err := e.RecentSlots(t.Context(), RecentSlotsParams{Last: 0}); err == nil {
		t.Error("Last 0 accepted")
	}
}

// TestLastSlots: walked kinds (cron) look back far enough for N slots, and
// never before the first slot (09:00 New York is 13:00 UTC since 8 March, 14:00 before).
func TestLastSlots(t *testing.T) {
	daily, err := recordSchedule(&ScheduleRecord{Name: "d", Kind: KindCron, Cron: "0 9 * * *", Timezone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	got := lastSlots(daily, now.AddDate(0, -2, 0), now, 20)
	if len(got) != 20 || !got[19].Equal(time.Date(2026, 3, 19, 13, 0, 0, 0, time.UTC)) || !got[0].Equal(time.Date(2026, 2, 28, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("daily last 20 = %v … %v (%d)", got[0], got[len(got)-1], len(got))
	}
	if got := lastSlots(daily, now.AddDate(0, 0, -3), now, 20); len(got) != 3 {
		t.Errorf("3 days after the anchor: %d slots, want 3", len(got))
	}
}
