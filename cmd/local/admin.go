package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tickflow/tickflow/core"
)

func runMigrate(ctx context.Context, c *cli, args []string) error {
	return c.synced(ctx, args, "migrate",
		"Applies the schema (idempotent: safe to run any number of times, from many\n"+
			"processes at once) and syncs the code's schedules into the store.",
		func(a *app, res core.SyncResult) error {
			fmt.Fprintf(c.stdout, "schema applied: %s (%s)\n", redact(a.url), a.store.Dialect())
			fmt.Fprintf(c.stdout, "schedules synced: %d inserted, %d changed, %d unchanged, %d orphaned\n",
				res.Inserted, res.Changed, res.Unchanged, res.Orphaned)
			return nil
		})
}

func runSchedules(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 {
		if sub, ok := scheduleSubcommands[args[0]]; ok {
			return sub(ctx, c, args[1:])
		}
	}
	return c.synced(ctx, args, "schedules",
		"Syncs the code's schedules into the store and prints every stored schedule:\n"+
			"when it runs, its next run in UTC and in its zone, whether it is paused, and\n"+
			"the status of its latest run.\n\n"+
			"Runtime schedules: "+progName+" schedules create | update | delete | list\n"+
			"(run '"+progName+" schedules create -h' for their flags).",
		func(a *app, _ core.SyncResult) error {
			recs, err := a.engine.Schedules(ctx)
			if err != nil {
				return err
			}
			return c.printSchedules(recs)
		})
}

// synced is a command without flags of its own: it opens the store (applying
// the schema), syncs the code's schedules and calls fn.
func (c *cli) synced(ctx context.Context, args []string, name, description string, fn func(*app, core.SyncResult) error) error {
	fs := c.newFlagSet(name, name+" [flags]", description)
	sf := c.addStoreFlags(fs, "warn")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	a, err := c.open(ctx, sf, core.Config{})
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.engine.Sync(ctx)
	if err != nil {
		return err
	}
	return fn(a, res)
}

// printSchedules prints stored schedules as a table.
func (c *cli) printSchedules(recs []core.ScheduleRecord) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tORIGIN\tWHEN\tNEXT RUN (UTC)\tNEXT RUN (LOCAL)\tPAUSED\tLAST STATUS")
	for _, r := range recs {
		name := r.Name
		if r.Orphaned {
			name += " (orphaned)"
		}
		loc := time.UTC
		if r.Timezone != "" {
			if l, err := time.LoadLocation(r.Timezone); err == nil {
				loc = l
			}
		}
		local := r.NextRun.In(loc)
		last := "-"
		if r.LastRunStatus != nil {
			last = string(*r.LastRunStatus)
		}
		next, nextLocal := "-", "-"
		if !r.NextRun.IsZero() {
			next, nextLocal = r.NextRun.UTC().Format(time.RFC3339), local.Format(time.RFC3339)+" "+local.Format("MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\t%s\n", name, r.Origin, r.Description, next, nextLocal, r.Paused, last)
	}
	return tw.Flush()
}

func runEnqueue(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("enqueue", "enqueue TASK [--payload JSON] [--idempotency-key KEY] [--run-at TIME | --delay D] [flags]",
		"Enqueues a manual run of a registered task (the seed's add_task) and prints the\n"+
			"run as JSON. The next tick runs it (with --run-at or --delay, the first tick\n"+
			"at or after that instant). With an idempotency key that was used\n"+
			"before for the same task and payload, prints the existing run instead of\n"+
			"creating one; for another task or payload, fails (exit 2).")
	sf := c.addStoreFlags(fs, "warn")
	payload := fs.String("payload", "", "JSON payload handed to the task")
	key := fs.String("idempotency-key", "", "makes the enqueue idempotent")
	runAtText := fs.String("run-at", "", "RFC 3339 instant before which the run does not start")
	delay := fs.Duration("delay", 0, "start the run no earlier than this long from now (0 to 8784h)")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("want exactly one TASK, got %d arguments", len(pos))
	}
	// The engine checks these too; checking first keeps bad input away from
	// the store (exit 2, nothing opened).
	if *payload != "" && !json.Valid([]byte(*payload)) {
		return usagef("bad --payload: not valid JSON")
	}
	if err := core.CheckPayload(json.RawMessage(*payload)); err != nil {
		return usagef("bad --payload: %v", err)
	}
	if err := core.CheckText("task", pos[0]); err != nil {
		return usageError{err: err}
	}
	if err := core.CheckText("idempotency_key", *key); err != nil {
		return usagef("bad --idempotency-key: %v", err)
	}
	var runAt time.Time
	if *runAtText != "" {
		if runAt, err = time.Parse(time.RFC3339, *runAtText); err != nil {
			return usagef("bad --run-at: want an RFC 3339 instant (2026-03-02T10:00:00Z): %v", err)
		}
	}
	if err := core.CheckRunAt(runAt, *delay); err != nil {
		return usagef("bad --run-at/--delay: %v", err)
	}
	a, err := c.open(ctx, sf, core.Config{})
	if err != nil {
		return err
	}
	defer a.Close()
	p := core.AddTaskParams{Task: pos[0], IdempotencyKey: *key, RunAt: runAt, Delay: *delay}
	if *payload != "" {
		p.Payload = json.RawMessage(*payload)
	}
	run, created, err := a.engine.AddTask(ctx, p)
	if errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrInvalid) {
		return usagef("%v (registered tasks: %s)", err, strings.Join(a.engine.Registry().TaskNames(), ", "))
	}
	if errors.Is(err, core.ErrConflict) {
		return usageError{err: err}
	}
	if err != nil {
		return err
	}
	if !created {
		fmt.Fprintf(c.stderr, "idempotency key %q was used before: this is the existing run\n", *key)
	}
	return writeJSON(c.stdout, run)
}
