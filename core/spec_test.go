package core_test

import (
	"context"
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zone files

	"github.com/tickflow/tickflow/core"
)

func mustInterval(t *testing.T, d time.Duration) core.Spec {
	t.Helper()
	iv, err := core.NewInterval(d)
	if err != nil {
		t.Fatalf("NewInterval(%v): %v", d, err)
	}
	return iv
}

func mustCron(t *testing.T, expr, tz string) core.Spec {
	t.Helper()
	c, err := core.ParseCron(expr, tz)
	if err != nil {
		t.Fatalf("ParseCron(%q, %q): %v", expr, tz, err)
	}
	return c
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSpecKinds drives each kind through the Spec interface only: its stored
// name, its words, its zone, its first slot from an anchor and the slots after.
func TestSpecKinds(t *testing.T) {
	tests := []struct {
		name     string
		spec     func(*testing.T) core.Spec
		kind     string
		describe string
		zone     string
		anchor   string
		want     []string // First(anchor), then Next of each
	}{
		{
			name: "interval anchored, not rounded", spec: func(t *testing.T) core.Spec { return mustInterval(t, 5*time.Minute) },
			kind: "every", describe: "every 5 minutes", zone: "UTC",
			anchor: "2026-01-01T10:02:17Z",
			want:   []string{"2026-01-01T10:07:17Z", "2026-01-01T10:12:17Z", "2026-01-01T10:17:17Z"},
		},
		{
			name: "interval crosses a leap day", spec: func(t *testing.T) core.Spec { return mustInterval(t, 24*time.Hour) },
			kind: "every", describe: "every 24 hours", zone: "UTC",
			anchor: "2028-02-27T23:00:00Z",
			want:   []string{"2028-02-28T23:00:00Z", "2028-02-29T23:00:00Z", "2028-03-01T23:00:00Z"},
		},
		{
			name: "interval ignores DST: elapsed time, not wall time", spec: func(t *testing.T) core.Spec { return mustInterval(t, time.Hour) },
			kind: "every", describe: "every hour", zone: "UTC",
			anchor: "2026-03-08T06:30:00Z",
			want:   []string{"2026-03-08T07:30:00Z", "2026-03-08T08:30:00Z"},
		},
		{
			name: "interval of odd length", spec: func(t *testing.T) core.Spec { return mustInterval(t, 90*time.Minute) },
			kind: "every", describe: "every 1h30m0s", zone: "UTC",
			anchor: "2026-12-31T23:00:00Z",
			want:   []string{"2027-01-01T00:30:00Z", "2027-01-01T02:00:00Z"},
		},
		{
			name: "cron every 15 minutes from an off-grid anchor", spec: func(t *testing.T) core.Spec { return mustCron(t, "*/15 * * * *", "") },
			kind: "cron", describe: "every 15 minutes", zone: "UTC",
			anchor: "2026-01-01T10:02:17Z",
			want:   []string{"2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z"},
		},
		{
			name: "cron first slot is strictly after the anchor", spec: func(t *testing.T) core.Spec { return mustCron(t, "0 9 * * *", "") },
			kind: "cron", describe: "at 09:00 every day, UTC", zone: "UTC",
			anchor: "2026-01-01T09:00:00Z",
			want:   []string{"2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"},
		},
		{
			name: "cron spring-forward gap (DESIGN.md)", spec: func(t *testing.T) core.Spec { return mustCron(t, "30 2 * * *", "America/New_York") },
			kind: "cron", describe: "at 02:30 every day, America/New_York", zone: "America/New_York",
			anchor: "2026-03-07T17:00:00Z",
			want:   []string{"2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"},
		},
		{
			name: "cron fall-back first pass only (DESIGN.md)", spec: func(t *testing.T) core.Spec { return mustCron(t, "30 1 * * *", "America/New_York") },
			kind: "cron", describe: "at 01:30 every day, America/New_York", zone: "America/New_York",
			anchor: "2026-10-31T17:00:00Z",
			want:   []string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		},
		{
			name: "cron leap day only", spec: func(t *testing.T) core.Spec { return mustCron(t, "0 0 29 2 *", "") },
			kind: "cron", describe: "at 00:00 on February 29 every year, UTC", zone: "UTC",
			anchor: "2026-01-01T00:00:00Z",
			want:   []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
		},
		{
			name: "cron month end", spec: func(t *testing.T) core.Spec { return mustCron(t, "0 12 31 * *", "Europe/Berlin") },
			kind: "cron", describe: "at 12:00 on day 31 of every month, Europe/Berlin", zone: "Europe/Berlin",
			anchor: "2026-03-31T11:00:00Z", // 13:00 CEST: today's noon has passed
			want:   []string{"2026-05-31T10:00:00Z", "2026-07-31T10:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := tt.spec(t)
			if got := sp.Kind(); got != tt.kind {
				t.Errorf("Kind() = %q, want %q", got, tt.kind)
			}
			if got := sp.Describe(); got != tt.describe {
				t.Errorf("Describe() = %q, want %q", got, tt.describe)
			}
			if got := sp.Location().String(); got != tt.zone {
				t.Errorf("Location() = %q, want %q", got, tt.zone)
			}
			slot := sp.First(at(t, tt.anchor))
			for i, w := range tt.want {
				if i > 0 {
					prev := slot
					slot = sp.Next(prev)
					if !slot.After(prev) {
						t.Fatalf("Next(%s) = %s, not strictly after", prev, slot)
					}
				}
				if !slot.Equal(at(t, w)) || slot.Location() != time.UTC {
					t.Fatalf("slot %d = %s (%v), want %s in UTC", i, slot, slot.Location(), w)
				}
			}
		})
	}
}

func TestNewIntervalRejects(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, 500 * time.Millisecond} {
		_, err := core.NewInterval(d)
		var ve *core.ValidationError
		if !errors.As(err, &ve) || ve.Field != "every" || !errors.Is(err, core.ErrInvalid) {
			t.Errorf("NewInterval(%v) = %v; want a validation error on every", d, err)
		}
	}
}

// TestScheduleDelegatesToSpec checks that a registered schedule answers with
// its kind's Spec, whichever option built it, and that the stored names and
// hashes of the two kinds did not move (stored rows compare them).
func TestScheduleDelegatesToSpec(t *testing.T) {
	noop := func(ctx context.Context, run core.RunInfo) error { return nil }
	tests := []struct {
		name string
		opts []core.Option
		kind string
		hash string
	}{
		{"every", []core.Option{core.Every(5 * time.Minute)}, "every", "c838788704217cf4"},
		{"cron", []core.Option{core.Cron("0 9 * * *"), core.Timezone("America/New_York")}, "cron", "5de1c074a2edb810"},
		{"cron run on startup", []core.Option{core.Cron("*/5 * * * *"), core.RunOnStartup()}, "cron", "c950354c2536e62e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := core.NewRegistry()
			if err := r.Schedule("s", noop, tt.opts...); err != nil {
				t.Fatal(err)
			}
			s, _ := r.ScheduleByName("s")
			sp := s.Spec()
			if sp == nil || sp.Kind() != tt.kind || s.Kind() != tt.kind {
				t.Fatalf("Spec() = %#v, Kind() = %q; want kind %q", sp, s.Kind(), tt.kind)
			}
			if s.SpecHash() != tt.hash {
				t.Errorf("SpecHash() = %s, want %s (stored hashes must not change)", s.SpecHash(), tt.hash)
			}
			if s.Describe() != sp.Describe() || s.Location() != sp.Location() {
				t.Errorf("Describe/Location differ from the Spec's")
			}
			from := at(t, "2026-03-07T17:00:00Z")
			if got, want := s.NextSlot(from), sp.Next(from); !got.Equal(want) {
				t.Errorf("NextSlot = %s, Spec.Next = %s", got, want)
			}
		})
	}
}

// TestOnceSpec: the once kind's one slot is its instant (truncated to the
// second, in UTC) whatever the anchor, even one after it; then never again.
func TestOnceSpec(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	o, err := core.NewOnce(time.Date(2027, 5, 4, 17, 30, 0, 999, berlin))
	if err != nil {
		t.Fatal(err)
	}
	want := at(t, "2027-05-04T15:30:00Z")
	if o.Kind() != "once" || o.Describe() != "once at 2027-05-04T15:30:00Z" || o.Location() != time.UTC {
		t.Errorf("kind %q, describe %q, zone %v", o.Kind(), o.Describe(), o.Location())
	}
	for _, anchor := range []string{"2026-01-01T00:00:00Z", "2027-05-04T15:30:00Z", "2030-01-01T00:00:00Z"} {
		if got := o.First(at(t, anchor)); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("First(%s) = %v, want %v in UTC", anchor, got, want)
		}
	}
	if next := o.Next(want); !next.IsZero() {
		t.Errorf("Next(slot) = %v, want zero (never again)", next)
	}
	for _, bad := range []time.Time{{}, core.MaxTime, core.MinTime.Add(-time.Second)} {
		if _, err := core.NewOnce(bad); err == nil {
			t.Errorf("NewOnce(%v) accepted", bad)
		}
	}
}
