package core_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Registering tasks: the Go version of fastapi-taskflow's
// @task_manager.schedule decorator.
func ExampleRegistry_Schedule() {
	reg := core.NewRegistry()
	reg.MustSchedule("cleanup_expired_sessions", noop, core.Every(5*time.Minute), core.Retries(1))
	reg.MustSchedule("morning_report", noop, core.Cron("0 9 * * *"), core.Timezone("America/New_York"))
	reg.MustRegister("send_email", noop) // manual-only: AddTask enqueues it

	for _, s := range reg.Schedules() {
		fmt.Printf("%s: %s\n", s.Name, s.Describe())
	}
	fmt.Println(reg.TaskNames())
	// Output:
	// cleanup_expired_sessions: every 5 minutes
	// morning_report: at 09:00 every day, America/New_York
	// [cleanup_expired_sessions morning_report send_email]
}

// A bad option is an error at registration that names the field, and the
// registry is left unchanged.
func ExampleRegistry_Schedule_validation() {
	reg := core.NewRegistry()
	err := reg.Schedule("report", noop, core.Every(time.Hour), core.Cron("0 * * * *"))
	fmt.Println(err)
	err = reg.Schedule("report", noop, core.Cron("0 0 31 2 *"))
	var ve *core.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field, errors.Is(err, core.ErrInvalid))
	fmt.Println(len(reg.Tasks()))
	// Output:
	// invalid every/cron/once: give exactly one of every, cron or once, not several
	// true cron true
	// 0
}

// Interval slots are anchored: each slot follows from the previous one, never
// from "now", so a schedule does not drift.
func ExampleSchedule_NextSlot() {
	reg := core.NewRegistry()
	reg.MustSchedule("sync", noop, core.Every(90*time.Second))
	s, _ := reg.ScheduleByName("sync")
	stored := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	slot := s.FirstSlot(stored)
	for range 3 {
		fmt.Println(slot.Format(time.RFC3339))
		slot = s.NextSlot(slot)
	}
	// Output:
	// 2026-11-28T12:01:30Z
	// 2026-11-28T12:03:00Z
	// 2026-11-28T12:04:30Z
}

// With RunOnStartup the first slot is the moment the schedule is first
// stored: the first tick after a deploy runs it.
func ExampleRunOnStartup() {
	reg := core.NewRegistry()
	reg.MustSchedule("warm_cache", noop, core.Cron("0 * * * *"), core.RunOnStartup())
	s, _ := reg.ScheduleByName("warm_cache")
	stored := time.Date(2026, 11, 28, 12, 17, 42, 0, time.UTC)
	first := s.FirstSlot(stored)
	fmt.Println(first.Format(time.RFC3339), s.NextSlot(first).Format(time.RFC3339))
	// Output:
	// 2026-11-28T12:17:42Z 2026-11-28T13:00:00Z
}

// Retry n waits Delay·Backoff^(n-1), capped by MaxDelay.
func ExampleRetryPolicy_Wait() {
	p := core.RetryPolicy{Retries: 5, Delay: 10 * time.Second, Backoff: 2, MaxDelay: time.Minute}
	for n := 1; n <= p.Retries; n++ {
		fmt.Print(p.Wait(n), " ")
	}
	fmt.Println()
	// Output:
	// 10s 20s 40s 1m0s 1m0s
}

// A StubClock drives ticks in tests and simulations; production ticks read
// the database clock instead.
func ExampleStubClock() {
	clock := core.NewStubClock(time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC))
	clock.Advance(time.Minute)
	now, _ := clock.Now(context.Background())
	fmt.Println(now.Format(time.RFC3339))
	// Output:
	// 2026-03-08T07:00:00Z
}
