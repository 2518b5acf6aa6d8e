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

// A runtime schedule created in the application's own transaction: the
// tenant row and its daily report commit together, or neither exists.
func ExampleStore_BeginTx() {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite::memory:") // the application's database
	if err == nil {
		defer store.Close()
		err = store.Migrate(ctx)
	}
	if err == nil {
		_, err = store.DB().ExecContext(ctx, `CREATE TABLE tenants (id TEXT PRIMARY KEY)`)
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	reg := core.NewRegistry()
	reg.MustRegister("report", func(context.Context, core.RunInfo) error { return nil })
	clock := core.NewStubClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	engine, err := core.NewEngine(core.Config{Store: store, Registry: reg, Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}

	createTenant := func(id string, commit bool) {
		tx, err := store.BeginTx(ctx, nil) // on SQLite, a transaction on Store.DB()
		if err != nil {
			fmt.Println(err)
			return
		}
		defer tx.Rollback() // a no-op after Commit
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id) VALUES ($1)`, id); err != nil {
			fmt.Println(err)
			return
		}
		rec, err := engine.CreateScheduleTx(ctx, tx, core.ScheduleParams{
			Key: id + "/daily-report", Task: "report",
			Cron: "0 9 * * *", Timezone: "Europe/Paris",
			Payload: []byte(`{"tenant":"` + id + `"}`),
			Labels:  map[string]string{"tenant": id},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("scheduled", rec.Name, "first slot", rec.NextRun.Format(time.RFC3339))
		if commit {
			if err := tx.Commit(); err != nil {
				fmt.Println(err)
			}
		}
	}
	createTenant("acme", true)
	createTenant("globex", false) // rolled back: no tenant, no schedule

	page, err := engine.ListSchedules(ctx, core.ScheduleFilter{Origin: core.OriginAPI})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range page.Schedules {
		fmt.Println("stored", s.Name, s.Description, s.Labels)
	}
	// Output:
	// scheduled acme/daily-report first slot 2026-03-03T08:00:00Z
	// scheduled globex/daily-report first slot 2026-03-03T08:00:00Z
	// stored acme/daily-report at 09:00 every day, Europe/Paris map[tenant:acme]
}
