package handler

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Health statuses of GET /healthz.
const (
	// healthOK: the last tick started within the threshold (200).
	healthOK = "ok"
	// healthStarting: no tick has run yet, and the handler has been up for
	// less than the threshold (200: give the trigger time to fire).
	healthStarting = "starting"
	// healthStale: the last tick is older than the threshold (503).
	healthStale = "stale"
	// healthNoTicks: no tick has ever run and the handler has been up for
	// longer than the threshold (503).
	healthNoTicks = "no_ticks"
	// healthError: the store did not answer (503).
	healthError = "error"
)

// Health is the body of GET /healthz.
type Health struct {
	// Status is ok, starting, stale, no_ticks or error.
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

// Check reports whether ticks are arriving: healthy (200) while the last
// tick, by any process, started within StaleAfter × TickPeriod of the
// store's clock. With no tick ever recorded it is healthy ("starting") for
// the first StaleAfter × TickPeriod after New, then unhealthy ("no_ticks"):
// a trigger that never fired is the same alarm as one that stopped. The
// boolean is false when unhealthy (503).
func (h *Handler) Check(ctx context.Context) (Health, bool, error) {
	threshold := time.Duration(h.cfg.StaleAfter * float64(h.cfg.TickPeriod))
	hl := Health{Status: healthError, ThresholdSeconds: threshold.Seconds()}
	now, err := h.now(ctx)
	if err != nil {
		hl.Error = "clock unavailable"
		return hl, false, err
	}
	st, err := h.store.Stats(ctx, now)
	if err != nil {
		hl.Error = "store unavailable"
		return hl, false, fmt.Errorf("health: read store stats: %w", err)
	}
	now = st.Now.UTC()
	hl.Now, hl.LastTickAt = &now, st.LastTickAt
	hl.DueUnclaimed, hl.OldestDueLagSeconds = st.DueUnclaimed, st.OldestDueLag.Seconds()
	if st.LastTickAt == nil {
		if h.uptime(now) > threshold {
			hl.Status = healthNoTicks
			return hl, false, nil
		}
		hl.Status = healthStarting
		return hl, true, nil
	}
	age := now.Sub(*st.LastTickAt)
	secs := age.Seconds()
	hl.AgeSeconds = &secs
	if age > threshold {
		hl.Status = healthStale
		return hl, false, nil
	}
	hl.Status = healthOK
	return hl, true, nil
}

// uptime is how long the handler has existed: on the engine's clock when it
// has one (tests stub it), else on the process's monotonic clock.
func (h *Handler) uptime(now time.Time) time.Duration {
	if !h.started.IsZero() {
		return now.Sub(h.started)
	}
	return time.Since(h.startedMono)
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
