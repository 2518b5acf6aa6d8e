package handler

import (
	"net/http"
)

// errMetricsDisabled is the message of GET /metrics without a metrics
// handler.
const errMetricsDisabled = "metrics are not enabled in this binary"

// metricsHandler returns what serves GET /metrics: Config.Metrics, else a
// JSON 404.
func (h *Handler) metricsHandler() http.Handler {
	if h.cfg.Metrics != nil {
		return h.cfg.Metrics
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: errMetricsDisabled})
	})
}
