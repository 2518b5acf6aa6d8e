package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// The schedules view: one page of schedules by key (dashSchedulesPage),
// searched by key prefix, task and label through GET parameters (those of
// GET /api/schedules), with a form creating runtime schedules and a delete
// button on each of them. The form is converted to the REST API's body
// (handler.ScheduleRequest), so it checks input as the API does; an error
// renders the page again with the form as typed and the message.

// dashSchedulesPage is how many schedules one page of the view shows.
const dashSchedulesPage = 50

// schedulesData is the schedules view's data.
type schedulesData struct {
	Schedules []core.ScheduleRecord
	// Strips are the history strips by schedule name (history.go).
	Strips map[string][]stripCell
	// StripSlots is how many slots a strip shows.
	StripSlots int
	// Prefix, Task, Label and Origin are the search as typed.
	Prefix, Task, Label, Origin string
	Filtered                    bool
	// Tasks are the registered tasks (the search's and the form's select).
	Tasks []string
	// NextURL is the next page (empty on the last); FirstURL the first.
	NextURL, FirstURL string
	After             string
	Form              createForm
}

// createForm is the create form as typed, and the error it met.
type createForm struct {
	Key, Task, Name, Every, Cron, Timezone, OnceAt, Payload, Labels string
	Error                                                           string
}

// schedulesView builds the view for r's query, with the create form f.
func (dash *Dashboard) schedulesView(r *http.Request, f createForm) (dashView, error) {
	q := r.URL.Query()
	d := schedulesData{
		Prefix: q.Get("prefix"), Task: q.Get("task"), Label: q.Get("label"), Origin: q.Get("origin"),
		After: q.Get("after"), Form: f, Tasks: dash.engine.Registry().TaskNames(), StripSlots: dashStripSlots,
	}
	search := url.Values{}
	for _, k := range []string{"prefix", "task", "label", "origin"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			search.Set(k, v)
		}
	}
	d.Filtered = len(search) > 0
	fq := url.Values{}
	for k, v := range search {
		fq[k] = v
	}
	if d.After != "" {
		fq.Set("after", d.After)
	}
	filter, err := handler.ParseScheduleFilter(fq)
	if err != nil {
		return dashView{}, err
	}
	filter.Limit = dashSchedulesPage
	page, err := dash.engine.ListSchedules(r.Context(), filter)
	if err != nil {
		return dashView{}, err
	}
	d.Schedules = page.Schedules
	recent, err := dash.engine.RecentSlots(r.Context(), core.RecentSlotsParams{Schedules: page.Schedules, Last: dashStripSlots})
	if err != nil {
		return dashView{}, err
	}
	d.Strips = historyStrips(page.Schedules, recent)
	d.FirstURL = "/ui/schedules"
	if len(search) > 0 {
		d.FirstURL += "?" + search.Encode()
	}
	if page.Next != "" {
		search.Set("after", page.Next)
		d.NextURL = "/ui/schedules?" + search.Encode()
	}
	refresh := 30
	if d.After != "" || f != (createForm{}) {
		refresh = 0 // a later page, or a form being typed: leave it still
	}
	return dashView{page: "schedules", title: "Schedules", nav: "schedules", refresh: refresh, data: d}, nil
}

// request converts the form to the REST API's body.
func (f createForm) request() (handler.ScheduleRequest, error) {
	req := handler.ScheduleRequest{Key: &f.Key, Task: &f.Task}
	opt := func(v string) *string {
		if v = strings.TrimSpace(v); v == "" {
			return nil
		}
		return &v
	}
	req.Name, req.Cron, req.Timezone, req.OnceAt = opt(f.Name), opt(f.Cron), opt(f.Timezone), opt(f.OnceAt)
	if v := strings.TrimSpace(f.Every); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return req, &core.ValidationError{Field: "every", Value: core.CleanText(v), Reason: "want a duration such as 90s, 5m or 1h"}
		}
		secs := d.Seconds()
		req.Every = &secs
	}
	if v := strings.TrimSpace(f.Payload); v != "" {
		if !json.Valid([]byte(v)) {
			return req, &core.ValidationError{Field: "payload", Reason: "is not valid JSON"}
		}
		req.Payload = json.RawMessage(v)
	}
	var selectors []string
	for _, s := range strings.FieldsFunc(f.Labels, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if s = strings.TrimSpace(s); s != "" {
			selectors = append(selectors, s)
		}
	}
	labels, err := handler.ParseLabels("labels", selectors)
	if err != nil {
		return req, err
	}
	if labels != nil {
		req.Labels = &labels
	}
	return req, nil
}

// postCreate is POST /ui/schedules: it creates a runtime schedule from the
// form and redirects to it; bad input renders the page again with the form
// and the message (400, 409 for a key taken).
func (dash *Dashboard) postCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseDashForm(w, r); err != nil {
		dash.renderError(w, r, err)
		return
	}
	if !dash.dashAuthorized(r) {
		dash.renderLogin(w, r, http.StatusUnauthorized, "/ui/schedules", "This server has an API token: sign in to run actions.")
		return
	}
	pf := r.PostForm
	f := createForm{
		Key: pf.Get("key"), Task: pf.Get("task"), Name: pf.Get("name"), Every: pf.Get("every"), Cron: pf.Get("cron"),
		Timezone: pf.Get("timezone"), OnceAt: pf.Get("once_at"), Payload: pf.Get("payload"), Labels: pf.Get("labels"),
	}
	rec, err := dash.create(r, f)
	if err != nil {
		status := handler.StatusOf(err)
		if status >= 500 {
			dash.renderError(w, r, err)
			return
		}
		f.Error = err.Error()
		v, verr := dash.schedulesView(r, f)
		if verr != nil {
			dash.renderError(w, r, verr)
			return
		}
		v.status = status
		dash.render(w, r, v)
		return
	}
	fl := dashFlash{Text: fmt.Sprintf("Created schedule %s: %s.", rec.Name, rec.Description)}
	dash.log.InfoContext(r.Context(), "dashboard action", "path", r.URL.Path, "result", fl.Text)
	setFlash(w, r, fl)
	http.Redirect(w, r, "/ui/schedules?"+url.Values{"prefix": {rec.Name}}.Encode(), http.StatusSeeOther)
}

// create validates the form and creates the schedule.
func (dash *Dashboard) create(r *http.Request, f createForm) (core.ScheduleRecord, error) {
	if strings.TrimSpace(f.Key) == "" {
		return core.ScheduleRecord{}, &core.ValidationError{Field: "key", Reason: "is required"}
	}
	req, err := f.request()
	if err != nil {
		return core.ScheduleRecord{}, err
	}
	p, err := req.Params()
	if err != nil {
		return core.ScheduleRecord{}, err
	}
	return dash.engine.CreateSchedule(r.Context(), p)
}

// actDelete deletes a runtime schedule (a code schedule is a 409).
func (dash *Dashboard) actDelete(r *http.Request) (dashFlash, error) {
	name := r.PathValue("name")
	if err := dash.engine.DeleteSchedule(r.Context(), name); err != nil {
		if errors.Is(err, core.ErrConflict) {
			return dashFlash{}, fmt.Errorf("%w (a schedule declared in code is removed from the code)", err)
		}
		return dashFlash{}, err
	}
	return dashFlash{Text: fmt.Sprintf("Deleted schedule %s: it no longer fires; its runs stay.", name)}, nil
}
