package main

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tickflow/tickflow/core"
)

// emfNamespace is the CloudWatch namespace of the tick metrics.
const emfNamespace = "tickflow"

// emfMetrics is the function's tick observer (core.Observer, added to the
// engine by setup): it writes each tick's counts as one JSON line in
// CloudWatch Embedded Metric Format, which CloudWatch Logs turns into
// metrics of namespace "tickflow" with the dimension function (no agent, no
// API call, no scrape). It does not serve /metrics.
type emfMetrics struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	now      func() time.Time
}

var _ core.Observer = (*emfMetrics)(nil)

// newEMFMetrics writes to w (the function's stdout) with the dimension
// function set to name (AWS_LAMBDA_FUNCTION_NAME; "tickflow" when empty).
func newEMFMetrics(w io.Writer, name string) *emfMetrics {
	if name == "" {
		name = "tickflow"
	}
	return &emfMetrics{w: w, function: name, now: time.Now}
}

// emfMetric declares one metric of the line.
type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// emfDirective is the line's metric directive: which members are metrics.
var emfDirective = []struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}{{
	Namespace:  emfNamespace,
	Dimensions: [][]string{{"function"}},
	Metrics: []emfMetric{
		{"claimed", "Count"}, {"succeeded", "Count"}, {"failed", "Count"}, {"retried", "Count"},
		{"skipped", "Count"}, {"pruned_runs", "Count"}, {"tick_errors", "Count"}, {"duration_ms", "Milliseconds"},
	},
}}

// emfLine is one tick's EMF document; the members besides _aws, function
// and the metrics are searchable properties.
type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics any   `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	Msg          string  `json:"msg"`
	Function     string  `json:"function"`
	TickID       string  `json:"tick_id,omitempty"`
	AWSRequestID string  `json:"aws_request_id,omitempty"`
	Error        string  `json:"error,omitempty"`
	Claimed      int     `json:"claimed"`
	Succeeded    int     `json:"succeeded"`
	Failed       int     `json:"failed"`
	Retried      int     `json:"retried"`
	Skipped      int     `json:"skipped"`
	PrunedRuns   int     `json:"pruned_runs"`
	TickErrors   int     `json:"tick_errors"`
	DurationMS   float64 `json:"duration_ms"`
}

// ObserveTick writes the tick's line. tick_errors is 1 for an infrastructure
// failure (alarm on its sum); duration_ms is the tick's wall time as the
// engine measured it.
func (m *emfMetrics) ObserveTick(ctx context.Context, rep core.Report, err error, elapsed time.Duration) {
	l := emfLine{
		Msg: "tick metrics", Function: m.function, TickID: rep.TickID, Error: rep.Error,
		Claimed: rep.Claimed, Succeeded: rep.Succeeded, Failed: rep.Failed, Retried: rep.Retried, Skipped: rep.Skipped,
		PrunedRuns: rep.PrunedRuns, DurationMS: float64(elapsed.Microseconds()) / 1000,
	}
	l.AWS.Timestamp = m.now().UnixMilli()
	l.AWS.CloudWatchMetrics = emfDirective
	if err != nil {
		l.TickErrors = 1
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		l.AWSRequestID = lc.AwsRequestID
	}
	b, merr := json.Marshal(l)
	if merr != nil {
		return // plain structs of strings and numbers: cannot happen
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n')) // one write per line: lines never interleave
}

// ObserveRun does nothing: the line carries the tick's counts, and one line
// per run would cost a log line each.
func (m *emfMetrics) ObserveRun(context.Context, core.Run, core.Outcome) {}
