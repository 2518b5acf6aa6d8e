package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // zones must not depend on the host's files

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/reliability/internal/suite"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

var (
	binDir    string
	buildOnce sync.Once
	tickerBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tickflow-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability: temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ticker builds reliability/internal/ticker once per test binary and
// returns its path.
func ticker(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		tickerBin = filepath.Join(binDir, "ticker")
		cmd := exec.Command("go", "build", "-o", tickerBin, "./internal/ticker")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./internal/ticker: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return tickerBin
}

// figures logs a scenario's measured figures and prints them as one line on
// standard output, so CI logs show them even without -v.
func figures(t *testing.T, scenario string, kv ...any) {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Logf("figures: %s%s", scenario, b.String())
	fmt.Printf("RELIABILITY %s%s\n", scenario, b.String())
}

// dialectURL returns a fresh migrated store URL of the dialect.
func dialectURL(t *testing.T, dialect string) string {
	t.Helper()
	if dialect == "postgres" {
		return sqlstoretest.URLPostgres(t)
	}
	return sqlstoretest.URLSQLite(t)
}

// openURL opens a store on url, closed when the test ends.
func openURL(t *testing.T, url string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := sqlstore.Open(ctx, url, opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// allRuns pages through every run, oldest first.
func allRuns(t *testing.T, st core.Store) []core.Run {
	t.Helper()
	ctx := context.Background()
	var out []core.Run
	var before int64
	for {
		page, err := st.ListRuns(ctx, core.ListRunsParams{BeforeID: before, Limit: 500})
		if err != nil {
			t.Fatalf("list runs: %v", err)
		}
		out = append(out, page...)
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// countRuns is the number of runs in the store.
func countRuns(t testing.TB, st core.Store) int {
	t.Helper()
	s, err := st.Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	n := 0
	for _, c := range s.RunsByStatus {
		n += c
	}
	return n
}

// ---- Expected slots, computed independently of core's schedule math. ----

// cronMatcher matches a UTC minute against a five-field cron expression read
// in a zone, by converting the minute to wall time: a deliberately naive
// reimplementation (numbers, *, ranges, steps and lists; no names) used only
// to compute the expected slots of the tests' own expressions. Its hour
// fields are always *, where this naive reading agrees with DESIGN.md's
// daylight-saving rule.
type cronMatcher struct {
	sets    [5]map[int]bool
	domStar bool
	dowStar bool
	loc     *time.Location
}

func newCronMatcher(expr, tz string) (*cronMatcher, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron %q: want five fields", expr)
	}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	m := &cronMatcher{domStar: fields[2] == "*", dowStar: fields[4] == "*"}
	for i, f := range fields {
		m.sets[i] = map[int]bool{}
		for _, item := range strings.Split(f, ",") {
			rng, stepS, hasStep := strings.Cut(item, "/")
			step := 1
			if hasStep {
				n, err := strconv.Atoi(stepS)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("cron %q: bad step %q", expr, item)
				}
				step = n
			}
			lo, hi := bounds[i][0], bounds[i][1]
			if i == 4 && rng == "*" {
				hi = 6
			}
			if rng != "*" {
				a, b, isRange := strings.Cut(rng, "-")
				x, err := strconv.Atoi(a)
				if err != nil {
					return nil, fmt.Errorf("cron %q: bad item %q", expr, item)
				}
				lo, hi = x, x
				if isRange {
					if hi, err = strconv.Atoi(b); err != nil {
						return nil, fmt.Errorf("cron %q: bad item %q", expr, item)
					}
				} else if hasStep {
					hi = bounds[i][1]
				}
			}
			for v := lo; v <= hi; v += step {
				if i == 4 && v == 7 {
					v = 0
					m.sets[i][0] = true
					break
				}
				m.sets[i][v] = true
			}
		}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	m.loc = loc
	return m, nil
}

func (m *cronMatcher) match(t time.Time) bool {
	w := t.In(m.loc)
	if !m.sets[0][w.Minute()] || !m.sets[1][w.Hour()] || !m.sets[3][int(w.Month())] {
		return false
	}
	dom, dow := m.sets[2][w.Day()], m.sets[4][int(w.Weekday())]
	switch {
	case m.domStar && m.dowStar:
		return true
	case m.domStar:
		return dow
	case m.dowStar:
		return dom
	}
	return dom || dow
}

// slotsBetween lists the slots of spec (stored at anchor, not run on
// startup) that fall in (after, until].
func slotsBetween(t testing.TB, spec suite.Spec, anchor, after, until time.Time) []time.Time {
	t.Helper()
	var out []time.Time
	anchor = anchor.UTC().Truncate(time.Second)
	if spec.Every > 0 {
		for k := int64(1); ; k++ {
			s := anchor.Add(time.Duration(k) * spec.Every)
			if s.After(until) {
				return out
			}
			if s.After(after) {
				out = append(out, s)
			}
		}
	}
	m, err := newCronMatcher(spec.Cron, spec.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	from := anchor
	if after.After(from) {
		from = after
	}
	for s := from.Truncate(time.Minute).Add(time.Minute); !s.After(until); s = s.Add(time.Minute) {
		if m.match(s) {
			out = append(out, s)
		}
	}
	return out
}

// firstSlotAfter is the first slot of spec strictly after t (searching at
// most 40 days ahead; zero if none).
func firstSlotAfter(tb testing.TB, spec suite.Spec, anchor, t time.Time) time.Time {
	tb.Helper()
	if spec.Every > 0 {
		anchor = anchor.UTC().Truncate(time.Second)
		if t.Before(anchor) {
			return anchor.Add(spec.Every)
		}
		k := t.Sub(anchor)/spec.Every + 1
		return anchor.Add(k * spec.Every)
	}
	horizon := t.Add(40 * 24 * time.Hour)
	for step := time.Hour; ; step *= 4 {
		end := t.Add(step)
		if end.After(horizon) {
			end = horizon
		}
		if s := slotsBetween(tb, spec, anchor, t, end); len(s) > 0 {
			return s[0]
		}
		if end.Equal(horizon) {
			return time.Time{}
		}
	}
}

// ---- Accounting: does every expected slot have exactly one record? ----

// tally is what account found.
type tally struct {
	// Expected slots, from the specs.
	Expected int
	// Run: slots whose own run record executed (success or failed for good).
	Run int
	// Coalesced: slots folded into a later slot's run (misfire coalesce).
	Coalesced int
	// Skipped: slots covered by a skipped record (misfire or overlap skip).
	Skipped int
	// Duplicated: slot coverings beyond the first, plus (schedule, slot)
	// pairs recorded twice, plus executions beyond one per slot and attempt.
	Duplicated int
	// Lost: expected slots no record covers.
	Lost int
	// Unexpected: records whose slot is not an expected slot.
	Unexpected int
	// Unfinished: records still pending, running or interrupted.
	Unfinished int
	// Reexecuted: runs whose task executed under more than one attempt
	// (a retry after a lost outcome or a killed process): at-least-once
	// execution, each attempt with its own RunInfo.Attempt.
	Reexecuted int
}

func (c tally) String() string {
	return fmt.Sprintf("expected=%d run=%d coalesced=%d skipped=%d duplicated=%d lost=%d unexpected=%d unfinished=%d reexecuted=%d",
		c.Expected, c.Run, c.Coalesced, c.Skipped, c.Duplicated, c.Lost, c.Unexpected, c.Unfinished, c.Reexecuted)
}

// account checks the scheduled runs against the expected slots per
// schedule. A record with SlotsCovered k stands for its own slot and the
// k-1 expected slots before it. problems lists the first few anomalies.
func account(expected map[string][]time.Time, runs []core.Run, execs []suite.Execution) (c tally, problems []string) {
	note := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	bySched := map[string][]core.Run{}
	for _, r := range runs {
		if r.Source != core.SourceScheduled {
			continue
		}
		bySched[r.Schedule] = append(bySched[r.Schedule], r)
		if !r.Status.Final() {
			c.Unfinished++
			note("run %d (%s slot %s) is %s", r.ID, r.Schedule, r.Slot, r.Status)
		}
	}
	for name := range bySched {
		if _, ok := expected[name]; !ok {
			note("runs of schedule %s, which has no expected slots", name)
		}
	}
	names := make([]string, 0, len(expected))
	for name := range expected {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		slots := expected[name]
		c.Expected += len(slots)
		idx := make(map[int64]int, len(slots))
		for i, s := range slots {
			idx[s.UnixNano()] = i
		}
		covered := make([]int, len(slots))
		seen := map[int64]int64{}
		for _, r := range bySched[name] {
			if r.Slot == nil {
				note("scheduled run %d of %s has no slot", r.ID, name)
				continue
			}
			key := r.Slot.UnixNano()
			if other, dup := seen[key]; dup {
				c.Duplicated++
				note("schedule %s slot %s recorded twice (runs %d and %d)", name, r.Slot.UTC(), other, r.ID)
			}
			seen[key] = r.ID
			i, ok := idx[key]
			if !ok {
				c.Unexpected++
				note("run %d of %s has slot %s, not an expected slot", r.ID, name, r.Slot.UTC())
				continue
			}
			k := max(r.SlotsCovered, 1)
			for j := i - k + 1; j <= i; j++ {
				if j < 0 {
					c.Unexpected++
					note("run %d of %s covers %d slots, more than expected before %s", r.ID, name, k, r.Slot.UTC())
					break
				}
				covered[j]++
				switch {
				case r.Status == core.StatusSkipped:
					c.Skipped++
				case j < i:
					c.Coalesced++
				case r.Status == core.StatusSuccess || r.Status == core.StatusFailed:
					c.Run++
				}
			}
		}
		for j, n := range covered {
			switch {
			case n == 0:
				c.Lost++
				note("schedule %s slot %s has no record", name, slots[j])
			case n > 1:
				c.Duplicated += n - 1
				note("schedule %s slot %s is covered %d times", name, slots[j], n)
			}
		}
	}
	type key struct {
		run     int64
		attempt int
	}
	perAttempt := map[key]int{}
	attempts := map[int64]map[int]bool{}
	for _, e := range execs {
		perAttempt[key{e.RunID, e.Attempt}]++
		if attempts[e.RunID] == nil {
			attempts[e.RunID] = map[int]bool{}
		}
		attempts[e.RunID][e.Attempt] = true
	}
	for _, a := range attempts {
		if len(a) > 1 {
			c.Reexecuted++
		}
	}
	for k, n := range perAttempt {
		if n > 1 {
			c.Duplicated += n - 1
			note("run %d attempt %d executed %d times", k.run, k.attempt, n)
		}
	}
	return c, problems
}

// checkNextRuns verifies that each schedule's stored next_run is the first
// expected slot after its latest recorded slot (or its first slot when none
// is recorded): the claim either advanced it together with the runs it
// recorded, or did neither. It returns the number of inconsistent schedules.
func checkNextRuns(t *testing.T, st core.Store, specs map[string]suite.Spec, runs []core.Run) int {
	t.Helper()
	recs, err := st.ListSchedules(context.Background())
	if err != nil {
		t.Fatalf("list schedules: %v", err)
	}
	latest := map[string]time.Time{}
	for _, r := range runs {
		if r.Source == core.SourceScheduled && r.Slot != nil && r.Slot.After(latest[r.Schedule]) {
			latest[r.Schedule] = r.Slot.UTC()
		}
	}
	bad := 0
	for _, rec := range recs {
		spec, ok := specs[rec.Name]
		if !ok {
			continue
		}
		after := rec.Anchor
		if l, ok := latest[rec.Name]; ok {
			after = l
		}
		want := firstSlotAfter(t, spec, rec.Anchor, after)
		if !rec.NextRun.Equal(want) {
			bad++
			if bad <= 5 {
				t.Errorf("schedule %s: next_run %s, want %s (the first slot after its latest record %s)", rec.Name, rec.NextRun.UTC(), want, after.UTC())
			}
		}
	}
	return bad
}

// ---- Tick processes. ----

// proc is a running ticker process whose JSON lines arrive on lines.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan suite.Line
	stderr *syncBuffer
	exited chan struct{} // closed once the process has been waited for
}

// syncBuffer is a bytes.Buffer safe for a process's writes and our reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTicker starts the ticker with args. Its stdout lines are decoded on
// p.lines (closed at exit); a line that is not JSON fails the test.
func startTicker(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(ticker(t), args...), lines: make(chan suite.Line, 64), stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start ticker: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var l suite.Line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = suite.Line{Kind: "garbage", Error: fmt.Sprintf("%v: %q", err, sc.Text())}
			}
			p.lines <- l
		}
		close(p.lines)
		_ = p.cmd.Wait() // the exit status is read from ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

// nextLine returns the process's next line, or an error after timeout, at
// exit or for a line that is not JSON. Safe to call from any goroutine.
func (p *proc) nextLine(timeout time.Duration) (suite.Line, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			return l, fmt.Errorf("ticker exited early; stderr:\n%s", tail(p.stderr.String(), 3000))
		}
		if l.Kind == "garbage" {
			return l, fmt.Errorf("ticker printed a line that is not JSON: %s", l.Error)
		}
		return l, nil
	case <-time.After(timeout):
		return suite.Line{}, fmt.Errorf("no line from the ticker within %s; stderr:\n%s", timeout, tail(p.stderr.String(), 3000))
	}
}

// next is nextLine that fails the test on error.
func (p *proc) next(t *testing.T, timeout time.Duration) suite.Line {
	t.Helper()
	l, err := p.nextLine(timeout)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	lines := p.lines
	for {
		select {
		case _, ok := <-lines: // drain what is left
			if !ok {
				lines = nil
			}
		case <-p.exited:
			return p.cmd.ProcessState.ExitCode()
		case <-timer.C:
			t.Fatalf("ticker did not exit within %s", timeout)
		}
	}
}

// tickOnce runs one ticker process to completion and returns its tick line
// and exit code.
func tickOnce(t *testing.T, args ...string) (suite.Line, int) {
	t.Helper()
	p := startTicker(t, args...)
	p.stdin.Close()
	var last suite.Line
	got := false
	for l := range p.lines {
		if l.Kind == "garbage" {
			t.Fatalf("ticker printed a line that is not JSON: %s", l.Error)
		}
		if l.Kind == "tick" {
			last, got = l, true
		}
	}
	code := p.wait(t, time.Minute)
	if !got {
		t.Fatalf("ticker printed no tick line (exit %d); stderr:\n%s", code, tail(p.stderr.String(), 3000))
	}
	return last, code
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// quietLogger discards the engine's and handler's logs: the tests check
// outcomes, and the fault scenarios would flood the output.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
