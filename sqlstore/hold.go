package sqlstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/tickflow/tickflow/core"
)

// HoldDue implements core.ClaimHolder on PostgreSQL: ClaimDue whose
// transaction stays open while the claimed runs execute, so that each run
// is written once, as its outcome leaves it, instead of inserted running
// and then updated (the update rewrote the row and five of its index
// entries: about half of a tick's database time). The locked schedule rows
// are the claim meanwhile: another tick skips them, and if this process
// dies the transaction ends with its connection and the slots stay due.
//
// Before it returns, the held claim draws its runs' ids from the runs'
// sequence (a task sees its run's id) and looks up every planned
// (schedule, slot) in the slot key: a slot that has a run already is a
// conflict, left out of the claim's runs and never executed, as ClaimDue's
// ON CONFLICT DO NOTHING would leave it out (claim_due_hold.sql).
//
// When there is nothing to hold (no schedule due, no run to execute, a
// claim without p.Now) or on SQLite, it is ClaimDue: it commits and
// returns no HeldClaim.
func (s *Store) HoldDue(ctx context.Context, p core.ClaimDueParams) (core.ClaimDueResult, core.HeldClaim, error) {
	if !s.d.arrays || p.Now.IsZero() {
		res, err := s.ClaimDue(ctx, p)
		return res, nil, err
	}
	if err := checkClaimDue(p); err != nil {
		return core.ClaimDueResult{}, nil, err
	}
	// The transaction outlives ctx's statements: database/sql would roll
	// it back when ctx ends, under a commit the tick is still making.
	tx, err := s.db.BeginTxx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return core.ClaimDueResult{}, nil, fmt.Errorf("claim due: begin: %w", s.d.interpret(err))
	}
	h := &heldClaim{s: s, tx: tx, p: p, buf: freeClaimBufs.get()}
	res, hold, err := h.claim(ctx)
	if err != nil {
		h.Rollback()
		return core.ClaimDueResult{}, nil, fmt.Errorf("claim due: %w", err)
	}
	if !hold {
		err := tx.Commit()
		h.release()
		if err != nil {
			return core.ClaimDueResult{}, nil, fmt.Errorf("claim due: commit: %w", s.d.interpret(err))
		}
		return res, nil, nil
	}
	return res, h, nil
}

// checkClaimDue rejects ClaimDue parameters it cannot claim with.
func checkClaimDue(p core.ClaimDueParams) error {
	if p.Plan == nil {
		return fmt.Errorf("claim due: %w", &core.ValidationError{Field: "plan", Reason: "is required"})
	}
	if p.LeaseUntil.IsZero() {
		return fmt.Errorf("claim due: %w", &core.ValidationError{Field: "lease_until", Reason: "is required"})
	}
	return nil
}

// heldClaim is a claim HoldDue holds: its open transaction, its planned
// runs (less the conflicts) with the ids drawn for them, and its advances.
type heldClaim struct {
	s   *Store
	tx  *sqlx.Tx
	p   core.ClaimDueParams
	buf *claimBuf
	ids []int64 // ids[i] is planned[i]'s
	// sorted: ids increase (the usual case: drawn in the rows' order), and
	// Commit finds an outcome's run by binary search; else by pos, made
	// once (a catch-up run's id is drawn after the rows').
	sorted bool
	pos    map[int64]int

	mu   sync.Mutex
	done bool // Commit or Rollback ended the transaction
}

// claim locks and plans as ClaimDue does. It reports hold false when the
// claim was stored as ClaimDue stores it (nothing to execute): the caller
// commits.
func (h *heldClaim) claim(ctx context.Context) (core.ClaimDueResult, bool, error) {
	s, p, tx, buf := h.s, h.p, h.tx, h.buf
	var res core.ClaimDueResult
	limit := claimLimit(p)
	if _, err := tx.ExecContext(ctx, s.d.q("claim_due_hold_begin"), idleTimeout(p)); err != nil {
		return res, false, fmt.Errorf("hold: %w", s.d.interpret(err))
	}
	if s.inClaim != nil {
		if err := s.inClaim(tx); err != nil {
			return res, false, err
		}
	}
	now := s.d.now(p.Now)
	rows := &heldRows{ids: buf.ids[:0], taken: buf.taken[:0]}
	due, err := s.selectDue(ctx, tx, now, limit, s.taskList(p.Tasks), p.After, buf.due[:0], rows)
	buf.due, buf.ids, buf.taken = due, rows.ids, rows.taken
	if err != nil {
		return res, false, err
	}
	res.Claimed, res.Last = len(due), lastDue(due)
	if len(due) == 0 {
		return res, false, nil
	}
	planned, advance := s.plannedRuns(due, p.Plan(due), buf.planned[:0], buf.advance[:0])
	buf.planned, buf.advance = planned, advance
	if !slices.ContainsFunc(planned, func(pr plannedRunJSON) bool { return pr.Status == string(core.StatusRunning) }) {
		// Nothing executes (skipped or jittered runs only): store it now.
		return res, false, s.storePlanned(ctx, tx, p, now, planned, advance, &res)
	}
	conflicts, err := h.drawIDs(ctx)
	if err != nil {
		return res, false, err
	}
	res.Conflicts = conflicts
	res.Runs = h.runs()
	return res, true, nil
}

// idleTimeout is the held transaction's idle_in_transaction_session_timeout
// (milliseconds, as set_config takes it): until the claim's lease passes,
// when a running run of a process that stopped is presumed dead; then the
// server ends the session of a process that stopped while holding the
// claim (frozen, cut off), and the schedules become claimable again. At
// least a second.
func idleTimeout(p core.ClaimDueParams) string {
	d := max(p.LeaseUntil.Sub(p.Now), time.Second)
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// heldRows are what the lock select brings for a held claim, per due row:
// the id drawn for the schedule's first planned run, and whether the
// schedule has a run at or after its next_run (a planned slot may be taken).
type heldRows struct {
	ids   []int64
	taken []bool
}

// drawIDs gives each planned run its id: the one its due row brought for
// the row's first run, one drawn by claim_due_hold.sql for any other; and
// looks the slots of the rows that may be taken up in the slot key, in the
// same statement, dropping the conflicts from the plan. The statement is
// sent only when one of those is needed (not for one run per schedule on
// its own slots). It returns how many runs it dropped.
func (h *heldClaim) drawIDs(ctx context.Context) (int, error) {
	s, buf := h.s, h.buf
	planned, due := buf.planned, buf.due
	h.ids = make([]int64, len(planned))
	var extra, probe []int // planned runs that need a drawn id; whose slot is looked up
	prev := -1
	for i := range planned {
		d := planned[i].due
		if d != prev {
			h.ids[i] = buf.ids[d]
		} else {
			extra = append(extra, i)
		}
		prev = d
		if buf.taken[d] || planned[i].slot.Before(due[d].NextRun) {
			probe = append(probe, i)
		}
	}
	if len(extra) == 0 && len(probe) == 0 {
		h.sorted = slices.IsSorted(h.ids)
		return 0, nil
	}
	pb := getParamBuf()
	defer pb.release()
	schedules := pb.textArrayOf(len(probe), func(k int) string { return planned[probe[k]].Schedule })
	slots := pb.microsArrayOf(len(probe), func(k int) time.Time { return planned[probe[k]].slot })
	var (
		ids       []byte
		conflicts pq.Int64Array
	)
	if err := h.tx.QueryRowContext(ctx, s.d.q("claim_due_hold"), len(extra), schedules, slots).Scan(&ids, &conflicts); err != nil {
		return 0, fmt.Errorf("draw run ids: %w", s.d.interpret(err))
	}
	if len(ids) != 8*len(extra) {
		return 0, fmt.Errorf("draw run ids: %d bytes for %d runs", len(ids), len(extra))
	}
	for k, i := range extra {
		h.ids[i] = int64(binary.BigEndian.Uint64(ids[8*k:]))
	}
	if len(conflicts) > 0 {
		drop := make(map[int]bool, len(conflicts))
		for _, c := range conflicts {
			if c < 1 || int(c) > len(probe) {
				return 0, fmt.Errorf("draw run ids: conflict %d of %d looked up", c, len(probe))
			}
			drop[probe[c-1]] = true
		}
		kept, keptIDs := planned[:0], h.ids[:0] // in place: neither passes i
		for i := range planned {
			if !drop[i] {
				kept = append(kept, planned[i])
				keptIDs = append(keptIDs, h.ids[i])
			}
		}
		clear(planned[len(kept):])
		buf.planned, h.ids = kept, keptIDs
	}
	h.sorted = slices.IsSorted(h.ids)
	return len(conflicts), nil
}

// index is the position of run id among the held claim's runs.
func (h *heldClaim) index(id int64) (int, bool) {
	if h.sorted {
		return slices.BinarySearch(h.ids, id)
	}
	if h.pos == nil {
		h.pos = make(map[int64]int, len(h.ids))
		for i, v := range h.ids {
			h.pos[v] = i
		}
	}
	i, ok := h.pos[id]
	return i, ok
}

// runs are the held claim's runs as they will be stored unless an outcome
// changes them.
func (h *heldClaim) runs() []core.Run {
	p, planned := h.p, h.buf.planned
	lease := p.LeaseUntil.UTC()
	now := p.Now.UTC().Truncate(time.Microsecond)
	slots := make([]time.Time, len(planned))
	out := make([]core.Run, len(planned))
	for i := range planned {
		planned[i].fill(&out[i], h.ids[i], &now, &lease, p.TickID)
		slots[i] = time.UnixMicro(planned[i].slot.UnixMicro()).UTC()
		out[i].Slot = &slots[i]
	}
	return out
}

// errClaimEnded: Commit or Rollback was called already.
var errClaimEnded = errors.New("held claim already ended")

// Commit implements core.HeldClaim: it inserts the runs (those with an
// outcome as it left them, the others running and leased, as ClaimDue
// inserts them), advances the schedules, writes the alerts and commits.
func (h *heldClaim) Commit(ctx context.Context, outcomes []core.Outcome) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return errClaimEnded
	}
	h.done = true
	defer h.release()
	if err := h.store(ctx, outcomes); err != nil {
		_ = h.tx.Rollback()
		return fmt.Errorf("commit held claim: %w", err)
	}
	if err := h.tx.Commit(); err != nil {
		return fmt.Errorf("commit held claim: commit: %w", h.s.d.interpret(err))
	}
	return nil
}

// store writes the held claim's runs and advances in its transaction.
func (h *heldClaim) store(ctx context.Context, outcomes []core.Outcome) error {
	s, p, planned := h.s, h.p, h.buf.planned
	applied := make([]*core.Outcome, len(planned))
	var failed []int64
	for k := range outcomes {
		o := &outcomes[k]
		i, ok := h.index(o.RunID)
		if !ok {
			return fmt.Errorf("outcome of run %d, which is not the claim's", o.RunID)
		}
		applied[i] = o
		if o.Status == core.StatusFailed {
			failed = append(failed, o.RunID)
		}
	}
	pb := getParamBuf()
	defer pb.release()
	now := s.d.now(p.Now)
	args := append([]any{now, s.d.arg(p.LeaseUntil), p.TickID}, pb.claimArrays(planned, h.buf.advance)...)
	pb.heldArrays(args[3:], planned, h.ids, applied)
	r, err := h.tx.ExecContext(ctx, s.d.q("claim_due_insert_runs"), args...)
	if err != nil {
		return fmt.Errorf("insert runs: %w", s.d.interpret(err))
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("insert runs: %w", err)
	} else if int(n) != len(planned) {
		// The slot lookup and the schedule locks leave no way to it.
		return fmt.Errorf("insert runs: %d of %d runs inserted: a slot was recorded meanwhile", n, len(planned))
	}
	if p.Alerts {
		if err := s.alertMissed(ctx, h.tx, p, now, h.runs()); err != nil {
			return err
		}
		if len(failed) > 0 {
			if err := s.alertFailed(ctx, h.tx, failed); err != nil {
				return err
			}
		}
	}
	return nil
}

// Rollback implements core.HeldClaim: the transaction ends, nothing is
// written, and the schedules stay due.
func (h *heldClaim) Rollback() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	h.done = true
	_ = h.tx.Rollback()
	h.release()
}

func (h *heldClaim) release() {
	if h.buf != nil {
		h.buf.release()
		h.buf = nil
	}
}
