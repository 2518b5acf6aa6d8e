package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// ListRuns limits.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// ClaimRuns recovers expired leases and claims runnable runs in one
// transaction of two statements. First, running runs whose lease expired are
// failed when they have no attempts left (any task: failing needs no task
// function) or, for the given tasks, marked interrupted and runnable now
// (error "interrupted: lease expired at …", interruptions+1). Then up to
// p.Limit pending or interrupted runs of the given tasks with run_at <= now
// become running under p.TickID with attempt+1 and the given lease
// (FOR UPDATE SKIP LOCKED on PostgreSQL). Interrupted counts the expired
// leases this call recovered; they are claimed by this call or, past
// p.Limit, by the next one.
func (s *Store) ClaimRuns(ctx context.Context, p core.ClaimRunsParams) (core.ClaimRunsResult, error) {
	var res core.ClaimRunsResult
	if p.LeaseUntil.IsZero() {
		return res, fmt.Errorf("claim runs: %w", &core.ValidationError{Field: "lease_until", Reason: "is required"})
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultClaimLimit
	}
	now, tasks := s.d.now(p.Now), s.taskStrings(p.Tasks)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var expired []struct {
			Status string `db:"status"`
			ID     int64  `db:"id"`
		}
		if err := tx.SelectContext(ctx, &expired, s.d.q("claim_runs_expire"), now, tasks); err != nil {
			return fmt.Errorf("recover expired leases: %w", s.d.interpret(err))
		}
		var failed []int64
		for _, r := range expired {
			if r.Status == string(core.StatusFailed) {
				res.Failed++
				failed = append(failed, r.ID)
			} else {
				res.Interrupted++
			}
		}
		if p.Alerts && len(failed) > 0 {
			if err := s.alertFailed(ctx, tx, failed); err != nil {
				return err
			}
		}
		if len(p.Tasks) == 0 {
			return nil
		}
		var rows []runRow
		if err := tx.SelectContext(ctx, &rows, s.d.q("claim_runs"), now, s.d.arg(p.LeaseUntil), p.TickID, tasks, limit); err != nil {
			return fmt.Errorf("claim: %w", s.d.interpret(err))
		}
		res.Runs = runs(rows)
		return nil
	})
	if err != nil {
		return core.ClaimRunsResult{}, fmt.Errorf("claim runs: %w", err)
	}
	return res, nil
}

// outcomeJSON is one outcome of FinishRuns' JSON parameter.
type outcomeJSON struct {
	ID             int64  `json:"id"`
	ClaimedAttempt int    `json:"claimed_attempt"`
	Attempt        int    `json:"attempt"`
	Status         string `json:"status"`
	Error          string `json:"error"`
	Stack          string `json:"stack"`
	StartedAt      any    `json:"started_at"`
	FinishedAt     any    `json:"finished_at"`
	RunAt          any    `json:"run_at"`
}

// FinishRuns records the outcomes in one UPDATE. An outcome applies only
// while its run is running under p.TickID with attempt = ClaimedAttempt (the
// fencing check: a run whose lease was taken over is left alone); it returns
// how many applied. Every applied run loses its lease; a pending outcome
// (retry later, or released unstarted) sets run_at and clears finished_at.
func (s *Store) FinishRuns(ctx context.Context, p core.FinishRunsParams) (int, error) {
	if len(p.Outcomes) == 0 {
		return 0, nil
	}
	var args []any
	if s.d.arrays {
		pb := getParamBuf()
		defer pb.release() // after the statement: args alias it
		args = pb.finishArrays(p)
	} else {
		batch := make([]outcomeJSON, len(p.Outcomes))
		for i, o := range p.Outcomes {
			batch[i] = outcomeJSON{
				ID: o.RunID, ClaimedAttempt: o.ClaimedAttempt, Attempt: o.Attempt, Status: string(o.Status),
				Error: o.Error, Stack: o.Stack, StartedAt: s.d.arg(o.StartedAt),
				FinishedAt: s.d.arg(o.FinishedAt), RunAt: s.d.arg(o.RunAt),
			}
		}
		js, err := jsonParam(batch)
		if err != nil {
			return 0, fmt.Errorf("finish runs: %w", err)
		}
		args = []any{p.TickID, js}
	}
	if ids := failedRunIDs(p); p.Alerts && len(ids) > 0 {
		return s.finishRunsAlerting(ctx, args, ids)
	}
	r, err := s.db.ExecContext(ctx, s.d.q("finish_runs"), args...)
	if err != nil {
		return 0, fmt.Errorf("finish runs: %w", s.d.interpret(err))
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("finish runs: %w", err)
	}
	return int(n), nil
}

// finishArrays are FinishRuns' PostgreSQL parameters: the tick id, then one
// array per outcome field. An array whose every element would be the
// field's common value is NULL (no array), which the statement's unnest
// pads with NULLs and reads as that value: a batch of first-attempt
// successes sends the ids and the two instants only, not its claimed
// attempts (1), attempts (the claimed one), statuses (success), errors and
// stacks (empty) and run_at (unchanged).
func (pb *paramBuf) finishArrays(p core.FinishRunsParams) []any {
	o, n := p.Outcomes, len(p.Outcomes)
	intArrayOf, textArrayOf, microsArrayOf := pb.intArrayOf, pb.textArrayOf, pb.microsArrayOf
	args := []any{p.TickID,
		intArrayOf(n, func(i int) int64 { return o[i].RunID }),
		nil, nil, nil, // claimed attempt, attempt, status
		nil, nil, // error and stack
		microsArrayOf(n, func(i int) time.Time { return o[i].StartedAt }),
		microsArrayOf(n, func(i int) time.Time { return o[i].FinishedAt }),
		nil, // run at
	}
	if anyOf(o, func(o *core.Outcome) bool { return o.ClaimedAttempt != 1 }) {
		args[2] = pb.int4ArrayOf(n, func(i int) int64 { return int64(o[i].ClaimedAttempt) })
	}
	if anyOf(o, func(o *core.Outcome) bool { return o.Attempt != o.ClaimedAttempt }) {
		args[3] = pb.int4ArrayOf(n, func(i int) int64 { return int64(o[i].Attempt) })
	}
	if anyOf(o, func(o *core.Outcome) bool { return o.Status != core.StatusSuccess }) {
		args[4] = textArrayOf(n, func(i int) string { return string(o[i].Status) })
	}
	if anyOf(o, func(o *core.Outcome) bool { return o.Error != "" }) {
		args[5] = textArrayOf(n, func(i int) string { return o[i].Error })
	}
	if anyOf(o, func(o *core.Outcome) bool { return o.Stack != "" }) {
		args[6] = textArrayOf(n, func(i int) string { return o[i].Stack })
	}
	if anyOf(o, func(o *core.Outcome) bool { return !o.RunAt.IsZero() }) {
		args[9] = microsArrayOf(n, func(i int) time.Time { return o[i].RunAt })
	}
	return args
}

// InsertRun creates a pending run, runnable at p.RunAt (default now). With an
// IdempotencyKey that exists already it inserts nothing and returns the
// existing run with created=false. Source defaults to manual and MaxAttempts
// to 1; a scheduled run needs a slot, so InsertRun fails for it with an error
// wrapping core.ErrInvalid.
func (s *Store) InsertRun(ctx context.Context, p core.InsertRunParams) (core.Run, bool, error) {
	source := p.Source
	if source == "" {
		source = core.SourceManual
	}
	var payload any
	if len(p.Payload) > 0 {
		payload = string(p.Payload)
	}
	var rows []runRow
	err := s.db.SelectContext(ctx, &rows, s.d.q("insert_run"), s.d.now(p.Now), p.Task, p.DisplayName,
		p.Schedule, string(source), payload, p.IdempotencyKey, max(p.MaxAttempts, 1), s.d.arg(p.RunAt),
		p.Overrides.RetryDelaySeconds, p.Overrides.RetryBackoff, p.Overrides.TimeoutSeconds)
	if err != nil {
		return core.Run{}, false, fmt.Errorf("insert run of %q: %w", p.Task, s.d.interpret(err))
	}
	if len(rows) == 1 {
		return rows[0].run(), true, nil
	}
	if p.IdempotencyKey == "" {
		return core.Run{}, false, fmt.Errorf("insert run of %q: nothing inserted and no idempotency key", p.Task)
	}
	var row runRow
	if err := s.db.GetContext(ctx, &row, s.d.q("insert_run_existing"), p.IdempotencyKey); err != nil {
		return core.Run{}, false, fmt.Errorf("insert run of %q: read the run holding idempotency key %q: %w", p.Task, p.IdempotencyKey, s.d.interpret(err))
	}
	return row.run(), false, nil
}

// GetRun returns one run, or an error wrapping core.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id int64) (core.Run, error) {
	var row runRow
	if err := s.db.GetContext(ctx, &row, s.d.q("get_run"), id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return core.Run{}, fmt.Errorf("run %d: %w", id, core.ErrNotFound)
		}
		return core.Run{}, fmt.Errorf("get run %d: %w", id, s.d.interpret(err))
	}
	return row.run(), nil
}

// ListRuns returns runs newest first (by id), filtered by the non-zero fields
// of p; BeforeID is the cursor. Limit defaults to 50, at most 500.
func (s *Store) ListRuns(ctx context.Context, p core.ListRunsParams) ([]core.Run, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	var rows []runRow
	err := s.db.SelectContext(ctx, &rows, s.d.q("list_runs"), string(p.Status), string(p.Source),
		p.Task, p.Schedule, max(p.BeforeID, 0), limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", s.d.interpret(err))
	}
	return runs(rows), nil
}

// CancelRun cancels a pending or interrupted run (finished_at = now). It
// wraps core.ErrNotFound when the run does not exist and core.ErrConflict
// when it is in another state.
func (s *Store) CancelRun(ctx context.Context, p core.RunActionParams) (core.Run, error) {
	return s.runAction(ctx, "cancel_run", p, "pending or interrupted")
}

// RetryRun makes a failed run pending again, runnable now, with one more
// attempt allowed (max_attempts = attempt+1); its last error is kept until
// the next attempt. It wraps core.ErrNotFound when the run does not exist
// and core.ErrConflict when it has not failed.
func (s *Store) RetryRun(ctx context.Context, p core.RunActionParams) (core.Run, error) {
	return s.runAction(ctx, "retry_run", p, "failed")
}

// runAction runs a conditional one-run UPDATE (stmt) and explains a miss.
func (s *Store) runAction(ctx context.Context, stmt string, p core.RunActionParams, want string) (core.Run, error) {
	var rows []runRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q(stmt), p.ID, s.d.now(p.Now)); err != nil {
		return core.Run{}, fmt.Errorf("%s %d: %w", stmt, p.ID, s.d.interpret(err))
	}
	if len(rows) == 1 {
		return rows[0].run(), nil
	}
	r, err := s.GetRun(ctx, p.ID)
	if err != nil {
		return core.Run{}, err
	}
	return r, fmt.Errorf("run %d is %s, not %s: %w", p.ID, r.Status, want, core.ErrConflict)
}
