package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"github.com/tickflow/tickflow/core"
)

// slotRunRow is what slot_runs.sql and insert_slot_runs.sql return.
type slotRunRow struct {
	ID           int64    `db:"id"`
	Slot         nullTime `db:"slot"`
	SlotsCovered int      `db:"slots_covered"`
	Status       string   `db:"status"`
	Error        string   `db:"error"`
	StartedAt    nullTime `db:"started_at"`
	FinishedAt   nullTime `db:"finished_at"`
	Schedule     string   `db:"schedule"`
}

func slotRuns(rows []slotRunRow) []core.SlotRun {
	out := make([]core.SlotRun, len(rows))
	for i, r := range rows {
		out[i] = core.SlotRun{ID: r.ID, Slot: r.Slot.Time, SlotsCovered: r.SlotsCovered,
			Status: core.Status(r.Status), Error: r.Error,
			StartedAt: r.StartedAt.Time, FinishedAt: r.FinishedAt.Time, Schedule: r.Schedule}
	}
	return out
}

// SlotRuns returns a schedule's runs in a slot window and its first run
// after it (see core.Store.SlotRuns): one statement that reads only the
// (schedule, slot) key (slot_runs.sql), then, when some of them did not
// succeed, a second for their errors (slot_run_errors.sql). Rows are
// scanned by hand, slots as unix microseconds and statuses as the core
// constants: an audit reads up to 100,000 of them, and reflection and a
// string per status were most of its Go time.
func (s *Store) SlotRuns(ctx context.Context, p core.SlotRunsParams) ([]core.SlotRun, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q("slot_runs"), p.Schedule, s.d.arg(p.From), s.d.arg(p.To))
	if err != nil {
		return nil, fmt.Errorf("slot runs of %q: %w", p.Schedule, s.d.interpret(err))
	}
	defer rows.Close()
	var (
		out    []core.SlotRun
		r      core.SlotRun
		slot   int64
		status sql.RawBytes
		times  [2]sql.NullInt64 // started_at, finished_at
		failed []int64          // runs that did not succeed: their errors are read next
	)
	for rows.Next() {
		if err := rows.Scan(&r.ID, &slot, &r.SlotsCovered, &status, &times[0], &times[1]); err != nil {
			return nil, fmt.Errorf("slot runs of %q: %w", p.Schedule, err)
		}
		r.Slot, r.Status = time.UnixMicro(slot).UTC(), statusOf(status)
		r.StartedAt, r.FinishedAt = microsTime(times[0]), microsTime(times[1])
		if r.Status != core.StatusSuccess {
			failed = append(failed, r.ID)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("slot runs of %q: %w", p.Schedule, s.d.interpret(err))
	}
	rows.Close()
	if len(failed) > 0 {
		if err := s.slotRunErrors(ctx, out, failed); err != nil {
			return nil, fmt.Errorf("slot runs of %q: errors: %w", p.Schedule, err)
		}
	}
	return out, nil
}

// slotRunErrors fills in the Error of the runs among out whose ids are in
// ids, in one statement.
func (s *Store) slotRunErrors(ctx context.Context, out []core.SlotRun, ids []int64) error {
	var arg any = pq.Int64Array(ids)
	if !s.d.arrays {
		js, err := jsonParam(ids)
		if err != nil {
			return err
		}
		arg = js
	}
	rows, err := s.db.QueryContext(ctx, s.d.q("slot_run_errors"), arg)
	if err != nil {
		return s.d.interpret(err)
	}
	defer rows.Close()
	errs := make(map[int64]string)
	for rows.Next() {
		var (
			id  int64
			msg string
		)
		if err := rows.Scan(&id, &msg); err != nil {
			return err
		}
		errs[id] = msg
	}
	if err := rows.Err(); err != nil {
		return s.d.interpret(err)
	}
	for i := range out {
		if msg, ok := errs[out[i].ID]; ok {
			out[i].Error = msg
		}
	}
	return nil
}

// microsTime is the instant of unix microseconds t, zero when NULL.
func microsTime(t sql.NullInt64) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return time.UnixMicro(t.Int64).UTC()
}

// statusOf is the core.Status named by b, without allocating for the known
// ones.
func statusOf(b []byte) core.Status {
	for _, st := range core.Statuses {
		if string(b) == string(st) {
			return st
		}
	}
	return core.Status(b)
}

// SlotRunsMany returns the runs of several schedules in their slot windows
// in one statement (see core.Store.SlotRunsMany and slot_runs_many.sql).
func (s *Store) SlotRunsMany(ctx context.Context, p core.SlotRunsManyParams) ([]core.SlotRun, error) {
	w := p.Windows
	if len(w) == 0 {
		return nil, nil
	}
	var args []any
	if s.d.arrays {
		args = []any{
			textArrayOf(len(w), func(i int) string { return w[i].Schedule }),
			microsArrayOf(len(w), func(i int) time.Time { return w[i].From }),
			microsArrayOf(len(w), func(i int) time.Time { return w[i].To }),
		}
	} else {
		rows := make([][3]any, len(w))
		for i, x := range w {
			rows[i] = [3]any{x.Schedule, x.From.UnixMicro(), x.To.UnixMicro()}
		}
		js, err := jsonParam(rows)
		if err != nil {
			return nil, fmt.Errorf("slot runs of %d schedules: %w", len(w), err)
		}
		args = []any{js}
	}
	var rows []slotRunRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("slot_runs_many"), args...); err != nil {
		return nil, fmt.Errorf("slot runs of %d schedules: %w", len(w), s.d.interpret(err))
	}
	return slotRuns(rows), nil
}

// InsertSlotRuns inserts pending runs for the slots of p that have none, in
// one statement (see core.Store.InsertSlotRuns and insert_slot_runs.sql).
func (s *Store) InsertSlotRuns(ctx context.Context, p core.InsertSlotRunsParams) ([]core.SlotRun, error) {
	if len(p.Slots) == 0 {
		return nil, nil
	}
	var slots any
	if s.d.arrays {
		slots = microsArray(p.Slots)
	} else {
		us := make([]int64, len(p.Slots))
		for i, t := range p.Slots {
			us[i] = t.UnixMicro()
		}
		js, err := jsonParam(us)
		if err != nil {
			return nil, fmt.Errorf("insert slot runs of %q: %w", p.Schedule, err)
		}
		slots = js
	}
	var rows []slotRunRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("insert_slot_runs"), s.d.now(p.Now), p.Schedule, slots); err != nil {
		return nil, fmt.Errorf("insert slot runs of %q: %w", p.Schedule, s.d.interpret(err))
	}
	out := slotRuns(rows)
	slices.SortFunc(out, func(a, b core.SlotRun) int { return a.Slot.Compare(b.Slot) })
	return out, nil
}
