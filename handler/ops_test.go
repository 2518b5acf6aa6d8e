package handler_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	e := newEnv(t)
	e.addTask("send_email", "")
	e.addTask("flaky", "")
	e.clock.Advance(5 * time.Minute)
	e.tick()
	e.addTask("send_email", "")
	e.clock.Advance(5*time.Minute + 30*time.Second) // the next cleanup slot is 30 s overdue

	r := expect(t, e.do("GET", "/metrics", ""), http.StatusOK)
	text := string(r.body)
	for series, want := range map[string]float64{
		`tickflow_ticks_total{result="ok"}`:              1,
		`tickflow_ticks_total{result="error"}`:           0,
		`tickflow_tick_duration_seconds_count`:           1,
		`tickflow_runs_finished_total{status="success"}`: 2,
		`tickflow_runs_finished_total{status="failed"}`:  1,
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
	e.store.down.Store(true)
	expect(t, e.do("POST", "/tick", ""), http.StatusInternalServerError)
	text = string(expect(t, e.do("GET", "/metrics", ""), http.StatusOK).body)
	if got := metricValue(t, text, `tickflow_ticks_total{result="error"}`); got != 1 {
		t.Errorf("error ticks = %v, want 1", got)
	}
	if got := metricValue(t, text, `tickflow_store_up`); got != 0 {
		t.Errorf("store_up with the store down = %v, want 0", got)
	}

	// Each Handler has its own registry.
	h2, err := handler.New(handler.Config{Engine: e.engine})
	if err != nil {
		t.Fatalf("a second handler: %v", err)
	}
	if h2.Registry() == e.h.Registry() {
		t.Fatal("handlers share a registry")
	}
}
