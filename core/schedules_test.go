package core

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func (s untouchedStore) InsertSchedules(context.Context, Tx, InsertSchedulesParams) (UpsertResult, error) {
	s.t.Error("InsertSchedules called: bad input reached the store")
	return UpsertResult{}, errors.New("must not be called")
}

func (s untouchedStore) ListSchedulesPage(context.Context, ScheduleFilter) (SchedulePage, error) {
	s.t.Error("ListSchedulesPage called: bad input reached the store")
	return SchedulePage{}, errors.New("must not be called")
}

// TestScheduleParamsValidation: each bad field of a runtime schedule is a
// ValidationError naming it, from create, upsert and batch upsert alike,
// and nothing reaches the store.
func TestScheduleParamsValidation(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	e := quietEngine(t, Config{Store: untouchedStore{t: t}, Clock: NewStubClock(t0)})
	ok := func() ScheduleParams {
		return ScheduleParams{Key: "acme/report", Task: "send_email", Every: time.Hour}
	}
	neg, big := -1, 5000
	nan, half := math.NaN(), 0.5
	hugeDelay := 400 * 24 * time.Hour
	for _, c := range []struct {
		name  string
		edit  func(p *ScheduleParams)
		field string
	}{
		{"unknown task", func(p *ScheduleParams) { p.Task = "nope" }, "task"},
		{"empty key", func(p *ScheduleParams) { p.Key = "" }, "key"},
		{"key too long", func(p *ScheduleParams) { p.Key = strings.Repeat("k", MaxScheduleKeyBytes+1) }, "key"},
		{"NUL in key", func(p *ScheduleParams) { p.Key = "a\x00b" }, "key"},
		{"invalid UTF-8 in key", func(p *ScheduleParams) { p.Key = "a\xffb" }, "key"},
		{"NUL in task", func(p *ScheduleParams) { p.Task = "send\x00" }, "task"},
		{"no kind", func(p *ScheduleParams) { p.Every = 0 }, "every/cron/once"},
		{"two kinds", func(p *ScheduleParams) { p.Cron = "0 9 * * *" }, "every/cron/once"},
		{"negative every", func(p *ScheduleParams) { p.Every = -time.Second }, "every"},
		{"huge every", func(p *ScheduleParams) { p.Every = math.MaxInt64 }, "every"},
		{"bad cron", func(p *ScheduleParams) { p.Every, p.Cron = 0, "61 * * * *" }, "cron"},
		{"never-firing cron", func(p *ScheduleParams) { p.Every, p.Cron = 0, "0 0 31 2 *" }, "cron"},
		{"bad zone", func(p *ScheduleParams) { p.Every, p.Cron, p.Timezone = 0, "0 9 * * *", "Mars/Olympus" }, "timezone"},
		{"once out of range", func(p *ScheduleParams) { p.Every, p.Once = 0, MaxTime }, "once"},
		{"start out of range", func(p *ScheduleParams) { p.StartAt = MinTime.Add(-time.Hour) }, "start_at"},
		{"end before start", func(p *ScheduleParams) { p.StartAt, p.EndAt = t0.Add(time.Hour), t0 }, "end_at"},
		{"end equals start", func(p *ScheduleParams) { p.StartAt, p.EndAt = t0, t0 }, "end_at"},
		{"once before start", func(p *ScheduleParams) { p.Every, p.Once, p.StartAt = 0, t0, t0.Add(time.Hour) }, "start_at"},
		{"oversize payload", func(p *ScheduleParams) {
			p.Payload = json.RawMessage(`"` + strings.Repeat("x", MaxPayloadBytes) + `"`)
		}, "payload"},
		{"malformed payload", func(p *ScheduleParams) { p.Payload = json.RawMessage(`{"a":`) }, "payload"},
		{"NUL escape in payload", func(p *ScheduleParams) { p.Payload = json.RawMessage(`"\u0000"`) }, "payload"},
		{"too many labels", func(p *ScheduleParams) {
			p.Labels = map[string]string{}
			for i := range MaxLabels + 1 {
				p.Labels[strings.Repeat("k", i+1)] = "v"
			}
		}, "labels"},
		{"empty label key", func(p *ScheduleParams) { p.Labels = map[string]string{"": "v"} }, "labels"},
		{"long label key", func(p *ScheduleParams) { p.Labels = map[string]string{strings.Repeat("k", 64): "v"} }, "labels"},
		{"long label value", func(p *ScheduleParams) { p.Labels = map[string]string{"k": strings.Repeat("v", 256)} }, "labels"},
		{"NUL in label", func(p *ScheduleParams) { p.Labels = map[string]string{"k": "v\x00"} }, "labels"},
		{"bad misfire", func(p *ScheduleParams) { p.Misfire = "later" }, "misfire"},
		{"bad overlap", func(p *ScheduleParams) { p.Overlap = "queue" }, "overlap"},
		{"negative max_catchup", func(p *ScheduleParams) { p.MaxCatchup = -1 }, "max_catchup"},
		{"negative jitter", func(p *ScheduleParams) { p.Jitter = -time.Second }, "jitter"},
		{"negative retries", func(p *ScheduleParams) { p.Retries = &neg }, "retries"},
		{"huge retries", func(p *ScheduleParams) { p.Retries = &big }, "retries"},
		{"NaN backoff", func(p *ScheduleParams) { p.Backoff = &nan }, "backoff"},
		{"backoff below 1", func(p *ScheduleParams) { p.Backoff = &half }, "backoff"},
		{"huge delay", func(p *ScheduleParams) { p.Delay = &hugeDelay }, "delay"},
		{"huge timeout", func(p *ScheduleParams) { p.Timeout = &hugeDelay }, "timeout"},
		{"negative max_runs", func(p *ScheduleParams) { p.MaxRuns = -1 }, "max_runs"},
		{"huge max_runs", func(p *ScheduleParams) { p.MaxRuns = math.MaxInt }, "max_runs"},
		{"long display name", func(p *ScheduleParams) { p.DisplayName = strings.Repeat("d", MaxDisplayNameBytes+1) }, "display_name"},
		{"run_on_startup with once", func(p *ScheduleParams) { p.Every, p.Once, p.RunOnStartup = 0, t0, true }, "run_on_startup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := ok()
			c.edit(&p)
			_, err := e.CreateSchedule(t.Context(), p)
			wantField(t, "create", err, c.field)
			_, _, err = e.UpsertSchedule(t.Context(), p)
			wantField(t, "upsert", err, c.field)
			_, err = e.UpsertSchedules(t.Context(), []ScheduleParams{ok(), p})
			wantField(t, "batch upsert", err, c.field)
		})
	}
}

// TestScheduleFilterValidation: bad list filters never reach the store.
func TestScheduleFilterValidation(t *testing.T) {
	e := quietEngine(t, Config{Store: untouchedStore{t: t}, Clock: NewStubClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))})
	for _, c := range []struct {
		f     ScheduleFilter
		field string
	}{
		{ScheduleFilter{Limit: -1}, "limit"},
		{ScheduleFilter{Limit: MaxListLimit + 1}, "limit"},
		{ScheduleFilter{Origin: "cron"}, "origin"},
		{ScheduleFilter{Task: "a\x00"}, "task"},
		{ScheduleFilter{KeyPrefix: "\xff"}, "key_prefix"},
		{ScheduleFilter{After: "\xff"}, "after"},
		{ScheduleFilter{Labels: map[string]string{"": "x"}}, "labels"},
	} {
		_, err := e.ListSchedules(t.Context(), c.f)
		wantField(t, "list", err, c.field)
	}
}

// TestScheduleFirstSlotWithStartAt: start_at bounds the first slot, and an
// interval's slots are start_at + k·every.
func TestScheduleFirstSlotWithStartAt(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	task := &Task{Name: "t"}
	for _, c := range []struct {
		name string
		sp   spec
		want time.Time
	}{
		{"interval, start later", spec{every: time.Hour, everySet: true, startAt: now.Add(90 * time.Minute)}, now.Add(90 * time.Minute)},
		{"interval, start earlier: its grid", spec{every: time.Hour, everySet: true, startAt: now.Add(-90 * time.Minute)}, now.Add(30 * time.Minute)},
		{"cron, start later", spec{cron: "0 9 * * *", cronSet: true, startAt: time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)}, time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)},
		{"cron, start earlier", spec{cron: "0 9 * * *", cronSet: true, startAt: now.Add(-48 * time.Hour)}, time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)},
		{"run_on_startup, start later", spec{every: time.Hour, everySet: true, runOnStartup: true, startAt: now.Add(time.Hour)}, now.Add(time.Hour)},
	} {
		s, err := newSchedule("k", task, &c.sp)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := s.FirstSlot(now); !got.Equal(c.want) {
			t.Errorf("%s: first slot %v, want %v", c.name, got, c.want)
		}
	}
	// start_at joins the hash only when set: code schedules keep theirs.
	a, _ := newSchedule("k", task, &spec{every: time.Hour, everySet: true})
	b, _ := newSchedule("k", task, &spec{every: time.Hour, everySet: true, startAt: now})
	if a.SpecHash() == b.SpecHash() {
		t.Error("start_at does not change the spec hash")
	}
}
