package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Metrics records the outcome of every tick a Handler runs (Handler.Tick:
// POST /tick, Lambda and cmd/local's timer). Set it in Config.Metrics;
// handler/prommetrics is the Prometheus implementation. The handler package
// itself links no metrics library, so a binary that sets no Metrics (the
// Lambda function) carries none.
//
// When the Metrics also implements http.Handler it serves GET /metrics.
// Otherwise, and when Config.Metrics is nil, GET /metrics answers a JSON 404
// saying metrics are not enabled in this binary.
type Metrics interface {
	// ObserveTick records one tick: its report, its infrastructure error
	// (nil when the tick ran, even if tasks failed; the report is then
	// partial) and its wall time. ctx is the tick's context (it carries the
	// request ids). It is called after each tick, possibly from several
	// goroutines at once.
	ObserveTick(ctx context.Context, rep core.Report, err error, elapsed time.Duration)
}

// errMetricsDisabled is the message of GET /metrics without a metrics
// handler.
const errMetricsDisabled = "metrics are not enabled in this binary"

// metricsHandler returns what serves GET /metrics: the Metrics when it is an
// http.Handler, else a JSON 404.
func (h *Handler) metricsHandler() http.Handler {
	if mh, ok := h.cfg.Metrics.(http.Handler); ok {
		return mh
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: errMetricsDisabled})
	})
}

// observeTick passes one tick to the Metrics, if any.
func (h *Handler) observeTick(ctx context.Context, rep core.Report, err error, elapsed time.Duration) {
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.ObserveTick(ctx, rep, err, elapsed)
	}
}
