package handler_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t) // TickPeriod 1m, StaleAfter 3: threshold 3 minutes
	health := func(want int) handler.Health {
		t.Helper()
		var h handler.Health
		r := expect(t, e.do("GET", "/healthz", ""), want)
		r.json(t, &h)
		if h.ThresholdSeconds != 180 {
			t.Fatalf("threshold = %v, want 180", h.ThresholdSeconds)
		}
		return h
	}

	// No tick yet: healthy while the handler is young, then not.
	if h := health(http.StatusOK); h.Status != "starting" || h.LastTickAt != nil {
		t.Fatalf("fresh handler: %+v", h)
	}
	e.clock.Advance(3*time.Minute + time.Second)
	if h := health(http.StatusServiceUnavailable); h.Status != "no_ticks" {
		t.Fatalf("no tick after the threshold: %+v", h)
	}

	// Ticks arrive: healthy, age from the store's last tick.
	e.tick()
	h := health(http.StatusOK)
	if h.Status != "ok" || h.AgeSeconds == nil || *h.AgeSeconds != 0 || h.LastTickAt == nil || !h.LastTickAt.Equal(*h.Now) {
		t.Fatalf("just after a tick: %+v", h)
	}
	e.clock.Advance(3 * time.Minute)
	if h := health(http.StatusOK); h.Status != "ok" || *h.AgeSeconds != 180 {
		t.Fatalf("at the threshold: %+v", h)
	}

	// Ticks stop: 503 with the age.
	e.clock.Advance(time.Second)
	h = health(http.StatusServiceUnavailable)
	if h.Status != "stale" || h.AgeSeconds == nil || *h.AgeSeconds != 181 {
		t.Fatalf("past the threshold: %+v", h)
	}
	// The cleanup schedule is overdue and unclaimed.
	if h.DueUnclaimed != 1 || h.OldestDueLagSeconds <= 0 {
		t.Errorf("due work: %+v", h)
	}

	// The store is down: 503, the cause logged, not sent.
	e.store.down.Store(true)
	h = health(http.StatusServiceUnavailable)
	if h.Status != "error" || h.Error != "store unavailable" {
		t.Fatalf("store down: %+v", h)
	}
}

func TestHealthzCustomPeriod(t *testing.T) {
	e := newEnv(t)
	h, err := handler.New(handler.Config{Engine: e.engine, TickPeriod: 10 * time.Second, StaleAfter: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.tick()
	e.clock.Advance(21 * time.Second)
	hl, ok, err := h.Check(t.Context())
	if err != nil || ok || hl.Status != "stale" || hl.ThresholdSeconds != 20 {
		t.Fatalf("Check 21s after a tick with a 20s threshold = %+v, %t, %v", hl, ok, err)
	}
}

// TestMetricsDisabled checks that without Config.Metrics, GET /metrics is a
// JSON 404 (not the dashboard) and ticks still run.
func TestMetricsDisabled(t *testing.T) {
	e := newEnv(t)
	e.tick()
	r := expect(t, e.do("GET", "/metrics", ""), http.StatusNotFound)
	if msg := r.errorMessage(t); !strings.Contains(msg, "metrics are not enabled") {
		t.Errorf("GET /metrics error = %q, want it to say metrics are not enabled", msg)
	}
}

// TestDashboardOptIn checks that without Config.Dashboard only the API is
// served: the dashboard's paths are JSON 404s and the API still works.
func TestDashboardOptIn(t *testing.T) {
	e := newEnv(t, withoutDashboard())
	for _, path := range []string{"/", "/ui/schedules", "/ui/static/style.css", "/nope"} {
		r := expect(t, e.do("GET", path, ""), http.StatusNotFound)
		r.errorMessage(t) // JSON, not an HTML page
	}
	expect(t, e.do("GET", "/api/schedules", ""), http.StatusOK)

	e = newEnv(t) // with a dashboard (stubDashboard)
	if r := e.do("GET", "/ui/schedules", ""); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/schedules with the dashboard: %d %q", r.status, r.header.Get("Content-Type"))
	}
}

// fakeObserver records the ticks and runs the engine reports to it.
type fakeObserver struct {
	mu    sync.Mutex
	ticks []observedTick
	runs  []core.Outcome
}

type observedTick struct {
	rep     core.Report
	err     error
	elapsed time.Duration
}

func (m *fakeObserver) ObserveTick(_ context.Context, rep core.Report, err error, elapsed time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ticks = append(m.ticks, observedTick{rep, err, elapsed})
}

func (m *fakeObserver) ObserveRun(_ context.Context, _ core.Run, o core.Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs = append(m.runs, o)
}

func (m *fakeObserver) observed() ([]observedTick, []core.Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ticks), slices.Clone(m.runs)
}

// servedMetrics is a Config.Metrics: it serves GET /metrics.
type servedMetrics struct{}

func (servedMetrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "fake_metric 1\n")
}

// TestTicksObserved checks that an observer of the engine sees every tick
// once, whoever ran it (POST /tick, Handler.Tick as the timer and Lambda
// call it, or the engine directly as the CLI does), failed ones with their
// error, and every executed run.
func TestTicksObserved(t *testing.T) {
	e := newEnv(t)
	obs := &fakeObserver{}
	e.engine.AddObserver(obs)
	e.addTask("send_email", "")
	e.addTask("flaky", "")
	rep := e.tick()
	if _, err := e.h.Tick(t.Context(), "timer"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.TickAs(t.Context(), "cli"); err != nil {
		t.Fatal(err)
	}
	e.store.down.Store(true)
	expect(t, e.do("POST", "/tick", ""), http.StatusInternalServerError)
	ticks, runs := obs.observed()
	if len(ticks) != 4 {
		t.Fatalf("observed %d ticks, want 4", len(ticks))
	}
	if got := ticks[0]; got.err != nil || got.rep.TickID != rep.TickID || got.rep.Succeeded != 1 || got.rep.Failed != 1 || got.elapsed <= 0 {
		t.Errorf("first tick observed as %+v, want report %+v without error", got, rep)
	}
	if !errors.Is(ticks[3].err, errDown) || ticks[3].rep.Error == "" {
		t.Errorf("failed tick observed as %+v, want the store error", ticks[3])
	}
	if len(runs) != 2 {
		t.Errorf("observed %d runs, want 2 (send_email and flaky): %+v", len(runs), runs)
	}
}

// TestMetricsServed checks that Config.Metrics serves GET /metrics.
func TestMetricsServed(t *testing.T) {
	e := newEnv(t, withMetrics(servedMetrics{}))
	if r := expect(t, e.do("GET", "/metrics", ""), http.StatusOK); string(r.body) != "fake_metric 1\n" {
		t.Errorf("GET /metrics = %q, want the Metrics' own exposition", r.body)
	}
}
