package core_test

// Hostile-input fuzz targets for the schedule parsers (RELIABILITY.md,
// scenario 7). Each target has a committed seed corpus under
// testdata/fuzz/<FuzzName>/; `go test ./core` replays it, .ci/fuzz mutates
// it for a fixed time.

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
	_ "time/tzdata" // zones must not depend on the host's files

	"github.com/tickflow/tickflow/core"
)

// fuzzStart maps a fuzzed integer to an instant between 1970 and 2200, the
// range a schedule is ever evaluated in.
func fuzzStart(sec int64) time.Time {
	const span = int64(230 * 365 * 24 * 3600)
	if sec < 0 {
		sec = -(sec + 1)
	}
	return time.Unix(sec%span, 0).UTC()
}

// requireValidation fails unless err is a *core.ValidationError naming a
// field and wrapping core.ErrInvalid.
func requireValidation(t *testing.T, err error, what string) {
	t.Helper()
	var ve *core.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%s: error is %T (%v), want *core.ValidationError", what, err, err)
	}
	if ve.Field == "" || ve.Reason == "" {
		t.Fatalf("%s: validation error does not name a field and a reason: %+v", what, ve)
	}
	if !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("%s: error does not wrap ErrInvalid: %v", what, err)
	}
}

// FuzzParseCron: any expression and zone either parse into a schedule whose
// Next is strictly increasing, or fail with a validation error naming the
// cron or timezone field. Never a panic, never an endless search.
func FuzzParseCron(f *testing.F) {
	seeds := []struct {
		expr, tz string
		start    int64
	}{
		{"* * * * *", "", 1780000000},
		{"*/5 * * * *", "UTC", 1780000000},
		{"30 2 * * *", "America/New_York", 1772928000},
		{"30 1 * * *", "America/New_York", 1793552400},
		{"0 9 * * MON-FRI", "Europe/Berlin", 1780000000},
		{"0 0 29 2 *", "Asia/Kathmandu", 1780000000},
		{"0 0 31 2 *", "", 0},
		{"@hourly", "Australia/Lord_Howe", 1780000000},
		{"@every 5m", "", 0},
		{"0 0 * * * *", "", 0},
		{"60 * * * *", "", 0},
		{"*/0 * * * *", "", 0},
		{"1-0 * * * *", "", 0},
		{"L * * * *", "", 0},
		{"0 0 1 JAN,jul SUN#2", "", 0},
		{"0 0 * * 7", "Bogus/Zone", 0},
		{"0 0 * * *", "../../etc/passwd", 0},
		{"0 0 * * *", "Local", 0},
		{"", "", 0},
		{"\x00 \xff * * *", "", -1},
		{"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20 * * * *", "Pacific/Chatham", math.MaxInt64},
	}
	for _, s := range seeds {
		f.Add(s.expr, s.tz, s.start)
	}
	f.Fuzz(func(t *testing.T, expr, tz string, start int64) {
		c, err := core.ParseCron(expr, tz)
		if err != nil {
			requireValidation(t, err, "ParseCron")
			var ve *core.ValidationError
			errors.As(err, &ve)
			if ve.Field != "cron" && ve.Field != "timezone" {
				t.Fatalf("ParseCron(%q, %q): error names field %q, want cron or timezone", expr, tz, ve.Field)
			}
			return
		}
		if c == nil {
			t.Fatalf("ParseCron(%q, %q): nil schedule and nil error", expr, tz)
		}
		if c.String() != expr {
			t.Fatalf("String() = %q, want %q", c.String(), expr)
		}
		if c.Describe() == "" {
			t.Fatalf("ParseCron(%q, %q): empty description", expr, tz)
		}
		prev := fuzzStart(start)
		for i := 0; i < 8; i++ {
			next := c.Next(prev)
			if next.IsZero() {
				return // never again: allowed past the search horizon
			}
			if !next.After(prev) {
				t.Fatalf("ParseCron(%q, %q): Next(%s) = %s, not strictly after", expr, tz, prev, next)
			}
			if next.Second() != 0 || next.Nanosecond() != 0 {
				t.Fatalf("ParseCron(%q, %q): Next(%s) = %s, not on a minute", expr, tz, prev, next)
			}
			prev = next
		}
	})
}

// FuzzSchedule: Registry.Schedule with fuzzed options either registers a
// schedule whose slots are strictly increasing and whose retry waits are
// bounded, or returns a validation error naming the field; a rejected
// registration leaves the registry empty.
func FuzzSchedule(f *testing.F) {
	type seed struct {
		name              string
		useEvery, useCron bool
		every             int64
		cron, tz          string
		retries           int
		delay             int64
		backoff           float64
		maxDelay, timeout int64
		misfire, overlap  string
		maxCatchup        int
		jitter            int64
		runOnStartup      bool
		start             int64
	}
	seeds := []seed{
		{"cleanup", true, false, int64(5 * time.Minute), "", "", 1, 0, 1, 0, 0, "", "", 0, 0, false, 1780000000},
		{"report", false, true, 0, "0 9 * * *", "America/New_York", 3, int64(time.Second), 2, int64(time.Minute), int64(time.Hour), "catchup", "allow", 10, int64(time.Second), true, 1780000000},
		{"both", true, true, int64(time.Minute), "* * * * *", "", 0, 0, 1, 0, 0, "", "", 0, 0, false, 0},
		{"neither", false, false, 0, "", "", 0, 0, 1, 0, 0, "", "", 0, 0, false, 0},
		{"neg", true, false, -1, "", "", -1, -1, 0.5, -1, -1, "sometimes", "never", -1, -1, false, 0},
		{"nan", true, false, int64(time.Second), "", "", 0, 0, math.NaN(), 0, 0, "", "", 0, 0, false, 0},
		{"inf", true, false, math.MaxInt64, "", "", 1000, math.MaxInt64, math.Inf(1), 0, 0, "skip", "skip", math.MaxInt32, math.MaxInt64, true, math.MaxInt64},
		{"sub-second", true, false, int64(time.Millisecond), "", "", 0, 0, 1, 0, 0, "", "", 0, 0, false, 0},
		{"bad name!", true, false, int64(time.Minute), "", "", 0, 0, 1, 0, 0, "", "", 0, 0, false, 0},
		{"", false, true, 0, "0 0 31 2 *", "Mars/Olympus", 1001, 0, 1, 0, 0, "", "", 0, 0, false, 0},
	}
	for _, s := range seeds {
		f.Add(s.name, s.useEvery, s.useCron, s.every, s.cron, s.tz, s.retries, s.delay, s.backoff,
			s.maxDelay, s.timeout, s.misfire, s.overlap, s.maxCatchup, s.jitter, s.runOnStartup, s.start)
	}
	f.Fuzz(func(t *testing.T, name string, useEvery, useCron bool, every int64, cron, tz string,
		retries int, delay int64, backoff float64, maxDelay, timeout int64, misfire, overlap string,
		maxCatchup int, jitter int64, runOnStartup bool, start int64) {
		opts := []core.Option{
			core.Timezone(tz), core.Retries(retries), core.Delay(time.Duration(delay)),
			core.Backoff(backoff), core.MaxDelay(time.Duration(maxDelay)), core.Timeout(time.Duration(timeout)),
			core.MaxCatchup(maxCatchup), core.Jitter(time.Duration(jitter)),
		}
		if useEvery {
			opts = append(opts, core.Every(time.Duration(every)))
		}
		if useCron {
			opts = append(opts, core.Cron(cron))
		}
		if misfire != "" {
			opts = append(opts, core.Misfire(core.MisfirePolicy(misfire)))
		}
		if overlap != "" {
			opts = append(opts, core.Overlap(core.OverlapPolicy(overlap)))
		}
		if runOnStartup {
			opts = append(opts, core.RunOnStartup())
		}
		reg := core.NewRegistry()
		noop := func(context.Context, core.RunInfo) error { return nil }
		err := reg.Schedule(name, noop, opts...)
		if err != nil {
			requireValidation(t, err, "Schedule")
			if len(reg.Tasks()) != 0 || len(reg.Schedules()) != 0 {
				t.Fatalf("a rejected Schedule left %d tasks and %d schedules registered", len(reg.Tasks()), len(reg.Schedules()))
			}
			return
		}
		if useEvery == useCron {
			t.Fatalf("Schedule accepted useEvery=%t useCron=%t: exactly one is required", useEvery, useCron)
		}
		s, ok := reg.ScheduleByName(name)
		if !ok {
			t.Fatalf("Schedule(%q) returned nil but the schedule is not registered", name)
		}
		if !s.Misfire.Valid() || !s.Overlap.Valid() || s.MaxCatchup <= 0 || s.Jitter < 0 {
			t.Fatalf("accepted schedule has invalid policies: %+v", s)
		}
		if h := s.SpecHash(); h == "" || h != s.SpecHash() {
			t.Fatalf("SpecHash is empty or unstable: %q", h)
		}
		at := fuzzStart(start)
		slot := s.FirstSlot(at)
		if slot.Before(at.Truncate(time.Second)) {
			t.Fatalf("FirstSlot(%s) = %s, before the time it was stored", at, slot)
		}
		for i := 0; i < 8 && !slot.IsZero(); i++ {
			next := s.NextSlot(slot)
			if !next.IsZero() && !next.After(slot) {
				t.Fatalf("NextSlot(%s) = %s, not strictly after (spec %s)", slot, next, s.Describe())
			}
			slot = next
		}
		p := s.Task.Retry
		for n := 1; n <= 5; n++ {
			w := p.Wait(n)
			if w < 0 || w > 366*24*time.Hour {
				t.Fatalf("Retry.Wait(%d) = %s: negative or above a year (%+v)", n, w, p)
			}
			if p.MaxDelay > 0 && w > p.MaxDelay {
				t.Fatalf("Retry.Wait(%d) = %s exceeds MaxDelay %s", n, w, p.MaxDelay)
			}
		}
		if err := reg.Schedule(name, noop, opts...); err == nil {
			t.Fatalf("a second Schedule(%q) was accepted: names must be unique", name)
		} else {
			requireValidation(t, err, "duplicate Schedule")
		}
	})
}
