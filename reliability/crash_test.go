package reliability

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/reliability/internal/suite"
)

// TestCrash is scenario 3: a tick process is killed with SIGKILL while its
// tasks run. Before the runs' lease expires no tick touches them (the
// schedules' next slots are skipped by the overlap policy, not run beside
// the presumed-live runs); after it expires the next tick re-runs them with
// the attempt counted and the interruption recorded, fails the one that has
// no attempt left, and no run stays running and no slot is lost.
func TestCrash(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) { runCrash(t, dialect) })
	}
}

func runCrash(t *testing.T, dialect string) {
	ctx := context.Background()
	url := dialectURL(t, dialect)
	st := openURL(t, url)
	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	args := func(now time.Time, extra ...string) []string {
		return append([]string{"--database-url", url, "--suite", "crash", "--now", rfc(now)}, extra...)
	}

	// The first tick stores the schedules (first slots one minute later).
	if l, code := tickOnce(t, args(t0)...); code != 0 || !l.Report.Synced {
		t.Fatalf("first tick: exit %d, synced %t, error %q", code, l.Report.Synced, l.Error)
	}
	manual, _, err := st.InsertRun(ctx, core.InsertRunParams{
		Now: t0, Task: suite.CrashManual, DisplayName: suite.CrashManual, Source: core.SourceManual, MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}

	// The victim claims the three slots of t0+1m and the manual run, starts
	// them (each prints "started" and blocks) and is killed.
	t1 := t0.Add(time.Minute)
	victim := startTicker(t, args(t1, "--block")...)
	started := map[int64]bool{}
	for len(started) < 4 {
		l := victim.next(t, time.Minute)
		if l.Kind != "started" {
			t.Fatalf("victim printed %+v before its four tasks started", l)
		}
		started[l.RunID] = true
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.wait(t, time.Minute)
	ws, ok := victim.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("victim was not killed by SIGKILL: %v", victim.cmd.ProcessState)
	}

	var leaseMax time.Time
	for id := range started {
		r, err := st.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != core.StatusRunning || r.Attempt != 1 || r.LeaseUntil == nil {
			t.Fatalf("after the kill run %d is %s attempt %d lease %v, want running attempt 1 with a lease", id, r.Status, r.Attempt, r.LeaseUntil)
		}
		if r.LeaseUntil.After(leaseMax) {
			leaseMax = r.LeaseUntil.UTC()
		}
	}
	if !started[manual.ID] {
		t.Fatalf("the manual run %d was not among the started runs %v", manual.ID, started)
	}

	// A tick while the leases are live must not re-run anything.
	t2 := t0.Add(2 * time.Minute)
	if !leaseMax.After(t2) {
		t.Fatalf("lease %s already expired at %s: the engine's lease is shorter than a minute", leaseMax, t2)
	}
	early, code := tickOnce(t, args(t2)...)
	if code != 0 || early.Report.Interrupted != 0 || early.Report.Claimed != 0 || len(early.Executions) != 0 {
		t.Fatalf("tick before the lease expired: exit %d, report %+v, executions %d; want nothing re-run", code, early.Report, len(early.Executions))
	}

	// The first tick after the leases expired recovers the runs.
	t3 := leaseMax.Truncate(time.Minute).Add(time.Minute)
	late, code := tickOnce(t, args(t3)...)
	if code != 0 {
		t.Fatalf("recovery tick failed: %s", late.Error)
	}
	rerun := map[int64]suite.Execution{}
	for _, e := range late.Executions {
		if started[e.RunID] {
			rerun[e.RunID] = e
		}
	}

	runs := allRuns(t, st)
	byID := map[int64]core.Run{}
	for _, r := range runs {
		byID[r.ID] = r
		if r.Status == core.StatusRunning || r.Status == core.StatusPending || r.Status == core.StatusInterrupted {
			t.Errorf("run %d (%s) is still %s", r.ID, r.Task, r.Status)
		}
	}
	var recovered, failedForGood int
	for id := range started {
		r := byID[id]
		if r.Interruptions != 1 {
			t.Errorf("run %d (%s): interruptions %d, want 1", id, r.Task, r.Interruptions)
		}
		if r.Task == suite.CrashNoRetry {
			// One attempt allowed, and it died: failed, not re-run.
			if r.Status != core.StatusFailed || r.Attempt != 1 {
				t.Errorf("run %d (%s, no retries): %s attempt %d, want failed after attempt 1", id, r.Task, r.Status, r.Attempt)
			}
			if _, ok := rerun[id]; ok {
				t.Errorf("run %d (%s, no retries) was executed again", id, r.Task)
			}
			failedForGood++
			continue
		}
		if r.Status != core.StatusSuccess || r.Attempt != 2 {
			t.Errorf("run %d (%s): %s attempt %d, want success on attempt 2", id, r.Task, r.Status, r.Attempt)
		}
		if e, ok := rerun[id]; !ok || e.Attempt != 2 {
			t.Errorf("run %d (%s): re-executed %v, want attempt 2 executed once", id, r.Task, e)
		}
		recovered++
	}

	specs := map[string]suite.Spec{
		suite.CrashRetry:   {Every: time.Minute},
		suite.CrashNoRetry: {Every: time.Minute},
		suite.CrashCron:    {Cron: "* * * * *", Timezone: "America/New_York"},
	}
	expected := map[string][]time.Time{}
	for name, sp := range specs {
		expected[name] = slotsBetween(t, sp, t0, t0, t3)
	}
	var execs []suite.Execution
	execs = append(execs, early.Executions...)
	execs = append(execs, late.Executions...)
	c, problems := account(expected, runs, execs)
	for _, p := range problems {
		t.Error(p)
	}
	badNext := checkNextRuns(t, st, specs, runs)
	if c.Lost != 0 || c.Duplicated != 0 || c.Unexpected != 0 || c.Unfinished != 0 {
		t.Errorf("slots: %s", c)
	}
	var skippedMsgs []string
	for _, r := range runs {
		if r.Status == core.StatusSkipped && len(skippedMsgs) < 1 {
			skippedMsgs = append(skippedMsgs, r.Error)
		}
	}
	figures(t, "crash/"+dialect,
		"killed_runs", len(started), "lease_expired_after_s", int(leaseMax.Sub(t1).Seconds()),
		"early_tick_reran", early.Report.Claimed, "early_tick_skipped", early.Report.Skipped,
		"recovery_interrupted", late.Report.Interrupted, "rerun_success_attempt2", recovered,
		"failed_no_attempts_left", failedForGood, "slots_expected", c.Expected, "slots_run", c.Run,
		"coalesced", c.Coalesced, "skipped", c.Skipped, "duplicated", c.Duplicated, "lost", c.Lost,
		"unfinished", c.Unfinished, "next_run_inconsistent", badNext)
	if len(skippedMsgs) > 0 {
		t.Logf("overlap record while the dead runs held their lease: %s", strings.TrimSpace(skippedMsgs[0]))
	}
	if recovered != 3 || failedForGood != 1 {
		t.Errorf("recovered %d, failed %d; want 3 re-run and 1 failed", recovered, failedForGood)
	}
}
