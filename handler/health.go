package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Health is the body of GET /healthz.
type Health struct {
	// Status is ok, starting, stale, no_ticks or error (core.HealthStatus).
	Status string `json:"status"`
	// Now is the clock reading the check used (the database's, or the
	// engine's stub clock).
	Now *time.Time `json:"now,omitempty"`
	// LastTickAt is when the most recent tick, by any process, started.
	LastTickAt *time.Time `json:"last_tick_at"`
	// AgeSeconds is Now minus LastTickAt (absent when no tick ran).
	AgeSeconds *float64 `json:"age_seconds"`
	// ThresholdSeconds is StaleAfter × TickPeriod.
	ThresholdSeconds float64 `json:"threshold_seconds"`
	// DueUnclaimed and OldestDueLagSeconds: due work not yet claimed.
	DueUnclaimed        int     `json:"due_unclaimed"`
	OldestDueLagSeconds float64 `json:"oldest_due_lag_seconds"`
	// Error says why the check failed (status error).
	Error string `json:"error,omitempty"`
}

// Check reports whether ticks are arriving (core.Engine.Health with
// StaleAfter × TickPeriod as the threshold): healthy (200) while the last
// tick, by any process, started within the threshold of the engine's clock.
// With no tick ever recorded it is healthy ("starting") for the engine's
// first threshold, then unhealthy ("no_ticks"): a trigger that never fired
// is the same alarm as one that stopped. The boolean is false when unhealthy
// (503).
func (h *Handler) Check(ctx context.Context) (Health, bool, error) {
	threshold := time.Duration(h.cfg.StaleAfter * float64(h.cfg.TickPeriod))
	eh, err := h.engine.Health(ctx, core.HealthParams{Threshold: threshold})
	hl := Health{
		Status: string(eh.Status), ThresholdSeconds: threshold.Seconds(), Error: eh.Error,
		LastTickAt: eh.LastTickAt, DueUnclaimed: eh.DueUnclaimed, OldestDueLagSeconds: eh.OldestDueLag.Seconds(),
	}
	if !eh.Now.IsZero() {
		hl.Now = &eh.Now
	}
	if eh.LastTickAt != nil {
		secs := eh.Age.Seconds()
		hl.AgeSeconds = &secs
	}
	return hl, err == nil && eh.Healthy(), err
}

// getHealth is GET /healthz: 200 or 503 with a Health body.
func (h *Handler) getHealth(w http.ResponseWriter, r *http.Request) error {
	hl, ok, err := h.Check(r.Context())
	if err != nil {
		if rw, isRW := w.(*responseWriter); isRW {
			rw.err = err // logged with the request; the body says only what failed
		}
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, hl)
	return nil
}
