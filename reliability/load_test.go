package reliability

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/reliability/internal/suite"
)

// loadSize is one configuration of scenario 1.
type loadSize struct {
	dialect   string
	procs     int
	schedules int
	minutes   int
}

// TestLoad is scenario 1: concurrent tick processes over many schedules
// across simulated minutes. Each process is a separate OS process running
// the ticker (core engine + sqlstore, one engine per process like a warm
// Lambda container); the test feeds every process the same simulated minute
// and waits for all of them before the next, so each minute gets `procs`
// concurrent ticks. Each process keeps one database connection, so the 32
// stay well inside the shared server's connection limit. Expected slots are
// computed here from the specs alone.
func TestLoad(t *testing.T) {
	sizes := []loadSize{
		{"postgres", 32, 2000, 60},
		{"sqlite", 32, 2000, 60},
	}
	if testing.Short() {
		sizes = []loadSize{{"postgres", 8, 400, 60}, {"sqlite", 4, 100, 60}}
	}
	for _, sz := range sizes {
		t.Run(sz.dialect, func(t *testing.T) { runLoad(t, sz) })
	}
}

func runLoad(t *testing.T, sz loadSize) {
	url := dialectURL(t, sz.dialect)
	procs := make([]*proc, sz.procs)
	for i := range procs {
		procs[i] = startTicker(t, "--database-url", url, "--suite", "load", "--schedules", strconv.Itoa(sz.schedules),
			"--loop", "--batch", "50", "--max-conns", "1", "--busy-timeout", "2m")
	}

	var (
		execs      []suite.Execution
		tickErrs   []string
		claimed    int
		conflicts  int
		tickCount  int
		roundTimes []time.Duration
		slowest    float64
	)
	start := time.Now()
	end := suite.LoadStart.Add(time.Duration(sz.minutes) * time.Minute)
	for r := 0; r <= sz.minutes; r++ {
		now := suite.LoadStart.Add(time.Duration(r) * time.Minute)
		roundStart := time.Now()
		for _, p := range procs {
			if _, err := io.WriteString(p.stdin, rfc(now)+"\n"); err != nil {
				t.Fatalf("round %d: write to ticker: %v; stderr:\n%s", r, err, tail(p.stderr.String(), 2000))
			}
		}
		var wg sync.WaitGroup
		lines := make([]suite.Line, len(procs))
		errs := make([]error, len(procs))
		for i, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lines[i], errs[i] = p.nextLine(3 * time.Minute)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("minute %d: %v", r, err)
			}
		}
		roundTimes = append(roundTimes, time.Since(roundStart))
		for i, l := range lines {
			tickCount++
			if l.Error != "" {
				tickErrs = append(tickErrs, fmt.Sprintf("minute %d process %d: %s", r, i, l.Error))
			}
			if l.Report != nil {
				claimed += l.Report.Claimed
				conflicts += l.Report.Conflicts
				slowest = max(slowest, l.Report.DurationMS)
				if !l.Report.Now.Equal(now) {
					t.Errorf("minute %d process %d: tick read now %s, want the stub %s", r, i, l.Report.Now, now)
				}
			}
			execs = append(execs, l.Executions...)
		}
	}
	for _, p := range procs {
		p.stdin.Close()
	}
	for i, p := range procs {
		if code := p.wait(t, time.Minute); code != 0 {
			t.Errorf("process %d exited %d; stderr:\n%s", i, code, tail(p.stderr.String(), 2000))
		}
	}
	wall := time.Since(start)

	st := openURL(t, url)
	runs := allRuns(t, st)
	expected := map[string][]time.Time{}
	specs := map[string]suite.Spec{}
	for i := 0; i < sz.schedules; i++ {
		specs[suite.LoadName(i)] = suite.LoadSpec(i)
	}
	recs, err := st.ListSchedules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != sz.schedules {
		t.Fatalf("%d schedules stored, want %d", len(recs), sz.schedules)
	}
	for _, rec := range recs {
		if !rec.Anchor.Equal(suite.LoadStart) {
			t.Errorf("schedule %s anchored at %s, want the first tick's %s", rec.Name, rec.Anchor, suite.LoadStart)
		}
		expected[rec.Name] = slotsBetween(t, specs[rec.Name], suite.LoadStart, suite.LoadStart, end)
	}
	c, problems := account(expected, runs, execs)
	badNext := checkNextRuns(t, st, specs, runs)
	for _, p := range problems {
		t.Error(p)
	}

	sort.Slice(roundTimes, func(i, j int) bool { return roundTimes[i] < roundTimes[j] })
	figures(t, "load/"+sz.dialect,
		"processes", sz.procs, "schedules", sz.schedules, "simulated_minutes", sz.minutes, "ticks", tickCount,
		"slots_expected", c.Expected, "runs_recorded", len(runs), "executions", len(execs),
		"slots_run", c.Run, "duplicated", c.Duplicated, "lost", c.Lost, "coalesced", c.Coalesced,
		"skipped", c.Skipped, "unfinished", c.Unfinished, "tick_errors", len(tickErrs),
		"claim_conflicts", conflicts, "next_run_inconsistent", badNext,
		"round_p50_ms", roundTimes[len(roundTimes)/2].Milliseconds(),
		"round_max_ms", roundTimes[len(roundTimes)-1].Milliseconds(),
		"slowest_tick_ms", int64(slowest), "wall_s", fmt.Sprintf("%.1f", wall.Seconds()))

	for i, e := range tickErrs {
		if i < 10 {
			t.Errorf("tick failed: %s", e)
		}
	}
	switch {
	case c.Expected == 0:
		t.Fatal("no slots were expected: the window is wrong")
	case c.Duplicated != 0 || c.Lost != 0 || c.Unexpected != 0 || c.Unfinished != 0:
		t.Errorf("slots: %s", c)
	case c.Run != c.Expected || c.Coalesced != 0 || c.Skipped != 0:
		t.Errorf("with a tick every minute every slot should run on its own: %s", c)
	case len(execs) != c.Expected || claimed != c.Expected:
		t.Errorf("executions %d, claimed %d, want one per expected slot (%d)", len(execs), claimed, c.Expected)
	}
}
