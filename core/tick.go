package core

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// A tick is three parts composed by Engine.tick:
//
//   - the claimer (claimer.go) claims due schedules and runnable runs in
//     batches and hands each running run to the worker pool;
//   - the executor (executor.go) runs one claimed run's attempts: deadline,
//     task timeout, panic capture and the inline retry decision;
//   - the recorder (recorder.go) counts outcomes and records them in
//     batches, fenced by tick and attempt.
//
// They share a tickTime (the tick's clock and deadline) and a tally (the
// report's counters and the tick's first infrastructure error).

// Tick runs one tick: read the clock once, sync schedules if this process has
// not, claim due slots and runnable runs, run them on a bounded pool, record
// the outcomes and return the report. A task failure is a recorded run, not an
// error; the error is an infrastructure failure (the store), after which the
// next tick recovers.
func (e *Engine) Tick(ctx context.Context) (Report, error) {
	return e.tick(ctx, e.cfg.Trigger)
}

// TickAs is Tick with the tick labelled by trigger ("lambda", "http", ...).
func (e *Engine) TickAs(ctx context.Context, trigger string) (Report, error) {
	return e.tick(ctx, trigger)
}

func (e *Engine) tick(ctx context.Context, trigger string) (Report, error) {
	start := time.Now()
	rep := Report{TickID: newID("tick")}
	log := e.log.With("tick_id", rep.TickID)
	ts, err := e.beginTick(ctx, trigger, &rep, start, log)
	if err != nil {
		// Every tick is observed, one that failed to start included.
		e.observeTick(ctx, rep, err, time.Since(start))
		return rep, err
	}
	tt := e.tickTime(ctx, ts.Now.UTC(), start)
	leaseUntil := tt.now.Add(time.Until(tt.deadline) + e.cfg.LeaseGrace)
	tl := &tally{rep: rep}
	e.noteTickGap(ctx, ts, tt, tl, log)
	resynced := e.syncOnce(ctx, tt.now, tl)

	// Every attempt of the tick runs under one context cut at the deadline
	// less the margin (one timer per tick, not one per attempt).
	actx, cancelAttempts := context.WithDeadline(ctx, tt.attemptDeadline())
	defer cancelAttempts()
	rec := newRecorder(e.cfg.Store, rep.TickID, log, tl, e.cfg.FlushSize, e.cfg.Workers)
	rec.alerts = e.alerting()
	rec.start(ctx)
	x := e.newExecutor(log, tt)
	var held *holds
	if h, ok := e.cfg.Store.(ClaimHolder); ok && e.cfg.ClaimHold > 0 {
		held = newHolds(h, e.cfg.ClaimHold, actx, rec.record, log, tl)
	}
	then := func(r Run, o Outcome) {
		e.observeRun(ctx, r, o)
		if r.held != nil && r.held.take(o) {
			return
		}
		rec.record(o)
	}
	pool := startPool(e.cfg.Workers, func(s *seat, r Run) bool {
		return x.run(ctx, actx, r, then, s)
	})
	c := &claimer{
		store: e.cfg.Store, reg: e.cfg.Registry, log: log, tally: tl, time: tt,
		tickID: rep.TickID, limit: e.cfg.BatchSize, leaseUntil: leaseUntil, start: pool.submit,
		plan:   func(due []DueSchedule, b *batchPlan) { e.planBatch(log, due, tt.now, b) },
		alerts: e.alerting(), holds: held,
	}
	c.claim(ctx, ts, resynced)

	pool.wait()
	if held != nil {
		held.wait() // before the recorder closes: a commit hands it late outcomes
	}
	rec.close()
	e.pruneRuns(ctx, tl, tt, log)
	e.deliverAlerts(ctx, ts, tl, tt, rep.TickID, log)
	return e.endTick(ctx, tl, tt, log)
}

// pruneRuns deletes a budget of old finished runs (Config.Retention), after
// the outcomes are recorded. Only a tick that did work, or one empty tick in
// PruneEmptyOneIn, prunes: the others stay at BeginTick and EndTick. Nothing
// is pruned after an infrastructure error or when the deadline is near. A
// failed prune is logged, not the tick's error: the next one retries.
func (e *Engine) pruneRuns(ctx context.Context, tl *tally, tt tickTime, log *slog.Logger) {
	n := e.ticks.Add(1)
	r := e.cfg.Retention
	limit := max(r.Budget, PruneWritesFactor*tl.written(), int(e.pruneCatchup.Load()))
	p := PruneRunsParams{Now: tt.now, FinishedBefore: before(tt.now, r.Runs), FailedBefore: before(tt.now, r.FailedRuns),
		Limit: min(limit, MaxPruneBudget)}
	if p.FinishedBefore.IsZero() && p.FailedBefore.IsZero() {
		return
	}
	if !tl.didWork() && n%PruneEmptyOneIn != 0 {
		return
	}
	if tl.failed() || !tt.enough() || ctx.Err() != nil {
		return
	}
	pruned, err := e.cfg.Store.PruneRuns(ctx, p)
	if err != nil {
		log.Warn("prune old runs failed", "error", err)
		return
	}
	tl.pruned(pruned)
	if pruned >= p.Limit { // a backlog: the next prune may take twice as many
		e.pruneCatchup.Store(int64(min(2*p.Limit, MaxPruneBudget)))
	} else {
		e.pruneCatchup.Store(0)
	}
}

// beginTick reads the override clock and records the tick as started. On
// failure rep carries the error and the tick ends there (no report stored).
func (e *Engine) beginTick(ctx context.Context, trigger string, rep *Report, start time.Time, log *slog.Logger) (TickStart, error) {
	override, err := e.now(ctx)
	if err != nil {
		rep.Error = err.Error()
		return TickStart{}, err
	}
	ts, err := e.cfg.Store.BeginTick(ctx, BeginTickParams{TickID: rep.TickID, Now: override, Trigger: trigger, Tasks: e.cfg.Registry.taskNames(), Alerts: e.alerting()})
	if err != nil {
		err = fmt.Errorf("begin tick: %w", err)
		rep.Error = err.Error()
		rep.DurationMS = msSince(start)
		log.Error("tick failed to start", "error", err)
		return TickStart{}, err
	}
	now := ts.Now.UTC()
	rep.Now, rep.DueSchedules = now, ts.DueSchedules
	if ts.OldestDue != nil {
		rep.LagSeconds = now.Sub(*ts.OldestDue).Seconds()
	}
	return ts, nil
}

// syncOnce syncs the code's schedules when this process has not yet done so.
// It reports whether the sync stored new or changed schedules, which makes
// BeginTick's due count stale.
func (e *Engine) syncOnce(ctx context.Context, now time.Time, tl *tally) (resynced bool) {
	e.syncMu.Lock()
	needSync := !e.synced
	e.syncMu.Unlock()
	if !needSync {
		return false
	}
	res, err := e.sync(ctx, now)
	if err != nil {
		tl.fail("tick", err)
		return false
	}
	tl.synced()
	return res.Inserted > 0 || res.Changed > 0
}

// endTick records the report (even when ctx is done), logs it and tells the
// observers.
func (e *Engine) endTick(ctx context.Context, tl *tally, tt tickTime, log *slog.Logger) (Report, error) {
	rep, tickErr := tl.result()
	rep.DurationMS = msSince(tt.start)
	if tickErr != nil {
		rep.Error = tickErr.Error()
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	end := EndTickParams{Report: rep, FinishedAt: tt.at(), Error: rep.Error, TicksBefore: before(tt.now, e.cfg.Retention.Ticks)}
	if err := e.cfg.Store.EndTick(ectx, end); err != nil {
		log.Warn("record tick report failed", "error", err)
		if tickErr == nil {
			tickErr = fmt.Errorf("end tick: %w", err)
			rep.Error = tickErr.Error()
		}
	}
	lvl := slog.LevelDebug
	if rep.Claimed > 0 || rep.Skipped > 0 || rep.Interrupted > 0 {
		lvl = slog.LevelInfo
	}
	if tickErr != nil {
		lvl = slog.LevelError
	}
	log.Log(ctx, lvl, "tick done", "now", tt.now, "due", rep.DueSchedules, "claimed", rep.Claimed,
		"succeeded", rep.Succeeded, "failed", rep.Failed, "retried", rep.Retried, "skipped", rep.Skipped,
		"interrupted", rep.Interrupted, "released", rep.Released, "pruned_runs", rep.PrunedRuns, "alerts_delivered", rep.AlertsDelivered, "alerts_failed", rep.AlertsFailed, "duration_ms", rep.DurationMS, "error", rep.Error)
	e.observeTick(ctx, rep, tickErr, time.Since(tt.start))
	return rep, tickErr
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// tickTime is a tick's time: its one clock reading (now), the wall time it
// started (a later instant of the tick is now plus the time elapsed since),
// and its deadline, less margin for recording.
type tickTime struct {
	now, start, deadline time.Time
	margin               time.Duration
}

// tickTime is the time of a tick that read now and started at start: its
// deadline is ctx's, else start plus MaxTickDuration.
func (e *Engine) tickTime(ctx context.Context, now, start time.Time) tickTime {
	deadline := start.Add(e.cfg.MaxTickDuration)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	return tickTime{now: now, start: start, deadline: deadline, margin: e.cfg.DeadlineMargin}
}

// at is the tick's clock now: its reading plus the wall time elapsed since.
func (t tickTime) at() time.Time { return t.now.Add(time.Since(t.start)) }

// enough reports whether more than the margin is left before the deadline:
// no claim and no attempt starts otherwise.
func (t tickTime) enough() bool { return time.Until(t.deadline) > t.margin }

// attemptDeadline is when attempts are cut: the deadline less the margin.
func (t tickTime) attemptDeadline() time.Time { return t.deadline.Add(-t.margin) }

// tally owns a tick's Report counters and its first infrastructure error;
// the claimer, the workers and the recorder update it concurrently.
type tally struct {
	mu  sync.Mutex
	rep Report
	err error
	// missed counts runs standing for more than one slot; gap is set when
	// the tick wrote a ticks_stopped alert (alert-worthy events, with
	// failed and skipped runs).
	missed int
	gap    bool
}

// fail keeps the tick's first error, wrapped with op.
func (t *tally) fail(op string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = fmt.Errorf("%s: %w", op, err)
	}
}

// failed reports whether the tick has an error (no further claims).
func (t *tally) failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err != nil
}

// synced notes that this tick synced the code's schedules.
func (t *tally) synced() {
	t.mu.Lock()
	t.rep.Synced = true
	t.mu.Unlock()
}

// claimed counts one run handed to the workers.
func (t *tally) claimed() {
	t.mu.Lock()
	t.rep.Claimed++
	t.mu.Unlock()
}

// claimedDue counts a ClaimDue batch's conflicts, skipped and deferred runs.
// It reports whether a deferred run is already runnable at now (a run
// ClaimRuns should take in this tick).
func (t *tally) claimedDue(res ClaimDueResult, now time.Time) (pendingDue bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rep.Conflicts += res.Conflicts
	for _, r := range res.Runs {
		if r.SlotsCovered > 1 {
			t.missed++
		}
		switch r.Status {
		case StatusSkipped:
			t.rep.Skipped++
		case StatusPending:
			t.rep.Deferred++
			if !r.RunAt.After(now) {
				pendingDue = true
			}
		}
	}
	return pendingDue
}

// recovered counts a ClaimRuns batch's runs whose lease had expired.
func (t *tally) recovered(res ClaimRunsResult) {
	t.mu.Lock()
	t.rep.Interrupted += res.Interrupted
	t.rep.Failed += res.Failed
	t.mu.Unlock()
}

// outcome counts one executed run's outcome.
func (t *tally) outcome(o Outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(o)
}

// outcomes counts executed runs' outcomes.
func (t *tally) outcomes(os []Outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range os {
		t.count(os[i])
	}
}

// count counts o; t.mu is held.
func (t *tally) count(o Outcome) {
	switch {
	case o.Status == StatusSuccess:
		t.rep.Succeeded++
	case o.Status == StatusFailed:
		t.rep.Failed++
	case o.Status == StatusPending && o.Attempt < o.ClaimedAttempt:
		t.rep.Released++
	case o.Status == StatusPending:
		t.rep.Retried++
	}
}

// didWork reports whether the tick claimed, skipped, deferred or recovered
// runs: whether it wrote runs (and pruning is worth a statement).
func (t *tally) didWork() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rep
	return r.Claimed+r.Skipped+r.Deferred+r.Interrupted+r.Failed+r.Conflicts > 0
}

// written counts the runs the tick inserted (claimed slots and skipped
// records): what retention must keep up with.
func (t *tally) written() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rep.Claimed + t.rep.Skipped
}

// pruned counts runs deleted by retention.
func (t *tally) pruned(n int) {
	t.mu.Lock()
	t.rep.PrunedRuns += n
	t.mu.Unlock()
}

// result returns a copy of the report and the tick's error.
func (t *tally) result() (Report, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rep, t.err
}
