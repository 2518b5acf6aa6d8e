package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
)

// The runtime schedule routes (issue 13, "schedules as data"): create,
// upsert, partial update, delete and the filtered, paginated list, over the
// Engine's schedule methods. A schedule's key is its name: the path's
// {name} and the records' "name" field hold it; request bodies call it
// "key". A key with a slash is sent escaped (%2F) in the path.

// ScheduleRequest is the JSON body of POST /api/schedules, PUT and PATCH
// /api/schedules/{name}. A nil field is absent: POST and PUT take the
// defaults for it, PATCH leaves it as stored. Durations are seconds,
// instants RFC 3339. In a PATCH, "payload": null removes the payload,
// "labels": {} the labels, "start_at": "" and "end_at": "" the bounds and
// "max_runs": 0 the limit. The dashboard's form and the CLI's flags are
// converted to it too, so the three transports check input alike.
type ScheduleRequest struct {
	Key  *string `json:"key"`
	Task *string `json:"task"`
	// Name is the display name (default: the task's).
	Name *string `json:"name"`
	// Every (seconds), Cron (+ Timezone) or OnceAt: exactly one.
	Every          *float64           `json:"every"`
	Cron           *string            `json:"cron"`
	Timezone       *string            `json:"timezone"`
	OnceAt         *string            `json:"once_at"`
	RunOnStartup   *bool              `json:"run_on_startup"`
	Payload        json.RawMessage    `json:"payload"`
	Labels         *map[string]string `json:"labels"`
	Misfire        *string            `json:"misfire"`
	Overlap        *string            `json:"overlap"`
	MaxCatchup     *int               `json:"max_catchup"`
	JitterSeconds  *float64           `json:"jitter_seconds"`
	Retries        *int               `json:"retries"`
	DelaySeconds   *float64           `json:"delay_seconds"`
	Backoff        *float64           `json:"backoff"`
	TimeoutSeconds *float64           `json:"timeout_seconds"`
	StartAt        *string            `json:"start_at"`
	EndAt          *string            `json:"end_at"`
	MaxRuns        *int               `json:"max_runs"`
	Paused         *bool              `json:"paused"`
}

// maxEvery bounds "every" (core refuses more than 100 years too; checking
// here keeps a huge number from overflowing a time.Duration first).
const maxEvery = 100 * 365 * 24 * time.Hour

// seconds converts a field in seconds to a duration from 0 (or above 0
// when positive) to max.
func seconds(field string, v float64, positive bool, max time.Duration) (time.Duration, error) {
	low := "0"
	if positive {
		low = "above 0"
	}
	if !(v >= 0) || (positive && v == 0) || v > max.Seconds() {
		return 0, badRequest(field, strconv.FormatFloat(v, 'g', -1, 64),
			fmt.Sprintf("must be %s to %.0f seconds", low, max.Seconds()))
	}
	return time.Duration(v * float64(time.Second)), nil
}

// instant parses an RFC 3339 field within [core.MinTime, core.MaxTime); ""
// is the zero time when clear is true (a PATCH removing a bound).
func instant(field, v string, clear bool) (time.Time, error) {
	if v == "" && clear {
		return time.Time{}, nil
	}
	if err := core.CheckText(field, v); err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, badRequest(field, v, "must be an RFC 3339 instant (2026-03-02T10:00:00Z)")
	}
	if err := core.CheckTime(field, t); err != nil {
		return t, err
	}
	return t.UTC(), nil
}

// payload returns the body's payload: nil when absent or null.
func (req *ScheduleRequest) payload() json.RawMessage {
	if len(req.Payload) == 0 || bytes.Equal(bytes.TrimSpace(req.Payload), []byte("null")) {
		return nil
	}
	return req.Payload
}

// converted is a ScheduleRequest's fields in core's types; nil when absent.
type converted struct {
	every, jitter, delay, timeout *time.Duration
	once, startAt, endAt          *time.Time
	misfire                       *core.MisfirePolicy
	overlap                       *core.OverlapPolicy
}

// convert checks and converts the fields whose transport form differs from
// core's (seconds, instants, policies); clear allows "" for the bounds.
func (req *ScheduleRequest) convert(clear bool) (converted, error) {
	var c converted
	for _, d := range []struct {
		field    string
		v        *float64
		positive bool
		max      time.Duration
		out      **time.Duration
	}{
		{"every", req.Every, true, maxEvery, &c.every},
		{"jitter_seconds", req.JitterSeconds, false, core.MaxRunDelay, &c.jitter},
		{"delay_seconds", req.DelaySeconds, false, core.MaxRunDelay, &c.delay},
		{"timeout_seconds", req.TimeoutSeconds, false, core.MaxRunDelay, &c.timeout},
	} {
		if d.v == nil {
			continue
		}
		v, err := seconds(d.field, *d.v, d.positive, d.max)
		if err != nil {
			return c, err
		}
		*d.out = &v
	}
	for _, t := range []struct {
		field string
		v     *string
		clear bool
		out   **time.Time
	}{
		{"once_at", req.OnceAt, false, &c.once},
		{"start_at", req.StartAt, clear, &c.startAt},
		{"end_at", req.EndAt, clear, &c.endAt},
	} {
		if t.v == nil {
			continue
		}
		v, err := instant(t.field, *t.v, t.clear)
		if err != nil {
			return c, err
		}
		*t.out = &v
	}
	if req.Misfire != nil {
		p := core.MisfirePolicy(*req.Misfire)
		if !p.Valid() {
			return c, badRequest("misfire", core.CleanText(*req.Misfire), "must be coalesce, catchup or skip")
		}
		c.misfire = &p
	}
	if req.Overlap != nil {
		p := core.OverlapPolicy(*req.Overlap)
		if !p.Valid() {
			return c, badRequest("overlap", core.CleanText(*req.Overlap), "must be skip or allow")
		}
		c.overlap = &p
	}
	if req.MaxRuns != nil && *req.MaxRuns < 0 {
		return c, badRequest("max_runs", strconv.Itoa(*req.MaxRuns), "must be 0 (unlimited) or more")
	}
	if req.MaxCatchup != nil && *req.MaxCatchup < 0 {
		return c, badRequest("max_catchup", strconv.Itoa(*req.MaxCatchup), "must not be negative")
	}
	return c, core.CheckPayload(req.payload())
}

// val is *p, or the zero value when p is nil.
func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Params converts a POST or PUT body to the Engine's ScheduleParams. A bad
// field is a *core.ValidationError naming it (the Engine checks the rest:
// the task, the spec, the labels).
func (req *ScheduleRequest) Params() (core.ScheduleParams, error) {
	if val(req.Task) == "" {
		return core.ScheduleParams{}, badRequest("task", "", "is required")
	}
	c, err := req.convert(false)
	if err != nil {
		return core.ScheduleParams{}, err
	}
	return core.ScheduleParams{
		Key: val(req.Key), Task: val(req.Task), DisplayName: val(req.Name),
		Every: val(c.every), Cron: val(req.Cron), Timezone: val(req.Timezone), Once: val(c.once),
		RunOnStartup: val(req.RunOnStartup), Payload: req.payload(), Labels: val(req.Labels),
		Misfire: val(c.misfire), Overlap: val(c.overlap), MaxCatchup: val(req.MaxCatchup), Jitter: val(c.jitter),
		Retries: req.Retries, Delay: c.delay, Backoff: req.Backoff, Timeout: c.timeout,
		StartAt: val(c.startAt), EndAt: val(c.endAt), MaxRuns: val(req.MaxRuns), Paused: val(req.Paused),
	}, nil
}

// Update converts a PATCH body to the Engine's ScheduleUpdate: only the
// fields present change.
func (req *ScheduleRequest) Update() (core.ScheduleUpdate, error) {
	c, err := req.convert(true)
	if err != nil {
		return core.ScheduleUpdate{}, err
	}
	u := core.ScheduleUpdate{
		Task: req.Task, DisplayName: req.Name, Every: c.every, Cron: req.Cron, Timezone: req.Timezone,
		Once: c.once, RunOnStartup: req.RunOnStartup, Labels: req.Labels, Misfire: c.misfire,
		Overlap: c.overlap, MaxCatchup: req.MaxCatchup, Jitter: c.jitter, Retries: req.Retries,
		Delay: c.delay, Backoff: req.Backoff, Timeout: c.timeout, StartAt: c.startAt, EndAt: c.endAt,
		MaxRuns: req.MaxRuns, Paused: req.Paused,
	}
	if len(req.Payload) > 0 {
		p := req.payload()
		u.Payload = &p
	}
	return u, nil
}

// matchKey checks the body's key against the path's: absent or equal.
func (req *ScheduleRequest) matchKey(key string) error {
	if req.Key != nil && *req.Key != key {
		return badRequest("key", core.CleanText(*req.Key), "must be the key of the path ("+core.CleanText(key)+") or absent")
	}
	return nil
}

// ParseLabels reads label selectors "k=v" (the list's label= parameters,
// the CLI's --label flags, the dashboard's label field) into a map. A
// selector without "=" or with an empty key, or a key given twice, is a
// *core.ValidationError naming field; so is text core.CheckLabels refuses.
func ParseLabels(field string, selectors []string) (map[string]string, error) {
	if len(selectors) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(selectors))
	for _, s := range selectors {
		if err := core.CheckText(field, s); err != nil {
			return nil, err
		}
		k, v, ok := strings.Cut(s, "=")
		switch _, dup := out[k]; {
		case !ok || k == "":
			return nil, badRequest(field, s, "want key=value")
		case dup:
			return nil, badRequest(field, s, "label "+k+" given twice")
		}
		out[k] = v
	}
	return out, core.CheckLabels(field, out)
}

// parseBool reads an optional true/false parameter.
func parseBool(q url.Values, name string) (*bool, error) {
	v, err := queryValue(q, name)
	if err != nil || v == "" {
		return nil, err
	}
	switch v {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, badRequest(name, v, "must be true or false")
}

// parseScheduleFilter reads GET /api/schedules's query: task, label
// (repeatable k=v, all must match), origin, paused, completed, prefix,
// after, limit.
func parseScheduleFilter(q url.Values) (core.ScheduleFilter, error) {
	var f core.ScheduleFilter
	var v [4]string
	for i, name := range []string{"task", "origin", "prefix", "after"} {
		var err error
		if v[i], err = queryValue(q, name); err != nil {
			return f, err
		}
	}
	f.Task, f.Origin, f.KeyPrefix, f.After = v[0], v[1], v[2], v[3]
	if f.Origin != "" && f.Origin != core.OriginCode && f.Origin != core.OriginAPI {
		return f, badRequest("origin", f.Origin, "must be code or api")
	}
	var err error
	if f.Paused, err = parseBool(q, "paused"); err != nil {
		return f, err
	}
	if f.Completed, err = parseBool(q, "completed"); err != nil {
		return f, err
	}
	if f.Labels, err = ParseLabels("label", q["label"]); err != nil {
		return f, err
	}
	if f.Limit, err = parseLimit(q, core.DefaultListLimit, core.MaxListLimit); err != nil {
		return f, err
	}
	return f, f.Validate()
}

// listSchedules is GET /api/schedules: {"schedules": [...], "next": "…"},
// by key, filtered; "next" (absent on the last page) is the after= of the
// next page.
func (h *Handler) listSchedules(w http.ResponseWriter, r *http.Request) error {
	f, err := parseScheduleFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.engine.ListSchedules(r.Context(), f)
	if err != nil {
		return err
	}
	if page.Schedules == nil {
		page.Schedules = []core.ScheduleRecord{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// createSchedule is POST /api/schedules: 201 with the new runtime
// schedule; 409 when the key exists.
func (h *Handler) createSchedule(w http.ResponseWriter, r *http.Request) error {
	var req ScheduleRequest
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &req, true); err != nil {
		return err
	}
	if val(req.Key) == "" {
		return badRequest("key", "", "is required")
	}
	p, err := req.Params()
	if err != nil {
		return err
	}
	rec, err := h.engine.CreateSchedule(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

// putSchedule is PUT /api/schedules/{name}: create (201) or replace (200,
// also when nothing changed) the runtime schedule; 409 for a code
// schedule's key.
func (h *Handler) putSchedule(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("name")
	var req ScheduleRequest
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &req, true); err != nil {
		return err
	}
	if err := req.matchKey(key); err != nil {
		return err
	}
	req.Key = &key
	p, err := req.Params()
	if err != nil {
		return err
	}
	rec, res, err := h.engine.UpsertSchedule(r.Context(), p)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created > 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, rec)
	return nil
}

// patchSchedule is PATCH /api/schedules/{name}: the fields given change
// (404 unknown key; of a code schedule only paused, else 409).
func (h *Handler) patchSchedule(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("name")
	var req ScheduleRequest
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &req, true); err != nil {
		return err
	}
	if err := req.matchKey(key); err != nil {
		return err
	}
	u, err := req.Update()
	if err != nil {
		return err
	}
	rec, err := h.engine.UpdateSchedule(r.Context(), key, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// deleteSchedule is DELETE /api/schedules/{name}: 204; 404 unknown key;
// 409 for a code schedule. Its runs stay.
func (h *Handler) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &emptyBody{}, false); err != nil {
		return err
	}
	if err := h.engine.DeleteSchedule(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
