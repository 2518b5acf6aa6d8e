package core

import (
	"context"
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
