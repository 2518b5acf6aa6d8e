package main

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"time"
)

// Result is one contender's measurement. A child process prints it as JSON;
// the parent adds the peak RSS it observed.
type Result struct {
	// Name identifies the contender on the command line (-only NAME).
	Name string `json:"name"`
	// Group is floor, tickflow, river, gocron or lambda.
	Group string `json:"group"`
	// Title describes the measurement in the report.
	Title string `json:"title"`
	// N is the number of schedules (jobs) fired per run; 0 for an empty tick.
	N int `json:"n"`
	// Runs are the timed repetitions, in seconds.
	Runs []float64 `json:"runs"`
	// Counts are the SQL statements of each run.
	Counts []Counts `json:"counts"`
	// Completed is how many runs the last repetition completed.
	Completed int `json:"completed"`
	// Notes are caveats shown under the table.
	Notes []string `json:"notes,omitempty"`
	// MaxRSSKB is the contender process's peak resident set size, in KiB.
	MaxRSSKB int64 `json:"max_rss_kb"`
	// TickMaxRSSKB is the peak resident set size during the timed ticks
	// alone, in KiB (tickflow only, Linux: the peak is reset after the
	// setup, which registers and syncs the N schedules); 0 when unknown.
	TickMaxRSSKB int64 `json:"tick_max_rss_kb,omitempty"`
	// SetupMaxRSSKB is the peak before that reset (the setup's), which the
	// reset hides from the operating system's figure for the whole process:
	// MaxRSSKB is the larger of the two.
	SetupMaxRSSKB int64 `json:"setup_max_rss_kb,omitempty"`
	// Breakdown is the time per statement kind of one tick, seen from the
	// client (tickflow only; from the counted pass).
	Breakdown []StatementTime `json:"breakdown,omitempty"`
	// CPUSeconds is the process's CPU time (user and system) during each
	// timed tick (tickflow only).
	CPUSeconds []float64 `json:"cpu_seconds,omitempty"`
	// Pairs holds the alternating floor and tickflow ticks (Group pair
	// only); Runs are then tickflow's.
	Pairs *PairFigures `json:"pairs,omitempty"`
	// Lambda holds the bootstrap figures (Group lambda only).
	Lambda *LambdaFigures `json:"lambda,omitempty"`
	// Stored holds the two pairs of the stored-N contender.
	Stored *StoredFigures `json:"stored,omitempty"`
	// Figures are the named figures of the runtime-schedule contenders
	// (Group stored), printed by -only.
	Figures []Figure `json:"figures,omitempty"`
}

// Figure is one named figure: a duration in seconds (Unit "s"), a ratio
// ("×"), a rate ("/s") or a count.
type Figure struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// String renders the figure for a terminal or the report.
func (f Figure) String() string {
	switch f.Unit {
	case "s":
		return f.Label + ": " + fmtDuration(f.Value)
	case "×":
		return fmt.Sprintf("%s: %.2f×", f.Label, f.Value)
	case "/s":
		return f.Label + ": " + thousands(int(f.Value+0.5)) + "/s"
	case "":
		return f.Label + ": " + thousands(int(f.Value+0.5))
	default:
		return f.Label + ": " + thousands(int(f.Value+0.5)) + " " + f.Unit
	}
}

// PairFigures are floor and tickflow ticks of the same N timed alternately
// in one process, so that both see the same state of a shared machine.
type PairFigures struct {
	// Floor are the floor's ticks, in seconds, Floor[i] paired with Runs[i].
	Floor []float64 `json:"floor"`
	// Ratios are Runs[i] / Floor[i].
	Ratios []float64 `json:"ratios"`
}

// BuildSize is the size of one build of cmd/lambda.
type BuildSize struct {
	Arch  string `json:"arch"`
	Tags  string `json:"tags"`
	Bytes int64  `json:"bytes"`
}

// LambdaFigures are the Lambda binary's size and start-up times.
type LambdaFigures struct {
	BootstrapBytes int64 `json:"bootstrap_bytes"`
	// Arch is the GOOS/GOARCH the bootstrap was built for (this machine's).
	Arch string `json:"arch"`
	// Builds are the sizes of the other builds of cmd/lambda: the other
	// architecture and the tick-only build (-tags tickflow.nodashboard).
	Builds []BuildSize `json:"builds,omitempty"`
	// ColdMS is the first invocation under the emulator, from request to
	// response, the process start included (median over fresh emulators).
	ColdMS float64 `json:"cold_ms"`
	// WarmMS is a second invocation of the same process.
	WarmMS float64 `json:"warm_ms"`
	// ConnectMS is a fresh PostgreSQL connection (dial, startup, first query).
	ConnectMS float64 `json:"connect_ms"`
	// ColdMigrateMS is the cold start with TICKFLOW_MIGRATE left at its
	// default (true): the schema is applied at cold start.
	ColdMigrateMS float64 `json:"cold_migrate_ms"`
	// EmptyColdMS is the cold start of a function that does nothing under
	// the same emulator: the emulator's and a Go process's own share.
	EmptyColdMS float64 `json:"empty_cold_ms"`
	// ColdRuns are the individual cold starts.
	ColdRuns []float64 `json:"cold_runs"`
}

func (r *Result) addRun(elapsed time.Duration, c Counts, completed int) {
	r.Runs = append(r.Runs, elapsed.Seconds())
	r.Counts = append(r.Counts, c)
	r.Completed = completed
}

// Median is the median wall time in seconds.
func (r Result) Median() float64 { return median(r.Runs) }

// MedianCounts is the run-wise median of the statement counts.
func (r Result) MedianCounts() Counts {
	s := make([]float64, len(r.Counts))
	t := make([]float64, len(r.Counts))
	for i, c := range r.Counts {
		s[i], t[i] = float64(c.Statements), float64(c.TxControl)
	}
	return Counts{Statements: int64(median(s) + 0.5), TxControl: int64(median(t) + 0.5)}
}

// PerSecond is the throughput in schedules per second.
func (r Result) PerSecond() float64 {
	m := r.Median()
	if m <= 0 || r.N == 0 {
		return 0
	}
	return float64(r.N) / m
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtDuration renders seconds as ms below 10 s.
func fmtDuration(sec float64) string {
	switch {
	case sec == 0:
		return "-"
	case sec < 0.01:
		return fmt.Sprintf("%.2f ms", sec*1000)
	case sec < 1:
		return fmt.Sprintf("%.0f ms", sec*1000)
	case sec < 10:
		return fmt.Sprintf("%.2f s", sec)
	default:
		return fmt.Sprintf("%.1f s", sec)
	}
}

// moduleVersion is the version of a dependency built into this binary.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "?"
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil && m.Replace.Version != "" {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return "?"
}
