package handler

import (
	"net/http"
	"net/url"
	"time"

	"github.com/tickflow/tickflow/core"
)

// parseInstant reads an RFC 3339 instant from a query parameter or body
// field: required, valid text, in [core.MinTime, core.MaxTime) (400 else).
func parseInstant(name, v string) (time.Time, error) {
	if err := core.CheckText(name, v); err != nil {
		return time.Time{}, err
	}
	if v == "" {
		return time.Time{}, badRequest(name, "", "is required (an RFC 3339 instant, 2026-03-02T10:00:00Z)")
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest(name, v, "must be an RFC 3339 instant (2026-03-02T10:00:00Z)")
	}
	return t, core.CheckTime(name, t)
}

// parseWindow reads from= and to= of GET /api/schedules/{name}/slots.
func parseWindow(q url.Values) (from, to time.Time, err error) {
	var v [2]string
	for i, name := range []string{"from", "to"} {
		if v[i], err = queryValue(q, name); err != nil {
			return from, to, err
		}
	}
	if from, err = parseInstant("from", v[0]); err != nil {
		return from, to, err
	}
	to, err = parseInstant("to", v[1])
	return from, to, err
}

// auditSlots is GET /api/schedules/{name}/slots?from=&to=: every expected
// slot of the schedule in [from, to) with its outcome, and counts per
// outcome (see core.Engine.AuditSlots).
func (h *Handler) auditSlots(w http.ResponseWriter, r *http.Request) error {
	from, to, err := parseWindow(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.engine.AuditSlots(r.Context(), core.AuditParams{Schedule: r.PathValue("name"), From: from, To: to})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// backfillRequest is POST /api/schedules/{name}/backfill's body.
type backfillRequest struct {
	From   string `json:"from"`
	To     string `json:"to"`
	DryRun bool   `json:"dry_run"`
}

// backfill is POST /api/schedules/{name}/backfill: pending runs for the
// window's passed slots that have none (201 with what was created; 200 on
// a dry run, which writes nothing). See core.Engine.Backfill.
func (h *Handler) backfill(w http.ResponseWriter, r *http.Request) error {
	var req backfillRequest
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &req, true); err != nil {
		return err
	}
	from, err := parseInstant("from", req.From)
	if err != nil {
		return err
	}
	to, err := parseInstant("to", req.To)
	if err != nil {
		return err
	}
	res, err := h.engine.Backfill(r.Context(), core.BackfillParams{Schedule: r.PathValue("name"), From: from, To: to, DryRun: req.DryRun})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if req.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
	return nil
}
