package prommetrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickflow/tickflow/core"
)

// Metrics are an engine's Prometheus metrics in their own registry (so tests
// and programs may create many). It is the engine's core.Observer (New
// registers it, so every tick the engine runs is counted, whoever invoked
// it) and an http.Handler serving GET /metrics (give it to
// handler.Config.Metrics). Create it with New; it is safe for concurrent use.
type Metrics struct {
	engine      *core.Engine
	log         *slog.Logger
	reg         *prometheus.Registry
	ticks       *prometheus.CounterVec
	duration    prometheus.Histogram
	finished    *prometheus.CounterVec
	pruned      prometheus.Counter
	alerts      *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	serve       http.Handler
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

// New returns the metrics of engine's ticks, in a new registry that also
// holds the Go runtime and process collectors, and adds them to the engine's
// observers (Engine.AddObserver): call it once per engine, before its first
// tick. Scrape problems are logged to the engine's logger.
func New(engine *core.Engine) *Metrics {
	m := &Metrics{
		engine: engine,
		log:    engine.Logger(),
		reg:    prometheus.NewRegistry(),
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
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tickflow_runs_pruned_total",
			Help: "Old finished runs this process's ticks deleted (core.Config.Retention).",
		}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_alerts_total",
			Help: "Alert deliveries this process's ticks made, by result (delivered, or failed: retried later or given up; core.Config.Alerts).",
		}, []string{"result"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tickflow_run_duration_seconds",
			Help:    "Wall time of the runs this process executed (attempts and inline retry waits), by task and outcome (success, failed, retry).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12), // 5 ms .. ~2 min
		}, []string{"task", "outcome"}),
	}
	for _, r := range []string{resultOK, resultError} {
		m.ticks.WithLabelValues(r)
	}
	for _, s := range []core.Status{core.StatusSuccess, core.StatusFailed, core.StatusSkipped} {
		m.finished.WithLabelValues(string(s))
	}
	m.alerts.WithLabelValues("delivered")
	m.alerts.WithLabelValues("failed")
	// A fresh registry and distinct names: registration cannot fail.
	m.reg.MustRegister(
		m.ticks, m.duration, m.finished, m.pruned, m.alerts, m.runDuration, storeCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.serve = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	engine.AddObserver(m)
	return m
}

// Registry returns the registry served at /metrics, for adding collectors of
// your own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveTick records one tick's outcome (core.Observer). The finished
// counts come from the report: it also counts the runs no ObserveRun sees
// (skipped slots, runs failed when their lease expired).
func (m *Metrics) ObserveTick(_ context.Context, rep core.Report, err error, elapsed time.Duration) {
	result := resultOK
	if err != nil {
		result = resultError
	}
	m.ticks.WithLabelValues(result).Inc()
	m.duration.Observe(elapsed.Seconds())
	m.finished.WithLabelValues(string(core.StatusSuccess)).Add(float64(rep.Succeeded))
	m.finished.WithLabelValues(string(core.StatusFailed)).Add(float64(rep.Failed))
	m.finished.WithLabelValues(string(core.StatusSkipped)).Add(float64(rep.Skipped))
	m.pruned.Add(float64(rep.PrunedRuns))
	m.alerts.WithLabelValues("delivered").Add(float64(rep.AlertsDelivered))
	m.alerts.WithLabelValues("failed").Add(float64(rep.AlertsFailed))
}

// Outcomes of tickflow_run_duration_seconds besides success and failed.
const outcomeRetry = "retry"

// ObserveRun records the wall time of one executed run (core.Observer). A
// claimed run given back unstarted (released) is not a run and is not
// recorded.
func (m *Metrics) ObserveRun(_ context.Context, r core.Run, o core.Outcome) {
	outcome := string(o.Status)
	switch {
	case o.Status == core.StatusPending && o.Attempt < o.ClaimedAttempt:
		return // released
	case o.Status == core.StatusPending:
		outcome = outcomeRetry
	}
	m.runDuration.WithLabelValues(r.Task, outcome).Observe(o.FinishedAt.Sub(o.StartedAt).Seconds())
}

// ServeHTTP serves the registry in the Prometheus exposition format. A store
// failure does not fail the scrape: tickflow_store_up is 0 and the store
// gauges are absent.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.serve.ServeHTTP(w, r) }

// storeCollector reads the gauges from Engine.Stats at scrape time.
type storeCollector struct{ m *Metrics }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRuns, descDueUnclaimed, descOldestDueLag, descLastTick, descStoreUp} {
		ch <- d
	}
}

// scrapeTimeout bounds the stats query of one scrape.
const scrapeTimeout = 5 * time.Second

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.m.engine.Stats(ctx) // at the engine's clock
	if err != nil {
		c.m.log.WarnContext(ctx, "metrics: read store stats failed", "error", err)
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
