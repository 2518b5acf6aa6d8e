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

// fakeMetrics records the ticks it observes; served, it also serves
// GET /metrics.
type fakeMetrics struct {
	mu    sync.Mutex
	ticks []observedTick
}

type observedTick struct {
	rep     core.Report
	err     error
	elapsed time.Duration
}

func (m *fakeMetrics) ObserveTick(_ context.Context, rep core.Report, err error, elapsed time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ticks = append(m.ticks, observedTick{rep, err, elapsed})
}

func (m *fakeMetrics) observed() []observedTick {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ticks)
}

type servedMetrics struct{ *fakeMetrics }

func (servedMetrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "fake_metric 1\n")
}

// TestMetricsObserver checks that Config.Metrics sees every tick, failed
// ones with their error, and serves GET /metrics only when it is an
// http.Handler.
func TestMetricsObserver(t *testing.T) {
	plain := &fakeMetrics{}
	e := newEnv(t, withMetrics(plain))
	e.addTask("send_email", "")
	e.addTask("flaky", "")
	rep := e.tick()
	e.store.down.Store(true)
	expect(t, e.do("POST", "/tick", ""), http.StatusInternalServerError)
	got := plain.observed()
	if len(got) != 2 {
		t.Fatalf("observed %d ticks, want 2", len(got))
	}
	if got[0].err != nil || got[0].rep.TickID != rep.TickID || got[0].rep.Succeeded != 1 || got[0].rep.Failed != 1 || got[0].elapsed <= 0 {
		t.Errorf("first tick observed as %+v, want report %+v without error", got[0], rep)
	}
	if !errors.Is(got[1].err, errDown) || got[1].rep.Error == "" {
		t.Errorf("failed tick observed as %+v, want the store error", got[1])
	}
	expect(t, e.do("GET", "/metrics", ""), http.StatusNotFound).errorMessage(t)

	served := servedMetrics{&fakeMetrics{}}
	e = newEnv(t, withMetrics(served))
	if r := expect(t, e.do("GET", "/metrics", ""), http.StatusOK); string(r.body) != "fake_metric 1\n" {
		t.Errorf("GET /metrics = %q, want the Metrics' own exposition", r.body)
	}
	e.tick()
	if n := len(served.observed()); n != 1 {
		t.Errorf("served Metrics observed %d ticks, want 1", n)
	}
}
