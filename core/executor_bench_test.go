package core

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkAttempt times one attempt of a no-op task (no timeout), made by
// as many workers as GOMAXPROCS, as a tick's workers make them: in the
// worker's goroutine, watched by its attempt context.
func BenchmarkAttempt(b *testing.B) {
	reg := NewRegistry()
	reg.MustRegister("noop", func(context.Context, RunInfo) error { return nil })
	x, _ := testExecutor(reg, time.Hour, time.Second)
	actx, cancel := context.WithCancel(context.Background())
	defer cancel()
	then := func(Run, Outcome) {}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := new(seat)
		r := Run{ID: 1, Task: "noop", Status: StatusRunning, Attempt: 1, MaxAttempts: 1}
		for pb.Next() {
			if !x.run(actx, actx, r, then, s) {
				b.Fatal("abandoned")
			}
		}
	})
}

// BenchmarkPlanBatch times planning one claim batch of 5,000 due code
// schedules (each Every(1 minute), one slot due) out of 10,000 registered,
// as a tick's claim plans it: one op is the batch.
func BenchmarkPlanBatch(b *testing.B) {
	reg := NewRegistry()
	noop := func(context.Context, RunInfo) error { return nil }
	for i := range 10_000 {
		reg.MustSchedule(fmt.Sprintf("bench-%05d", i), noop, Every(time.Minute))
	}
	log, _ := testLogger()
	e, err := NewEngine(Config{Store: newFakeStore(), Registry: reg, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	due := make([]DueSchedule, 5000)
	for i := range due {
		s, _ := reg.ScheduleByName(fmt.Sprintf("bench-%05d", i*2))
		due[i] = DueSchedule{Name: strings.Clone(s.Name), SpecHash: strings.Clone(s.SpecHash()), NextRun: now.Add(-time.Second)}
	}
	b.ReportAllocs()
	for b.Loop() {
		var bp batchPlan
		e.planBatch(log, due, now, &bp)
		if len(bp.plans) != len(due) {
			b.Fatalf("%d plans", len(bp.plans))
		}
	}
}
