package core

import (
	"testing"
	"time"
)

// walkOnly hides a kind's slotCounter, so dueSlots walks it with Next.
type walkOnly struct{ Spec }

// TestIntervalCountMatchesWalk checks the interval's O(1) count against the
// generic walk over Next, which every other kind takes.
func TestIntervalCountMatchesWalk(t *testing.T) {
	first := time.Date(2026, 3, 8, 6, 30, 17, 0, time.UTC)
	tests := []struct {
		name  string
		every time.Duration
		now   time.Duration // after first
		keep  int
	}{
		{"not yet due", time.Minute, -time.Second, 2},
		{"exactly due", time.Minute, 0, 2},
		{"one slot, keep 0", time.Minute, 30 * time.Second, 0},
		{"on a slot boundary", 5 * time.Minute, 15 * time.Minute, 2},
		{"between slots", 5 * time.Minute, 17 * time.Minute, 2},
		{"keep more than due", time.Hour, 2 * time.Hour, 101},
		{"catch-up tail", 90 * time.Second, 3 * time.Hour, 7},
		{"odd interval", 1500 * time.Millisecond, time.Minute, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := NewInterval(tt.every)
			if err != nil {
				t.Fatal(err)
			}
			now := first.Add(tt.now)
			n, tail, next := dueSlots(&Schedule{spec: iv}, first, now, tt.keep)
			wn, wtail, wnext := dueSlots(&Schedule{spec: walkOnly{iv}}, first, now, tt.keep)
			if n != wn || !next.Equal(wnext) || len(tail) != len(wtail) {
				t.Fatalf("count: n=%d next=%s tail=%v; walk: n=%d next=%s tail=%v", n, next, tail, wn, wnext, wtail)
			}
			for i := range tail {
				if !tail[i].Equal(wtail[i]) {
					t.Fatalf("tail[%d] = %s, walk gives %s", i, tail[i], wtail[i])
				}
			}
		})
	}
}

// TestRecordSpec reads the kinds back from stored records, as the Engine
// does to describe a schedule this process has not registered.
func TestRecordSpec(t *testing.T) {
	tests := []struct {
		rec      ScheduleRecord
		describe string // "" when the record must not parse
	}{
		{ScheduleRecord{Kind: "every", EverySeconds: 300}, "every 5 minutes"},
		{ScheduleRecord{Kind: "every", EverySeconds: 1.5}, "every 1.5s"},
		{ScheduleRecord{Kind: "cron", Cron: "0 9 * * 1-5", Timezone: "America/New_York"}, "at 09:00 every weekday (Monday to Friday), America/New_York"},
		{ScheduleRecord{Kind: "every", EverySeconds: 0}, ""},
		{ScheduleRecord{Kind: "cron", Cron: "0 9 * *", Timezone: "UTC"}, ""},
		{ScheduleRecord{Kind: "cron", Cron: "0 9 * * *", Timezone: "Mars/Olympus"}, ""},
		{ScheduleRecord{Kind: "hourly"}, ""},
	}
	for _, tt := range tests {
		sp, err := recordSpec(&tt.rec)
		switch {
		case tt.describe == "" && err == nil:
			t.Errorf("recordSpec(%+v) = %v; want an error", tt.rec, sp.Describe())
		case tt.describe != "" && err != nil:
			t.Errorf("recordSpec(%+v): %v", tt.rec, err)
		case err == nil && (sp.Describe() != tt.describe || sp.Kind() != tt.rec.Kind):
			t.Errorf("recordSpec(%+v) = %s %q; want %s %q", tt.rec, sp.Kind(), sp.Describe(), tt.rec.Kind, tt.describe)
		}
	}
}
