package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // a program that wants sqlite: URLs links the driver

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// A whole scheduler on the embedded SQLite store: register, migrate, tick.
// The stub clock stands in for the database clock so the output is fixed.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tickflow-example")
	defer os.RemoveAll(dir)

	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "tickflow.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	reg := core.NewRegistry()
	reg.MustSchedule("heartbeat", func(_ context.Context, r core.RunInfo) error {
		fmt.Println("ran", r.Schedule, "for slot", r.Slot.Format("15:04"), "attempt", r.Attempt)
		return nil
	}, core.Every(time.Minute))

	clock := core.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	engine, err := core.NewEngine(core.Config{Store: store, Registry: reg, Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		rep, err := engine.Tick(ctx) // the first tick stores the schedule: its first slot is 12:01
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("tick at", rep.Now.Format("15:04"), "claimed", rep.Claimed)
		clock.Advance(time.Minute)
	}
	// Output:
	// tick at 12:00 claimed 0
	// ran heartbeat for slot 12:01 attempt 1
	// tick at 12:01 claimed 1
	// ran heartbeat for slot 12:02 attempt 1
	// tick at 12:02 claimed 1
}
