package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// noopArgs is the River job every periodic job inserts.
type noopArgs struct{}

// Kind names the job kind.
func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// riverTimeout bounds one River run.
const riverTimeout = 2 * time.Minute

// benchRiver measures River: n periodic no-op jobs (every minute, RunOnStart)
// in a fresh schema, MaxWorkers workers, every other setting at its default;
// the time from Client.Start until n jobs are completed in the database.
func benchRiver(ctx context.Context, n, maxWorkers, reps int) (Result, error) {
	res := Result{Name: fmt.Sprintf("river-%d", maxWorkers), Group: "river", N: n,
		Title: fmt.Sprintf("River %s, %s periodic jobs (RunOnStart), MaxWorkers %d", moduleVersion("github.com/riverqueue/river"), thousands(n), maxWorkers)}
	for i := 0; i < reps; i++ {
		elapsed, counts, done, err := riverOnce(ctx, res.Name, n, maxWorkers)
		if err != nil {
			return res, err
		}
		res.addRun(elapsed, counts, done)
	}
	res.Notes = append(res.Notes, "River: every run in a fresh schema migrated with rivermigrate; N periodic jobs (PeriodicInterval 1 minute, RunOnStart) of a no-op worker, every Config and pgxpool setting at its default except the queue's MaxWorkers; timed from Client.Start until N JobCompleted events (completions written by its batched completer); statements counted with a pgx tracer over the same span (leader election, the RunOnStart inserts, fetches and completions).")
	return res, nil
}

// riverOnce runs River once in a fresh schema.
func riverOnce(ctx context.Context, name string, n, maxWorkers int) (time.Duration, Counts, int, error) {
	sch, err := openSchema(ctx, name)
	if err != nil {
		return 0, Counts{}, 0, err
	}
	defer sch.Close(ctx)
	schema := sch.Name

	var counter Counter
	pool, err := newPgxPool(ctx, databaseURL(), "", &counter, 0)
	if err != nil {
		return 0, Counts{}, 0, err
	}
	defer pool.Close()
	driver := riverpgxv5.New(pool)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: logger})
	if err != nil {
		return 0, Counts{}, 0, fmt.Errorf("river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return 0, Counts{}, 0, fmt.Errorf("river migrate: %w", err)
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{})
	periodic := make([]*river.PeriodicJob, n)
	for i := range periodic {
		periodic[i] = river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return noopArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger:       logger,
		PeriodicJobs: periodic,
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		Schema:       schema,
		Workers:      workers,
	})
	if err != nil {
		return 0, Counts{}, 0, fmt.Errorf("river client: %w", err)
	}
	events, cancelSub := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: n + 1024,
		Kinds:    []river.EventKind{river.EventKindJobCompleted},
	})
	defer cancelSub()

	rctx, cancel := context.WithTimeout(ctx, riverTimeout)
	defer cancel()
	before := counter.Snapshot()
	start := time.Now()
	if err := client.Start(rctx); err != nil {
		return 0, Counts{}, 0, fmt.Errorf("river start: %w", err)
	}
	done := 0
	for done < n {
		select {
		case ev := <-events:
			if ev != nil && ev.Kind == river.EventKindJobCompleted {
				done++
			}
		case <-rctx.Done():
			_ = client.Stop(context.WithoutCancel(ctx))
			return 0, Counts{}, done, fmt.Errorf("river: %d of %d jobs completed before the %s timeout", done, n, riverTimeout)
		}
	}
	elapsed := time.Since(start)
	counts := counter.Snapshot().Sub(before)
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer scancel()
	if err := client.Stop(sctx); err != nil {
		return 0, Counts{}, done, fmt.Errorf("river stop: %w", err)
	}
	return elapsed, counts, done, nil
}
