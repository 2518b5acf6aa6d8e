package core

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var planT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func planMin(n int) time.Time { return planT0.Add(time.Duration(n) * time.Minute) }

func planSchedule(t *testing.T, opts ...Option) *Schedule {
	t.Helper()
	reg := NewRegistry()
	if err := reg.Schedule("s", func(context.Context, RunInfo) error { return nil }, opts...); err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ScheduleByName("s")
	return s
}

// wantRun is the part of a PlannedRun a case checks.
type wantRun struct {
	slot    time.Time
	covered int
	status  Status
	errHas  string // substring of Error ("" for none)
}

// TestPlan is the misfire and overlap table: which runs a tick records for a
// due schedule and where next_run goes.
func TestPlan(t *testing.T) {
	const grace = 2 * time.Minute
	tests := []struct {
		name    string
		opts    []Option
		nextRun time.Time
		now     time.Time
		active  bool
		want    []wantRun
		next    time.Time
	}{
		{
			name: "not due yet: nothing, next_run kept", opts: []Option{Every(time.Minute)},
			nextRun: planMin(5), now: planMin(4), next: planMin(5),
		},
		{
			name: "due on time", opts: []Option{Every(time.Minute)},
			nextRun: planMin(5), now: planMin(5),
			want: []wantRun{{planMin(5), 1, StatusRunning, ""}}, next: planMin(6),
		},
		{
			name: "late within the interval", opts: []Option{Every(10 * time.Minute)},
			nextRun: planMin(10), now: planMin(13).Add(30 * time.Second),
			want: []wantRun{{planMin(10), 1, StatusRunning, ""}}, next: planMin(20),
		},
		{
			name: "coalesce: one run for 30 missed slots", opts: []Option{Every(time.Minute)},
			nextRun: planMin(2), now: planMin(31),
			want: []wantRun{{planMin(31), 30, StatusRunning, ""}}, next: planMin(32),
		},
		{
			name: "coalesce between slots", opts: []Option{Every(time.Minute), Misfire(MisfireCoalesce)},
			nextRun: planMin(2), now: planMin(31).Add(59 * time.Second),
			want: []wantRun{{planMin(31), 30, StatusRunning, ""}}, next: planMin(32),
		},
		{
			name: "catchup within the bound: one run per slot", opts: []Option{Every(time.Minute), Misfire(MisfireCatchup), MaxCatchup(10)},
			nextRun: planMin(2), now: planMin(5),
			want: []wantRun{
				{planMin(2), 1, StatusRunning, ""}, {planMin(3), 1, StatusRunning, ""},
				{planMin(4), 1, StatusRunning, ""}, {planMin(5), 1, StatusRunning, ""},
			},
			next: planMin(6),
		},
		{
			name: "catchup beyond the bound: latest 3 run, the rest one skipped record", opts: []Option{Every(time.Minute), Misfire(MisfireCatchup), MaxCatchup(3)},
			nextRun: planMin(2), now: planMin(31),
			want: []wantRun{
				{planMin(28), 27, StatusSkipped, "catch-up bound of 3"},
				{planMin(29), 1, StatusRunning, ""}, {planMin(30), 1, StatusRunning, ""}, {planMin(31), 1, StatusRunning, ""},
			},
			next: planMin(32),
		},
		{
			name: "catchup exactly at the bound: no skipped record", opts: []Option{Every(time.Minute), Misfire(MisfireCatchup), MaxCatchup(3)},
			nextRun: planMin(2), now: planMin(4),
			want: []wantRun{{planMin(2), 1, StatusRunning, ""}, {planMin(3), 1, StatusRunning, ""}, {planMin(4), 1, StatusRunning, ""}},
			next: planMin(5),
		},
		{
			name: "skip, latest slot on time: older slots skipped, latest runs", opts: []Option{Every(time.Minute), Misfire(MisfireSkip)},
			nextRun: planMin(2), now: planMin(31),
			want: []wantRun{{planMin(30), 29, StatusSkipped, "29 slots missed"}, {planMin(31), 1, StatusRunning, ""}},
			next: planMin(32),
		},
		{
			name: "skip, latest slot older than the grace: all skipped", opts: []Option{Every(7 * time.Minute), Misfire(MisfireSkip)},
			nextRun: planMin(7), now: planMin(31),
			want: []wantRun{{planMin(28), 4, StatusSkipped, "policy skip"}}, next: planMin(35),
		},
		{
			name: "skip, one slot exactly at the grace: runs", opts: []Option{Every(7 * time.Minute), Misfire(MisfireSkip)},
			nextRun: planMin(35), now: planMin(37),
			want: []wantRun{{planMin(35), 1, StatusRunning, ""}}, next: planMin(42),
		},
		{
			name: "skip, one slot just past the grace: skipped", opts: []Option{Every(7 * time.Minute), Misfire(MisfireSkip)},
			nextRun: planMin(35), now: planMin(37).Add(time.Second),
			want: []wantRun{{planMin(35), 1, StatusSkipped, "1 slot missed"}}, next: planMin(42),
		},
		{
			name: "overlap skip while active: one skipped record", opts: []Option{Every(time.Minute)},
			nextRun: planMin(2), now: planMin(2), active: true,
			want: []wantRun{{planMin(2), 1, StatusSkipped, "overlap"}}, next: planMin(3),
		},
		{
			name: "overlap skip while active after an outage: covers every due slot", opts: []Option{Every(time.Minute), Misfire(MisfireCatchup)},
			nextRun: planMin(2), now: planMin(6), active: true,
			want: []wantRun{{planMin(6), 5, StatusSkipped, "5 slots skipped"}}, next: planMin(7),
		},
		{
			name: "overlap allow while active: runs", opts: []Option{Every(time.Minute), Overlap(OverlapAllow)},
			nextRun: planMin(2), now: planMin(2), active: true,
			want: []wantRun{{planMin(2), 1, StatusRunning, ""}}, next: planMin(3),
		},
		{
			name: "cron coalesce across an hour", opts: []Option{Cron("*/15 * * * *")},
			nextRun: planMin(15), now: planMin(61),
			want: []wantRun{{planMin(60), 4, StatusRunning, ""}}, next: planMin(75),
		},
		{
			name: "cron catchup in a zone", opts: []Option{Cron("0 * * * *"), Timezone("Asia/Kolkata"), Misfire(MisfireCatchup)},
			nextRun: planMin(30), now: planMin(150),
			want: []wantRun{{planMin(30), 1, StatusRunning, ""}, {planMin(90), 1, StatusRunning, ""}, {planMin(150), 1, StatusRunning, ""}},
			next: planMin(210),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := planSchedule(t, tt.opts...)
			p := plan(s, &DueSchedule{Name: s.Name, SpecHash: s.SpecHash(), NextRun: tt.nextRun, Active: tt.active}, tt.now, grace, nil)
			if p.Schedule != s.Name {
				t.Errorf("plan for %q, want %q", p.Schedule, s.Name)
			}
			if !p.NextRun.Equal(tt.next) {
				t.Errorf("next_run %v, want %v", p.NextRun, tt.next)
			}
			if len(p.Runs) != len(tt.want) {
				t.Fatalf("%d runs %+v, want %d", len(p.Runs), p.Runs, len(tt.want))
			}
			for i, w := range tt.want {
				r := p.Runs[i]
				if !r.Slot.Equal(w.slot) || r.SlotsCovered != w.covered || r.Status != w.status {
					t.Errorf("run %d: slot %v covered %d status %s, want slot %v covered %d status %s",
						i, r.Slot, r.SlotsCovered, r.Status, w.slot, w.covered, w.status)
				}
				if (w.errHas == "") != (r.Error == "") || !strings.Contains(r.Error, w.errHas) {
					t.Errorf("run %d: error %q, want one containing %q", i, r.Error, w.errHas)
				}
				if !r.RunAt.Equal(tt.now) || r.Schedule != s.Name || r.Task != s.Task.Name || r.MaxAttempts != 1 {
					t.Errorf("run %d: run_at %v schedule %q task %q max_attempts %d", i, r.RunAt, r.Schedule, r.Task, r.MaxAttempts)
				}
			}
			if covered := coveredSlots(p); tt.want != nil && covered != wantCovered(s, tt.nextRun, tt.now) {
				t.Errorf("records cover %d slots, want every due slot (%d) accounted for", covered, wantCovered(s, tt.nextRun, tt.now))
			}
		})
	}
}

func coveredSlots(p SchedulePlan) int {
	n := 0
	for _, r := range p.Runs {
		n += r.SlotsCovered
	}
	return n
}

// wantCovered counts the slots of s in [first, now] by walking NextSlot.
func wantCovered(s *Schedule, first, now time.Time) int {
	n := 0
	for t := first; !t.After(now); t = s.NextSlot(t) {
		n++
	}
	return n
}

// TestPlanJitter checks that a jittered run is planned pending, at a
// deterministic time within [slot, slot+jitter), the same for every tick.
func TestPlanJitter(t *testing.T) {
	s := planSchedule(t, Every(10*time.Minute), Jitter(5*time.Minute))
	d := DueSchedule{Name: s.Name, SpecHash: s.SpecHash(), NextRun: planMin(10)}
	p1 := plan(s, &d, planMin(10), time.Minute, nil)
	p2 := plan(s, &d, planMin(11), time.Minute, nil)
	if len(p1.Runs) != 1 || len(p2.Runs) != 1 {
		t.Fatalf("runs %+v %+v", p1.Runs, p2.Runs)
	}
	r := p1.Runs[0]
	if r.Status != StatusPending {
		t.Errorf("jittered run status %s, want pending", r.Status)
	}
	if r.RunAt.Before(r.Slot) || !r.RunAt.Before(r.Slot.Add(5*time.Minute)) {
		t.Errorf("run_at %v outside [slot %v, slot+5m)", r.RunAt, r.Slot)
	}
	if !p2.Runs[0].RunAt.Equal(r.RunAt) {
		t.Errorf("two ticks planned different run times: %v and %v", r.RunAt, p2.Runs[0].RunAt)
	}
	// Different slots get different offsets (spread), all within the bound.
	offsets := map[time.Duration]bool{}
	for k := 1; k <= 20; k++ {
		slot := planMin(10 * k)
		o := jitter(s.Name, slot, 5*time.Minute)
		if o < 0 || o >= 5*time.Minute {
			t.Fatalf("offset %v out of [0, 5m)", o)
		}
		offsets[o] = true
	}
	if len(offsets) < 15 {
		t.Errorf("only %d distinct offsets over 20 slots: jitter does not spread", len(offsets))
	}
	// Skipped records are never jittered.
	d.Active = true
	if r := plan(s, &d, planMin(10), time.Minute, nil).Runs[0]; r.Status != StatusSkipped || !r.RunAt.Equal(planMin(10)) {
		t.Errorf("overlap-skipped jittered slot: status %s run_at %v", r.Status, r.RunAt)
	}
}

// TestPlanMaxAttempts checks planned runs carry 1 + Retries.
func TestPlanMaxAttempts(t *testing.T) {
	s := planSchedule(t, Every(time.Minute), Retries(4))
	p := plan(s, &DueSchedule{Name: s.Name, NextRun: planMin(1)}, planMin(1), time.Minute, nil)
	if len(p.Runs) != 1 || p.Runs[0].MaxAttempts != 5 {
		t.Fatalf("runs %+v, want one with max_attempts 5", p.Runs)
	}
}

// TestDueSlotsNoDrift checks interval slots stay on the anchor grid however
// late the tick is.
func TestDueSlotsNoDrift(t *testing.T) {
	s := planSchedule(t, Every(7*time.Minute))
	first := planT0.Add(7*time.Minute + 13*time.Second)
	now := first.Add(1000*7*time.Minute + 3*time.Minute)
	n, tail, next := dueSlots(s, first, now, 2)
	if n != 1001 {
		t.Errorf("n = %d, want 1001", n)
	}
	wantLast := first.Add(1000 * 7 * time.Minute)
	if len(tail) != 2 || !tail[1].Equal(wantLast) || !tail[0].Equal(wantLast.Add(-7*time.Minute)) {
		t.Errorf("tail %v, want [..., %v]", tail, wantLast)
	}
	if !next.Equal(wantLast.Add(7 * time.Minute)) {
		t.Errorf("next %v, want %v", next, wantLast.Add(7*time.Minute))
	}
}

// nilStore satisfies Config.Store for engine tests that never touch it.
type nilStore struct{ Store }

// TestEnginePlanFilters checks the engine plans only schedules this process
// has registered with the stored spec: others are left for another process.
func TestEnginePlanFilters(t *testing.T) {
	reg := NewRegistry()
	reg.MustSchedule("mine", func(context.Context, RunInfo) error { return nil }, Every(time.Minute))
	e, err := NewEngine(Config{Store: nilStore{}, Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ScheduleByName("mine")
	due := []DueSchedule{
		{Name: "mine", SpecHash: s.SpecHash(), NextRun: planMin(1)},
		{Name: "mine", SpecHash: "0000000000000000", NextRun: planMin(1)}, // stored by a newer deploy
		{Name: "unknown", SpecHash: s.SpecHash(), NextRun: planMin(1)},
	}
	plans := e.plan(e.log, due, planMin(1))
	if len(plans) != 1 || plans[0].Schedule != "mine" || len(plans[0].Runs) != 1 {
		t.Fatalf("plans %+v, want one for mine (the stored spec matches)", plans)
	}
}

// TestConfigDefaults checks the documented defaults and rejections.
func TestConfigDefaults(t *testing.T) {
	e, err := NewEngine(Config{Store: nilStore{}, Registry: NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	c := e.cfg
	if c.BatchSize != 5000 || c.Workers != 32 || c.FlushSize != 2000 || c.MaxTickDuration != 5*time.Minute ||
		c.DeadlineMargin != 2*time.Second || c.LeaseGrace != 30*time.Second || c.MisfireGrace != 2*time.Minute ||
		c.MaxInlineRetryWait != time.Second || c.AbandonGrace != time.Second || c.Trigger != "tick" || c.Logger == nil {
		t.Errorf("defaults %+v", c)
	}
	for name, cfg := range map[string]Config{
		"no store":         {Registry: NewRegistry()},
		"no registry":      {Store: nilStore{}},
		"negative workers": {Store: nilStore{}, Registry: NewRegistry(), Workers: -1},
	} {
		if _, err := NewEngine(cfg); err == nil {
			t.Errorf("%s: NewEngine accepted it", name)
		}
	}
}

// TestPlanOnce: a once schedule plans its one slot when due, then a zero
// next_run (never again); a once in the past fires under coalesce and is
// recorded as skipped under skip beyond the misfire grace.
func TestPlanOnce(t *testing.T) {
	at := planMin(5)
	tests := []struct {
		name    string
		opts    []Option
		now     time.Time
		status  Status
		planned int
	}{
		{"not yet due", []Option{Once(at)}, planMin(4), "", 0},
		{"due on time", []Option{Once(at)}, at, StatusRunning, 1},
		{"late, coalesce", []Option{Once(at)}, planMin(60), StatusRunning, 1},
		{"late within grace, skip", []Option{Once(at), Misfire(MisfireSkip)}, planMin(6), StatusRunning, 1},
		{"late beyond grace, skip", []Option{Once(at), Misfire(MisfireSkip)}, planMin(60), StatusSkipped, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := planSchedule(t, tc.opts...)
			first := s.FirstSlot(planT0)
			if !first.Equal(at) {
				t.Fatalf("first slot %v, want %v", first, at)
			}
			p := plan(s, &DueSchedule{Name: "s", NextRun: first}, tc.now, 2*time.Minute, nil)
			if len(p.Runs) != tc.planned {
				t.Fatalf("planned %d runs (%+v), want %d", len(p.Runs), p.Runs, tc.planned)
			}
			if tc.planned == 0 {
				if !p.NextRun.Equal(at) {
					t.Errorf("next_run %v before the instant, want it kept at %v", p.NextRun, at)
				}
				return
			}
			if r := p.Runs[0]; r.Status != tc.status || !r.Slot.Equal(at) {
				t.Errorf("run %+v, want status %s at slot %v", r, tc.status, at)
			}
			if !p.NextRun.IsZero() {
				t.Errorf("next_run %v after the one slot, want zero (never again)", p.NextRun)
			}
		})
	}
}

// TestRunArena: single-run plans share one batch's storage, each slice
// capped at its run, so appending to one plan's runs leaves the next
// plan's run alone; past its capacity, and without an arena, a run gets
// storage of its own.
func TestRunArena(t *testing.T) {
	a := &runArena{runs: make([]PlannedRun, 0, 2)}
	r1, r2, r3 := a.one(PlannedRun{Schedule: "a"}), a.one(PlannedRun{Schedule: "b"}), a.one(PlannedRun{Schedule: "c"})
	if &r1[0] != &a.runs[0] || &r2[0] != &a.runs[1] {
		t.Error("the first two runs are not in the arena")
	}
	if cap(r1) != 1 || cap(r3) != 1 || r3[0].Schedule != "c" {
		t.Errorf("caps %d %d, third %v", cap(r1), cap(r3), r3)
	}
	r1 = append(r1, PlannedRun{Schedule: "a2"})
	if r2[0].Schedule != "b" || r1[0].Schedule != "a" || r1[1].Schedule != "a2" {
		t.Errorf("after an append to the first plan's runs: %v, %v", r1, r2)
	}
	var none *runArena
	if r := none.one(PlannedRun{Schedule: "x"}); len(r) != 1 || r[0].Schedule != "x" {
		t.Errorf("without an arena: %v", r)
	}
}
