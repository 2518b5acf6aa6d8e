package handler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickflow/tickflow/core"
)

// metrics are a Handler's Prometheus metrics, in its own registry (so tests
// and programs may create many Handlers). Counters and the histogram count
// the ticks this process ran; the gauges are read from the store at scrape
// time (store.Stats), so they describe every process's ticks (in Lambda the
// scraper is rarely the process that ticked).
type metrics struct {
	reg      *prometheus.Registry
	ticks    *prometheus.CounterVec
	duration prometheus.Histogram
	finished *prometheus.CounterVec
	h        *Handler
}

// Tick results (tickflow_ticks_total{result}).
const (
	resultOK    = "ok"
	resultError = "error"
)

var (
	descRuns = prometheus.NewDesc("tickflow_runs",
		"Runs in the store, by status (read at scrape time).", []string{"status"}, nil)
	descDueUnclaimed = prometheus.NewDesc("tickflow_due_unclaimed",
		"Schedules due now and not claimed by a tick yet.", nil, nil)
	descOldestDueLag = prometheus.NewDesc("tickflow_oldest_due_lag_seconds",
		"Seconds since the oldest due, unclaimed slot came due (0 when none).", nil, nil)
	descLastTick = prometheus.NewDesc("tickflow_last_tick_timestamp_seconds",
		"Unix time at which the most recent tick (by any process) started.", nil, nil)
	descStoreUp = prometheus.NewDesc("tickflow_store_up",
		"1 when the store answered the scrape's stats query, else 0.", nil, nil)
)

func newMetrics(h *Handler) (*metrics, error) {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		h:   h,
		ticks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_ticks_total",
			Help: "Ticks run by this process, by result (ok, or error for an infrastructure failure).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tickflow_tick_duration_seconds",
			Help:    "Wall time of the ticks run by this process.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12), // 5 ms .. ~2 min
		}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_runs_finished_total",
			Help: "Runs that reached a final status in this process's ticks (success, failed, skipped).",
		}, []string{"status"}),
	}
	for _, r := range []string{resultOK, resultError} {
		m.ticks.WithLabelValues(r)
	}
	for _, s := range []core.Status{core.StatusSuccess, core.StatusFailed, core.StatusSkipped} {
		m.finished.WithLabelValues(string(s))
	}
	for _, c := range []prometheus.Collector{
		m.ticks, m.duration, m.finished, storeCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("handler: register metrics: %w", err)
		}
	}
	return m, nil
}

// observeTick records one tick's outcome.
func (m *metrics) observeTick(rep core.Report, err error, d time.Duration) {
	result := resultOK
	if err != nil {
		result = resultError
	}
	m.ticks.WithLabelValues(result).Inc()
	m.duration.Observe(d.Seconds())
	m.finished.WithLabelValues(string(core.StatusSuccess)).Add(float64(rep.Succeeded))
	m.finished.WithLabelValues(string(core.StatusFailed)).Add(float64(rep.Failed))
	m.finished.WithLabelValues(string(core.StatusSkipped)).Add(float64(rep.Skipped))
}

// handler serves GET /metrics. A store failure does not fail the scrape:
// tickflow_store_up is 0 and the store gauges are absent.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.h.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// storeCollector reads the gauges from store.Stats at scrape time.
type storeCollector struct{ m *metrics }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRuns, descDueUnclaimed, descOldestDueLag, descLastTick, descStoreUp} {
		ch <- d
	}
}

// scrapeTimeout bounds the stats query of one scrape.
const scrapeTimeout = 5 * time.Second

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.m.h
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	now, err := h.now(ctx)
	var st core.Stats
	if err == nil {
		st, err = h.store.Stats(ctx, now)
	}
	if err != nil {
		h.log.WarnContext(ctx, "metrics: read store stats failed", "error", err)
		ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, 1)
	for _, s := range core.Statuses {
		ch <- prometheus.MustNewConstMetric(descRuns, prometheus.GaugeValue, float64(st.RunsByStatus[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(descDueUnclaimed, prometheus.GaugeValue, float64(st.DueUnclaimed))
	ch <- prometheus.MustNewConstMetric(descOldestDueLag, prometheus.GaugeValue, st.OldestDueLag.Seconds())
	if st.LastTickAt != nil {
		ch <- prometheus.MustNewConstMetric(descLastTick, prometheus.GaugeValue, float64(st.LastTickAt.UnixNano())/1e9)
	}
}
