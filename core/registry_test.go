package core_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

func noop(context.Context, core.RunInfo) error { return nil }

// TestRegistryValidation checks every registration error of DESIGN.md
// "Validation": each one is a *core.ValidationError naming the field at
// fault, wraps core.ErrInvalid, and registers nothing.
func TestRegistryValidation(t *testing.T) {
	every := core.Every(time.Minute)
	tests := []struct {
		name     string
		register func(r *core.Registry) error
		field    string
	}{
		{"neither every nor cron", func(r *core.Registry) error { return r.Schedule("x", noop) }, "every/cron/once"},
		{"both every and cron", func(r *core.Registry) error {
			return r.Schedule("x", noop, core.Every(time.Minute), core.Cron("* * * * *"))
		}, "every/cron/once"},
		{"every and once", func(r *core.Registry) error {
			return r.Schedule("x", noop, core.Every(time.Minute), core.Once(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)))
		}, "every/cron/once"},
		{"once before MinTime", func(r *core.Registry) error {
			return r.Schedule("x", noop, core.Once(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)))
		}, "once"},
		{"once at MaxTime", func(r *core.Registry) error { return r.Schedule("x", noop, core.Once(core.MaxTime)) }, "once"},
		{"once zero", func(r *core.Registry) error { return r.Schedule("x", noop, core.Once(time.Time{})) }, "once"},
		{"once with run_on_startup", func(r *core.Registry) error {
			return r.Schedule("x", noop, core.Once(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), core.RunOnStartup())
		}, "run_on_startup"},
		{"every zero", func(r *core.Registry) error { return r.Schedule("x", noop, core.Every(0)) }, "every"},
		{"every negative", func(r *core.Registry) error { return r.Schedule("x", noop, core.Every(-time.Minute)) }, "every"},
		{"every below one second", func(r *core.Registry) error {
			return r.Schedule("x", noop, core.Every(500*time.Millisecond))
		}, "every"},
		{"cron four fields", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("* * * *")) }, "cron"},
		{"cron six fields", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("0 * * * * *")) }, "cron"},
		{"cron empty", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("")) }, "cron"},
		{"cron minute out of range", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("60 * * * *")) }, "cron"},
		{"cron hour out of range", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("0 24 * * *")) }, "cron"},
		{"cron day-of-month out of range", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("0 0 32 * *")) }, "cron"},
		{"cron month out of range", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("0 0 1 13 *")) }, "cron"},
		{"cron day-of-week out of range", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("0 0 * * 8")) }, "cron"},
		{"cron malformed item", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("a * * * *")) }, "cron"},
		{"cron never fires", func(r *core.Registry) error { return r.Schedule("x", noop, core.Cron("0 0 31 2 *")) }, "cron"},
		{"unknown time zone", func(r *core.Registry) error {
			return r.Schedule("x", noop, core.Cron("0 9 * * *"), core.Timezone("Mars/Olympus_Mons"))
		}, "timezone"},
		{"negative retries", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Retries(-1)) }, "retries"},
		{"negative delay", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Delay(-time.Second)) }, "delay"},
		{"backoff below one", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Backoff(0.5)) }, "backoff"},
		{"backoff zero", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Backoff(0)) }, "backoff"},
		{"backoff NaN", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Backoff(math.NaN())) }, "backoff"},
		{"negative max delay", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.MaxDelay(-time.Second)) }, "max_delay"},
		{"negative timeout", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Timeout(-time.Second)) }, "timeout"},
		{"unknown misfire policy", func(r *core.Registry) error {
			return r.Schedule("x", noop, every, core.Misfire("sometimes"))
		}, "misfire"},
		{"unknown overlap policy", func(r *core.Registry) error {
			return r.Schedule("x", noop, every, core.Overlap("maybe"))
		}, "overlap"},
		{"negative max catchup", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.MaxCatchup(-1)) }, "max_catchup"},
		{"negative jitter", func(r *core.Registry) error { return r.Schedule("x", noop, every, core.Jitter(-time.Second)) }, "jitter"},
		{"empty name", func(r *core.Registry) error { return r.Schedule("", noop, every) }, "name"},
		{"name with a space", func(r *core.Registry) error { return r.Schedule("a b", noop, every) }, "name"},
		{"name of 201 characters", func(r *core.Registry) error { return r.Schedule(strings.Repeat("n", 201), noop, every) }, "name"},
		{"name not ASCII", func(r *core.Registry) error { return r.Register("café", noop) }, "name"},
		{"name with a slash", func(r *core.Registry) error { return r.Register("a/b", noop) }, "name"},
		{"display name too long", func(r *core.Registry) error {
			return r.Schedule("x", noop, every, core.Name(strings.Repeat("n", 201)))
		}, "name"},
		{"nil function", func(r *core.Registry) error { return r.Schedule("x", nil, every) }, "fn"},
		{"timing option on Register", func(r *core.Registry) error { return r.Register("x", noop, every) }, "every/cron/once"},
		{"negative retries on Register", func(r *core.Registry) error { return r.Register("x", noop, core.Retries(-2)) }, "retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := core.NewRegistry()
			err := tt.register(reg)
			if err == nil {
				t.Fatal("registration succeeded; want a validation error")
			}
			var ve *core.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *core.ValidationError", err, err)
			}
			if ve.Field != tt.field {
				t.Errorf("error names field %q, want %q (error: %v)", ve.Field, tt.field, err)
			}
			if !errors.Is(err, core.ErrInvalid) {
				t.Errorf("error %v does not wrap core.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field %q", err.Error(), tt.field)
			}
			if n := len(reg.Tasks()) + len(reg.Schedules()); n != 0 {
				t.Errorf("a rejected registration left %d tasks/schedules in the registry", n)
			}
		})
	}
}

// TestRegistryNameCharacters checks the names that are accepted: every
// allowed character class and the 200-character limit.
func TestRegistryNameCharacters(t *testing.T) {
	for _, name := range []string{"a", "Z", "0", "cleanup_expired-sessions.v2:eu", "_.:-", strings.Repeat("n", 200)} {
		if err := core.NewRegistry().Register(name, noop); err != nil {
			t.Errorf("Register(%q) = %v, want nil", name, err)
		}
	}
}

// TestRegistryDuplicateName checks that a second task of the same name is
// rejected, whichever of Register and Schedule made the first, and that the
// first registration is kept.
func TestRegistryDuplicateName(t *testing.T) {
	reg := core.NewRegistry()
	if err := reg.Schedule("job", noop, core.Every(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, second := range []func() error{
		func() error { return reg.Schedule("job", noop, core.Every(time.Hour)) },
		func() error { return reg.Register("job", noop) },
	} {
		err := second()
		var ve *core.ValidationError
		if !errors.As(err, &ve) || ve.Field != "name" || !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("duplicate registration: got %v, want a name error saying duplicate", err)
		}
	}
	s, ok := reg.ScheduleByName("job")
	if !ok || s.Every != time.Minute {
		t.Errorf("the first registration was not kept: %+v", s)
	}
	if len(reg.Tasks()) != 1 {
		t.Errorf("tasks = %d, want 1", len(reg.Tasks()))
	}
}

// TestRegistryMustPanics checks the Must variants panic with the validation
// error and register normally otherwise.
func TestRegistryMustPanics(t *testing.T) {
	reg := core.NewRegistry()
	reg.MustRegister("ok", noop, core.Retries(1))
	reg.MustSchedule("ok_sched", noop, core.Cron("*/5 * * * *"))
	for name, f := range map[string]func(){
		"MustSchedule": func() { reg.MustSchedule("bad", noop) },
		"MustRegister": func() { reg.MustRegister("ok", noop) },
	} {
		func() {
			defer func() {
				p := recover()
				err, _ := p.(error)
				if !errors.Is(err, core.ErrInvalid) {
					t.Errorf("%s: recovered %v, want a validation error", name, p)
				}
			}()
			f()
		}()
	}
	if got := reg.TaskNames(); len(got) != 2 || got[0] != "ok" || got[1] != "ok_sched" {
		t.Errorf("TaskNames = %v, want [ok ok_sched]", got)
	}
}

// TestRegistryDefaults checks the documented defaults a schedule gets.
func TestRegistryDefaults(t *testing.T) {
	reg := core.NewRegistry()
	reg.MustSchedule("a", noop, core.Every(90*time.Second), core.Timezone("Europe/Paris"))
	reg.MustSchedule("b", noop, core.Cron("0 9 * * MON-FRI"), core.Name("Morning"), core.Retries(2))
	a, _ := reg.ScheduleByName("a")
	b, _ := reg.ScheduleByName("b")
	if a.Misfire != core.MisfireCoalesce || a.Overlap != core.OverlapSkip || a.MaxCatchup != core.DefaultMaxCatchup {
		t.Errorf("defaults: misfire %q overlap %q max_catchup %d", a.Misfire, a.Overlap, a.MaxCatchup)
	}
	if a.Kind() != "every" || b.Kind() != "cron" {
		t.Errorf("kinds %q %q", a.Kind(), b.Kind())
	}
	if b.Timezone != "UTC" || b.Location() != time.UTC {
		t.Errorf("cron without Timezone: zone %q", b.Timezone)
	}
	if a.Location() != time.UTC {
		t.Errorf("interval schedule location %v, want UTC (Timezone is ignored with Every)", a.Location())
	}
	if a.Task.DisplayName != "a" || b.Task.DisplayName != "Morning" {
		t.Errorf("display names %q %q", a.Task.DisplayName, b.Task.DisplayName)
	}
	if a.Task.Retry.Backoff != 1 || b.Task.Retry.MaxAttempts() != 3 {
		t.Errorf("retry defaults: backoff %v, max attempts %d", a.Task.Retry.Backoff, b.Task.Retry.MaxAttempts())
	}
}

// TestRetryPolicyWait is the retry-delay table: Delay·Backoff^(n-1), capped
// by MaxDelay and by a year.
func TestRetryPolicyWait(t *testing.T) {
	year := 365 * 24 * time.Hour
	tests := []struct {
		name   string
		policy core.RetryPolicy
		want   []time.Duration // Wait(1), Wait(2), ...
	}{
		{"zero delay", core.RetryPolicy{Retries: 3, Backoff: 2}, []time.Duration{0, 0, 0}},
		{"constant", core.RetryPolicy{Delay: time.Second, Backoff: 1}, []time.Duration{time.Second, time.Second, time.Second}},
		{"doubling", core.RetryPolicy{Delay: 10 * time.Minute, Backoff: 2}, []time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute, 80 * time.Minute}},
		{"one and a half", core.RetryPolicy{Delay: 2 * time.Second, Backoff: 1.5}, []time.Duration{2 * time.Second, 3 * time.Second, 4500 * time.Millisecond}},
		{"capped by max delay", core.RetryPolicy{Delay: 10 * time.Minute, Backoff: 2, MaxDelay: 25 * time.Minute}, []time.Duration{10 * time.Minute, 20 * time.Minute, 25 * time.Minute, 25 * time.Minute}},
		{"max delay below delay", core.RetryPolicy{Delay: time.Hour, Backoff: 3, MaxDelay: time.Minute}, []time.Duration{time.Minute, time.Minute}},
		{"backoff below one reads as one", core.RetryPolicy{Delay: time.Second, Backoff: 0.5}, []time.Duration{time.Second, time.Second}},
		{"zero backoff reads as one", core.RetryPolicy{Delay: time.Second}, []time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := tt.policy.Wait(i + 1); got != want {
					t.Errorf("Wait(%d) = %v, want %v", i+1, got, want)
				}
			}
		})
	}
	t.Run("attempt below one reads as one", func(t *testing.T) {
		p := core.RetryPolicy{Delay: time.Minute, Backoff: 2}
		if got := p.Wait(0); got != time.Minute {
			t.Errorf("Wait(0) = %v, want 1m", got)
		}
		if got := p.Wait(-5); got != time.Minute {
			t.Errorf("Wait(-5) = %v, want 1m", got)
		}
	})
	t.Run("capped at a year", func(t *testing.T) {
		p := core.RetryPolicy{Delay: time.Hour, Backoff: 10}
		for _, n := range []int{5, 50, 1000, math.MaxInt32} {
			if got := p.Wait(n); got != year {
				t.Errorf("Wait(%d) = %v, want the one-year cap %v", n, got, year)
			}
		}
		p.MaxDelay = 48 * time.Hour
		if got := p.Wait(1000); got != 48*time.Hour {
			t.Errorf("with MaxDelay 48h, Wait(1000) = %v", got)
		}
	})
	t.Run("options reach the policy", func(t *testing.T) {
		reg := core.NewRegistry()
		reg.MustRegister("r", noop, core.Retries(2), core.Delay(10*time.Minute), core.Backoff(2), core.MaxDelay(15*time.Minute))
		task, _ := reg.Task("r")
		want := core.RetryPolicy{Retries: 2, Delay: 10 * time.Minute, Backoff: 2, MaxDelay: 15 * time.Minute}
		if task.Retry != want {
			t.Fatalf("policy %+v, want %+v", task.Retry, want)
		}
		if task.Retry.MaxAttempts() != 3 || task.Retry.Wait(2) != 15*time.Minute {
			t.Errorf("MaxAttempts %d Wait(2) %v", task.Retry.MaxAttempts(), task.Retry.Wait(2))
		}
	})
}

// TestSpecHash checks that the hash depends on the timing spec only, is equal
// across registries (processes), and keeps its value across releases: a
// change re-anchors every stored schedule at the next deploy.
func TestSpecHash(t *testing.T) {
	hash := func(opts ...core.Option) string {
		t.Helper()
		reg := core.NewRegistry()
		if err := reg.Schedule("s", noop, opts...); err != nil {
			t.Fatal(err)
		}
		s, _ := reg.ScheduleByName("s")
		return s.SpecHash()
	}
	base := hash(core.Every(5 * time.Minute))
	if len(base) != 16 {
		t.Errorf("hash %q: want 16 hex digits", base)
	}
	// Pinned: hex(sha256("v1|every|300000000000|||false")[:8]). If this
	// changes on purpose, every deployed schedule is re-anchored once.
	if base != "c838788704217cf4" {
		t.Errorf("SpecHash(every 5m) = %q changed; stored schedules would all be re-anchored", base)
	}
	same := map[string][]core.Option{
		"same spec again":     {core.Every(5 * time.Minute)},
		"retries and delay":   {core.Every(5 * time.Minute), core.Retries(3), core.Delay(time.Second)},
		"display name":        {core.Every(5 * time.Minute), core.Name("Five")},
		"misfire and overlap": {core.Every(5 * time.Minute), core.Misfire(core.MisfireCatchup), core.Overlap(core.OverlapAllow)},
		"timeout and jitter":  {core.Every(5 * time.Minute), core.Timeout(time.Second), core.Jitter(time.Second)},
		"timezone (every)":    {core.Every(5 * time.Minute), core.Timezone("Asia/Tokyo")},
	}
	for name, opts := range same {
		if got := hash(opts...); got != base {
			t.Errorf("%s: hash %q, want %q (timing unchanged)", name, got, base)
		}
	}
	different := map[string][]core.Option{
		"other interval":      {core.Every(6 * time.Minute)},
		"run on startup":      {core.Every(5 * time.Minute), core.RunOnStartup()},
		"cron":                {core.Cron("*/5 * * * *")},
		"cron in a zone":      {core.Cron("*/5 * * * *"), core.Timezone("America/New_York")},
		"other cron":          {core.Cron("*/10 * * * *")},
		"cron other zone":     {core.Cron("*/5 * * * *"), core.Timezone("Europe/Berlin")},
		"cron startup":        {core.Cron("*/5 * * * *"), core.RunOnStartup()},
		"cron in UTC by name": {core.Cron("0 9 * * *"), core.Timezone("UTC")},
	}
	seen := map[string]string{base: "every 5m"}
	for name, opts := range different {
		h := hash(opts...)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s: hash %q equals that of %s", name, h, prev)
		}
		seen[h] = name
	}
	if hash(core.Cron("0 9 * * *")) != hash(core.Cron("0 9 * * *"), core.Timezone("UTC")) {
		t.Error("cron with no zone and with UTC hash differently; both are read in UTC")
	}
}

// TestFirstSlot checks where a newly stored schedule starts.
func TestFirstSlot(t *testing.T) {
	stored := time.Date(2026, 3, 2, 10, 7, 30, 500_000_000, time.UTC)
	tests := []struct {
		name string
		opts []core.Option
		want time.Time
	}{
		{"every: anchor plus one interval", []core.Option{core.Every(5 * time.Minute)},
			time.Date(2026, 3, 2, 10, 12, 30, 0, time.UTC)},
		{"every with run on startup: the anchor", []core.Option{core.Every(5 * time.Minute), core.RunOnStartup()},
			time.Date(2026, 3, 2, 10, 7, 30, 0, time.UTC)},
		{"cron: next match", []core.Option{core.Cron("*/15 * * * *")},
			time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)},
		{"cron in a zone", []core.Option{core.Cron("0 * * * *"), core.Timezone("Asia/Kolkata")},
			time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)},
		{"cron with run on startup: the storing time", []core.Option{core.Cron("0 9 * * *"), core.RunOnStartup()},
			time.Date(2026, 3, 2, 10, 7, 30, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := core.NewRegistry()
			reg.MustSchedule("s", noop, tt.opts...)
			s, _ := reg.ScheduleByName("s")
			if got := s.FirstSlot(stored); !got.Equal(tt.want) {
				t.Errorf("FirstSlot = %v, want %v", got, tt.want)
			}
		})
	}
}
