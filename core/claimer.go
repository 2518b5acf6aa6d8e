package core

import (
	"context"
	"log/slog"
	"time"
)

// claimer is a tick's claiming part: it claims due schedules (planning their
// slots inside the claim) and then runnable runs, batch by batch while the
// tick has time, and hands every run it claimed as running to start. It
// stops at the first store error, which it keeps in the tally.
type claimer struct {
	store Store
	reg   *Registry
	log   *slog.Logger
	tally *tally
	time  tickTime

	tickID     string
	limit      int // rows per claim transaction (Config.BatchSize)
	leaseUntil time.Time
	// plan is ClaimDueParams.Plan, into its batchPlan.
	plan func(due []DueSchedule, b *batchPlan)
	// start hands a claimed running run to the workers; it may block.
	start func(Run)
	// alerts: claims also write their alerts (Config.Alerts is on).
	alerts bool
	// holds: due claims are held open while their runs execute (nil:
	// every claim is ClaimDue).
	holds *holds
}

// claim claims what BeginTick counted: due schedules when some were due or
// the sync changed them, then runnable runs when some were runnable or a
// claimed slot's run is pending and already runnable.
func (c *claimer) claim(ctx context.Context, ts TickStart, resynced bool) {
	pendingDue := false
	if !c.tally.failed() && (ts.DueSchedules > 0 || resynced) {
		counted := ts.DueSchedules
		if resynced {
			counted = -1 // the sync may have made more schedules due
		}
		pendingDue = c.claimDue(ctx, counted, !ts.DueAllOwnTasks)
	}
	if !c.tally.failed() && (ts.RunnableRuns > 0 || pendingDue) {
		if pendingDue && c.holds != nil {
			// A deferred run already runnable is stored when its held
			// claim commits: wait for the holds, or it waits a tick.
			c.holds.wait()
		}
		c.claimRuns(ctx)
	}
}

// claimDue claims due schedules in batches until a batch is short or empty,
// the batches have claimed the counted schedules (BeginTick's count at the
// same clock reading; -1: unknown), the tick runs out of time or the store
// fails. It reports whether a run it recorded as pending is runnable now.
//
// Stopping at the count saves a transaction that would find nothing when
// the due schedules fill whole batches (10,000 at the default 5,000). A
// schedule made due after BeginTick counted (resumed, or created by the
// API with a slot already passed) is left to the next tick: nothing is
// lost, it waits one tick at most.
//
// The claims filter by the registered tasks only when filter is set
// (BeginTick saw a due schedule of another task): otherwise they would
// send and match every task name for nothing (with 100,000 code
// schedules, 100,000 names per claim batch of 5,000: 21-31 ms of planning
// and 8-15 ms more execution each). A schedule of another task made due after BeginTick may
// then be locked by a batch: planning leaves it untouched, as it leaves a
// schedule this process does not know.
func (c *claimer) claimDue(ctx context.Context, counted int, filter bool) (pendingDue bool) {
	var tasks []string
	if filter {
		tasks = c.reg.taskNames()
	}
	claimed := 0
	var after *DueKey // where the last batch stopped
	for c.time.enough() {
		var b batchPlan
		p := ClaimDueParams{
			Now: c.time.now, TickID: c.tickID, Limit: c.limit, LeaseUntil: c.leaseUntil, Tasks: tasks,
			Alerts: c.alerts, After: after,
			Plan: func(due []DueSchedule) []SchedulePlan { c.plan(due, &b); return b.plans },
		}
		var (
			res ClaimDueResult
			err error
		)
		if c.holds != nil {
			var ok bool
			if res, ok, err = c.holds.claim(ctx, p); !ok {
				break // ctx ended while a held claim stayed open
			}
		} else {
			res, err = c.store.ClaimDue(ctx, p)
		}
		if err != nil {
			c.log.Error("claim due schedules failed", "error", err)
			c.tally.fail("claim due", err)
			break
		}
		if c.tally.claimedDue(res, c.time.now) {
			pendingDue = true
		}
		bindTasks(res.Runs, &b)
		c.dispatch(res.Runs)
		claimed += res.Claimed
		if res.Last != nil {
			after = res.Last
		}
		if res.Claimed < c.limit || len(res.Runs) == 0 || (counted >= 0 && claimed >= counted) {
			break
		}
	}
	return pendingDue
}

// claimRuns claims runnable runs (manual runs, retries, expired leases) of
// the registered tasks in batches until a batch is short, the tick runs out
// of time or the store fails.
func (c *claimer) claimRuns(ctx context.Context) {
	tasks := c.reg.taskNames()
	for c.time.enough() {
		res, err := c.store.ClaimRuns(ctx, ClaimRunsParams{
			Now: c.time.now, TickID: c.tickID, Limit: c.limit, LeaseUntil: c.leaseUntil, Tasks: tasks,
			Alerts: c.alerts,
		})
		if err != nil {
			c.log.Error("claim runs failed", "error", err)
			c.tally.fail("claim runs", err)
			break
		}
		c.tally.recovered(res)
		if res.Interrupted > 0 || res.Failed > 0 {
			c.log.Warn("runs whose lease expired were recovered", "retried", res.Interrupted, "failed", res.Failed)
		}
		c.dispatch(res.Runs)
		if len(res.Runs) < c.limit {
			break
		}
	}
}

// dispatch counts and starts the running runs of a batch; skipped and
// pending (jittered) runs were only recorded.
func (c *claimer) dispatch(runs []Run) {
	for _, r := range runs {
		if r.Status != StatusRunning {
			continue
		}
		c.tally.claimed()
		c.start(r)
	}
}
