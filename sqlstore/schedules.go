package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// defaultClaimLimit bounds a claim when the caller gives no limit.
const defaultClaimLimit = 1000

// scheduleJSON is one schedule of SyncSchedules' JSON parameter; its keys are
// the column names the statement reads.
type scheduleJSON struct {
	Name           string  `json:"name"`
	Task           string  `json:"task"`
	DisplayName    string  `json:"display_name"`
	Kind           string  `json:"kind"`
	EverySeconds   float64 `json:"every_seconds"`
	Cron           string  `json:"cron"`
	Timezone       string  `json:"timezone"`
	SpecHash       string  `json:"spec_hash"`
	RunOnStartup   bool    `json:"run_on_startup"`
	Misfire        string  `json:"misfire"`
	Overlap        string  `json:"overlap"`
	MaxCatchup     int     `json:"max_catchup"`
	Retries        int     `json:"retries"`
	DelaySeconds   float64 `json:"delay_seconds"`
	Backoff        float64 `json:"backoff"`
	TimeoutSeconds float64 `json:"timeout_seconds"`
	JitterSeconds  float64 `json:"jitter_seconds"`
	Anchor         any     `json:"anchor"`
	NextRun        any     `json:"next_run"`
	OnceAt         any     `json:"once_at"`
}

// SyncSchedules upserts the schedules by name in one statement and marks the
// others orphaned in a second, in one transaction. Changed counts existing
// rows that changed in any stored field (spec, display fields, or being
// un-orphaned); only a changed spec_hash re-bases anchor and next_run. A name
// listed twice counts once (the last entry wins). Misfire and overlap default
// to coalesce and skip when empty.
func (s *Store) SyncSchedules(ctx context.Context, p core.SyncSchedulesParams) (core.SyncResult, error) {
	var res core.SyncResult
	at := make(map[string]int, len(p.Schedules))
	batch := make([]scheduleJSON, 0, len(p.Schedules))
	names := make([]string, 0, len(p.Schedules))
	for _, r := range p.Schedules {
		misfire, overlap := string(r.Misfire), string(r.Overlap)
		if misfire == "" {
			misfire = string(core.MisfireCoalesce)
		}
		if overlap == "" {
			overlap = string(core.OverlapSkip)
		}
		j := scheduleJSON{
			Name: r.Name, Task: r.Task, DisplayName: r.DisplayName, Kind: r.Kind,
			EverySeconds: r.EverySeconds, Cron: r.Cron, Timezone: r.Timezone, SpecHash: r.SpecHash,
			RunOnStartup: r.RunOnStartup, Misfire: misfire, Overlap: overlap, MaxCatchup: r.MaxCatchup,
			Retries: r.Retries, DelaySeconds: r.DelaySeconds, Backoff: r.Backoff,
			TimeoutSeconds: r.TimeoutSeconds, JitterSeconds: r.JitterSeconds,
			Anchor: s.d.arg(r.Anchor), NextRun: s.d.arg(r.NextRun),
		}
		if r.OnceAt != nil {
			j.OnceAt = s.d.arg(*r.OnceAt)
		}
		if i, dup := at[r.Name]; dup {
			batch[i] = j
			continue
		}
		at[r.Name] = len(batch)
		batch = append(batch, j)
		names = append(names, r.Name)
	}
	js, err := jsonParam(batch)
	if err != nil {
		return res, fmt.Errorf("sync schedules: %w", err)
	}
	now := s.d.now(p.Now)
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		existing := -1
		if q, ok := s.d.stmts()["sync_schedules_count"]; ok {
			// SQLite cannot tell an insert from an update in RETURNING; the
			// write lock is held, so counting first is exact.
			if err := tx.GetContext(ctx, &existing, q, s.d.strings(names)); err != nil {
				return fmt.Errorf("count existing: %w", s.d.interpret(err))
			}
		}
		var inserted []sql.NullBool
		if err := tx.SelectContext(ctx, &inserted, s.d.q("sync_schedules_upsert"), now, js); err != nil {
			return fmt.Errorf("upsert: %w", s.d.interpret(err))
		}
		if existing >= 0 {
			res.Inserted = len(batch) - existing
		} else {
			for _, ins := range inserted {
				if ins.Bool {
					res.Inserted++
				}
			}
		}
		res.Changed = len(inserted) - res.Inserted
		res.Unchanged = len(batch) - len(inserted)
		r, err := tx.ExecContext(ctx, s.d.q("sync_schedules_orphan"), now, s.d.strings(names), s.taskList(p.Tasks))
		if err != nil {
			return fmt.Errorf("mark orphans: %w", s.d.interpret(err))
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("mark orphans: %w", err)
		}
		res.Orphaned = int(n)
		return nil
	})
	if err != nil {
		return core.SyncResult{}, fmt.Errorf("sync schedules: %w", err)
	}
	return res, nil
}

// plannedRunJSON is one run of ClaimDue's insert; its keys are the columns
// the statement reads.
type plannedRunJSON struct {
	Schedule     string `json:"schedule"`
	Task         string `json:"task"`
	DisplayName  string `json:"display_name"`
	Slot         any    `json:"slot"`
	SlotsCovered int    `json:"slots_covered"`
	Status       string `json:"status"`
	RunAt        any    `json:"run_at"`
	MaxAttempts  int    `json:"max_attempts"`
	Error        string `json:"error"`

	slot  time.Time // Slot as planned, to match the rows the insert returns
	runAt time.Time // RunAt as planned (zero: now)
}

// advanceJSON is one schedule's new next_run.
type advanceJSON struct {
	Name    string `json:"name"`
	NextRun any    `json:"next_run"`

	nextRun time.Time // NextRun as planned (zero: never again)
}

// ClaimDue locks up to p.Limit due schedules (FOR UPDATE SKIP LOCKED on
// PostgreSQL; the database write lock, taken by BEGIN IMMEDIATE, on SQLite),
// calls p.Plan with them, inserts every planned run in one statement (a
// (schedule, slot) that exists is a conflict, not an error) and advances
// every planned next_run in one statement: three statements in one
// transaction, whatever the batch size (two on PostgreSQL, where the insert
// and the advance are one statement). Plans for schedules that were not
// claimed are ignored, as are later plans for a schedule already planned.
// Running runs need p.LeaseUntil.
func (s *Store) ClaimDue(ctx context.Context, p core.ClaimDueParams) (core.ClaimDueResult, error) {
	var res core.ClaimDueResult
	if p.Plan == nil {
		return res, fmt.Errorf("claim due: %w", &core.ValidationError{Field: "plan", Reason: "is required"})
	}
	if p.LeaseUntil.IsZero() {
		return res, fmt.Errorf("claim due: %w", &core.ValidationError{Field: "lease_until", Reason: "is required"})
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultClaimLimit
	}
	now := s.d.now(p.Now)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var rows []struct {
			Name     string   `db:"name"`
			Task     string   `db:"task"`
			SpecHash string   `db:"spec_hash"`
			NextRun  nullTime `db:"next_run"`
			Active   bool     `db:"active"`
		}
		if err := tx.SelectContext(ctx, &rows, s.d.q("claim_due_select"), now, limit, s.taskList(p.Tasks)); err != nil {
			return fmt.Errorf("select due: %w", s.d.interpret(err))
		}
		res.Claimed = len(rows)
		if len(rows) == 0 {
			return nil
		}
		due := make([]core.DueSchedule, len(rows))
		claimed := make(map[string]bool, len(rows))
		for i, r := range rows {
			due[i] = core.DueSchedule{Name: r.Name, Task: r.Task, SpecHash: r.SpecHash, NextRun: r.NextRun.Time, Active: r.Active}
			claimed[r.Name] = true
		}
		var planned []plannedRunJSON
		var advance []advanceJSON
		for _, pl := range p.Plan(due) {
			if !claimed[pl.Schedule] {
				continue
			}
			claimed[pl.Schedule] = false // one plan per schedule
			advance = append(advance, advanceJSON{Name: pl.Schedule, NextRun: s.d.arg(pl.NextRun), nextRun: pl.NextRun})
			for _, r := range pl.Runs {
				planned = append(planned, plannedRunJSON{
					Schedule: pl.Schedule, Task: r.Task, DisplayName: r.DisplayName, Slot: s.d.arg(r.Slot),
					SlotsCovered: max(r.SlotsCovered, 1), Status: string(r.Status), RunAt: s.d.arg(r.RunAt),
					MaxAttempts: max(r.MaxAttempts, 1), Error: r.Error, slot: r.Slot, runAt: r.RunAt,
				})
			}
		}
		if s.d.arrays { // one statement inserts the runs and advances the schedules
			if len(planned) == 0 && len(advance) == 0 {
				return nil
			}
			args := append([]any{now, s.d.arg(p.LeaseUntil), p.TickID}, claimArrays(planned, advance)...)
			inserted, err := s.insertPlanned(ctx, tx, planned, p, args...)
			if err != nil {
				return err
			}
			res.Runs, res.Conflicts = inserted, len(planned)-len(inserted)
			return nil
		}
		if len(planned) > 0 {
			js, err := jsonParam(planned)
			if err != nil {
				return err
			}
			inserted, err := s.insertPlanned(ctx, tx, planned, p, now, s.d.arg(p.LeaseUntil), p.TickID, js)
			if err != nil {
				return err
			}
			res.Runs, res.Conflicts = inserted, len(planned)-len(inserted)
		}
		if len(advance) > 0 {
			js, err := jsonParam(advance)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.d.q("claim_due_advance"), js); err != nil {
				return fmt.Errorf("advance next_run: %w", s.d.interpret(err))
			}
		}
		return nil
	})
	if err != nil {
		return core.ClaimDueResult{}, fmt.Errorf("claim due: %w", err)
	}
	return res, nil
}

// insertPlanned runs the insert statement with args and returns the runs
// inserted (a slot recorded already is skipped), ordered by id. Only the
// identity columns come back from the database; the rest is what was planned.
func (s *Store) insertPlanned(ctx context.Context, tx *sqlx.Tx, planned []plannedRunJSON, p core.ClaimDueParams, args ...any) ([]core.Run, error) {
	type key struct {
		schedule string
		slot     int64
	}
	byKey := make(map[key]*plannedRunJSON, len(planned))
	for i := range planned {
		byKey[key{planned[i].Schedule, planned[i].slot.UnixMicro()}] = &planned[i]
	}
	rows, err := tx.QueryContext(ctx, s.d.q("claim_due_insert_runs"), args...)
	if err != nil {
		return nil, fmt.Errorf("insert runs: %w", s.d.interpret(err))
	}
	defer rows.Close()
	out := make([]core.Run, 0, len(planned))
	for rows.Next() {
		var (
			id          int64
			schedule    string
			status      string
			slot, runAt nullTime
			createdAt   nullTime
		)
		if err := rows.Scan(&id, &schedule, &slot, &status, &runAt, &createdAt); err != nil {
			return nil, fmt.Errorf("insert runs: scan: %w", s.d.interpret(err))
		}
		pr := byKey[key{schedule, slot.Time.UnixMicro()}]
		if pr == nil {
			return nil, fmt.Errorf("insert runs: the database returned a run for %s at %v that was not planned", schedule, slot.Time)
		}
		r := core.Run{
			ID: id, Task: pr.Task, DisplayName: pr.DisplayName, Schedule: schedule,
			Source: core.SourceScheduled, Slot: slot.ptr(), SlotsCovered: pr.SlotsCovered,
			Status: core.Status(status), MaxAttempts: pr.MaxAttempts, Error: pr.Error,
			RunAt: runAt.Time, CreatedAt: createdAt.Time, TickID: p.TickID,
		}
		switch {
		case r.Status == core.StatusRunning:
			r.Attempt = 1
			lease := p.LeaseUntil.UTC()
			r.LeaseUntil, r.StartedAt = &lease, createdAt.ptr()
		case r.Status.Final():
			r.FinishedAt = createdAt.ptr()
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert runs: %w", s.d.interpret(err))
	}
	slices.SortFunc(out, func(a, b core.Run) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ListSchedules returns every stored schedule by name, with its latest run
// (by id: a scheduled, skipped or triggered run).
func (s *Store) ListSchedules(ctx context.Context) ([]core.ScheduleRecord, error) {
	recs, err := s.schedules(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return recs, nil
}

// schedules reads the schedule named name, or every schedule when name is
// empty, with their latest runs.
func (s *Store) schedules(ctx context.Context, name string) ([]core.ScheduleRecord, error) {
	var rows []scheduleRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("list_schedules"), name); err != nil {
		return nil, s.d.interpret(err)
	}
	out := make([]core.ScheduleRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// GetSchedule returns one schedule with its latest run, or an error wrapping
// core.ErrNotFound.
func (s *Store) GetSchedule(ctx context.Context, name string) (core.ScheduleRecord, error) {
	if name == "" {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	recs, err := s.schedules(ctx, name)
	if err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("get schedule %q: %w", name, err)
	}
	if len(recs) == 0 {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	return recs[0], nil
}

// SetSchedulePaused pauses or resumes p.Name, stamping updated_at with p.Now
// (the database clock when zero), and returns it (an error wrapping
// core.ErrNotFound if absent). A paused schedule is not claimed; its
// next_run stays where it was, so the misfire policy decides what a resumed
// schedule runs.
func (s *Store) SetSchedulePaused(ctx context.Context, p core.SetSchedulePausedParams) (core.ScheduleRecord, error) {
	name := p.Name
	r, err := s.db.ExecContext(ctx, s.d.q("set_schedule_paused"), name, p.Paused, s.d.now(p.Now))
	if err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("set schedule %q paused: %w", name, s.d.interpret(err))
	}
	if n, err := r.RowsAffected(); err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("set schedule %q paused: %w", name, err)
	} else if n == 0 {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	return s.GetSchedule(ctx, name)
}
