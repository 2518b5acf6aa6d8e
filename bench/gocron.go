package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jackc/pgx/v5/pgxpool"
)

// gocronTimeout bounds one gocron run.
const gocronTimeout = 2 * time.Minute

const gocronLockSchemaSQL = `
CREATE TABLE gocron_locks (
	job         text NOT NULL,
	slot        timestamptz NOT NULL,
	owner       text NOT NULL,
	locked_at   timestamptz NOT NULL DEFAULT now(),
	unlocked_at timestamptz,
	PRIMARY KEY (job, slot)
)`

// errLockTaken is returned by pgLocker.Lock when another instance holds the
// job's slot; gocron then skips the run.
var errLockTaken = errors.New("gocron lock: slot already taken")

// pgLocker is a gocron.Locker the way its users put one on PostgreSQL: a
// lock row per job and slot (the slot is the start time truncated to the
// job's interval, so every instance computes the same key), taken with
// INSERT ... ON CONFLICT DO NOTHING. The row is kept when the job ends (it
// records that the slot ran, so a late instance does not run it again);
// Unlock stamps it.
type pgLocker struct {
	pool  *pgxpool.Pool
	owner string
	every time.Duration
	// unlocked counts completed Unlocks; done is closed at target.
	unlocked atomic.Int64
	target   int64
	done     chan struct{}
}

type pgLock struct {
	l    *pgLocker
	job  string
	slot time.Time
}

// Lock takes the job's current slot.
func (l *pgLocker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	slot := time.Now().UTC().Truncate(l.every)
	tag, err := l.pool.Exec(ctx,
		`INSERT INTO gocron_locks (job, slot, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		key, slot, l.owner)
	if err != nil {
		return nil, fmt.Errorf("gocron lock %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, errLockTaken
	}
	return &pgLock{l: l, job: key, slot: slot}, nil
}

// Unlock records that the slot's run finished.
func (k *pgLock) Unlock(ctx context.Context) error {
	_, err := k.l.pool.Exec(ctx,
		`UPDATE gocron_locks SET unlocked_at = now() WHERE job = $1 AND slot = $2 AND owner = $3`,
		k.job, k.slot, k.l.owner)
	if k.l.unlocked.Add(1) == k.l.target {
		close(k.l.done)
	}
	if err != nil {
		return fmt.Errorf("gocron unlock %s: %w", k.job, err)
	}
	return nil
}

// benchGocron measures gocron v2 with the PostgreSQL locker: n duration jobs
// (every minute, started immediately); the time from Scheduler.Start until
// all n have locked, run and unlocked.
// maxConns sizes the pgx pool (0: pgxpool's default, max(4, CPUs)).
func benchGocron(ctx context.Context, n, maxConns, reps int) (Result, error) {
	name, poolDesc := "gocron", "pgxpool default"
	if maxConns > 0 {
		name, poolDesc = fmt.Sprintf("gocron-pool%d", maxConns), fmt.Sprintf("pool of %d", maxConns)
	}
	res := Result{Name: name, Group: "gocron", N: n,
		Title: fmt.Sprintf("gocron %s + PostgreSQL locker (%s), %s due jobs", moduleVersion("github.com/go-co-op/gocron/v2"), poolDesc, thousands(n))}
	schema, err := openSchema(ctx, res.Name)
	if err != nil {
		return res, err
	}
	defer schema.Close(ctx)
	var counter Counter
	pool, err := newPgxPool(ctx, databaseURL(), schema.Name, &counter, maxConns)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, gocronLockSchemaSQL); err != nil {
		return res, fmt.Errorf("gocron schema: %w", err)
	}
	for i := 0; i < reps; i++ {
		if _, err := pool.Exec(ctx, `TRUNCATE gocron_locks`); err != nil {
			return res, fmt.Errorf("gocron reset: %w", err)
		}
		elapsed, counts, done, err := gocronOnce(ctx, pool, &counter, n)
		if err != nil {
			return res, err
		}
		res.addRun(elapsed, counts, done)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("gocron: one scheduler instance; the locker is shaped like go-co-op/gocron-gorm-lock (a row per job and slot, INSERT ... ON CONFLICT DO NOTHING to lock, an UPDATE marking it finished to unlock: 2 autocommit statements per job) on pgx; timed from Scheduler.Start until every job has locked, run and unlocked. Its time is bound by commits, so it is shown with pgxpool's default pool (max(4, CPUs) = %d connections) and with a larger pool.", max(4, runtime.NumCPU())))
	return res, nil
}

func gocronOnce(ctx context.Context, pool *pgxpool.Pool, counter *Counter, n int) (time.Duration, Counts, int, error) {
	locker := &pgLocker{pool: pool, owner: newSchemaName("instance"), every: time.Minute, target: int64(n), done: make(chan struct{})}
	s, err := gocron.NewScheduler(gocron.WithDistributedLocker(locker), gocron.WithStopTimeout(30*time.Second))
	if err != nil {
		return 0, Counts{}, 0, fmt.Errorf("gocron scheduler: %w", err)
	}
	var ran atomic.Int64
	task := func() { ran.Add(1) }
	for i := 0; i < n; i++ {
		if _, err := s.NewJob(gocron.DurationJob(time.Minute), gocron.NewTask(task),
			gocron.WithName(fmt.Sprintf("job_%06d", i)),
			gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
			return 0, Counts{}, 0, fmt.Errorf("gocron job: %w", err)
		}
	}
	before := counter.Snapshot()
	start := time.Now()
	s.Start()
	var elapsed time.Duration
	select {
	case <-locker.done:
		elapsed = time.Since(start)
	case <-time.After(gocronTimeout):
		_ = s.Shutdown()
		return 0, Counts{}, int(ran.Load()), fmt.Errorf("gocron: %d of %d jobs ran before the %s timeout", ran.Load(), n, gocronTimeout)
	}
	counts := counter.Snapshot().Sub(before)
	if err := s.Shutdown(); err != nil {
		return 0, Counts{}, 0, fmt.Errorf("gocron shutdown: %w", err)
	}
	return elapsed, counts, int(ran.Load()), nil
}
