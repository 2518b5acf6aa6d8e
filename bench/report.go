package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// machine describes where the figures were measured.
type machine struct {
	CPUs     int
	CPUModel string
	MemoryGB float64
	Go       string
	Postgres string
	Kernel   string
	LoadAvg  string
}

func describeMachine(ctx context.Context) (machine, error) {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), CPUModel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.MemoryGB = kb / 1024 / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	db, err := adminDB()
	if err != nil {
		return m, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&m.Postgres); err != nil {
		return m, fmt.Errorf("postgres version (is PostgreSQL running at TEST_DATABASE_URL?): %w", err)
	}
	if i := strings.Index(m.Postgres, " on "); i > 0 {
		m.Postgres = m.Postgres[:i]
	}
	return m, nil
}

// report renders the results.
type report struct {
	Machine  machine
	Results  []Result
	Failures []string
	Total    time.Duration
}

func (r report) find(name string) (Result, bool) {
	for _, res := range r.Results {
		if res.Name == name {
			return res, true
		}
	}
	return Result{}, false
}

// floorFor is the floor measured at n schedules, if any.
func (r report) floorFor(n int) (Result, bool) {
	for _, res := range r.Results {
		if res.Group == "floor" && res.N == n {
			return res, true
		}
	}
	return Result{}, false
}

var tableHeader = []string{"contender", "N", "median wall", "runs", "schedules/s", "× floor", "SQL stmts", "+ BEGIN/COMMIT", "round trips / schedule", "peak RSS"}

func (r report) rows() [][]string {
	var rows [][]string
	for _, res := range r.Results {
		if res.Group == "lambda" || res.Group == "pair" {
			continue
		}
		ratio := "-"
		if fl, ok := r.floorFor(res.N); ok && fl.Median() > 0 && res.N > 0 {
			ratio = fmt.Sprintf("%.2f×", res.Median()/fl.Median())
		}
		c := res.MedianCounts()
		perSched := "-"
		if res.N > 0 {
			perSched = fmt.Sprintf("%.3f", float64(c.RoundTrips())/float64(res.N))
		}
		rate := "-"
		if res.PerSecond() > 0 {
			rate = thousands(int(res.PerSecond() + 0.5))
		}
		rows = append(rows, []string{
			res.Title, thousands(res.N), fmtDuration(res.Median()), runsText(res.Runs), rate, ratio,
			thousands(int(c.Statements)), thousands(int(c.TxControl)), perSched, fmtRSS(res.MaxRSSKB),
		})
	}
	return rows
}

func runsText(runs []float64) string {
	parts := make([]string, len(runs))
	for i, s := range runs {
		parts[i] = fmtDuration(s)
	}
	return strings.Join(parts, ", ")
}

func fmtRSS(kb int64) string {
	if kb <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

// table is the plain-text table printed on standard output.
func (r report) table() string {
	rows := append([][]string{tableHeader}, r.rows()...)
	width := make([]int, len(tableHeader))
	for _, row := range rows {
		for i, cell := range row {
			if n := len([]rune(cell)); n > width[i] {
				width[i] = n
			}
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			pad := width[i] - len([]rune(cell))
			if i == 0 {
				b.WriteString(cell + strings.Repeat(" ", pad))
			} else {
				b.WriteString("  " + strings.Repeat(" ", pad) + cell)
			}
		}
		b.WriteString("\n")
	}
	if ps := r.pairs(); len(ps) > 0 {
		b.WriteString("\nPaired: " + strings.Join(ps, "; ") + "\n")
	}
	if l, ok := r.lambda(); ok {
		b.WriteString("\n" + l.text() + "\n")
	}
	if bd := r.breakdowns(); bd != "" {
		b.WriteString("\nWhere tickflow's time goes (statement time per kind, seen by the counting proxy):\n" + bd)
	}
	return b.String()
}

// pairs describes the paired contender, if it ran: one line per fact.
func (r report) pairs() []string {
	var out []string
	for _, res := range r.Results {
		if res.Group != "pair" || res.Pairs == nil || len(res.Pairs.Ratios) == 0 {
			continue
		}
		p := res.Pairs
		out = append(out,
			fmt.Sprintf("%s: %d pairs; median floor %s, median tickflow %s; median per-pair ratio %.2f×", res.Title, len(p.Ratios), fmtDuration(median(p.Floor)), fmtDuration(res.Median()), median(p.Ratios)),
			"floor: "+runsText(p.Floor),
			"tickflow: "+runsText(res.Runs),
			"ratios: "+ratiosText(p.Ratios))
	}
	return out
}

func ratiosText(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.2f×", x)
	}
	return strings.Join(parts, ", ")
}

func (r report) lambda() (lambdaView, bool) {
	for _, res := range r.Results {
		if res.Group == "lambda" && res.Lambda != nil {
			return lambdaView{LambdaFigures: *res.Lambda, counts: res.MedianCounts(), breakdown: res.Breakdown}, true
		}
	}
	return lambdaView{}, false
}

type lambdaView struct {
	LambdaFigures
	counts    Counts
	breakdown []StatementTime
}

// lines are the Lambda figures, one fact each.
func (l lambdaView) lines() []string {
	out := []string{
		fmt.Sprintf("bootstrap (%s, stripped): %s bytes (%.2f MiB)", l.Arch, thousands(int(l.BootstrapBytes)), float64(l.BootstrapBytes)/(1<<20)),
		fmt.Sprintf("cold start to the first handled invocation: %.1f ms (median of %s ms), of which a fresh PostgreSQL connection takes %.1f ms, leaving %.1f ms", l.ColdMS, msList(l.ColdRuns), l.ConnectMS, l.ColdMS-l.ConnectMS),
		fmt.Sprintf("for reference, an empty Go function's cold start under the same emulator: %.1f ms", l.EmptyColdMS),
		fmt.Sprintf("warm invocation (the next tick of the same process): %.1f ms", l.WarmMS),
		fmt.Sprintf("cold start with TICKFLOW_MIGRATE at its default (the schema applied at every cold start): %.1f ms", l.ColdMigrateMS),
	}
	for _, b := range l.Builds {
		out = append(out, fmt.Sprintf("bootstrap (%s, -tags %s, stripped, size only): %s bytes (%.2f MiB)", b.Arch, b.Tags, thousands(int(b.Bytes)), float64(b.Bytes)/(1<<20)))
	}
	if l.counts.RoundTrips() > 0 {
		out = append(out, fmt.Sprintf("a cold start's first invocation sends %d statements and %d BEGIN/COMMIT; %s", l.counts.Statements, l.counts.TxControl, breakdownText(l.breakdown, 10)))
	}
	return out
}

func (l lambdaView) text() string { return "Lambda: " + strings.Join(l.lines(), "; ") }

func msList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(parts, ", ")
}

// breakdowns renders the tickflow statement-time breakdowns as a list.
func (r report) breakdowns() string {
	var b strings.Builder
	for _, res := range r.Results {
		if len(res.Breakdown) == 0 {
			continue
		}
		if res.Group == "lambda" {
			continue
		}
		fmt.Fprintf(&b, "- %s: wall %s, Go CPU %s; %s\n",
			res.Title, fmtDuration(res.Median()), fmtDuration(median(res.CPUSeconds)), breakdownText(res.Breakdown, 8))
	}
	return b.String()
}

// breakdownText renders the top kinds of a statement-time breakdown.
func breakdownText(bd []StatementTime, top int) string {
	var sum float64
	parts := make([]string, 0, top)
	for _, t := range bd {
		sum += t.Seconds
		if len(parts) < top {
			parts = append(parts, fmt.Sprintf("%s ×%d %.1f ms", t.Label, t.Count, t.Seconds*1000))
		}
	}
	return fmt.Sprintf("statements %.1f ms in all: %s", sum*1000, strings.Join(parts, ", "))
}

// target is one goal of the benchmarks issue.
type target struct {
	Goal string
	Got  string
	// Met is nil when the figures are missing.
	Met *bool
}

func (t target) status() string {
	switch {
	case t.Met == nil:
		return "not measured"
	case *t.Met:
		return "met"
	default:
		return "NOT MET"
	}
}

func boolp(b bool) *bool { return &b }

// targetsN is the workload the targets compare at.
const targetsN = 10000

func (r report) targets() []target {
	var ts []target
	tf, tfOK := r.find(fmt.Sprintf("tickflow-%d", targetsN))
	fl, flOK := r.floorFor(targetsN)
	t := r.pairTarget(fmt.Sprintf("pair-%d", targetsN), "10,000 due schedules in one tick in at most 1.5× the floor's time, paired, no pair above 2.0×")
	if t.Got == "" && tfOK && flOK && fl.Median() > 0 {
		// No paired run: the separate rows, measured minutes apart.
		ratio := tf.Median() / fl.Median()
		t.Got = fmt.Sprintf("separate rows only: tickflow %s vs floor %s: %.2f×", fmtDuration(tf.Median()), fmtDuration(fl.Median()), ratio)
		t.Met = boolp(ratio <= 1.5)
	}
	ts = append(ts, t)
	t = target{Goal: "at least 3× the throughput of River at MaxWorkers 1000"}
	if p, ok := r.find("river-1000"); ok && tfOK && p.PerSecond() > 0 {
		x := tf.PerSecond() / p.PerSecond()
		t.Got = fmt.Sprintf("tickflow %s/s vs River %s/s: %.1f×", thousands(int(tf.PerSecond())), thousands(int(p.PerSecond())), x)
		t.Met = boolp(x >= 3)
	}
	ts = append(ts, t)
	// gocron is compared at its fastest pool size measured.
	t = target{Goal: "at least 3× the throughput of gocron with its PostgreSQL locker (its fastest pool measured)"}
	var best Result
	for _, res := range r.Results {
		if res.Group == "gocron" && res.PerSecond() > best.PerSecond() {
			best = res
		}
	}
	if tfOK && best.PerSecond() > 0 {
		x := tf.PerSecond() / best.PerSecond()
		t.Got = fmt.Sprintf("tickflow %s/s vs %s %s/s: %.1f×", thousands(int(tf.PerSecond())), best.Name, thousands(int(best.PerSecond())), x)
		t.Met = boolp(x >= 3)
	}
	ts = append(ts, t)
	t = target{Goal: "an empty tick issues at most 2 SQL statements (BEGIN/COMMIT counted)"}
	if e, ok := r.find("tickflow-empty"); ok {
		c := e.MedianCounts()
		t.Got = fmt.Sprintf("%d statements + %d BEGIN/COMMIT = %d", c.Statements, c.TxControl, c.RoundTrips())
		t.Met = boolp(c.RoundTrips() <= 2)
	}
	ts = append(ts, t)
	l, lOK := r.lambda()
	t = target{Goal: "bootstrap at most 10 MB (10,000,000 bytes)"}
	if lOK && l.BootstrapBytes > 0 {
		t.Got = fmt.Sprintf("%s bytes (%.2f MiB), dashboard included", thousands(int(l.BootstrapBytes)), float64(l.BootstrapBytes)/(1<<20))
		for _, b := range l.Builds {
			if b.Arch == l.Arch && strings.Contains(b.Tags, "tickflow.nodashboard") {
				t.Got += fmt.Sprintf("; the tick-only build (-tags tickflow.nodashboard) %s bytes", thousands(int(b.Bytes)))
			}
		}
		t.Met = boolp(l.BootstrapBytes <= 10_000_000)
	}
	ts = append(ts, t)
	t = target{Goal: "cold start to the first handled invocation at most 20 ms plus the database connect"}
	if lOK && l.ColdMS > 0 {
		t.Got = fmt.Sprintf("%.1f ms cold, %.1f ms of it the connect: %.1f ms beyond it", l.ColdMS, l.ConnectMS, l.ColdMS-l.ConnectMS)
		t.Met = boolp(l.ColdMS-l.ConnectMS <= 20)
	}
	ts = append(ts, t)
	ts = append(ts,
		r.pairTarget(fmt.Sprintf("pair-%d", 10*targetsN), "100,000 due schedules in at most 1.5× the floor's time, paired, no pair above 2.0×"),
		r.pairTarget(fmt.Sprintf("pair-%d-loaded", targetsN), "the same at 10,000 on a loaded machine"),
		r.pairTarget(fmt.Sprintf("pair-%d-loaded", 10*targetsN), "the same at 100,000 on a loaded machine"))
	t = target{Goal: "Go CPU of a 10,000-schedule tick at most 50 ms"}
	if tfOK && len(tf.CPUSeconds) > 0 {
		cpu := median(tf.CPUSeconds)
		t.Got = fmt.Sprintf("%s (median of %d ticks)", fmtDuration(cpu), len(tf.CPUSeconds))
		t.Met = boolp(cpu <= 0.050)
	}
	ts = append(ts, t)
	t = target{Goal: "peak RSS of a 100,000-schedule tick at most 100 MiB"}
	if big, ok := r.find(fmt.Sprintf("tickflow-%d", 10*targetsN)); ok && big.TickMaxRSSKB > 0 {
		t.Got = fmt.Sprintf("%d MiB during the ticks (whole process, setup included: %d MiB)", big.TickMaxRSSKB/1024, big.MaxRSSKB/1024)
		t.Met = boolp(big.TickMaxRSSKB <= 100*1024)
	}
	ts = append(ts, t)
	return ts
}

// pairTarget judges a paired contender: median per-pair ratio at most 1.5×
// and no pair above 2.0×.
func (r report) pairTarget(name, goal string) target {
	t := target{Goal: goal}
	p, ok := r.find(name)
	if !ok || p.Pairs == nil || len(p.Pairs.Ratios) == 0 {
		return t
	}
	ratio, worst := median(p.Pairs.Ratios), slices.Max(p.Pairs.Ratios)
	t.Got = fmt.Sprintf("paired (alternating, %d pairs): median ratio %.2f×, worst pair %.2f× (floor %s, tickflow %s)",
		len(p.Pairs.Ratios), ratio, worst, fmtDuration(median(p.Pairs.Floor)), fmtDuration(p.Median()))
	t.Met = boolp(ratio <= 1.5 && worst <= 2.0)
	return t
}

func (r report) targetsText() string {
	var b strings.Builder
	b.WriteString("Targets:\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "  [%s] %s: %s\n", t.status(), t.Goal, orDash(t.Got))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// markdown is BENCHMARKS.md.
func (r report) markdown() string {
	var b strings.Builder
	m := r.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by the benchmark command in `bench/` (its own Go module, so River, pgx and gocron never enter tickflow's `go.mod`). Do not edit by hand: run it again. The opt-in sections at the end come from `-only` runs of the opt-in contenders (see `go run . -list`) and are kept by a regeneration.\n\n")
	b.WriteString("```sh\ncd bench && go run . -out ../BENCHMARKS.md\n```\n\n")
	b.WriteString("It uses `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test?sslmode=disable`); each contender runs in a child process and its own schema.\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPUs: %d (%s)\n", m.CPUs, m.CPUModel)
	fmt.Fprintf(&b, "- Memory: %.1f GiB\n", m.MemoryGB)
	if m.Kernel != "" {
		fmt.Fprintf(&b, "- OS: %s\n", m.Kernel)
	}
	fmt.Fprintf(&b, "- Go: %s\n", m.Go)
	fmt.Fprintf(&b, "- PostgreSQL: %s (same machine, over TCP on 127.0.0.1)\n", m.Postgres)
	if m.LoadAvg != "" {
		fmt.Fprintf(&b, "- Load average when the run started: %s (the machine is shared; figures are medians)\n", m.LoadAvg)
	}
	fmt.Fprintf(&b, "- Whole run: %s\n\n", r.Total.Round(time.Second))

	b.WriteString("## Results\n\n")
	b.WriteString("Wall time is the median of the runs listed. × floor divides by the floor at the same N. SQL statements are counted on the client side (a counting `database/sql` driver around lib/pq for the floor, a wire-protocol counting proxy for tickflow and the Lambda binary, a pgx tracer for River and gocron) over the timed part of one run; BEGIN/COMMIT/ROLLBACK are counted apart, and round trips / schedule counts both. Peak RSS is the contender's whole process (setup included), read from the operating system.\n\n")
	b.WriteString("| " + strings.Join(tableHeader, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(tableHeader)) + "\n")
	for _, row := range r.rows() {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
	if ps := r.pairs(); len(ps) > 0 {
		b.WriteString("### Floor and tickflow, alternating\n\n")
		b.WriteString("The rows above are measured one contender after another, minutes apart, on a shared machine whose speed drifts; this contender times the floor and tickflow ticks back to back in one process, so each ratio compares the two under the same conditions. The 1.5× target is judged on the median of these ratios, and no pair may exceed 2.0×; the loaded rows run the same pairs while `yes > /dev/null` processes keep the CPUs busy.\n\n")
		for _, line := range ps {
			b.WriteString("- " + line + "\n")
		}
		b.WriteString("\n")
	}
	if l, ok := r.lambda(); ok {
		b.WriteString("### Lambda binary\n\n")
		for _, line := range l.lines() {
			b.WriteString("- " + line + "\n")
		}
		b.WriteString("\n")
	}
	if bd := r.breakdowns(); bd != "" {
		b.WriteString("### Where tickflow's time goes\n\n")
		b.WriteString("Per statement kind, the time from sending it to the server's ReadyForQuery, seen by the counting proxy during one tick (server work plus the round trip; statements of concurrent ticks or of claiming and recording at once overlap, so the sum may exceed the wall time). Go CPU is the benchmark process's user+system CPU time during the timed ticks (median), against their median wall time.\n\n")
		b.WriteString(bd + "\n")
	}
	var notes []string
	seen := map[string]bool{}
	for _, res := range r.Results {
		for _, n := range res.Notes {
			if !seen[n] {
				seen[n] = true
				notes = append(notes, n)
			}
		}
	}
	if len(notes) > 0 {
		b.WriteString("### How each contender is measured\n\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Targets\n\n| target | measured | status |\n| --- | --- | --- |\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Goal, orDash(t.Got), t.status())
	}
	b.WriteString("\n")
	if len(r.Failures) > 0 {
		b.WriteString("## Failed contenders\n\n")
		for _, f := range r.Failures {
			b.WriteString("- " + f + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// keptMarker opens the part of BENCHMARKS.md that the full run does not
// measure: the opt-in contenders' sections, written from their -only runs
// (with their command and machine), which a regeneration keeps as is.
const keptMarker = "<!-- bench: opt-in sections below are kept when the full run regenerates this file -->"

// keptSections is the part of old (the report being replaced) from
// keptMarker on, or "" when it has none.
func keptSections(old string) string {
	i := strings.Index(old, keptMarker)
	if i < 0 {
		return ""
	}
	return old[i:]
}
