package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// The alerts' outbox (tickflow_outbox, see core.Alerts). Alerts are written
// in the transactions of their events, only when the caller turns alerts on
// (the Alerts flags of ClaimDue, ClaimRuns and FinishRuns), so the tick's
// statements without alerts are unchanged:
//
//   - FinishRuns with a failed outcome: the update and outbox_insert_failed
//     in one transaction (an outcome that did not apply writes nothing);
//   - ClaimRuns that failed expired runs: outbox_insert_failed after
//     claim_runs_expire;
//   - ClaimDue that recorded skipped or coalesced runs: one slots_missed
//     row (outbox_insert) for the batch.
//
// Every row has a unique dedupe key: writing an event twice inserts once.

// failedRunIDs are the ids of p's failed outcomes.
func failedRunIDs(p core.FinishRunsParams) []int64 {
	var ids []int64
	for _, o := range p.Outcomes {
		if o.Status == core.StatusFailed {
			ids = append(ids, o.RunID)
		}
	}
	return ids
}

// finishRunsAlerting is FinishRuns (args are finish_runs' parameters) and
// the run_failed alerts of the failed runs ids, in one transaction.
func (s *Store) finishRunsAlerting(ctx context.Context, args []any, ids []int64) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, s.d.q("finish_runs"), args...)
		if err != nil {
			return s.d.interpret(err)
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		return s.alertFailed(ctx, tx, ids)
	})
	if err != nil {
		return 0, fmt.Errorf("finish runs: %w", err)
	}
	return int(n), nil
}

// ids is a list of run ids as one parameter.
func (s *Store) ids(ids []int64) any {
	if s.d.arrays {
		return intArrayOf(len(ids), func(i int) int64 { return ids[i] })
	}
	b, _ := json.Marshal(ids) // cannot fail
	return string(b)
}

// alertFailed writes, in tx, the run_failed alerts of the runs ids that
// are failed (an outcome that did not apply left its run as it was).
func (s *Store) alertFailed(ctx context.Context, tx *sqlx.Tx, ids []int64) error {
	if _, err := tx.ExecContext(ctx, s.d.q("outbox_insert_failed"), s.ids(ids)); err != nil {
		return fmt.Errorf("write run_failed alerts: %w", s.d.interpret(err))
	}
	return nil
}

// alertMissed writes, when p.Alerts is set, one slots_missed alert for the
// inserted runs that stand for slots that did not run as scheduled:
// skipped runs and runs covering more than one slot. Its key is the first
// such run's id.
func (s *Store) alertMissed(ctx context.Context, tx *sqlx.Tx, p core.ClaimDueParams, now any, runs []core.Run) error {
	if !p.Alerts {
		return nil
	}
	var body core.AlertBody
	var first int64
	for _, r := range runs {
		if r.Status != core.StatusSkipped && r.SlotsCovered <= 1 {
			continue
		}
		missed := r.SlotsCovered
		if r.Status != core.StatusSkipped {
			missed-- // one of the slots runs
		}
		body.Slots += missed
		if first == 0 {
			first = r.ID
		}
		if len(body.Runs) == core.MaxAlertRuns {
			body.MoreRuns++
			continue
		}
		body.Runs = append(body.Runs, core.AlertRun{
			ID: r.ID, Task: r.Task, Schedule: r.Schedule, Slot: r.Slot, Status: r.Status,
			Attempt: r.Attempt, SlotsCovered: r.SlotsCovered, Error: r.Error,
		})
	}
	if first == 0 {
		return nil
	}
	js, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("write slots_missed alert: %w", err)
	}
	key := fmt.Sprintf("slots-missed:%d", first)
	if _, err := tx.ExecContext(ctx, s.d.q("outbox_insert"), now, string(core.AlertSlotsMissed), key, string(js)); err != nil {
		return fmt.Errorf("write slots_missed alert: %w", s.d.interpret(err))
	}
	return nil
}

// InsertAlert writes one alert unless its key exists; it reports whether it
// wrote it.
func (s *Store) InsertAlert(ctx context.Context, p core.InsertAlertParams) (bool, error) {
	if p.Key == "" || !json.Valid(p.Body) {
		return false, fmt.Errorf("insert alert: %w", &core.ValidationError{Field: "alert", Value: p.Key, Reason: "needs a key and a JSON body"})
	}
	r, err := s.db.ExecContext(ctx, s.d.q("outbox_insert"), s.d.now(p.Now), string(p.Kind), p.Key, string(p.Body))
	if err != nil {
		return false, fmt.Errorf("insert alert %s: %w", p.Key, s.d.interpret(err))
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert alert %s: %w", p.Key, err)
	}
	return n == 1, nil
}

// outboxRow is a tickflow_outbox row.
type outboxRow struct {
	ID          int64    `db:"id"`
	Kind        string   `db:"kind"`
	Key         string   `db:"dedupe_key"`
	Body        string   `db:"body"`
	Attempts    int      `db:"attempts"`
	NextAttempt nullTime `db:"next_attempt_at"`
	DeliveredAt nullTime `db:"delivered_at"`
	LastError   string   `db:"last_error"`
	ClaimedBy   string   `db:"claimed_by"`
	CreatedAt   nullTime `db:"created_at"`
}

func outboxAlerts(rows []outboxRow) []core.OutboxAlert {
	out := make([]core.OutboxAlert, len(rows))
	for i, r := range rows {
		out[i] = core.OutboxAlert{
			ID: r.ID, Kind: core.AlertKind(r.Kind), Key: r.Key, Body: json.RawMessage(r.Body),
			Attempts: r.Attempts, NextAttempt: r.NextAttempt.ptr(), DeliveredAt: r.DeliveredAt.ptr(),
			LastError: r.LastError, ClaimedBy: r.ClaimedBy, CreatedAt: r.CreatedAt.Time,
		}
	}
	return out
}

// ClaimAlerts claims up to p.Limit due alerts in one statement (FOR UPDATE
// SKIP LOCKED on PostgreSQL), ordered by id.
func (s *Store) ClaimAlerts(ctx context.Context, p core.ClaimAlertsParams) ([]core.OutboxAlert, error) {
	if p.LeaseUntil.IsZero() || p.Limit <= 0 {
		return nil, fmt.Errorf("claim alerts: %w", &core.ValidationError{Field: "lease_until/limit", Reason: "are required"})
	}
	var rows []outboxRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("outbox_claim"), s.d.now(p.Now), s.d.arg(p.LeaseUntil), p.TickID, p.Limit); err != nil {
		return nil, fmt.Errorf("claim alerts: %w", s.d.interpret(err))
	}
	slices.SortFunc(rows, func(a, b outboxRow) int { return cmp.Compare(a.ID, b.ID) })
	return outboxAlerts(rows), nil
}

// alertResultJSON is one result of outbox_finish's JSON parameter.
type alertResultJSON struct {
	ID        int64  `json:"id"`
	Attempts  int    `json:"attempts"`
	Delivered bool   `json:"delivered"`
	Released  bool   `json:"released"`
	RetryUS   *int64 `json:"retry_us"`
	Error     string `json:"error"`
}

// FinishAlerts records delivery outcomes in one fenced statement and
// returns how many applied; then, with p.PruneBefore, it deletes at most 100
// finished alerts created before it (a second statement).
func (s *Store) FinishAlerts(ctx context.Context, p core.FinishAlertsParams) (int, error) {
	n := 0
	if len(p.Results) > 0 {
		batch := make([]alertResultJSON, len(p.Results))
		for i, r := range p.Results {
			batch[i] = alertResultJSON{ID: r.ID, Attempts: r.Attempts, Delivered: r.Delivered, Released: r.Released, Error: r.Error}
			if !r.RetryAt.IsZero() {
				us := r.RetryAt.UnixMicro()
				batch[i].RetryUS = &us
			}
		}
		js, err := jsonParam(batch)
		if err != nil {
			return 0, fmt.Errorf("finish alerts: %w", err)
		}
		r, err := s.db.ExecContext(ctx, s.d.q("outbox_finish"), s.d.now(p.Now), p.TickID, js)
		if err != nil {
			return 0, fmt.Errorf("finish alerts: %w", s.d.interpret(err))
		}
		applied, err := r.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("finish alerts: %w", err)
		}
		n = int(applied)
	}
	if !p.PruneBefore.IsZero() {
		if _, err := s.db.ExecContext(ctx, s.d.q("outbox_prune"), s.d.arg(p.PruneBefore)); err != nil {
			return n, fmt.Errorf("finish alerts: prune old alerts: %w", s.d.interpret(err))
		}
	}
	return n, nil
}

// ListAlerts returns outbox rows newest first (limit default 50, at most 500).
func (s *Store) ListAlerts(ctx context.Context, p core.ListAlertsParams) ([]core.OutboxAlert, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	var rows []outboxRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("outbox_list"), min(limit, maxListLimit)); err != nil {
		return nil, fmt.Errorf("list alerts: %w", s.d.interpret(err))
	}
	return outboxAlerts(rows), nil
}
