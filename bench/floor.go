package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// The floor: the least work any scheduler on PostgreSQL must do to fire N
// due schedules: one set-based statement that claims the due rows (FOR
// UPDATE SKIP LOCKED), records one run per slot and advances next_run, and
// one that finishes the N runs. No Go-side planning, no retries, no report.
const (
	floorSchemaSQL = `
CREATE TABLE floor_schedules (
	name     text PRIMARY KEY,
	every    interval NOT NULL,
	next_run timestamptz NOT NULL
);
CREATE INDEX floor_schedules_next_run ON floor_schedules (next_run);
CREATE TABLE floor_runs (
	id          bigserial PRIMARY KEY,
	schedule    text NOT NULL,
	slot        timestamptz NOT NULL,
	status      text NOT NULL,
	started_at  timestamptz,
	finished_at timestamptz,
	UNIQUE (schedule, slot)
)`
	// floorSeedSQL: $1 rows, every $2-th one due (the rest due in a day),
	// names $3 digits wide.
	floorSeedSQL = `
INSERT INTO floor_schedules (name, every, next_run)
SELECT 'sched_' || lpad(i::text, $3, '0'), interval '1 minute',
       CASE WHEN i % $2 = 0 THEN date_trunc('second', now()) - interval '1 second'
            ELSE date_trunc('second', now()) + interval '1 day' END
FROM generate_series(1, $1) AS i`
	// floorResetSQL makes the due rows due again: a tick moved them a
	// minute on; the rows that are not due stay a day ahead.
	floorResetSQL = `
TRUNCATE floor_runs;
UPDATE floor_schedules SET next_run = date_trunc('second', now()) - interval '1 second'
WHERE next_run < now() + interval '1 hour'`
	floorVacuumSQL = `VACUUM ANALYZE floor_schedules, floor_runs`
	floorClaimSQL  = `
WITH due AS (
	SELECT name, every, next_run FROM floor_schedules
	WHERE next_run <= now()
	ORDER BY next_run
	LIMIT $1
	FOR UPDATE SKIP LOCKED
), advanced AS (
	UPDATE floor_schedules s SET next_run = due.next_run + due.every
	FROM due WHERE s.name = due.name
)
INSERT INTO floor_runs (schedule, slot, status, started_at)
SELECT name, next_run, 'running', now() FROM due
ON CONFLICT (schedule, slot) DO NOTHING
RETURNING id`
	floorFinishSQL = `
UPDATE floor_runs SET status = 'success', finished_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'running'`
)

// benchFloor measures the floor at n due schedules, reps times.
func benchFloor(ctx context.Context, n, reps int) (Result, error) {
	res := Result{Name: fmt.Sprintf("floor-%d", n), Group: "floor", N: n,
		Title: fmt.Sprintf("floor: set-based SQL, %s due schedules", thousands(n))}
	f, err := newFloorEnv(ctx, res.Name, n, n)
	if err != nil {
		return res, err
	}
	defer f.close(ctx)
	for i := 0; i < reps; i++ {
		elapsed, counts, done, err := f.timedTick(ctx)
		if err != nil {
			return res, err
		}
		res.addRun(elapsed, counts, done)
	}
	if res.Completed != n {
		return res, fmt.Errorf("floor fired %d of %d schedules", res.Completed, n)
	}
	res.Notes = append(res.Notes, floorNote)
	return res, nil
}

const floorNote = "floor: lib/pq, two statements per tick: one that claims the due rows (ORDER BY next_run LIMIT N FOR UPDATE SKIP LOCKED), advances their next_run and inserts one run per slot (ON CONFLICT DO NOTHING) returning the run ids, then one UPDATE finishing those runs; the runs table is emptied and VACUUM ANALYZE run between repetitions, outside the timing."

// floorEnv is the floor's tables, seeded with n due schedules (spread
// evenly among stored rows, the others not due for a day), in a schema of
// their own.
type floorEnv struct {
	schema  *benchSchema
	db      *sql.DB
	counter Counter
	n       int
	ticked  bool // the seed left every schedule due: the first tick needs no reset
}

func newFloorEnv(ctx context.Context, name string, n, stored int) (*floorEnv, error) {
	if n <= 0 || stored < n || stored%n != 0 {
		return nil, fmt.Errorf("floor: %d stored rows cannot hold %d due ones evenly", stored, n)
	}
	schema, err := openSchema(ctx, name)
	if err != nil {
		return nil, err
	}
	f := &floorEnv{schema: schema, n: n}
	if f.db, err = openCounted(schema.URL, &f.counter); err != nil {
		schema.Close(ctx)
		return nil, err
	}
	if _, err := f.db.ExecContext(ctx, floorSchemaSQL); err != nil {
		f.close(ctx)
		return nil, fmt.Errorf("floor schema: %w", err)
	}
	if _, err := f.db.ExecContext(ctx, floorSeedSQL, stored, stored/n, max(6, len(fmt.Sprint(stored)))); err != nil {
		f.close(ctx)
		return nil, fmt.Errorf("floor seed: %w", err)
	}
	return f, nil
}

func (f *floorEnv) close(ctx context.Context) {
	_ = f.db.Close()
	f.schema.Close(ctx)
}

// timedTick makes every schedule due again (untimed), then times one floor
// tick; it returns its duration, statements and finished runs.
func (f *floorEnv) timedTick(ctx context.Context) (time.Duration, Counts, int, error) {
	if f.ticked {
		if _, err := f.db.ExecContext(ctx, floorResetSQL); err != nil {
			return 0, Counts{}, 0, fmt.Errorf("floor reset: %w", err)
		}
	}
	f.ticked = true
	if _, err := f.db.ExecContext(ctx, floorVacuumSQL); err != nil {
		return 0, Counts{}, 0, fmt.Errorf("floor vacuum: %w", err)
	}
	if err := f.db.PingContext(ctx); err != nil {
		return 0, Counts{}, 0, fmt.Errorf("floor ping: %w", err)
	}
	before := f.counter.Snapshot()
	start := time.Now()
	done, err := floorTick(ctx, f.db, f.n)
	elapsed := time.Since(start)
	if err != nil {
		return 0, Counts{}, 0, err
	}
	return elapsed, f.counter.Snapshot().Sub(before), done, nil
}

func floorTick(ctx context.Context, db *sql.DB, limit int) (int, error) {
	rows, err := db.QueryContext(ctx, floorClaimSQL, limit)
	if err != nil {
		return 0, fmt.Errorf("floor claim: %w", err)
	}
	ids := make([]int64, 0, limit)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("floor claim scan: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("floor claim close: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("floor claim rows: %w", err)
	}
	r, err := db.ExecContext(ctx, floorFinishSQL, pq.Array(ids))
	if err != nil {
		return 0, fmt.Errorf("floor finish: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("floor finish: %w", err)
	}
	return int(n), nil
}
