package core

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAttempt times one attempt of a no-op task (no timeout), made by
// as many workers as GOMAXPROCS, as a tick's workers make them.
func BenchmarkAttempt(b *testing.B) {
	task := &Task{Name: "noop", Fn: func(context.Context, RunInfo) error { return nil }}
	x, _ := testExecutor(NewRegistry(), time.Hour, time.Second)
	defer x.stop()
	actx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err, _ := x.attempt(actx, task, task.Timeout, RunInfo{ID: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
