package reliability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/reliability/internal/suite"
)

var (
	cliOnce sync.Once
	cliBin  string
	cliErr  error
)

// tickflowCLI builds cmd/local (the `tickflow` CLI) once per test binary.
func tickflowCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		cliBin = filepath.Join(binDir, "tickflow")
		out, err := exec.Command("go", "build", "-o", cliBin, "../cmd/local").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build ../cmd/local: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliBin
}

// TestLoadColdCLI is scenario 1's complement with the shipped binary: every
// tick is a fresh `tickflow tick --now …` process of cmd/local (so each one
// opens the store, migrates, syncs the demo schedules and ticks, like a
// cold Lambda start or a system-cron invocation), 32 of them launched at
// once for every simulated minute. The demo tasks log each execution with
// its run id and attempt, which the test counts across all processes.
func TestLoadColdCLI(t *testing.T) {
	procs, minutes := 32, 60
	if testing.Short() {
		procs, minutes = 8, 20
	}
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) { runColdCLI(t, dialect, procs, minutes) })
	}
}

func runColdCLI(t *testing.T, dialect string, procs, minutes int) {
	bin := tickflowCLI(t)
	url := dialectURL(t, dialect)
	// 12:50Z to 13:50Z on a July day: the morning report (09:00 New York,
	// 13:00Z) falls inside, and the five-minute cleanup runs on startup.
	t0 := time.Date(2026, 7, 1, 12, 50, 0, 0, time.UTC)
	end := t0.Add(time.Duration(minutes) * time.Minute)

	type result struct {
		code   int
		rep    core.Report
		stderr string
	}
	var (
		execs    []suite.Execution
		failures []string // exited 1: an infrastructure failure, reported
		crashes  []string // anything else
		launches int
		claimed  int
		rounds   []time.Duration
	)
	start := time.Now()
	for m := 0; m <= minutes; m++ {
		now := t0.Add(time.Duration(m) * time.Minute)
		results := make([]result, procs)
		roundStart := time.Now()
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "tick", "--database-url", url, "--now", rfc(now), "--log-level", "info", "--log-format", "json")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				r := result{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
				if err != nil && r.code == 0 {
					r.code = -1
				}
				if jerr := json.Unmarshal(stdout.Bytes(), &r.rep); jerr != nil && r.code == 0 {
					r.code = -2
				}
				results[i] = r
			}()
		}
		wg.Wait()
		rounds = append(rounds, time.Since(roundStart))
		for i, r := range results {
			launches++
			claimed += r.rep.Claimed
			switch {
			case r.code == 1: // the CLI's infrastructure-failure exit; the error is its last stderr line
				failures = append(failures, fmt.Sprintf("minute %d process %d: %s", m, i, lastLine(r.stderr)))
			case r.code != 0:
				crashes = append(crashes, fmt.Sprintf("minute %d process %d: exit %d: %s", m, i, r.code, tail(r.stderr, 600)))
			}
			sc := bufio.NewScanner(strings.NewReader(r.stderr))
			sc.Buffer(make([]byte, 1<<16), 1<<22)
			for sc.Scan() {
				var l struct {
					Msg     string `json:"msg"`
					RunID   int64  `json:"run_id"`
					Task    string `json:"task"`
					Attempt int    `json:"attempt"`
					Slot    string `json:"slot"`
				}
				if json.Unmarshal(sc.Bytes(), &l) != nil || !strings.HasPrefix(l.Msg, "demo: ") {
					continue
				}
				e := suite.Execution{RunID: l.RunID, Task: l.Task, Attempt: l.Attempt}
				if l.Slot != "" {
					e.Schedule = l.Task
					e.Slot, _ = time.Parse(time.RFC3339, l.Slot)
				}
				execs = append(execs, e)
			}
		}
	}
	wall := time.Since(start)

	st := openURL(t, url)
	runs := allRuns(t, st)
	cleanup := suite.Spec{Every: 5 * time.Minute}
	report := suite.Spec{Cron: "0 9 * * *", Timezone: "America/New_York"}
	expected := map[string][]time.Time{
		// RunOnStartup: the first slot is the instant the schedule was stored.
		"cleanup_expired_sessions": append([]time.Time{t0}, slotsBetween(t, cleanup, t0, t0, end)...),
		"morning_report":           slotsBetween(t, report, t0, t0, end),
	}
	c, problems := account(expected, runs, execs)
	for _, p := range problems {
		t.Error(p)
	}
	sort.Slice(rounds, func(i, j int) bool { return rounds[i] < rounds[j] })
	figures(t, "load-cold-cli/"+dialect,
		"processes_per_minute", procs, "simulated_minutes", minutes, "process_launches", launches,
		"slots_expected", c.Expected, "runs_recorded", len(runs), "executions", len(execs), "slots_run", c.Run,
		"duplicated", c.Duplicated, "lost", c.Lost, "coalesced", c.Coalesced, "skipped", c.Skipped,
		"unfinished", c.Unfinished, "failed_ticks", len(failures), "crashed_processes", len(crashes),
		"round_p50_ms", rounds[len(rounds)/2].Milliseconds(), "round_max_ms", rounds[len(rounds)-1].Milliseconds(),
		"wall_s", fmt.Sprintf("%.1f", wall.Seconds()))
	// No tick may fail here: the database is healthy, so a failure is a bug
	// (it once was: Migrate at every cold start deadlocked with concurrent
	// claims, until Migrate learned to return after one lock-free read).
	for i, f := range failures {
		if i < 5 {
			t.Errorf("tick failed on a healthy database: %s", f)
		}
	}
	for i, f := range crashes {
		if i < 5 {
			t.Errorf("tick process did not fail cleanly: %s", f)
		}
	}
	if c.Expected == 0 || c.Duplicated != 0 || c.Lost != 0 || c.Unexpected != 0 || c.Unfinished != 0 ||
		c.Run+c.Coalesced != c.Expected || len(execs) != c.Run || claimed != c.Run {
		t.Errorf("slots: %s; executions %d, claimed %d", c, len(execs), claimed)
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
