// Command ticker is the tick process of the reliability tests: core's engine
// on sqlstore, like cmd/local's `tick`, but with the test suites' task
// functions (which record every execution, or block until killed) instead of
// the demo tasks. The tests build it once and run it as separate processes.
//
//	ticker --database-url URL --suite load|crash|skew [--schedules N]
//	       [--now RFC3339 | --loop] [--block] [--batch N] [--max-conns N]
//	       [--busy-timeout D]
//
// Without --now and --loop the tick reads the database clock (Config.Clock
// nil). --now ticks once on a stub clock set to that instant. --loop reads
// one RFC 3339 instant per line on standard input and ticks at each, until
// end of input: the load test drives 32 of these long-lived processes, one
// tick per simulated minute each. Every tick prints one suite.Line as JSON;
// a blocking task prints a "started" line first. A single tick exits 1 when
// it fails (an infrastructure error), like `tick`.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	_ "modernc.org/sqlite" // links the SQLite driver: scenarios run on both dialects
	"os"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones must not depend on the host's files

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/reliability/internal/suite"
	"github.com/tickflow/tickflow/sqlstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// output serializes the lines of concurrent tasks and ticks.
type output struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (o *output) write(l suite.Line) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(l)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ticker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "store URL (postgres://… or sqlite:PATH); required")
	suiteName := fs.String("suite", "load", "task suite: load, crash or skew")
	schedules := fs.Int("schedules", 2000, "number of load schedules")
	nowFlag := fs.String("now", "", "tick once on a stub clock at this RFC 3339 instant")
	loop := fs.Bool("loop", false, "tick at each RFC 3339 instant read from standard input")
	block := fs.Bool("block", false, "crash suite: tasks block until the process is killed")
	batch := fs.Int("batch", 0, "engine BatchSize (0: the default)")
	maxConns := fs.Int("max-conns", 0, "store connection pool size (0: the default)")
	claimHold := fs.Duration("claim-hold", 0, "engine ClaimHold (0: the default; negative: never hold)")
	busy := fs.Duration("busy-timeout", 0, "SQLite: wait this long for the write lock (0: the default)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil || *dbURL == "" || (*nowFlag != "" && *loop) {
		fmt.Fprintln(stderr, "ticker: --database-url is required; --now and --loop exclude each other; --log-level must be a slog level")
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	out := &output{enc: json.NewEncoder(stdout)}

	rec := &suite.Recorder{}
	var (
		reg *core.Registry
		err error
	)
	switch *suiteName {
	case "load":
		reg, err = suite.Load(*schedules, rec)
	case "crash":
		var blockFn func(context.Context, core.RunInfo) error
		if *block {
			blockFn = func(ctx context.Context, info core.RunInfo) error {
				out.write(suite.Line{Kind: "started", RunID: info.ID})
				<-ctx.Done()
				return ctx.Err()
			}
		}
		reg, err = suite.Crash(rec, blockFn)
	case "skew":
		reg, err = suite.Skew(rec)
	default:
		err = fmt.Errorf("unknown suite %q", *suiteName)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ticker:", err)
		return 2
	}

	ctx := context.Background()
	var opts []sqlstore.Option
	opts = append(opts, sqlstore.WithLogger(log))
	if *maxConns > 0 {
		opts = append(opts, sqlstore.WithMaxOpenConns(*maxConns))
	}
	if *busy > 0 {
		opts = append(opts, sqlstore.WithBusyTimeout(*busy))
	}
	store, err := sqlstore.Open(ctx, *dbURL, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "ticker:", err)
		return 1
	}
	defer store.Close()

	cfg := core.Config{Store: store, Registry: reg, Logger: log, BatchSize: *batch, ClaimHold: *claimHold, Trigger: "cli"}
	var clock *core.StubClock
	if *nowFlag != "" || *loop {
		clock = core.NewStubClock(time.Time{})
		cfg.Clock = clock
	}
	eng, err := core.NewEngine(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "ticker:", err)
		return 2
	}
	tick := func() error {
		appNow := time.Now()
		rep, err := eng.Tick(ctx)
		l := suite.Line{Kind: "tick", AppNow: appNow, Report: &rep, Executions: rec.Drain()}
		if err != nil {
			l.Error = err.Error()
		}
		out.write(l)
		return err
	}

	if !*loop {
		if *nowFlag != "" {
			t, err := time.Parse(time.RFC3339Nano, *nowFlag)
			if err != nil {
				fmt.Fprintln(stderr, "ticker: --now:", err)
				return 2
			}
			clock.Set(t)
		}
		if err := tick(); err != nil {
			return 1
		}
		return 0
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, line)
		if err != nil {
			out.write(suite.Line{Kind: "tick", Error: fmt.Sprintf("bad instant %q: %v", line, err)})
			continue
		}
		clock.Set(t)
		_ = tick() // the error is in the line; the driver decides
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(stderr, "ticker: read stdin:", err)
		return 1
	}
	return 0
}
