package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/core"
)

func runTick(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("tick", "tick [flags]",
		"Runs one tick: claims the due schedule slots and runnable runs, runs them, and\n"+
			"prints the JSON report on stdout. Exits 1 on an infrastructure failure (the\n"+
			"database), with the partial report; a failed task is a recorded run, not a\n"+
			"failure of the tick. For system cron: * * * * * tickflow tick")
	sf := c.addStoreFlags(fs, "warn")
	// The defaults are the engine's own (core.Default…), which the flag
	// package prints in the help; the bounds are core's too.
	workers := fs.Int("workers", core.DefaultWorkers, fmt.Sprintf("runs executed at once (at most %d)", core.MaxWorkers))
	batch := fs.Int("batch-size", core.DefaultBatchSize, fmt.Sprintf("schedules or runs claimed per statement (at most %d)", core.MaxBatchSize))
	timeout := fs.Duration("timeout", core.DefaultMaxTickDuration, fmt.Sprintf("the tick's deadline (at most %s): no run starts when too little is left", core.MaxMaxTickDuration))
	retain := addRetentionFlags(fs)
	hold := addClaimHoldFlag(fs)
	alerts := addAlertFlags(fs, c.getenv)
	now := fs.String("now", "", fmt.Sprintf("for tests and simulations only: use this RFC 3339 instant, from %s to before %s, as the tick's clock instead of the database's",
		core.MinTime.Format(time.RFC3339), core.MaxTime.Format(time.RFC3339)))
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg := core.Config{Workers: *workers, BatchSize: *batch, MaxTickDuration: *timeout, Trigger: "cli"}
	switch {
	case *workers < 0 || *workers > core.MaxWorkers:
		return usagef("bad --workers %d: must be 0 (the default) to %d", *workers, core.MaxWorkers)
	case *batch < 0 || *batch > core.MaxBatchSize:
		return usagef("bad --batch-size %d: must be 0 (the default) to %d", *batch, core.MaxBatchSize)
	case *timeout < 0 || *timeout > core.MaxMaxTickDuration:
		return usagef("bad --timeout %s: must be 0 (the default) to %s", *timeout, core.MaxMaxTickDuration)
	}
	retention, err := retain.retention()
	if err != nil {
		return err
	}
	cfg.Retention = retention
	if cfg.ClaimHold, err = claimHold(*hold); err != nil {
		return err
	}
	if cfg.Alerts, err = alerts.alerts(); err != nil {
		return err
	}
	if *now != "" {
		t, err := time.Parse(time.RFC3339Nano, *now)
		if err != nil {
			return usagef("bad --now %q: want RFC 3339 such as 2026-03-08T07:30:00Z", *now)
		}
		if err := core.CheckTime("now", t); err != nil {
			return usagef("bad --now: %v", err)
		}
		cfg.Clock = core.NewStubClock(t)
	}
	a, err := c.open(ctx, sf, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, tickErr := a.engine.Tick(ctx)
	if err := writeJSON(c.stdout, rep); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if tickErr != nil {
		return fmt.Errorf("tick: %w", tickErr)
	}
	return nil
}
