package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tickflow/tickflow/core"
)

// emfDoc is the subset of an EMF document the tests read; the rest of the
// root is in Root.
type emfDoc struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	Root map[string]any `json:"-"`
}

// parseEMF decodes each line of out and checks what the EMF specification
// requires: a directive whose every metric and dimension is a member of the
// root, metrics as numbers and dimensions as strings.
func parseEMF(t *testing.T, out string) []emfDoc {
	t.Helper()
	var docs []emfDoc
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var d emfDoc
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		if err := json.Unmarshal([]byte(line), &d.Root); err != nil {
			t.Fatal(err)
		}
		if len(d.AWS.CloudWatchMetrics) != 1 || d.AWS.Timestamp == 0 {
			t.Fatalf("EMF line without one directive and a timestamp: %s", line)
		}
		dir := d.AWS.CloudWatchMetrics[0]
		if dir.Namespace != "tickflow" || len(dir.Metrics) == 0 || len(dir.Dimensions) != 1 {
			t.Fatalf("EMF directive %+v", dir)
		}
		for _, dim := range dir.Dimensions[0] {
			if _, ok := d.Root[dim].(string); !ok {
				t.Errorf("dimension %q is not a string member of the root: %s", dim, line)
			}
		}
		for _, m := range dir.Metrics {
			if _, ok := d.Root[m.Name].(float64); !ok {
				t.Errorf("metric %q is not a number member of the root: %s", m.Name, line)
			}
			if m.Unit != "Count" && m.Unit != "Milliseconds" {
				t.Errorf("metric %q unit %q", m.Name, m.Unit)
			}
		}
		docs = append(docs, d)
	}
	return docs
}

func TestEMFLine(t *testing.T) {
	var buf bytes.Buffer
	m := newEMFMetrics(&buf, "")
	at := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return at }
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})

	m.ObserveTick(ctx, core.Report{TickID: "tick_1", Claimed: 4, Succeeded: 2, Failed: 1, Retried: 1, Skipped: 1}, nil, 1500*time.Microsecond)
	m.ObserveTick(context.Background(), core.Report{TickID: "tick_2", Error: "connection refused"}, errors.New("connection refused"), time.Second)

	docs := parseEMF(t, buf.String())
	if len(docs) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(docs), buf.String())
	}
	first, second := docs[0].Root, docs[1].Root
	if docs[0].AWS.Timestamp != at.UnixMilli() {
		t.Errorf("Timestamp = %d, want %d", docs[0].AWS.Timestamp, at.UnixMilli())
	}
	for k, want := range map[string]any{
		"function": "tickflow", "tick_id": "tick_1", "aws_request_id": "req-1",
		"claimed": 4.0, "succeeded": 2.0, "failed": 1.0, "retried": 1.0, "skipped": 1.0,
		"tick_errors": 0.0, "duration_ms": 1.5,
	} {
		if first[k] != want {
			t.Errorf("first line %s = %v, want %v", k, first[k], want)
		}
	}
	if second["tick_errors"] != 1.0 || second["error"] != "connection refused" || second["duration_ms"] != 1000.0 {
		t.Errorf("failed tick line = %v, want tick_errors 1, the error and 1000 ms", second)
	}
	if _, ok := second["aws_request_id"]; ok {
		t.Errorf("a context without a Lambda request id must not add one: %v", second)
	}
}

// TestSetupEmitsEMF runs ticks through the function set up as main does and
// checks one EMF line per tick, with the function name from the environment.
func TestSetupEmitsEMF(t *testing.T) {
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{
			"DATABASE_URL":             "sqlite:" + filepath.Join(t.TempDir(), "tickflow.db"),
			"AWS_LAMBDA_FUNCTION_NAME": "tickflow-prod",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg.metricsOut = &out
	h, store, err := setup(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	defer store.Close()
	fn := lambda.NewHandler(h.Lambda())
	for range 2 {
		if _, err := fn.Invoke(context.Background(), []byte(`{}`)); err != nil {
			t.Fatalf("invoke: %v", err)
		}
	}
	docs := parseEMF(t, out.String())
	if len(docs) != 2 {
		t.Fatalf("%d EMF lines for 2 ticks:\n%s", len(docs), out.String())
	}
	// The first tick runs cleanup_expired_sessions (run on startup).
	if d := docs[0].Root; d["function"] != "tickflow-prod" || d["claimed"] != 1.0 || d["succeeded"] != 1.0 {
		t.Errorf("first tick's line = %v, want function tickflow-prod, 1 claimed and succeeded", d)
	}

	// GET /metrics is not served by the Lambda function.
	res, err := fn.Invoke(context.Background(), []byte(`{"version":"2.0","rawPath":"/metrics","requestContext":{"http":{"method":"GET"}}}`))
	if err != nil || !bytes.Contains(res, []byte(`"statusCode":404`)) || !bytes.Contains(res, []byte("metrics are not enabled")) {
		t.Errorf("GET /metrics through the Function URL = %s, %v; want a 404", res, err)
	}
}
