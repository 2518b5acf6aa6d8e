package sqlstore

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/tickflow/tickflow/core"
)

// pruneOneIn is how often (one EndTick in n) SQLite prunes old ticks with a
// second statement; PostgreSQL prunes inside EndTick's single statement.
const pruneOneIn = 64

// BeginTick records the tick and reads, in one statement, the clock (the
// database's unless p.Now is set), the due schedules (of p.Tasks when set),
// the runnable runs and the oldest due next_run.
func (s *Store) BeginTick(ctx context.Context, p core.BeginTickParams) (core.TickStart, error) {
	var row struct {
		StartedAt    nullTime `db:"started_at"`
		DueSchedules int      `db:"due_schedules"`
		RunnableRuns int      `db:"runnable_runs"`
		OldestDue    nullTime `db:"oldest_due"`
		DueAllOwn    bool     `db:"due_all_own"`
		DueAlerts    int      `db:"due_alerts"`
		LastTickDone nullTime `db:"last_tick_finished"`
	}
	err := s.db.QueryRowxContext(ctx, s.d.q("begin_tick"), p.TickID, s.d.now(p.Now), p.Trigger, s.taskList(p.Tasks), p.Alerts).StructScan(&row)
	if err != nil {
		return core.TickStart{}, fmt.Errorf("begin tick %s: %w", p.TickID, s.d.interpret(err))
	}
	return core.TickStart{
		Now: row.StartedAt.Time, DueSchedules: row.DueSchedules,
		RunnableRuns: row.RunnableRuns, OldestDue: row.OldestDue.ptr(), DueAllOwnTasks: row.DueAllOwn,
		DueAlerts: row.DueAlerts, LastTickFinished: row.LastTickDone.ptr(),
	}, nil
}

// EndTick records the tick's report. Ticks started before p.TicksBefore
// (none when zero) are pruned, at most 100 at a time: on PostgreSQL in the
// same statement, on SQLite by a second statement in one EndTick out of 64.
func (s *Store) EndTick(ctx context.Context, p core.EndTickParams) error {
	r := p.Report
	errText := p.Error
	if errText == "" {
		errText = r.Error
	}
	now := s.d.now(p.FinishedAt)
	args := []any{r.TickID, now, r.Claimed, r.Succeeded, r.Failed,
		r.Retried, r.Skipped, r.Interrupted, r.Released, r.Deferred, r.Conflicts, r.DurationMS, errText}
	prune, separate := s.d.stmts()["end_tick_prune"]
	if !separate {
		args = append(args, s.d.arg(p.TicksBefore)) // $14: the statement prunes too
	}
	if _, err := s.db.ExecContext(ctx, s.d.q("end_tick"), args...); err != nil {
		return fmt.Errorf("end tick %s: %w", r.TickID, s.d.interpret(err))
	}
	if separate && !p.TicksBefore.IsZero() && rand.IntN(max(s.pruneOneIn, 1)) == 0 {
		if _, err := s.db.ExecContext(ctx, prune, r.TickID, s.d.arg(p.TicksBefore)); err != nil {
			return fmt.Errorf("end tick %s: prune old ticks: %w", r.TickID, s.d.interpret(err))
		}
	}
	return nil
}

// PruneRuns deletes at most p.Limit old runs in a final state, in one
// statement (see core.Store.PruneRuns and prune_runs.sql).
func (s *Store) PruneRuns(ctx context.Context, p core.PruneRunsParams) (int, error) {
	if p.Limit <= 0 || (p.FinishedBefore.IsZero() && p.FailedBefore.IsZero()) {
		return 0, nil
	}
	res, err := s.db.ExecContext(ctx, s.d.q("prune_runs"), s.d.arg(p.FinishedBefore), s.d.arg(p.FailedBefore), p.Limit)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", s.d.interpret(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", s.d.interpret(err))
	}
	return int(n), nil
}

// ListTicks returns the most recent ticks, newest first (limit defaults to
// 50, at most 1000).
func (s *Store) ListTicks(ctx context.Context, limit int) ([]core.TickRecord, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var rows []tickRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("list_ticks"), limit); err != nil {
		return nil, fmt.Errorf("list ticks: %w", s.d.interpret(err))
	}
	out := make([]core.TickRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// Stats returns the gauges in one statement; a zero now reads the database
// clock. RunsByStatus has an entry for every status, zero included.
func (s *Store) Stats(ctx context.Context, now time.Time) (core.Stats, error) {
	var row struct {
		Now          nullTime `db:"now"`
		RunsByStatus string   `db:"runs_by_status"`
		DueUnclaimed int      `db:"due_unclaimed"`
		OldestDue    nullTime `db:"oldest_due"`
		LastTickAt   nullTime `db:"last_tick_at"`
	}
	if err := s.db.QueryRowxContext(ctx, s.d.q("stats"), s.d.now(now)).StructScan(&row); err != nil {
		return core.Stats{}, fmt.Errorf("stats: %w", s.d.interpret(err))
	}
	counts := map[string]int{}
	if err := json.Unmarshal([]byte(row.RunsByStatus), &counts); err != nil {
		return core.Stats{}, fmt.Errorf("stats: decode runs by status: %w", err)
	}
	st := core.Stats{
		Now: row.Now.Time, RunsByStatus: make(map[core.Status]int, len(core.Statuses)),
		DueUnclaimed: row.DueUnclaimed, LastTickAt: row.LastTickAt.ptr(),
	}
	for _, status := range core.Statuses {
		st.RunsByStatus[status] = counts[string(status)]
	}
	if row.OldestDue.Valid && row.Now.Time.After(row.OldestDue.Time) {
		st.OldestDueLag = row.Now.Time.Sub(row.OldestDue.Time)
	}
	return st, nil
}

// taskList converts an optional task filter to a parameter: nil (no filter)
// is NULL, which the statements read as "every task"; an empty list matches
// no task.
func (s *Store) taskList(tasks []string) any {
	if tasks == nil {
		return nil
	}
	return s.taskStrings(tasks)
}

// taskStringsCache holds the last task list given to taskStrings and its
// encoded parameter.
type taskStringsCache struct {
	mu  sync.Mutex
	key []string
	arg any
}

// taskStrings is s.d.strings(tasks), encoded once for a list given again: a
// tick passes its process's task names to four statements or more, and
// encoding 10,000 names as an array each time was 3-4% of a
// 10,000-schedule tick's CPU.
func (s *Store) taskStrings(tasks []string) any {
	if tasks == nil {
		return s.d.strings(tasks)
	}
	c := &s.tasks
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.arg != nil && slices.Equal(c.key, tasks) {
		return c.arg
	}
	arg := s.d.strings(tasks)
	if v, ok := arg.(driver.Valuer); ok {
		enc, err := v.Value()
		if err != nil {
			return arg
		}
		arg = enc
	}
	c.key, c.arg = slices.Clone(tasks), arg
	return arg
}
