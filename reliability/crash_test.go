package reliability

import (
	"context"
	"errors"
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
	st, t0, args := crashSetup(t, dialect)
	manual, _, err := st.InsertRun(ctx, core.InsertRunParams{
		Now: t0, Task: suite.CrashManual, DisplayName: suite.CrashManual, Source: core.SourceManual, MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}

	// The victim claims the three slots of t0+1m and the manual run, starts
	// them (each prints "started" and blocks) and is killed.
	t1 := t0.Add(time.Minute)
	victim, started := startVictim(t, 4, args(t1, "--block")...)
	// On PostgreSQL the scheduled runs are stored (running) when the
	// victim's held claim ends (Config.ClaimHold); TestCrashDuringHold
	// kills a victim before that.
	for id := range started {
		if _, err := storedRun(ctx, st, id); err != nil {
			t.Fatal(err)
		}
	}
	kill(t, victim)

	var leaseMax time.Time
	for id := range started {
		r, err := storedRun(ctx, st, id)
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

	specs := crashSpecs()
	expected := expectedSlots(t, specs, t0, t3)
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

// storedRun is run id once it is stored, waiting up to 10 s for a held
// claim to store it.
func storedRun(ctx context.Context, st core.Store, id int64) (core.Run, error) {
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r, err := st.GetRun(ctx, id)
		if !errors.Is(err, core.ErrNotFound) || time.Now().After(end) {
			return r, err
		}
	}
}

// crashSpecs are the crash suite's schedules.
func crashSpecs() map[string]suite.Spec {
	return map[string]suite.Spec{
		suite.CrashRetry:   {Every: time.Minute},
		suite.CrashNoRetry: {Every: time.Minute},
		suite.CrashCron:    {Cron: "* * * * *", Timezone: "America/New_York"},
	}
}

// expectedSlots are each spec's slots after t0 (its anchor) up to until.
func expectedSlots(t *testing.T, specs map[string]suite.Spec, t0, until time.Time) map[string][]time.Time {
	t.Helper()
	expected := map[string][]time.Time{}
	for name, sp := range specs {
		expected[name] = slotsBetween(t, sp, t0, t0, until)
	}
	return expected
}

// crashSetup opens the dialect's test store, whose first tick at t0 (run
// here) stores the crash suite's schedules, first slots a minute later; args
// are a ticker's arguments on that store at now.
func crashSetup(t *testing.T, dialect string) (st core.Store, t0 time.Time, args func(now time.Time, extra ...string) []string) {
	t.Helper()
	url := dialectURL(t, dialect)
	st = openURL(t, url)
	t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	args = func(now time.Time, extra ...string) []string {
		return append([]string{"--database-url", url, "--suite", "crash", "--now", rfc(now)}, extra...)
	}
	if l, code := tickOnce(t, args(t0)...); code != 0 || !l.Report.Synced {
		t.Fatalf("first tick: exit %d, synced %t, error %q", code, l.Report.Synced, l.Error)
	}
	return st, t0, args
}

// startVictim starts a blocking ticker with args and returns it once n
// tasks have started, with their run ids.
func startVictim(t *testing.T, n int, args ...string) (*proc, map[int64]bool) {
	t.Helper()
	victim := startTicker(t, args...)
	started := map[int64]bool{}
	for len(started) < n {
		l := victim.next(t, time.Minute)
		if l.Kind != "started" {
			t.Fatalf("victim printed %+v before its %d tasks started", l, n)
		}
		started[l.RunID] = true
	}
	return victim, started
}

// kill kills p with SIGKILL and waits for it to be gone.
func kill(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, time.Minute)
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("victim was not killed by SIGKILL: %v", p.cmd.ProcessState)
	}
}

// TestCrashDuringHold: a process killed while it holds a claim open
// (PostgreSQL, core.ClaimHolder) leaves nothing of it: no run row, the
// schedules still at the slot, unlocked at once (the server ends the
// session with the connection). The next tick runs each slot once.
func TestCrashDuringHold(t *testing.T) {
	ctx := context.Background()
	st, t0, args := crashSetup(t, "postgres")

	// The victim holds its claim for 50 s: its three tasks start, block,
	// and it is killed with the claim open.
	t1 := t0.Add(time.Minute)
	victim, started := startVictim(t, 3, args(t1, "--block", "--claim-hold", "50s")...)
	for id := range started {
		if _, err := st.GetRun(ctx, id); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("run %d is stored while its claim is held: %v", id, err)
		}
	}
	kill(t, victim)

	for id := range started {
		if r, err := st.GetRun(ctx, id); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("run %d of the killed claim was stored: %+v, %v", id, r, err)
		}
	}
	recs, err := st.ListSchedules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !r.NextRun.Equal(t1) {
			t.Errorf("schedule %s: next_run %s after the killed claim, want %s still due", r.Name, r.NextRun, t1)
		}
	}

	// A tick at the same instant claims the slots at once and runs each once.
	again, code := tickOnce(t, args(t1)...)
	if code != 0 || again.Report.Claimed != 3 || again.Report.Succeeded != 3 || again.Report.Interrupted != 0 {
		t.Fatalf("tick after the kill: exit %d, report %+v, error %q; want 3 claimed and succeeded", code, again.Report, again.Error)
	}
	runs := allRuns(t, st)
	specs := crashSpecs()
	expected := expectedSlots(t, specs, t0, t1.Add(time.Second))
	c, problems := account(expected, runs, again.Executions)
	for _, p := range problems {
		t.Error(p)
	}
	if c.Lost != 0 || c.Duplicated != 0 || c.Unexpected != 0 || c.Unfinished != 0 || c.Run != 3 {
		t.Errorf("slots: %s", c)
	}
	for _, r := range runs {
		if r.Status != core.StatusSuccess || r.Attempt != 1 || r.Interruptions != 0 {
			t.Errorf("run %d (%s): %s attempt %d interruptions %d, want one successful attempt", r.ID, r.Task, r.Status, r.Attempt, r.Interruptions)
		}
		if started[r.ID] {
			t.Errorf("run %d has the id the killed claim drew", r.ID)
		}
	}
	figures(t, "crash-during-hold/postgres", "killed_runs", len(started), "stored_after_kill", 0,
		"rerun", again.Report.Succeeded, "slots_run", c.Run, "duplicated", c.Duplicated, "lost", c.Lost)
}
