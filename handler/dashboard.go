package handler

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/tickflow/tickflow/core"
)

// The dashboard: server-rendered pages under /ui/ (GET / redirects to the
// schedules view), embedded in the binary, readable without JavaScript.
//
//	GET  /ui/schedules                    schedules, with run now / pause / resume
//	GET  /ui/runs?status=&source=&task=&schedule=&cursor=
//	                                      runs, newest first, filtered, paginated
//	GET  /ui/runs/{id}                    one run: slot, attempts, timings,
//	                                      payload, error and stack, tick
//	GET  /ui/ticks                        recent ticks and the staleness banner
//	POST /ui/schedules/{name}/trigger     run now (source manual)
//	POST /ui/schedules/{name}/pause       pause
//	POST /ui/schedules/{name}/resume      resume
//	POST /ui/runs/{id}/retry              retry a failed run
//	POST /ui/runs/{id}/cancel             cancel a pending run
//	GET  /ui/login, POST /ui/login, POST /ui/logout
//
// Actions are plain forms answered with a redirect back to the page named by
// their "next" field (Post/Redirect/Get) and a one-time message; errors are
// pages with the API's status codes. See dashboard_auth.go for the token
// rule.

// Dashboard is the web dashboard, for Config.Dashboard. It is a value to
// opt in with rather than a flag so that a program that does not serve it
// does not link it: executing html/template makes the linker keep every
// exported method of every reachable type, about 1.8 MB of the Lambda
// function's bootstrap (cmd/lambda's -tags tickflow.nodashboard leaves it
// out).
type Dashboard struct {
	mount func(*Handler, *http.ServeMux)
}

// NewDashboard returns the dashboard, to set in Config.Dashboard.
func NewDashboard() *Dashboard {
	return &Dashboard{mount: (*Handler).mountDashboard}
}

// mountDashboard registers the dashboard on mux, after the API routes: its
// "/" catch-all answers every path the API does not own with an HTML page.
func (h *Handler) mountDashboard(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderStatus(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused. Open the dashboard and use its buttons.")
	}))
	post := func(f http.HandlerFunc) http.Handler { return cop.Handler(f) }
	home := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/schedules", http.StatusFound)
	}

	mux.HandleFunc("GET /{$}", home)
	mux.HandleFunc("GET /ui/{$}", home)
	mux.Handle("GET /ui/static/{file...}", staticHandler())

	mux.HandleFunc("GET /ui/schedules", h.page(h.viewSchedules))
	mux.HandleFunc("GET /ui/runs", h.page(h.viewRuns))
	mux.HandleFunc("GET /ui/runs/{id}", h.page(h.viewRun))
	mux.HandleFunc("GET /ui/ticks", h.page(h.viewTicks))

	mux.Handle("POST /ui/schedules/{name}/trigger", post(h.action(backToSchedules, h.actTrigger)))
	mux.Handle("POST /ui/schedules/{name}/pause", post(h.action(backToSchedules, h.actPause(true))))
	mux.Handle("POST /ui/schedules/{name}/resume", post(h.action(backToSchedules, h.actPause(false))))
	mux.Handle("POST /ui/runs/{id}/retry", post(h.action(backToRun, h.actRetry)))
	mux.Handle("POST /ui/runs/{id}/cancel", post(h.action(backToRun, h.actCancel)))

	mux.HandleFunc("GET /ui/login", h.getLogin)
	mux.Handle("POST /ui/login", post(h.postLogin))
	mux.Handle("POST /ui/logout", post(h.postLogout))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.renderStatus(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
	})
}

// viewFunc builds a page from a request, or fails with an error that
// renderError maps to a status.
type viewFunc func(r *http.Request) (dashView, error)

// page adapts a viewFunc.
func (h *Handler) page(f viewFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		h.render(w, r, v)
	}
}

// actionFunc performs a dashboard action and says what happened.
type actionFunc func(r *http.Request) (dashFlash, error)

func backToSchedules(*http.Request) string { return "/ui/schedules" }

func backToRun(r *http.Request) string { return "/ui/runs/" + url.PathEscape(r.PathValue("id")) }

// action adapts an actionFunc: it reads the form, enforces the token rule
// (401 with the sign-in form), runs f, and redirects (303) to the form's
// "next" page, or to back(r), with f's message.
func (h *Handler) action(back func(*http.Request) string, f actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := parseDashForm(w, r); err != nil {
			h.renderError(w, r, err)
			return
		}
		next := safeNext(r.PostForm.Get("next"), back(r))
		if !h.dashAuthorized(r) {
			h.renderLogin(w, r, http.StatusUnauthorized, next, "This server has an API token: sign in to run actions.")
			return
		}
		fl, err := f(r)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		h.log.InfoContext(r.Context(), "dashboard action", "path", r.URL.Path, "result", fl.Text)
		setFlash(w, r, fl)
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// schedulesData is the schedules view's data.
type schedulesData struct {
	Schedules []core.ScheduleRecord
}

func (h *Handler) viewSchedules(r *http.Request) (dashView, error) {
	recs, err := h.engine.Schedules(r.Context())
	if err != nil {
		return dashView{}, err
	}
	return dashView{page: "schedules", title: "Schedules", nav: "schedules", refresh: 30, data: schedulesData{Schedules: recs}}, nil
}

// runsData is the runs view's data.
type runsData struct {
	Filter   core.ListRunsParams
	Filtered bool
	Runs     []core.Run
	// Filters are the form's selects: status, source, task, schedule.
	Filters []filterSelect
	// OlderURL is the next page (empty on the last); NewestURL the first.
	OlderURL, NewestURL string
}

// filterSelect is one select of the runs filter form.
type filterSelect struct {
	Label, Name, Selected string
	Options               []string
}

// dashRunsPage is how many runs one page of the runs view shows.
const dashRunsPage = 50

func (h *Handler) viewRuns(r *http.Request) (dashView, error) {
	q := r.URL.Query()
	q.Del("limit") // the page size is the dashboard's
	p, err := parseListRuns(q)
	if err != nil {
		return dashView{}, err
	}
	p.Limit = dashRunsPage + 1 // one more tells whether an older page exists
	runs, err := h.engine.ListRuns(r.Context(), p)
	if err != nil {
		return dashView{}, err
	}
	p.Limit = dashRunsPage
	d := runsData{
		Filter:   p,
		Filtered: p.Status != "" || p.Source != "" || p.Task != "" || p.Schedule != "",
		Runs:     runs,
	}
	// The choices: every status and source, the registered tasks and
	// schedules (plus the current filter's value if it is neither).
	var statuses, schedules []string
	for _, s := range core.Statuses {
		statuses = append(statuses, string(s))
	}
	reg := h.engine.Registry()
	for _, s := range reg.Schedules() {
		schedules = append(schedules, s.Name)
	}
	d.Filters = []filterSelect{
		{Label: "Status", Name: "status", Selected: string(p.Status), Options: statuses},
		{Label: "Source", Name: "source", Selected: string(p.Source), Options: []string{string(core.SourceManual), string(core.SourceScheduled)}},
		{Label: "Task", Name: "task", Selected: p.Task, Options: withValue(reg.TaskNames(), p.Task)},
		{Label: "Schedule", Name: "schedule", Selected: p.Schedule, Options: withValue(schedules, p.Schedule)},
	}

	page := url.Values{}
	for _, k := range []string{"status", "source", "task", "schedule"} {
		if v := q.Get(k); v != "" {
			page.Set(k, v)
		}
	}
	d.NewestURL = "/ui/runs"
	if len(page) > 0 {
		d.NewestURL += "?" + page.Encode()
	}
	if len(runs) > dashRunsPage {
		d.Runs = runs[:dashRunsPage]
		page.Set("cursor", strconv.FormatInt(d.Runs[dashRunsPage-1].ID, 10))
		d.OlderURL = "/ui/runs?" + page.Encode()
	}
	refresh := 10
	if p.BeforeID != 0 {
		refresh = 0 // an older page does not change much; leave it still
	}
	return dashView{page: "runs", title: "Runs", nav: "runs", refresh: refresh, data: d}, nil
}

// withValue returns names with v appended when v is set and missing.
func withValue(names []string, v string) []string {
	if v != "" && !slices.Contains(names, v) {
		names = append(names, v)
	}
	return names
}

// runData is the run view's data.
type runData struct {
	Run core.Run
	// Zone is the schedule's zone (UTC for interval schedules and manual
	// runs): the slot is shown in it.
	Zone    string
	Payload string
}

func (h *Handler) viewRun(r *http.Request) (dashView, error) {
	id, err := runID(r)
	if err != nil {
		return dashView{}, err
	}
	run, err := h.engine.GetRun(r.Context(), id)
	if err != nil {
		return dashView{}, err
	}
	d := runData{Run: run, Zone: "UTC", Payload: prettyJSON(run.Payload)}
	if s, ok := h.engine.Registry().ScheduleByName(run.Schedule); ok {
		d.Zone = s.Location().String()
	}
	refresh := 0
	if !run.Status.Final() {
		refresh = 5
	}
	return dashView{page: "run", title: fmt.Sprintf("Run #%d", run.ID), nav: "runs", refresh: refresh, data: d}, nil
}

// ticksData is the ticks view's data.
type ticksData struct {
	Ticks []core.TickRecord
}

// dashTicks is how many recent ticks the ticks view lists.
const dashTicks = 50

func (h *Handler) viewTicks(r *http.Request) (dashView, error) {
	ticks, err := h.engine.ListTicks(r.Context(), dashTicks)
	if err != nil {
		return dashView{}, err
	}
	return dashView{page: "ticks", title: "Ticks", nav: "ticks", refresh: 15, data: ticksData{Ticks: ticks}}, nil
}

// actTrigger is "run now": a manual run of the schedule's task, started by
// the next tick.
func (h *Handler) actTrigger(r *http.Request) (dashFlash, error) {
	run, err := h.engine.Trigger(r.Context(), r.PathValue("name"))
	if err != nil {
		return dashFlash{}, err
	}
	return dashFlash{
		Text: fmt.Sprintf("Run #%d of %s queued; the next tick starts it.", run.ID, run.DisplayName),
		Link: fmt.Sprintf("/ui/runs/%d", run.ID),
	}, nil
}

// actPause pauses (or resumes) a schedule.
func (h *Handler) actPause(paused bool) actionFunc {
	return func(r *http.Request) (dashFlash, error) {
		name := r.PathValue("name")
		rec, err := h.engine.SetSchedulePaused(r.Context(), name, paused)
		if err != nil {
			return dashFlash{}, err
		}
		if paused {
			return dashFlash{Text: fmt.Sprintf("Paused %s: no slot runs until it is resumed.", rec.DisplayName)}, nil
		}
		return dashFlash{Text: fmt.Sprintf("Resumed %s.", rec.DisplayName)}, nil
	}
}

// actRetry makes a failed run pending again.
func (h *Handler) actRetry(r *http.Request) (dashFlash, error) {
	return h.runAct(r, "retry", h.engine.RetryRun, "Run #%d will be retried by the next tick.")
}

// actCancel cancels a pending (or interrupted) run.
func (h *Handler) actCancel(r *http.Request) (dashFlash, error) {
	return h.runAct(r, "cancel", h.engine.CancelRun, "Run #%d cancelled.")
}

func (h *Handler) runAct(r *http.Request, op string, act func(context.Context, int64) (core.Run, error), done string) (dashFlash, error) {
	id, err := runID(r)
	if err != nil {
		return dashFlash{}, err
	}
	run, err := act(r.Context(), id) // the engine's error names op and id
	if err != nil {
		return dashFlash{}, err
	}
	return dashFlash{Text: fmt.Sprintf(done, run.ID)}, nil
}
