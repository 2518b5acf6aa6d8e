package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Limits of the list routes (the README's API table states them; a test
// checks that it does).
const (
	// DefaultRunsLimit and MaxRunsLimit: GET /api/runs's limit=.
	DefaultRunsLimit = 50
	MaxRunsLimit     = 200
	// DefaultTicksLimit and MaxTicksLimit: GET /api/ticks's limit=.
	DefaultTicksLimit = 20
	MaxTicksLimit     = 200
)

// queryValue returns the query parameter name: "" when absent, a 400 when
// given more than once (which one was meant is ambiguous) or when it is
// not valid text.
func queryValue(q url.Values, name string) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", badRequest(name, "", "must be given at most once")
	}
	if err := core.CheckText(name, vs[0]); err != nil {
		return "", err
	}
	return vs[0], nil
}

// parseLimit reads a limit= parameter: def when absent, else an integer
// from 1 to max (400 otherwise).
func parseLimit(q url.Values, def, max int) (int, error) {
	v, err := queryValue(q, "limit")
	if err != nil || v == "" {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit", v, fmt.Sprintf("must be an integer from 1 to %d", max))
	}
	return n, nil
}

// postTick is POST /tick: one tick, its report as JSON. An infrastructure
// failure is a 500 whose body is the partial report with its error. The
// tick is detached from the client's connection: a client that hangs up
// does not cut a tick short (its deadline is the engine's MaxTickDuration).
func (h *Handler) postTick(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &emptyBody{}, false); err != nil {
		return err
	}
	rep, err := h.Tick(context.WithoutCancel(r.Context()), "http")
	if err != nil {
		// The engine logged the failure with the tick id; the body carries it.
		writeJSON(w, http.StatusInternalServerError, rep)
		return nil
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// getSchedule is GET /api/schedules/{name}.
func (h *Handler) getSchedule(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.engine.Schedule(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// pauseSchedule is POST /api/schedules/{name}/pause.
func (h *Handler) pauseSchedule(w http.ResponseWriter, r *http.Request) error {
	return h.setPaused(w, r, true)
}

// resumeSchedule is POST /api/schedules/{name}/resume.
func (h *Handler) resumeSchedule(w http.ResponseWriter, r *http.Request) error {
	return h.setPaused(w, r, false)
}

func (h *Handler) setPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &emptyBody{}, false); err != nil {
		return err
	}
	rec, err := h.engine.SetSchedulePaused(r.Context(), r.PathValue("name"), paused)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// triggerSchedule is POST /api/schedules/{name}/trigger: a run of the
// schedule's task now, with source manual (201 with the run). The schedule's
// next slot does not move.
func (h *Handler) triggerSchedule(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &emptyBody{}, false); err != nil {
		return err
	}
	run, err := h.engine.Trigger(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, run)
	return nil
}

type runList struct {
	Runs []core.Run `json:"runs"`
	// NextCursor, when set, is the cursor= of the next (older) page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// parseListRuns reads GET /api/runs's query: status, source, task,
// schedule, cursor, limit.
func parseListRuns(q url.Values) (core.ListRunsParams, error) {
	p := core.ListRunsParams{Limit: DefaultRunsLimit}
	var v [5]string
	for i, name := range []string{"status", "source", "task", "schedule", "cursor"} {
		var err error
		if v[i], err = queryValue(q, name); err != nil {
			return p, err
		}
	}
	status, source, task, schedule, cursor := v[0], v[1], v[2], v[3], v[4]
	if status != "" {
		if !core.Status(status).Valid() {
			return p, badRequest("status", status, fmt.Sprintf("must be one of %v", core.Statuses))
		}
		p.Status = core.Status(status)
	}
	if source != "" {
		if !core.Source(source).Valid() {
			return p, badRequest("source", source, "must be manual or scheduled")
		}
		p.Source = core.Source(source)
	}
	for field, val := range map[string]string{"task": task, "schedule": schedule} {
		if len(val) > 200 {
			return p, badRequest(field, "", "must be at most 200 characters")
		}
	}
	p.Task, p.Schedule = task, schedule
	if cursor != "" {
		id, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || id <= 0 {
			return p, badRequest("cursor", cursor, "must be a next_cursor value from a previous page")
		}
		p.BeforeID = id
	}
	n, err := parseLimit(q, DefaultRunsLimit, MaxRunsLimit)
	if err != nil {
		return p, err
	}
	p.Limit = n
	return p, nil
}

// listRuns is GET /api/runs: newest first, filtered, paginated by cursor.
func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListRuns(r.URL.Query())
	if err != nil {
		return err
	}
	limit := p.Limit
	p.Limit = limit + 1 // one more tells whether a next page exists
	runs, err := h.engine.ListRuns(r.Context(), p)
	if err != nil {
		return err
	}
	out := runList{Runs: runs}
	if len(runs) > limit {
		out.Runs = runs[:limit]
		out.NextCursor = strconv.FormatInt(runs[limit-1].ID, 10)
	}
	if out.Runs == nil {
		out.Runs = []core.Run{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// runID parses the {id} path value (400 unless a positive integer).
func runID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("id", core.CleanText(v), "must be a positive integer run id")
	}
	return id, nil
}

// getRun is GET /api/runs/{id}.
func (h *Handler) getRun(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	run, err := h.engine.GetRun(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// addTaskRequest is POST /api/runs's body. run_at (RFC 3339) or
// delay_seconds, at most one, holds the run pending until then.
type addTaskRequest struct {
	Task           string          `json:"task"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey string          `json:"idempotency_key"`
	RunAt          *string         `json:"run_at"`
	DelaySeconds   *float64        `json:"delay_seconds"`
}

// when converts the request's run_at and delay_seconds to AddTaskParams'
// RunAt and Delay, checked as AddTask checks them.
func (req *addTaskRequest) when() (time.Time, time.Duration, error) {
	var runAt time.Time
	var delay time.Duration
	if req.RunAt != nil {
		t, err := time.Parse(time.RFC3339, *req.RunAt)
		if err != nil {
			return runAt, delay, badRequest("run_at", *req.RunAt, "must be an RFC 3339 instant (2026-03-02T10:00:00Z)")
		}
		runAt = t
	}
	if req.DelaySeconds != nil {
		d := *req.DelaySeconds
		if d < 0 || d > core.MaxRunDelay.Seconds() {
			return runAt, delay, badRequest("delay_seconds", strconv.FormatFloat(d, 'g', -1, 64),
				fmt.Sprintf("must be from 0 to %.0f (366 days)", core.MaxRunDelay.Seconds()))
		}
		delay = time.Duration(d * float64(time.Second))
	}
	if req.RunAt != nil && req.DelaySeconds != nil {
		return runAt, delay, badRequest("run_at/delay_seconds", "", "give at most one of run_at and delay_seconds")
	}
	return runAt, delay, core.CheckRunAt(runAt, delay)
}

// addTask is POST /api/runs (the seed's add_task): 201 with the new run, or
// 200 with the existing run when the idempotency key was already used.
func (h *Handler) addTask(w http.ResponseWriter, r *http.Request) error {
	var req addTaskRequest
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &req, true); err != nil {
		return err
	}
	if req.Task == "" {
		return badRequest("task", "", "is required")
	}
	if string(req.Payload) == "null" {
		req.Payload = nil
	}
	runAt, delay, err := req.when()
	if err != nil {
		return err
	}
	run, created, err := h.engine.AddTask(r.Context(), core.AddTaskParams{
		Task: req.Task, Payload: req.Payload, IdempotencyKey: req.IdempotencyKey,
		RunAt: runAt, Delay: delay,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, run)
	return nil
}

// cancelRun is POST /api/runs/{id}/cancel (409 unless pending or interrupted).
func (h *Handler) cancelRun(w http.ResponseWriter, r *http.Request) error {
	return h.runAction(w, r, h.engine.CancelRun)
}

// retryRun is POST /api/runs/{id}/retry (409 unless failed).
func (h *Handler) retryRun(w http.ResponseWriter, r *http.Request) error {
	return h.runAction(w, r, h.engine.RetryRun)
}

// runAction runs a run action of the engine (its error names the action
// and the run).
func (h *Handler) runAction(w http.ResponseWriter, r *http.Request, act func(context.Context, int64) (core.Run, error)) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	if err := decodeBody(w, r, h.cfg.MaxBodyBytes, &emptyBody{}, false); err != nil {
		return err
	}
	run, err := act(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// TaskInfo is a registered task as GET /api/tasks lists it.
type TaskInfo struct {
	Name            string  `json:"name"`
	DisplayName     string  `json:"display_name"`
	Retries         int     `json:"retries"`
	DelaySeconds    float64 `json:"delay_seconds"`
	Backoff         float64 `json:"backoff"`
	MaxDelaySeconds float64 `json:"max_delay_seconds,omitempty"`
	TimeoutSeconds  float64 `json:"timeout_seconds,omitempty"`
	// Schedule is the task's schedule as registered in code; nil for a
	// manual-only task.
	Schedule *TaskSchedule `json:"schedule"`
}

// TaskSchedule is the timing of a scheduled task, as registered in code.
type TaskSchedule struct {
	Kind          string             `json:"kind"`
	EverySeconds  float64            `json:"every_seconds,omitempty"`
	Cron          string             `json:"cron,omitempty"`
	Timezone      string             `json:"timezone,omitempty"`
	Description   string             `json:"description"`
	RunOnStartup  bool               `json:"run_on_startup"`
	Misfire       core.MisfirePolicy `json:"misfire"`
	Overlap       core.OverlapPolicy `json:"overlap"`
	JitterSeconds float64            `json:"jitter_seconds,omitempty"`
}

// Tasks lists the engine's registered tasks, by name.
func (h *Handler) Tasks() []TaskInfo {
	reg := h.engine.Registry()
	tasks := reg.Tasks()
	out := make([]TaskInfo, len(tasks))
	for i, t := range tasks {
		out[i] = TaskInfo{
			Name: t.Name, DisplayName: t.DisplayName, Retries: t.Retry.Retries,
			DelaySeconds: t.Retry.Delay.Seconds(), Backoff: t.Retry.Backoff,
			MaxDelaySeconds: t.Retry.MaxDelay.Seconds(), TimeoutSeconds: t.Timeout.Seconds(),
		}
		if s, ok := reg.ScheduleByName(t.Name); ok {
			out[i].Schedule = &TaskSchedule{
				Kind: s.Kind(), EverySeconds: s.Every.Seconds(), Cron: s.Cron, Timezone: s.Timezone,
				Description: s.Describe(), RunOnStartup: s.RunOnStartup, Misfire: s.Misfire,
				Overlap: s.Overlap, JitterSeconds: s.Jitter.Seconds(),
			}
		}
	}
	return out
}

// listTasks is GET /api/tasks: {"tasks": [...]}.
func (h *Handler) listTasks(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, struct {
		Tasks []TaskInfo `json:"tasks"`
	}{h.Tasks()})
	return nil
}

// listTicks is GET /api/ticks?limit=: the most recent ticks, newest first.
func (h *Handler) listTicks(w http.ResponseWriter, r *http.Request) error {
	limit, err := parseLimit(r.URL.Query(), DefaultTicksLimit, MaxTicksLimit)
	if err != nil {
		return err
	}
	ticks, err := h.engine.ListTicks(r.Context(), limit)
	if err != nil {
		return err
	}
	if ticks == nil {
		ticks = []core.TickRecord{}
	}
	writeJSON(w, http.StatusOK, struct {
		Ticks []core.TickRecord `json:"ticks"`
	}{ticks})
	return nil
}
