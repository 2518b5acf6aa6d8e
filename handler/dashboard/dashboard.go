package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// Config configures a Dashboard. Zero values take the documented defaults.
type Config struct {
	// Engine reads and changes the schedules and runs. Required.
	Engine *core.Engine
	// Token, when set, is required by every action (auth.go): give it the
	// handler's Config.Token, so that the dashboard and the API share one
	// rule. Empty (the default) means actions are open, like the API's.
	Token string
	// Logger receives the dashboard's logs: actions, sign-in failures, and
	// errors when it is served outside a handler.Handler (default the
	// Engine's logger). handler.NewLogger's loggers add the request id.
	Logger *slog.Logger
}

func (c *Config) validate() error {
	switch {
	case c.Engine == nil:
		return errors.New("dashboard config: Engine is required")
	case strings.ContainsAny(c.Token, " \t\r\n"):
		return errors.New("dashboard config: Token must not contain white space")
	}
	if c.Logger == nil {
		c.Logger = c.Engine.Logger()
	}
	return nil
}

// Dashboard is the web dashboard, an http.Handler for handler.Config.Dashboard
// (see doc.go for its pages). Create it with New; it is safe for concurrent
// use.
type Dashboard struct {
	cfg    Config
	engine *core.Engine
	log    *slog.Logger
	mux    *http.ServeMux
}

// New validates cfg, applies its defaults and returns the dashboard.
func New(cfg Config) (*Dashboard, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dash := &Dashboard{cfg: cfg, engine: cfg.Engine, log: cfg.Logger, mux: http.NewServeMux()}
	dash.routes(dash.mux)
	return dash, nil
}

// ServeHTTP serves the dashboard's pages; any other path is an HTML 404.
// Served by a handler.Handler (as its Config.Dashboard), its requests are
// logged there, with their request id, and its pages carry the staleness
// banner of the Handler's Check.
func (dash *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dash.mux.ServeHTTP(w, r)
}

// routes registers the dashboard on mux. Its "/" catch-all answers every
// other path with an HTML page; a handler.Handler keeps the API's paths
// from it.
func (dash *Dashboard) routes(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dash.renderStatus(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused. Open the dashboard and use its buttons.")
	}))
	post := func(f http.HandlerFunc) http.Handler { return cop.Handler(f) }
	home := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/schedules", http.StatusFound)
	}

	mux.HandleFunc("GET /{$}", home)
	mux.HandleFunc("GET /ui/{$}", home)
	mux.Handle("GET /ui/static/{file...}", staticHandler())

	mux.HandleFunc("GET /ui/schedules", dash.page(dash.viewSchedules))
	mux.HandleFunc("GET /ui/schedules/{name}", dash.page(dash.viewSchedule))
	mux.HandleFunc("GET /ui/runs", dash.page(dash.viewRuns))
	mux.HandleFunc("GET /ui/runs/{id}", dash.page(dash.viewRun))
	mux.HandleFunc("GET /ui/ticks", dash.page(dash.viewTicks))

	mux.Handle("POST /ui/schedules", post(http.HandlerFunc(dash.postCreate)))
	mux.Handle("POST /ui/schedules/{name}/delete", post(dash.action(backToSchedules, dash.actDelete)))
	mux.Handle("POST /ui/schedules/{name}/trigger", post(dash.action(backToSchedules, dash.actTrigger)))
	mux.Handle("POST /ui/schedules/{name}/pause", post(dash.action(backToSchedules, dash.actPause(true))))
	mux.Handle("POST /ui/schedules/{name}/resume", post(dash.action(backToSchedules, dash.actPause(false))))
	mux.Handle("POST /ui/schedules/{name}/backfill", post(dash.action(backToSchedule, dash.actBackfill)))
	mux.Handle("POST /ui/runs/{id}/retry", post(dash.action(backToRun, dash.actRetry)))
	mux.Handle("POST /ui/runs/{id}/cancel", post(dash.action(backToRun, dash.actCancel)))

	mux.HandleFunc("GET /ui/login", dash.getLogin)
	mux.Handle("POST /ui/login", post(dash.postLogin))
	mux.Handle("POST /ui/logout", post(dash.postLogout))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		dash.renderStatus(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
	})
}

// viewFunc builds a page from a request, or fails with an error that
// renderError maps to a status.
type viewFunc func(r *http.Request) (dashView, error)

// page adapts a viewFunc.
func (dash *Dashboard) page(f viewFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			dash.renderError(w, r, err)
			return
		}
		dash.render(w, r, v)
	}
}

// actionFunc performs a dashboard action and says what happened.
type actionFunc func(r *http.Request) (dashFlash, error)

func backToSchedules(*http.Request) string { return "/ui/schedules" }

func backToRun(r *http.Request) string { return "/ui/runs/" + url.PathEscape(r.PathValue("id")) }

// action adapts an actionFunc: it reads the form, enforces the token rule
// (401 with the sign-in form), runs f, and redirects (303) to the form's
// "next" page, or to back(r), with f's message.
func (dash *Dashboard) action(back func(*http.Request) string, f actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := parseDashForm(w, r); err != nil {
			dash.renderError(w, r, err)
			return
		}
		next := safeNext(r.PostForm.Get("next"), back(r))
		if !dash.dashAuthorized(r) {
			dash.renderLogin(w, r, http.StatusUnauthorized, next, "This server has an API token: sign in to run actions.")
			return
		}
		fl, err := f(r)
		if err != nil {
			dash.renderError(w, r, err)
			return
		}
		dash.log.InfoContext(r.Context(), "dashboard action", "path", r.URL.Path, "result", fl.Text)
		setFlash(w, r, fl)
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// viewSchedules is the schedules view (schedules.go).
func (dash *Dashboard) viewSchedules(r *http.Request) (dashView, error) {
	return dash.schedulesView(r, createForm{})
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

func (dash *Dashboard) viewRuns(r *http.Request) (dashView, error) {
	q := r.URL.Query()
	q.Del("limit") // the page size is the dashboard's
	p, err := handler.ParseListRuns(q)
	if err != nil {
		return dashView{}, err
	}
	p.Limit = dashRunsPage + 1 // one more tells whether an older page exists
	runs, err := dash.engine.ListRuns(r.Context(), p)
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
	reg := dash.engine.Registry()
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

func (dash *Dashboard) viewRun(r *http.Request) (dashView, error) {
	id, err := handler.RunID(r)
	if err != nil {
		return dashView{}, err
	}
	run, err := dash.engine.GetRun(r.Context(), id)
	if err != nil {
		return dashView{}, err
	}
	d := runData{Run: run, Zone: "UTC", Payload: prettyJSON(run.Payload)}
	if s, ok := dash.engine.Registry().ScheduleByName(run.Schedule); ok {
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

func (dash *Dashboard) viewTicks(r *http.Request) (dashView, error) {
	ticks, err := dash.engine.ListTicks(r.Context(), dashTicks)
	if err != nil {
		return dashView{}, err
	}
	return dashView{page: "ticks", title: "Ticks", nav: "ticks", refresh: 15, data: ticksData{Ticks: ticks}}, nil
}

// actTrigger is "run now": a manual run of the schedule's task, started by
// the next tick.
func (dash *Dashboard) actTrigger(r *http.Request) (dashFlash, error) {
	run, err := dash.engine.Trigger(r.Context(), r.PathValue("name"))
	if err != nil {
		return dashFlash{}, err
	}
	return dashFlash{
		Text: fmt.Sprintf("Run #%d of %s queued; the next tick starts it.", run.ID, run.DisplayName),
		Link: fmt.Sprintf("/ui/runs/%d", run.ID),
	}, nil
}

// actPause pauses (or resumes) a schedule.
func (dash *Dashboard) actPause(paused bool) actionFunc {
	return func(r *http.Request) (dashFlash, error) {
		name := r.PathValue("name")
		rec, err := dash.engine.SetSchedulePaused(r.Context(), name, paused)
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
func (dash *Dashboard) actRetry(r *http.Request) (dashFlash, error) {
	return runAct(r, dash.engine.RetryRun, "Run #%d will be retried by the next tick.")
}

// actCancel cancels a pending (or interrupted) run.
func (dash *Dashboard) actCancel(r *http.Request) (dashFlash, error) {
	return runAct(r, dash.engine.CancelRun, "Run #%d cancelled.")
}

// runAct applies act (an Engine run action) to the run of the {id} path
// value and says done.
func runAct(r *http.Request, act func(context.Context, int64) (core.Run, error), done string) (dashFlash, error) {
	id, err := handler.RunID(r)
	if err != nil {
		return dashFlash{}, err
	}
	run, err := act(r.Context(), id)
	if err != nil {
		return dashFlash{}, err
	}
	return dashFlash{Text: fmt.Sprintf(done, run.ID)}, nil
}
