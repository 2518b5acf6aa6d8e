package sqlstore

import (
	"context"
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
// after it, in one statement (see core.Store.SlotRuns and slot_runs.sql).
func (s *Store) SlotRuns(ctx context.Context, p core.SlotRunsParams) ([]core.SlotRun, error) {
	var rows []slotRunRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("slot_runs"), p.Schedule, s.d.arg(p.From), s.d.arg(p.To)); err != nil {
		return nil, fmt.Errorf("slot runs of %q: %w", p.Schedule, s.d.interpret(err))
	}
	return slotRuns(rows), nil
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
