package core

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ClaimHolder is a Store that can hold a due claim open while its runs
// execute (sqlstore on PostgreSQL). The tick uses it when Config.ClaimHold
// is positive.
//
// HoldDue locks and plans as ClaimDue does, but when the plan has runs to
// execute it keeps the transaction open and writes nothing yet: the locked
// schedule rows are the claim (another tick skips them), and the result's
// runs carry the ids they will be stored with. A planned run whose
// (schedule, slot) has a run already is left out and counted in Conflicts,
// as ClaimDue leaves it out. HeldClaim.Commit then writes each run once, as
// its outcome left it, instead of inserting it running and updating it when
// it finishes. With nothing to hold (no run to execute) HoldDue commits as
// ClaimDue and returns a nil HeldClaim.
//
// If the process dies before Commit, the transaction ends with its
// connection: nothing of the claim is written, and the slots stay due for
// the next tick, which runs them (no interrupted attempt is recorded, as
// there is no row to record it on).
type ClaimHolder interface {
	HoldDue(ctx context.Context, p ClaimDueParams) (ClaimDueResult, HeldClaim, error)
}

// HeldClaim is a due claim whose transaction is open. Exactly one of Commit
// and Rollback ends it.
type HeldClaim interface {
	// Commit writes the claim's runs, advances its schedules and commits.
	// A run with an outcome among outcomes is written as the outcome left
	// it (success, failed, pending for a retry or released); every other
	// run as ClaimDue writes it (running, attempt 1, leased), for a later
	// FinishRuns of the tick to record. On error nothing is written.
	Commit(ctx context.Context, outcomes []Outcome) error
	// Rollback ends the claim without writing: its schedules stay due.
	Rollback()
}

// maxHeldClaims bounds a tick's open held claims: each holds a database
// connection while its runs execute. A third claim waits for one to end.
const maxHeldClaims = 2

// holds is a tick's held claims: it opens them for the claimer and ends
// each when its runs have all finished, when Config.ClaimHold has passed or
// when the tick's attempts are cut, whichever comes first.
type holds struct {
	holder ClaimHolder
	hold   time.Duration
	// actx is the tick's attempt context: its end ends every hold.
	actx context.Context
	// record hands an outcome to the tick's recorder.
	record func(Outcome)
	log    *slog.Logger
	tally  *tally

	open chan struct{} // one element per open held claim
	wg   sync.WaitGroup
}

func newHolds(holder ClaimHolder, hold time.Duration, actx context.Context, record func(Outcome), log *slog.Logger, tl *tally) *holds {
	return &holds{holder: holder, hold: hold, actx: actx, record: record, log: log, tally: tl,
		open: make(chan struct{}, maxHeldClaims)}
}

// claim is HoldDue. When it holds the claim, the running runs it returns
// carry their heldBatch (Run.held), whose outcomes go to it instead of the
// recorder until it ends. It returns false when ctx ended while it waited
// for an open claim to end.
func (h *holds) claim(ctx context.Context, p ClaimDueParams) (res ClaimDueResult, ok bool, err error) {
	select {
	case h.open <- struct{}{}:
	case <-ctx.Done():
		return ClaimDueResult{}, false, nil
	}
	res, hc, err := h.holder.HoldDue(ctx, p)
	if err != nil || hc == nil {
		<-h.open
		return res, true, err
	}
	b := &heldBatch{claim: hc, tally: h.tally, full: make(chan struct{})}
	for i := range res.Runs {
		if res.Runs[i].Status == StatusRunning {
			res.Runs[i].held = b
			b.waiting++
		}
	}
	b.runs = b.waiting
	b.outcomes = make([]Outcome, 0, b.waiting)
	if b.waiting == 0 {
		close(b.full)
	}
	h.wg.Add(1)
	go h.end(ctx, b)
	return res, true, nil
}

// end waits for b's runs, the hold or the tick's attempts to end, then
// commits b and hands the outcomes that came during the commit to the
// recorder: their runs are stored running now, and FinishRuns records them.
// If the commit fails nothing of the claim was written: the schedules stay
// due and a later tick runs their slots again; the error is the tick's.
func (h *holds) end(ctx context.Context, b *heldBatch) {
	defer h.wg.Done()
	defer func() { <-h.open }()
	t := time.NewTimer(h.hold)
	select {
	case <-b.full:
	case <-t.C:
	case <-h.actx.Done():
	}
	t.Stop()
	b.mu.Lock()
	b.sealed = true
	outcomes := b.outcomes
	b.outcomes = nil
	b.mu.Unlock()
	h.tally.outcomes(outcomes) // once per claim: not a lock of the tally per run
	// Commit even when ctx is done: the work happened.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	err := b.claim.Commit(cctx, outcomes)
	cancel()
	b.mu.Lock()
	b.committed = true
	late := b.late
	b.late = nil
	b.mu.Unlock()
	if err != nil {
		h.log.Error("record a held claim failed; its slots stay due and run again in a later tick",
			"runs", b.runs, "outcomes", len(outcomes)+len(late), "error", err)
		h.tally.fail("record held claim", err)
		return
	}
	for _, o := range late {
		h.record(o)
	}
}

// wait returns when every held claim has ended.
func (h *holds) wait() { h.wg.Wait() }

// heldBatch is one held claim of a tick and the outcomes of its runs.
type heldBatch struct {
	claim HeldClaim
	tally *tally

	mu        sync.Mutex
	runs      int       // running runs handed to the workers
	waiting   int       // running runs without an outcome yet
	outcomes  []Outcome // taken before the commit: written by it
	sealed    bool      // the commit has taken outcomes
	late      []Outcome // came while the commit ran
	committed bool      // the commit ended: outcomes go to the recorder
	full      chan struct{}
}

// take keeps o for the commit, or for the recorder after it, and reports
// true; false once the claim is committed: the caller records o itself.
func (b *heldBatch) take(o Outcome) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.sealed:
		b.outcomes = append(b.outcomes, o)
		b.waiting--
		if b.waiting == 0 {
			close(b.full)
		}
		return true
	case !b.committed:
		b.late = append(b.late, o)
		return true
	}
	return false
}

// ParseClaimHold reads a Config.ClaimHold setting as the commands take it
// (cmd/lambda's TICKFLOW_CLAIM_HOLD, cmd/local's --claim-hold): a duration
// from 1ms to MaxClaimHold such as 500ms or 2s, or off (never hold, -1);
// empty is the default (0).
func ParseClaimHold(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return 0, nil
	case "off":
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Millisecond || d > MaxClaimHold {
		return 0, fmt.Errorf("%q: want a duration from 1ms to %s, such as 1s, or off", s, MaxClaimHold)
	}
	return d, nil
}
