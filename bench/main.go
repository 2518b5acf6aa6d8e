package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// resultPrefix marks the child's result line on its standard output.
const resultPrefix = "BENCH_RESULT "

// contender is one measurement, run in its own process.
type contender struct {
	name string
	run  func(ctx context.Context) (Result, error)
	// optIn: left out of the full run; run it with -only.
	optIn bool
}

// sizes are the workloads; the smoke test shrinks them.
type sizes struct {
	FloorN       []int
	TickN        []int
	EmptyN       int
	ConcurrentN  int
	Ticks        int
	PeerN        int
	RiverWorkers []int
	// GocronConns are the pool sizes gocron runs with (0: pgxpool default).
	GocronConns []int
	Reps        int
	SlowReps    int
	// PairN are the sizes the floor and tickflow tick alternately, Pairs
	// times each (none: no paired contender); with PairLoad > 0 each size
	// runs again with that many `yes > /dev/null` processes loading the
	// machine (pair-N-loaded).
	PairN    []int
	Pairs    int
	PairLoad int
	// HugeN are opt-in tickflow ticks (run with -only, never by the full
	// run or CI) of runtime schedules, seeded by one set-based statement.
	HugeN []int
	// APIN are opt-in ticks of runtime schedules at smaller sizes, to
	// compare with HugeN (memory flat in N).
	APIN []int
	// AuditRows are the runs stored for the opt-in audit contender.
	AuditRows int
	// StoredN runtime schedules are stored for the opt-in runtime-schedule
	// contenders (stored-N, stored-empty-N, list-N, dashboard-N), StoredDue
	// of them due in stored-N; UpsertN are upserted by upsert-N on top of
	// StoredN. RuntimeReps repeats the fast ones (empty tick, list pages).
	StoredN     int
	StoredDue   int
	UpsertN     int
	RuntimeReps int
	// CPUReps repeats tickflow-10000, whose median Go CPU the 50 ms
	// target reads: a process's first tick pays for its heap's fresh pages
	// (about twice a later tick's CPU), one in five reps of a median of 5.
	CPUReps int
}

func defaultSizes() sizes {
	return sizes{
		FloorN:       []int{1000, 10000, 100000},
		TickN:        []int{1000, 10000, 100000},
		EmptyN:       100000,
		ConcurrentN:  10000,
		Ticks:        4,
		PeerN:        10000,
		RiverWorkers: []int{100, 1000},
		GocronConns:  []int{0, 50},
		Reps:         5,
		SlowReps:     3,
		PairN:        []int{10000, 100000},
		Pairs:        9,
		PairLoad:     2,
		HugeN:        []int{1000000},
		APIN:         []int{10000},
		AuditRows:    10_000_000,
		StoredN:      1000000,
		StoredDue:    10000,
		UpsertN:      100000,
		RuntimeReps:  21,
		CPUReps:      11,
	}
}

func contenders(s sizes) []contender {
	var cs []contender
	reps := func(n int) int {
		if n >= 100000 {
			return s.SlowReps
		}
		return s.Reps
	}
	for _, n := range s.FloorN {
		cs = append(cs, contender{name: fmt.Sprintf("floor-%d", n), run: func(ctx context.Context) (Result, error) {
			return benchFloor(ctx, n, reps(n))
		}})
	}
	cs = append(cs, tickflowContenders(s, reps)...)
	cs = append(cs, auditContender(s), retentionContender(s))
	for _, n := range s.PairN {
		cs = append(cs, contender{name: fmt.Sprintf("pair-%d", n), run: func(ctx context.Context) (Result, error) {
			return benchPair(ctx, n, s.Pairs, 0)
		}})
		if s.PairLoad > 0 {
			cs = append(cs, contender{name: fmt.Sprintf("pair-%d-loaded", n), run: func(ctx context.Context) (Result, error) {
				return benchPair(ctx, n, s.Pairs, s.PairLoad)
			}})
		}
	}
	for _, w := range s.RiverWorkers {
		r := s.SlowReps
		cs = append(cs, contender{name: fmt.Sprintf("river-%d", w), run: func(ctx context.Context) (Result, error) {
			return benchRiver(ctx, s.PeerN, w, r)
		}})
	}
	for _, conns := range s.GocronConns {
		name := "gocron"
		if conns > 0 {
			name = fmt.Sprintf("gocron-pool%d", conns)
		}
		cs = append(cs, contender{name: name, run: func(ctx context.Context) (Result, error) {
			return benchGocron(ctx, s.PeerN, conns, s.SlowReps)
		}})
	}
	cs = append(cs, lambdaContenders(s)...)
	cs = append(cs, runtimeContenders(s)...)
	return cs
}

func main() {
	var (
		out    = flag.String("out", "", "write the report (markdown) to this file, e.g. ../BENCHMARKS.md")
		only   = flag.String("only", "", "run one contender in this process and print its result (used by the parent)")
		skip   = flag.String("skip", "", "comma-separated contender names or name prefixes to leave out")
		reps   = flag.Int("reps", 0, "repetitions per contender (default: 5, 3 for the slow ones)")
		list   = flag.Bool("list", false, "list the contenders and exit")
		cpuOut = flag.String("cpuprofile", "", "with -only on a tickflow contender: write a CPU profile of its timed ticks to this file")
		memOut = flag.String("memprofile", "", "with -only on a tickflow contender: write a heap profile (allocations of the whole process) to this file after its timed ticks")
		stored = flag.Int("stored", 0, "runtime schedules stored by the opt-in contenders stored-N, stored-empty-N, list-N and dashboard-N, and under upsert-M (default 1000000; it names them: -stored 10000 -only stored-10000)")
		upsert = flag.Int("upsert", 0, "runtime schedules upserted by the opt-in contender upsert-N (default 100000; it names it)")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s := defaultSizes()
	if *reps > 0 {
		s.Reps, s.SlowReps, s.RuntimeReps, s.CPUReps = *reps, *reps, *reps, *reps
	}
	if *stored > 0 {
		s.StoredN = *stored
	}
	if *upsert > 0 {
		s.UpsertN = *upsert
	}
	cs := contenders(s)
	if *list {
		for _, c := range cs {
			if c.optIn {
				fmt.Println(c.name, "(opt-in: run it with -only)")
				continue
			}
			fmt.Println(c.name)
		}
		return
	}
	cpuProfile, memProfile = *cpuOut, *memOut
	if *only != "" {
		if err := runChild(ctx, cs, *only); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := runAll(ctx, cs, *skip, *reps, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runChild runs one contender and prints its result line.
func runChild(ctx context.Context, cs []contender, name string) error {
	for _, c := range cs {
		if c.name == name {
			res, err := c.run(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			// The parent replaces it with what the operating system reports
			// for the whole child; run alone, -only reports its own peak.
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				res.MaxRSSKB = max(ru.Maxrss, res.SetupMaxRSSKB)
			}
			for _, f := range res.Figures {
				fmt.Fprintln(os.Stderr, "bench:", f)
			}
			b, err := json.Marshal(res)
			if err != nil {
				return fmt.Errorf("%s: encode result: %w", name, err)
			}
			fmt.Println(resultPrefix + string(b))
			return nil
		}
	}
	return fmt.Errorf("unknown contender %q (see -list)", name)
}

func skipped(name, skip string) bool {
	for _, p := range strings.Split(skip, ",") {
		if p = strings.TrimSpace(p); p != "" && strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// runAll runs every contender in a child process, prints the table and
// writes the report.
func runAll(ctx context.Context, cs []contender, skip string, reps int, out string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	machine, err := describeMachine(ctx)
	if err != nil {
		return err
	}
	begin := time.Now()
	var results []Result
	var failures []string
	for _, c := range cs {
		if c.optIn || skipped(c.name, skip) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s ...\n", c.name)
		t0 := time.Now()
		args := []string{"-only", c.name}
		if reps > 0 {
			args = append(args, "-reps", fmt.Sprint(reps))
		}
		res, err := runChildProcess(ctx, exe, args)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: FAILED after %s: %v\n", c.name, time.Since(t0).Round(time.Millisecond), err)
			failures = append(failures, fmt.Sprintf("%s: %v", c.name, err))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s: median %s (%d runs, %s)\n", c.name, fmtDuration(res.Median()), len(res.Runs), time.Since(t0).Round(time.Millisecond))
		results = append(results, res)
	}
	rep := report{Machine: machine, Results: results, Failures: failures, Total: time.Since(begin)}
	fmt.Println(rep.table())
	fmt.Println(rep.targetsText())
	if out != "" {
		md := rep.markdown()
		if old, err := os.ReadFile(out); err == nil {
			md += keptSections(string(old))
		}
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", out)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d contender(s) failed", len(failures))
	}
	return nil
}

// runChildProcess runs exe with args, relays its standard error, parses its
// result line and adds the peak RSS of the process.
func runChildProcess(ctx context.Context, exe string, args []string) (Result, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	var stdout bytes.Buffer
	var stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, prefixWriter{os.Stderr})
	err := cmd.Run()
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s", err, lastLine(stderr.String()))
	}
	var res Result
	found := false
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				return Result{}, fmt.Errorf("decode result: %w", err)
			}
			found = true
		}
	}
	if !found {
		return Result{}, errors.New("no result line")
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// KiB on Linux; a tickflow child resets its peak after its setup
		// and reports the setup's peak itself.
		res.MaxRSSKB = max(ru.Maxrss, res.SetupMaxRSSKB)
	}
	return res, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// prefixWriter relays a child's log lines, indented under the progress line.
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if _, err := fmt.Fprint(p.w, "    | "+strings.TrimRight(line, "\n")+"\n"); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
