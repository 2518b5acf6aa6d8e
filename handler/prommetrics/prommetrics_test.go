package prommetrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/handler/prommetrics"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

var (
	_ core.Observer = (*prommetrics.Metrics)(nil)
	_ http.Handler  = (*prommetrics.Metrics)(nil)
)

// t0 is the stub clock's start.
var t0 = time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)

// downStore fails BeginTick and Stats while down is set.
type downStore struct {
	core.Store
	down atomic.Bool
}

var errDown = errors.New("connection refused (injected)")

func (s *downStore) BeginTick(ctx context.Context, p core.BeginTickParams) (core.TickStart, error) {
	if s.down.Load() {
		return core.TickStart{}, errDown
	}
	return s.Store.BeginTick(ctx, p)
}

func (s *downStore) Stats(ctx context.Context, now time.Time) (core.Stats, error) {
	if s.down.Load() {
		return core.Stats{}, errDown
	}
	return s.Store.Stats(ctx, now)
}

// server is a handler with prommetrics over a SQLite store and a stub clock:
// "cleanup" every 5 minutes (first slot t0+5m), manual "ok" and "fail".
type server struct {
	t       *testing.T
	store   *downStore
	clock   *core.StubClock
	engine  *core.Engine
	metrics *prommetrics.Metrics
	url     string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, store: &downStore{Store: sqlstoretest.OpenSQLite(t)}, clock: core.NewStubClock(t0)}
	reg := core.NewRegistry()
	reg.MustSchedule("cleanup", func(context.Context, core.RunInfo) error { return nil }, core.Every(5*time.Minute))
	reg.MustRegister("ok", func(context.Context, core.RunInfo) error { return nil })
	reg.MustRegister("fail", func(context.Context, core.RunInfo) error { return errors.New("fail failed") })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := core.NewEngine(core.Config{Store: s.store, Registry: reg, Clock: s.clock, Logger: log})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if _, err := eng.Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	s.engine = eng
	s.metrics = prommetrics.New(eng)
	h, err := handler.New(handler.Config{Engine: eng, Metrics: s.metrics, Logger: log})
	if err != nil {
		t.Fatalf("handler.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// do sends a request and returns the status and body.
func (s *server) do(method, path, body string) (int, string) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("read body: %v", err)
	}
	return res.StatusCode, string(b)
}

// expect sends a request and fails the test unless the status is want.
func (s *server) expect(want int, method, path, body string) string {
	s.t.Helper()
	status, b := s.do(method, path, body)
	if status != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, b)
	}
	return b
}

// metricValue returns the value of the sample whose line starts with series.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("metrics lack %s:\n%s", series, text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s value %q: %v", series, m[1], err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	s := newServer(t)
	s.expect(http.StatusCreated, "POST", "/api/runs", `{"task":"ok"}`)
	s.expect(http.StatusCreated, "POST", "/api/runs", `{"task":"fail"}`)
	s.clock.Advance(5 * time.Minute)
	s.expect(http.StatusOK, "POST", "/tick", "") // cleanup, ok, fail
	s.expect(http.StatusCreated, "POST", "/api/runs", `{"task":"ok"}`)
	s.clock.Advance(5*time.Minute + 30*time.Second) // the next cleanup slot is 30 s overdue

	text := s.expect(http.StatusOK, "GET", "/metrics", "")
	for series, want := range map[string]float64{
		`tickflow_ticks_total{result="ok"}`:              1,
		`tickflow_ticks_total{result="error"}`:           0,
		`tickflow_tick_duration_seconds_count`:           1,
		`tickflow_runs_finished_total{status="success"}`: 2,
		`tickflow_runs_finished_total{status="failed"}`:  1,
		`tickflow_runs_finished_total{status="skipped"}`: 0,
		`tickflow_runs_pruned_total`:                     0,
		`tickflow_runs{status="success"}`:                2,
		`tickflow_runs{status="failed"}`:                 1,
		`tickflow_runs{status="pending"}`:                1,
		`tickflow_due_unclaimed`:                         1,
		`tickflow_oldest_due_lag_seconds`:                30,
		`tickflow_last_tick_timestamp_seconds`:           float64(t0.Add(5 * time.Minute).Unix()),
		`tickflow_store_up`:                              1,
	} {
		if got := metricValue(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !strings.Contains(text, "go_goroutines") {
		t.Error("metrics lack the Go runtime collector")
	}

	// A failed tick counts as an error; a store that is down does not fail
	// the scrape.
	s.store.down.Store(true)
	s.expect(http.StatusInternalServerError, "POST", "/tick", "")
	text = s.expect(http.StatusOK, "GET", "/metrics", "")
	if got := metricValue(t, text, `tickflow_ticks_total{result="error"}`); got != 1 {
		t.Errorf("error ticks = %v, want 1", got)
	}
	if got := metricValue(t, text, `tickflow_store_up`); got != 0 {
		t.Errorf("store_up with the store down = %v, want 0", got)
	}
	if strings.Contains(text, "tickflow_due_unclaimed") {
		t.Error("store gauges present while the store is down")
	}
}

// TestEngineTicksCounted checks that ticks the handler never sees, such as
// cmd/local's "tick" command runs (Engine.TickAs), are counted: Metrics
// observe the engine, not the handler. Each tick is counted once, and each
// executed run's wall time goes to tickflow_run_duration_seconds.
func TestEngineTicksCounted(t *testing.T) {
	s := newServer(t)
	s.expect(http.StatusCreated, "POST", "/api/runs", `{"task":"ok"}`)
	s.expect(http.StatusCreated, "POST", "/api/runs", `{"task":"fail"}`)
	if _, err := s.engine.TickAs(t.Context(), "cli"); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(5 * time.Minute)
	if _, err := s.engine.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.expect(http.StatusOK, "POST", "/tick", "")

	text := s.expect(http.StatusOK, "GET", "/metrics", "")
	for series, want := range map[string]float64{
		`tickflow_ticks_total{result="ok"}`:                                     3,
		`tickflow_tick_duration_seconds_count`:                                  3,
		`tickflow_runs_finished_total{status="success"}`:                        2,
		`tickflow_runs_finished_total{status="failed"}`:                         1,
		`tickflow_run_duration_seconds_count{outcome="success",task="ok"}`:      1,
		`tickflow_run_duration_seconds_count{outcome="failed",task="fail"}`:     1,
		`tickflow_run_duration_seconds_count{outcome="success",task="cleanup"}`: 1,
	} {
		if got := metricValue(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

// TestPrunedRuns: the runs a tick's retention deleted are counted.
func TestPrunedRuns(t *testing.T) {
	s := newServer(t)
	m := prommetrics.New(s.engine)
	m.ObserveTick(t.Context(), core.Report{PrunedRuns: 7}, nil, time.Millisecond)
	m.ObserveTick(t.Context(), core.Report{PrunedRuns: 5, AlertsDelivered: 3, AlertsFailed: 1}, nil, time.Millisecond)
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if got := metricValue(t, rec.Body.String(), "tickflow_runs_pruned_total"); got != 12 {
		t.Errorf("tickflow_runs_pruned_total = %v, want 12", got)
	}
	if got := metricValue(t, rec.Body.String(), `tickflow_alerts_total{result="delivered"}`); got != 3 {
		t.Errorf("delivered alerts = %v, want 3", got)
	}
	if got := metricValue(t, rec.Body.String(), `tickflow_alerts_total{result="failed"}`); got != 1 {
		t.Errorf("failed alerts = %v, want 1", got)
	}
}

// TestRegistry checks that each Metrics has its own registry, served at
// /metrics, which takes collectors of the program's own.
func TestRegistry(t *testing.T) {
	s := newServer(t)
	if prommetrics.New(s.engine).Registry() == s.metrics.Registry() {
		t.Fatal("two Metrics share a registry")
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_things_total", Help: "Things."})
	s.metrics.Registry().MustRegister(c)
	c.Add(3)
	text := s.expect(http.StatusOK, "GET", "/metrics", "")
	if got := metricValue(t, text, "app_things_total"); got != 3 {
		t.Errorf("app_things_total = %v, want 3", got)
	}
}
