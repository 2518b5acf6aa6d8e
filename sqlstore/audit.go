package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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
// after it (see core.Store.SlotRuns): a range read of the (schedule, slot)
// key and one entry of it after the window (two calls of slot_runs.sql),
// then, when some of the runs did not succeed, a read of their errors by id
// (slot_run_errors.sql).
func (s *Store) SlotRuns(ctx context.Context, p core.SlotRunsParams) ([]core.SlotRun, error) {
	out := make([]core.SlotRun, 0, min(max(p.Expected, 0)+1, core.MaxAuditSlots+1))
	out, err := s.scanSlotRuns(ctx, out, p.Schedule, s.d.arg(p.From), s.d.arg(p.To), nil)
	if err == nil {
		out, err = s.scanSlotRuns(ctx, out, p.Schedule, s.d.arg(p.To), nil, 1)
	}
	if err != nil {
		return nil, fmt.Errorf("slot runs of %q: %w", p.Schedule, err)
	}
	var failed []int64 // runs that did not succeed: their errors are read next
	for i := range out {
		if out[i].Status != core.StatusSuccess {
			failed = append(failed, out[i].ID)
		}
	}
	if len(failed) > 0 {
		if err := s.slotRunErrors(ctx, out, failed); err != nil {
			return nil, fmt.Errorf("slot runs of %q: errors: %w", p.Schedule, err)
		}
	}
	return out, nil
}

// scanSlotRuns runs slot_runs.sql with args (schedule, from, to or nil,
// limit or nil) and appends its rows to out. An audit reads up to 100,000
// rows, so they are scanned by hand: on PostgreSQL the instants come packed in binary
// (decodePackedTimes), on SQLite as unix microseconds; statuses are the
// core constants. Reflection, text timestamps, a string per status and a
// growing slice were most of an audit's time.
func (s *Store) scanSlotRuns(ctx context.Context, out []core.SlotRun, args ...any) ([]core.SlotRun, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q("slot_runs"), args...)
	if err != nil {
		return nil, s.d.interpret(err)
	}
	defer rows.Close()
	var (
		r      core.SlotRun
		status sql.RawBytes
		packed sql.RawBytes
		us     [3]sql.NullInt64 // slot, started_at, finished_at (SQLite)
	)
	for rows.Next() {
		if s.d.packed {
			err = rows.Scan(&r.ID, &packed, &r.SlotsCovered, &status)
			if err == nil {
				r.Slot, r.StartedAt, r.FinishedAt, err = decodePackedTimes(packed)
			}
		} else {
			err = rows.Scan(&r.ID, &us[0], &us[1], &us[2], &r.SlotsCovered, &status)
			r.Slot, r.StartedAt, r.FinishedAt = microsTime(us[0]), microsTime(us[1]), microsTime(us[2])
		}
		if err != nil {
			return nil, err
		}
		r.Status = statusOf(status)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.d.interpret(err)
	}
	return out, nil
}

// decodePackedTimes splits slot_runs.sql's times column (PostgreSQL): three
// big-endian int64 microseconds since 2000-01-01 UTC, the int64 minimum
// (-infinity) standing for NULL (zero time). A slot is never NULL.
func decodePackedTimes(b []byte) (slot, started, finished time.Time, err error) {
	if len(b) != 24 {
		return slot, started, finished, fmt.Errorf("times: %d bytes, want 24", len(b))
	}
	var t [3]time.Time
	for i := range t {
		t[i] = pgBinaryTime(b[8*i:])
	}
	if t[0].IsZero() {
		return slot, started, finished, errors.New("times: NULL slot")
	}
	return t[0], t[1], t[2], nil
}

// slotRunErrors fills in the Error of the runs among out whose ids are in
// ids, in one statement.
func (s *Store) slotRunErrors(ctx context.Context, out []core.SlotRun, ids []int64) error {
	var arg any = intArray(ids)
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
