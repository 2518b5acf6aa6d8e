// Package prommetrics is tickflow's Prometheus metrics. New adds them to
// the engine's observers (core.Observer), so every tick the engine runs is
// counted once, whoever invoked it (POST /tick, Lambda, cmd/local's timer, a
// direct Engine.Tick); give New's result to handler.Config.Metrics to serve
// GET /metrics in the Prometheus text format.
//
//	m := prommetrics.New(engine)
//	h, err := handler.New(handler.Config{Engine: engine, Metrics: m})
//
// The series:
//
//	tickflow_ticks_total{result}            ticks run by this process (result ok, or error for an infrastructure failure)
//	tickflow_tick_duration_seconds          histogram of their wall time
//	tickflow_runs_finished_total{status}    runs those ticks finished (success, failed, skipped)
//	tickflow_runs_pruned_total              old finished runs those ticks deleted (core.Config.Retention)
//	tickflow_alerts_total{result}           alert deliveries those ticks made (delivered, failed; core.Config.Alerts)
//	tickflow_run_duration_seconds{task,outcome}  histogram of the wall time of the runs they executed (success, failed, retry)
//	tickflow_runs{status}                   runs in the store, by status
//	tickflow_due_unclaimed                  schedules due now and not claimed yet
//	tickflow_oldest_due_lag_seconds         age of the oldest due, unclaimed slot (0 when none)
//	tickflow_last_tick_timestamp_seconds    start of the most recent tick by any process
//	tickflow_store_up                       1 when the store answered the scrape's stats query
//
// plus the Go runtime and process collectors. The counters and the
// histograms describe this process's engine; the gauges are read through
// Engine.Stats at scrape time, so they describe every process's ticks.
//
// It lives apart from package handler so that a binary without a scrape
// endpoint does not link the Prometheus client (about 2 MB): cmd/local uses
// it, cmd/lambda does not (behind Lambda's scale-out a per-instance scrape
// endpoint means nothing; the tick reports go to CloudWatch instead).
package prommetrics
