package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	_ "modernc.org/sqlite" // the in-process fixture test runs on SQLite; the binary itself links PostgreSQL only
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{
			name: "defaults",
			env:  map[string]string{"DATABASE_URL": "postgres://u:p@db:5432/app"},
			want: config{databaseURL: "postgres://u:p@db:5432/app", migrate: true, dashboard: dashboardLinked, maxConns: 2, tickPeriod: time.Minute, logLevel: slog.LevelInfo},
		},
		{
			name: "everything set",
			env: map[string]string{"DATABASE_URL": " postgres://db/app ", "TICKFLOW_MIGRATE": "false", "TICKFLOW_TOKEN": "s3cret",
				"TICKFLOW_MAX_CONNS": "4", "TICKFLOW_TICK_PERIOD": "5m", "LOG_LEVEL": "debug", "TICKFLOW_DASHBOARD": "false",
				"TICKFLOW_ALLOWED_HOSTS": "tickflow.internal, 10.0.0.5:8080",
				"TICKFLOW_RETAIN_RUNS":   "14d", "TICKFLOW_RETAIN_FAILED_RUNS": "forever", "TICKFLOW_RETAIN_TICKS": "36h"},
			want: config{databaseURL: "postgres://db/app", migrate: false, dashboard: false, token: "s3cret", maxConns: 4, tickPeriod: 5 * time.Minute, logLevel: slog.LevelDebug,
				allowedHosts: []string{"tickflow.internal", "10.0.0.5:8080"},
				retention:    core.Retention{Runs: 14 * 24 * time.Hour, FailedRuns: core.RetainForever, Ticks: 36 * time.Hour}},
		},
		{name: "no database", env: map[string]string{}, wantErr: "DATABASE_URL is required"},
		{name: "bad migrate", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_MIGRATE": "maybe"}, wantErr: "TICKFLOW_MIGRATE"},
		{name: "bad pool", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_MAX_CONNS": "0"}, wantErr: "TICKFLOW_MAX_CONNS"},
		{name: "bad period", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_TICK_PERIOD": "-1m"}, wantErr: "TICKFLOW_TICK_PERIOD"},
		{name: "claim hold too long", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_CLAIM_HOLD": "2m"}, wantErr: "TICKFLOW_CLAIM_HOLD"},
		{name: "claim hold zero", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_CLAIM_HOLD": "0"}, wantErr: "TICKFLOW_CLAIM_HOLD"},
		{name: "claim hold word", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_CLAIM_HOLD": "never"}, wantErr: "TICKFLOW_CLAIM_HOLD"},
		{
			name: "claim hold off",
			env:  map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_CLAIM_HOLD": "off"},
			want: config{databaseURL: "postgres://db", migrate: true, dashboard: dashboardLinked, maxConns: 2, tickPeriod: time.Minute, logLevel: slog.LevelInfo, claimHold: -1},
		},
		{
			name: "claim hold",
			env:  map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_CLAIM_HOLD": " 250ms "},
			want: config{databaseURL: "postgres://db", migrate: true, dashboard: dashboardLinked, maxConns: 2, tickPeriod: time.Minute, logLevel: slog.LevelInfo, claimHold: 250 * time.Millisecond},
		},
		{name: "bad allowed hosts", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALLOWED_HOSTS": "https://x.example/"}, wantErr: "TICKFLOW_ALLOWED_HOSTS"},
		{name: "negative retention", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_RETAIN_RUNS": "-1h"}, wantErr: "TICKFLOW_RETAIN_RUNS"},
		{name: "bad failed retention", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_RETAIN_FAILED_RUNS": "soon"}, wantErr: "TICKFLOW_RETAIN_FAILED_RUNS"},
		{name: "bad tick retention", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_RETAIN_TICKS": "1.5d"}, wantErr: "TICKFLOW_RETAIN_TICKS"},
		{
			name: "alert webhook",
			env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": " https://hooks.example.com/services/T/B/X ",
				"TICKFLOW_ALERT_WEBHOOK_SECRET": "0123456789abcdef0123", "TICKFLOW_TICK_PERIOD": "15m"},
			want: config{databaseURL: "postgres://db", migrate: true, dashboard: dashboardLinked, maxConns: 2, tickPeriod: 15 * time.Minute, logLevel: slog.LevelInfo,
				alertURL: "https://hooks.example.com/services/T/B/X", alertSecret: "0123456789abcdef0123", alertStoppedAfter: 45 * time.Minute},
		},
		{
			name: "alert gap set",
			env:  map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": "http://10.0.0.1:9000/a", "TICKFLOW_ALERT_TICKS_STOPPED_AFTER": "2m"},
			want: config{databaseURL: "postgres://db", migrate: true, dashboard: dashboardLinked, maxConns: 2, tickPeriod: time.Minute, logLevel: slog.LevelInfo,
				alertURL: "http://10.0.0.1:9000/a", alertStoppedAfter: 2 * time.Minute},
		},
		{name: "alert gap negative", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": "https://x.example/", "TICKFLOW_ALERT_TICKS_STOPPED_AFTER": "-1m"}, wantErr: "TICKFLOW_ALERT_TICKS_STOPPED_AFTER"},
		{name: "alert url not http", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": "file:///etc/passwd"}, wantErr: "TICKFLOW_ALERT_WEBHOOK_URL"},
		{name: "alert url with newline", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": "https://x.example/a\nb"}, wantErr: "TICKFLOW_ALERT_WEBHOOK_URL"},
		{name: "alert url without host", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": "https://:443/x"}, wantErr: "TICKFLOW_ALERT_WEBHOOK_URL"},
		{name: "alert secret short", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_URL": "https://x.example/", "TICKFLOW_ALERT_WEBHOOK_SECRET": "hunter2"}, wantErr: "TICKFLOW_ALERT_WEBHOOK_SECRET"},
		{name: "alert secret alone", env: map[string]string{"DATABASE_URL": "postgres://db", "TICKFLOW_ALERT_WEBHOOK_SECRET": "hunter2-hunter2-hunter2"}, wantErr: "without TICKFLOW_ALERT_WEBHOOK_URL"},
		{name: "bad level", env: map[string]string{"DATABASE_URL": "postgres://db", "LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "passwd") {
					t.Fatalf("loadConfig error = %v, want one mentioning %s, without secrets", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("loadConfig = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestInvokeFixtures runs the function in process (lambda.NewHandler, as the
// runtime would) on a SQLite store, with every fixture of events/.
func TestInvokeFixtures(t *testing.T) {
	dir := t.TempDir()
	cfg := config{databaseURL: "sqlite:" + filepath.Join(dir, "tickflow.db"), migrate: true, maxConns: 2, tickPeriod: time.Minute}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, store, err := setup(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	defer store.Close()
	fn := lambda.NewHandler(h.Lambda())

	invoke := func(name string) []byte {
		t.Helper()
		payload, err := os.ReadFile(filepath.Join(repoRoot, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-" + name})
		out, err := fn.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("invoke %s: %v", name, err)
		}
		return out
	}
	report := func(name string) core.Report {
		t.Helper()
		var rep core.Report
		if err := json.Unmarshal(invoke(name), &rep); err != nil {
			t.Fatalf("%s: response is not a tick report: %v", name, err)
		}
		if rep.TickID == "" || rep.Error != "" {
			t.Fatalf("%s: report %+v", name, rep)
		}
		return rep
	}

	// The first tick syncs the demo schedules; cleanup_expired_sessions runs
	// on startup.
	first := report("eventbridge-rule.json")
	if !first.Synced || first.Claimed != 1 || first.Succeeded != 1 {
		t.Errorf("first tick = %+v, want synced, 1 claimed, 1 succeeded", first)
	}
	run, _, err := store.InsertRun(context.Background(), core.InsertRunParams{
		Task: demo.SendEmail, DisplayName: demo.SendEmail, Source: core.SourceManual,
		Payload: json.RawMessage(`{"to":"ada@example.com"}`), MaxAttempts: 1,
	})
	if err != nil {
		t.Fatalf("insert run: %v", err)
	}
	if rep := report("scheduler.json"); rep.Claimed != 1 || rep.Succeeded != 1 {
		t.Errorf("scheduler tick = %+v, want the send_email run claimed and succeeded", rep)
	}
	if got, err := store.GetRun(context.Background(), run.ID); err != nil || got.Status != core.StatusSuccess {
		t.Errorf("send_email run = %+v, %v; want success", got, err)
	}
	for _, name := range []string{"scheduler-input.json", "empty.json"} {
		if rep := report(name); rep.Claimed != 0 || rep.Failed != 0 {
			t.Errorf("%s: report %+v, want nothing to do", name, rep)
		}
	}

	var resp events.LambdaFunctionURLResponse
	if err := json.Unmarshal(invoke("function-url-runs.json"), &resp); err != nil {
		t.Fatalf("function URL response: %v", err)
	}
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"task":"send_email"`) || !strings.Contains(resp.Body, `"task":"cleanup_expired_sessions"`) {
		t.Errorf("GET /api/runs via the Function URL = %d %s", resp.StatusCode, resp.Body)
	}
}

// TestFixturesKinds checks that each fixture is what its name says.
func TestFixturesKinds(t *testing.T) {
	want := map[string]string{
		"eventbridge-rule.json":  handler.KindEventBridgeRule,
		"scheduler.json":         handler.KindScheduler,
		"scheduler-input.json":   handler.KindSchedulerInput,
		"empty.json":             handler.KindEmpty,
		"function-url-runs.json": handler.KindFunctionURL,
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("events/ has %d fixtures, want %d: update this test and the emulator test", len(files), len(want))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		trig, err := handler.DecodeTrigger(b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if trig.Kind != want[filepath.Base(f)] {
			t.Errorf("%s decodes as %q, want %q", f, trig.Kind, want[filepath.Base(f)])
		}
	}
}

func TestSetupFailsOnUnreachableDatabase(t *testing.T) {
	cfg := config{databaseURL: "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", migrate: true, maxConns: 2, tickPeriod: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, _, err := setup(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "open store") {
		t.Fatalf("setup on an unreachable database = %v, want an open store error", err)
	}
}
