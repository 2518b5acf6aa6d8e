package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// The multi-process SQLite test runs this test binary again as child
// processes: with childURLEnv set, TestSQLiteChildProcess is a tick process
// instead of a test.
const childURLEnv = "TICKFLOW_SQLITE_CHILD_URL"

const (
	mpProcesses = 4
	mpSchedules = 120
	mpMinutes   = 90
)

var mpStart = time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC) // Europe's spring-forward night

// mpRegistry is the registry every child builds: intervals and cron specs,
// some in zones that change offset during the simulated night. Tasks print
// one EXEC line per execution.
func mpRegistry(out func(string)) *core.Registry {
	reg := core.NewRegistry()
	everies := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 7 * time.Minute}
	crons := []struct{ expr, tz string }{
		{"*/3 * * * *", "UTC"}, {"0 * * * *", "Europe/Berlin"}, {"*/15 1-3 * * *", "Europe/London"}, {"30 2 * * *", "Europe/Berlin"},
	}
	for i := 0; i < mpSchedules; i++ {
		name := fmt.Sprintf("mp_%03d", i)
		fn := func(_ context.Context, r core.RunInfo) error {
			out(fmt.Sprintf("EXEC %s %s %d %d", r.Schedule, r.Slot.Format(time.RFC3339), r.ID, os.Getpid()))
			return nil
		}
		var err error
		if i%2 == 0 {
			err = reg.Schedule(name, fn, core.Every(everies[(i/2)%len(everies)]))
		} else {
			c := crons[(i/2)%len(crons)]
			err = reg.Schedule(name, fn, core.Cron(c.expr), core.Timezone(c.tz))
		}
		if err != nil {
			panic(err)
		}
	}
	return reg
}

// TestSQLiteChildProcess is the child side: it ticks once per line of stdin
// (an RFC 3339 instant: the stub clock) and answers "TICKED" or "TICKERR".
func TestSQLiteChildProcess(t *testing.T) {
	url := os.Getenv(childURLEnv)
	if url == "" {
		return // not a child: nothing to do (the parent is TestSQLiteFourProcesses)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	out := func(line string) {
		mu.Lock()
		fmt.Fprintln(w, line)
		w.Flush()
		mu.Unlock()
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		out("TICKERR open: " + err.Error())
		os.Exit(1)
	}
	clock := core.NewStubClock(mpStart)
	eng, err := core.NewEngine(core.Config{Store: st, Registry: mpRegistry(out), Clock: clock, Workers: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		out("TICKERR engine: " + err.Error())
		os.Exit(1)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		now, err := time.Parse(time.RFC3339, in.Text())
		if err != nil {
			out("TICKERR bad input: " + err.Error())
			continue
		}
		clock.Set(now)
		if _, err := eng.Tick(ctx); err != nil {
			out("TICKERR " + strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		out("TICKED")
	}
	st.Close()
	os.Exit(0)
}

// TestSQLiteFourProcesses: four separate processes tick one SQLite file
// together, once per simulated minute, for 90 minutes across a DST change:
// every expected slot is recorded once and executed once, by whichever
// process claimed it.
func TestSQLiteFourProcesses(t *testing.T) {
	if os.Getenv(childURLEnv) != "" {
		t.Skip("child process")
	}
	url := sqlstoretest.URLSQLite(t)
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		lines chan string
	}
	var (
		mu     sync.Mutex
		execs  = map[string]int{} // "schedule slot" -> executions
		byProc = map[string]int{} // pid -> executions
	)
	children := make([]*child, mpProcesses)
	for i := range children {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childURLEnv+"="+url)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child %d: %v", i, err)
		}
		c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
		go func() {
			defer close(c.lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				if rest, ok := strings.CutPrefix(line, "EXEC "); ok {
					f := strings.Fields(rest)
					mu.Lock()
					execs[f[0]+" "+f[1]]++
					byProc[f[3]]++
					mu.Unlock()
					continue
				}
				if strings.HasPrefix(line, "TICK") {
					c.lines <- line
				}
			}
		}()
		children[i] = c
		t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	}

	start := time.Now()
	tickErrors := 0
	for m := 0; m <= mpMinutes; m++ {
		now := mpStart.Add(time.Duration(m) * time.Minute).Format(time.RFC3339)
		for _, c := range children {
			if _, err := io.WriteString(c.stdin, now+"\n"); err != nil {
				t.Fatalf("minute %d: write to child: %v", m, err)
			}
		}
		for i, c := range children {
			select {
			case line, ok := <-c.lines:
				if !ok {
					t.Fatalf("minute %d: child %d exited", m, i)
				}
				if line != "TICKED" {
					tickErrors++
					t.Errorf("minute %d: child %d: %s", m, i, line)
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("minute %d: child %d did not answer within 60s", m, i)
			}
		}
	}
	for _, c := range children {
		c.stdin.Close()
	}
	for i, c := range children {
		for range c.lines { // drain until the child exits
		}
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
	wall := time.Since(start)

	// Expected slots, from the stored anchors (intervals) and the cron rule.
	st, err := sqlstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.ListSchedules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	end := mpStart.Add(mpMinutes * time.Minute)
	reg := mpRegistry(func(string) {})
	expected := map[string]bool{}
	for _, rec := range recs {
		s, ok := reg.ScheduleByName(rec.Name)
		if !ok {
			t.Fatalf("stored schedule %s is not registered", rec.Name)
		}
		for slot := s.FirstSlot(rec.Anchor); !slot.After(end); slot = s.NextSlot(slot) {
			expected[rec.Name+" "+slot.Format(time.RFC3339)] = true
		}
	}
	if len(recs) != mpSchedules {
		t.Fatalf("%d schedules stored, want %d", len(recs), mpSchedules)
	}

	rows := map[string]int{}
	notSuccess := 0
	for before := int64(0); ; {
		page, err := st.ListRuns(context.Background(), core.ListRunsParams{BeforeID: before, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			rows[r.Schedule+" "+r.Slot.UTC().Format(time.RFC3339)]++
			if r.Status != core.StatusSuccess || r.SlotsCovered != 1 {
				notSuccess++
				t.Errorf("run %d (%s %v): status %s, slots_covered %d; want one successful run per slot", r.ID, r.Schedule, r.Slot, r.Status, r.SlotsCovered)
			}
			before = r.ID
		}
		if len(page) < 500 {
			break
		}
	}
	var dupRows, dupExecs, missed, unexpected int
	for k := range expected {
		switch {
		case rows[k] == 0:
			missed++
		case rows[k] > 1:
			dupRows++
		}
		if execs[k] > 1 {
			dupExecs++
		} else if execs[k] == 0 && rows[k] == 1 {
			missed++
		}
	}
	for k := range rows {
		if !expected[k] {
			unexpected++
		}
	}
	perProc := make([]int, 0, len(byProc))
	for _, n := range byProc {
		perProc = append(perProc, n)
	}
	slices.Sort(perProc)
	summary := fmt.Sprintf("sqlite multi-process: %d processes x %d simulated minutes, %d schedules, wall %.1fs: slots expected %d, run rows %d, executions %d (per process %v), duplicated rows %d, duplicated executions %d, missed %d, unexpected %d, tick errors %d",
		mpProcesses, mpMinutes+1, mpSchedules, wall.Seconds(), len(expected), len(rows), len(execs), perProc, dupRows, dupExecs, missed, unexpected, tickErrors)
	t.Log(summary)
	fmt.Println(summary)
	if len(byProc) < 2 {
		t.Errorf("only %d process executed runs: the test did not exercise concurrent claims", len(byProc))
	}
	if len(expected) == 0 || dupRows != 0 || dupExecs != 0 || missed != 0 || unexpected != 0 || notSuccess != 0 || tickErrors != 0 {
		t.Errorf("every slot must run exactly once: %s", summary)
	}
}
