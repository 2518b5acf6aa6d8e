package handler_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

func TestNewValidatesConfig(t *testing.T) {
	if _, err := handler.New(handler.Config{}); err == nil || !strings.Contains(err.Error(), "Engine") {
		t.Fatalf("New without engine: err = %v, want one naming Engine", err)
	}
	e := newEnv(t)
	for name, cfg := range map[string]handler.Config{
		"negative period":   {Engine: e.engine, TickPeriod: -time.Second},
		"negative multiple": {Engine: e.engine, StaleAfter: -1},
		"negative body":     {Engine: e.engine, MaxBodyBytes: -1},
		"token with space":  {Engine: e.engine, Token: "a b"},
	} {
		if _, err := handler.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestTickEndpoint(t *testing.T) {
	e := newEnv(t)
	rep := e.tick()
	if rep.Claimed != 0 || rep.TickID == "" || !rep.Now.Equal(t0) {
		t.Fatalf("first tick at t0 = %+v, want nothing claimed at %s", rep, t0)
	}

	e.clock.Advance(5 * time.Minute)
	rep = e.tick()
	if rep.Claimed != 1 || rep.Succeeded != 1 {
		t.Fatalf("tick at the first cleanup slot = %+v, want 1 claimed and succeeded", rep)
	}
	runs := e.runs()
	if len(runs) != 1 || runs[0].Schedule != "cleanup" || runs[0].Status != core.StatusSuccess || runs[0].Source != core.SourceScheduled {
		t.Fatalf("runs after the slot = %+v, want one successful scheduled cleanup run", runs)
	}
	if got := len(e.ticks()); got != 2 {
		t.Errorf("ticks recorded = %d, want 2", got)
	}
}

func TestTickEndpointInfrastructureFailure(t *testing.T) {
	e := newEnv(t)
	e.store.down.Store(true)
	r := expect(t, e.do("POST", "/tick", ""), http.StatusInternalServerError)
	var rep core.Report
	r.json(t, &rep)
	if !strings.Contains(rep.Error, errDown.Error()) || rep.TickID == "" {
		t.Fatalf("500 body = %s, want the partial report with the store error", r.body)
	}
}

func TestSchedulesAPI(t *testing.T) {
	e := newEnv(t)

	var list struct {
		Schedules []core.ScheduleRecord `json:"schedules"`
	}
	expect(t, e.do("GET", "/api/schedules", ""), http.StatusOK).json(t, &list)
	if len(list.Schedules) != 2 || list.Schedules[0].Name != "cleanup" || list.Schedules[1].Name != "report" {
		t.Fatalf("schedules = %+v, want cleanup and report", list.Schedules)
	}
	for _, s := range list.Schedules {
		if s.Description == "" {
			t.Errorf("schedule %s has no description", s.Name)
		}
	}

	var one core.ScheduleRecord
	expect(t, e.do("GET", "/api/schedules/report", ""), http.StatusOK).json(t, &one)
	if one.Cron != "0 9 * * *" || one.Timezone != "America/New_York" || one.Description == "" {
		t.Errorf("report schedule = %+v", one)
	}
	expect(t, e.do("GET", "/api/schedules/nope", ""), http.StatusNotFound).errorMessage(t)

	// Pause: the due slot is not run; resume: it is.
	expect(t, e.do("POST", "/api/schedules/cleanup/pause", ""), http.StatusOK).json(t, &one)
	if !one.Paused || one.Description == "" {
		t.Fatalf("after pause: %+v", one)
	}
	e.clock.Advance(5 * time.Minute)
	if rep := e.tick(); rep.Claimed != 0 {
		t.Fatalf("tick with cleanup paused claimed %d", rep.Claimed)
	}
	expect(t, e.do("POST", "/api/schedules/cleanup/resume", "{}"), http.StatusOK).json(t, &one)
	if one.Paused {
		t.Fatalf("after resume: %+v", one)
	}
	if rep := e.tick(); rep.Claimed != 1 {
		t.Fatalf("tick after resume claimed %d, want 1", rep.Claimed)
	}
	expect(t, e.do("POST", "/api/schedules/nope/pause", ""), http.StatusNotFound).errorMessage(t)
	expect(t, e.do("POST", "/api/schedules/nope/resume", ""), http.StatusNotFound).errorMessage(t)

	// Trigger: a manual run of the schedule's task, now.
	var run core.Run
	expect(t, e.do("POST", "/api/schedules/report/trigger", ""), http.StatusCreated).json(t, &run)
	if run.Task != "report" || run.Schedule != "report" || run.Source != core.SourceManual || run.Status != core.StatusPending {
		t.Fatalf("triggered run = %+v", run)
	}
	n := len(e.runs())
	expect(t, e.do("POST", "/api/schedules/nope/trigger", ""), http.StatusNotFound).errorMessage(t)
	expect(t, e.do("POST", "/api/schedules/report/trigger", "{bad"), http.StatusBadRequest).errorMessage(t)
	expect(t, e.do("POST", "/api/schedules/report/trigger", `{"x":1}`), http.StatusBadRequest).errorMessage(t)
	if got := len(e.runs()); got != n {
		t.Fatalf("bad triggers wrote runs: %d -> %d", n, got)
	}
	if rep := e.tick(); rep.Succeeded != 1 {
		t.Fatalf("tick after trigger = %+v, want the triggered run to succeed", rep)
	}
}

func TestAddTask(t *testing.T) {
	e := newEnv(t)
	run := e.addTask("send_email", `{"to":"a@example.com"}`)
	if run.ID <= 0 || run.Task != "send_email" || run.Source != core.SourceManual || run.Status != core.StatusPending {
		t.Fatalf("added run = %+v", run)
	}
	if string(run.Payload) != `{"to":"a@example.com"}` {
		t.Errorf("payload = %s", run.Payload)
	}

	// Idempotency: 201 then 200 with the same run.
	body := `{"task":"send_email","idempotency_key":"k-1"}`
	var first, second core.Run
	expect(t, e.do("POST", "/api/runs", body), http.StatusCreated).json(t, &first)
	expect(t, e.do("POST", "/api/runs", body), http.StatusOK).json(t, &second)
	if first.ID != second.ID || first.IdempotencyKey != "k-1" {
		t.Fatalf("idempotent add: %d then %d", first.ID, second.ID)
	}
	// A null payload is no payload.
	if r := e.addTask("send_email", "null"); r.Payload != nil {
		t.Errorf("null payload stored as %s", r.Payload)
	}

	rep := e.tick()
	if rep.Succeeded != 3 {
		t.Fatalf("tick = %+v, want the 3 manual runs to succeed", rep)
	}
	e.mu.Lock()
	emails := slices.Clone(e.emails)
	e.mu.Unlock()
	if !slices.Contains(emails, `{"to":"a@example.com"}`) {
		t.Errorf("task saw payloads %q", emails)
	}
}

func TestAddTaskBadInput(t *testing.T) {
	e := newEnv(t, withMaxBody(1024))
	e.addTask("send_email", "") // one run exists
	before := len(e.runs())
	big := `{"task":"send_email","payload":"` + strings.Repeat("x", 2000) + `"}`
	for _, c := range []struct {
		name, body string
		status     int
		mention    string
	}{
		{"malformed JSON", `{"task":`, http.StatusBadRequest, "malformed JSON"},
		{"not an object", `["send_email"]`, http.StatusBadRequest, "malformed JSON"},
		{"empty body", ``, http.StatusBadRequest, "body"},
		{"trailing data", `{"task":"send_email"} {"task":"send_email"}`, http.StatusBadRequest, "after the object"},
		{"unknown field", `{"task":"send_email","priority":1}`, http.StatusBadRequest, "priority"},
		{"wrong type", `{"task":7}`, http.StatusBadRequest, "task"},
		{"missing task", `{"payload":{}}`, http.StatusBadRequest, "task"},
		{"unknown task", `{"task":"nope"}`, http.StatusNotFound, "nope"},
		{"oversized body", big, http.StatusRequestEntityTooLarge, "1024 bytes"},
		{"long idempotency key", `{"task":"send_email","idempotency_key":"` + strings.Repeat("k", 201) + `"}`, http.StatusBadRequest, "idempotency_key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := expect(t, e.do("POST", "/api/runs", c.body), c.status).errorMessage(t)
			if !strings.Contains(msg, c.mention) {
				t.Errorf("error %q does not mention %q", msg, c.mention)
			}
		})
	}
	if got := len(e.runs()); got != before {
		t.Fatalf("bad input wrote runs: %d -> %d", before, got)
	}
}

func TestDefaultBodyLimit(t *testing.T) {
	e := newEnv(t)
	big := `{"task":"send_email","payload":"` + strings.Repeat("x", 1<<20) + `"}`
	expect(t, e.do("POST", "/api/runs", big), http.StatusRequestEntityTooLarge).errorMessage(t)
	expect(t, e.do("POST", "/tick", big), http.StatusRequestEntityTooLarge).errorMessage(t)
	if n := len(e.runs()); n != 0 {
		t.Fatalf("oversized bodies wrote %d runs", n)
	}
	if n := len(e.ticks()); n != 0 {
		t.Fatalf("oversized /tick body ran %d ticks", n)
	}
}

func TestGetRun(t *testing.T) {
	e := newEnv(t)
	run := e.addTask("send_email", `{"n":1}`)
	var got core.Run
	expect(t, e.do("GET", fmt.Sprintf("/api/runs/%d", run.ID), ""), http.StatusOK).json(t, &got)
	if got.ID != run.ID || got.Task != "send_email" {
		t.Fatalf("get run = %+v, want %+v", got, run)
	}
	for _, bad := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
		msg := expect(t, e.do("GET", "/api/runs/"+bad, ""), http.StatusBadRequest).errorMessage(t)
		if !strings.Contains(msg, "id") {
			t.Errorf("bad id %q: error %q does not name id", bad, msg)
		}
	}
	expect(t, e.do("GET", fmt.Sprintf("/api/runs/%d", run.ID+1000), ""), http.StatusNotFound).errorMessage(t)
}

func TestListRuns(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	for i := 0; i < 5; i++ {
		ids = append(ids, e.addTask("send_email", fmt.Sprintf(`{"n":%d}`, i)).ID)
	}
	flaky := e.addTask("flaky", "")
	e.clock.Advance(5 * time.Minute)
	rep := e.tick() // runs all six manual runs and the cleanup slot
	if rep.Succeeded != 6 || rep.Failed != 1 {
		t.Fatalf("tick = %+v, want 6 successes and 1 failure", rep)
	}
	pending := e.addTask("send_email", "")

	type page struct {
		Runs       []core.Run `json:"runs"`
		NextCursor string     `json:"next_cursor"`
	}
	list := func(query string) page {
		t.Helper()
		var p page
		expect(t, e.do("GET", "/api/runs"+query, ""), http.StatusOK).json(t, &p)
		return p
	}
	idsOf := func(runs []core.Run) []int64 {
		out := []int64{}
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}

	all := list("")
	if len(all.Runs) != 8 || all.NextCursor != "" {
		t.Fatalf("all runs: %d runs, cursor %q; want 8 and no cursor", len(all.Runs), all.NextCursor)
	}
	for i := 1; i < len(all.Runs); i++ {
		if all.Runs[i-1].ID <= all.Runs[i].ID {
			t.Fatalf("runs not newest first: %v", idsOf(all.Runs))
		}
	}

	// Pagination follows next_cursor to the end, without gaps or repeats.
	var seen []int64
	q := "?task=send_email&limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		p := list(q)
		seen = append(seen, idsOf(p.Runs)...)
		if p.NextCursor == "" {
			break
		}
		q = "?task=send_email&limit=2&cursor=" + p.NextCursor
	}
	want := append([]int64{pending.ID}, ids...)
	slices.Sort(want)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("paged ids %v, want %v", seen, want)
	}

	if p := list("?status=failed"); len(p.Runs) != 1 || p.Runs[0].ID != flaky.ID {
		t.Errorf("status=failed: %v, want [%d]", idsOf(p.Runs), flaky.ID)
	}
	if p := list("?status=pending&source=manual"); len(p.Runs) != 1 || p.Runs[0].ID != pending.ID {
		t.Errorf("pending manual: %v, want [%d]", idsOf(p.Runs), pending.ID)
	}
	if p := list("?source=scheduled&schedule=cleanup"); len(p.Runs) != 1 || p.Runs[0].Schedule != "cleanup" {
		t.Errorf("scheduled cleanup: %+v", p.Runs)
	}
	if p := list("?schedule=report"); len(p.Runs) != 0 {
		t.Errorf("schedule=report: %v, want none", idsOf(p.Runs))
	}

	for _, bad := range []struct{ query, field string }{
		{"?status=done", "status"},
		{"?source=cron", "source"},
		{"?limit=0", "limit"},
		{"?limit=201", "limit"},
		{"?limit=x", "limit"},
		{"?cursor=abc", "cursor"},
		{"?cursor=-5", "cursor"},
		{"?task=" + strings.Repeat("t", 201), "task"},
	} {
		msg := expect(t, e.do("GET", "/api/runs"+bad.query, ""), http.StatusBadRequest).errorMessage(t)
		if !strings.Contains(msg, bad.field) {
			t.Errorf("%s: error %q does not name %s", bad.query, msg, bad.field)
		}
	}
}

func TestCancelAndRetry(t *testing.T) {
	e := newEnv(t)
	pending := e.addTask("send_email", "")
	flaky := e.addTask("flaky", "")

	var run core.Run
	expect(t, e.do("POST", fmt.Sprintf("/api/runs/%d/cancel", pending.ID), ""), http.StatusOK).json(t, &run)
	if run.Status != core.StatusCancelled {
		t.Fatalf("cancelled run = %+v", run)
	}
	expect(t, e.do("POST", fmt.Sprintf("/api/runs/%d/cancel", pending.ID), ""), http.StatusConflict).errorMessage(t)
	// A pending run cannot be retried; only failed runs can.
	expect(t, e.do("POST", fmt.Sprintf("/api/runs/%d/retry", flaky.ID), ""), http.StatusConflict).errorMessage(t)

	if rep := e.tick(); rep.Failed != 1 || rep.Claimed != 1 {
		t.Fatalf("tick = %+v, want the flaky run claimed and failed (the cancelled one not run)", rep)
	}
	e.mu.Lock()
	sent := len(e.emails)
	e.mu.Unlock()
	if sent != 0 {
		t.Fatalf("the cancelled run ran")
	}
	expect(t, e.do("POST", fmt.Sprintf("/api/runs/%d/cancel", flaky.ID), ""), http.StatusConflict).errorMessage(t)
	expect(t, e.do("POST", fmt.Sprintf("/api/runs/%d/retry", flaky.ID), ""), http.StatusOK).json(t, &run)
	if run.Status != core.StatusPending || run.MaxAttempts <= run.Attempt {
		t.Fatalf("retried run = %+v, want pending with an attempt left", run)
	}
	if rep := e.tick(); rep.Failed != 1 {
		t.Fatalf("tick after retry = %+v, want the retried run attempted again", rep)
	}

	for _, action := range []string{"cancel", "retry"} {
		expect(t, e.do("POST", "/api/runs/99999/"+action, ""), http.StatusNotFound).errorMessage(t)
		expect(t, e.do("POST", "/api/runs/abc/"+action, ""), http.StatusBadRequest).errorMessage(t)
		expect(t, e.do("POST", fmt.Sprintf("/api/runs/%d/%s", flaky.ID, action), "{oops"), http.StatusBadRequest).errorMessage(t)
	}
	if got, _ := e.store.GetRun(t.Context(), flaky.ID); got.Status != core.StatusFailed {
		t.Fatalf("bad cancel/retry requests changed the run: %+v", got)
	}
}

func TestTasksAndTicks(t *testing.T) {
	e := newEnv(t)
	var tasks struct {
		Tasks []handler.TaskInfo `json:"tasks"`
	}
	expect(t, e.do("GET", "/api/tasks", ""), http.StatusOK).json(t, &tasks)
	byName := map[string]handler.TaskInfo{}
	for _, ti := range tasks.Tasks {
		byName[ti.Name] = ti
	}
	if len(byName) != 4 {
		t.Fatalf("tasks = %+v, want 4", tasks.Tasks)
	}
	c := byName["cleanup"]
	if c.DisplayName != "Clean up sessions" || c.Retries != 1 || c.Schedule == nil || c.Schedule.Kind != "every" ||
		c.Schedule.EverySeconds != 300 || c.Schedule.Description == "" {
		t.Errorf("cleanup task = %+v (schedule %+v)", c, c.Schedule)
	}
	if r := byName["report"].Schedule; r == nil || r.Cron != "0 9 * * *" || r.Timezone != "America/New_York" {
		t.Errorf("report schedule = %+v", r)
	}
	if s := byName["send_email"]; s.Schedule != nil || s.DisplayName != "send_email" {
		t.Errorf("send_email = %+v, want a manual-only task", s)
	}

	e.tick()
	e.clock.Advance(time.Minute)
	e.tick()
	var ticks struct {
		Ticks []core.TickRecord `json:"ticks"`
	}
	expect(t, e.do("GET", "/api/ticks", ""), http.StatusOK).json(t, &ticks)
	if len(ticks.Ticks) != 2 || !ticks.Ticks[0].StartedAt.After(ticks.Ticks[1].StartedAt) || ticks.Ticks[0].Trigger != "http" {
		t.Fatalf("ticks = %+v, want 2, newest first, trigger http", ticks.Ticks)
	}
	expect(t, e.do("GET", "/api/ticks?limit=1", ""), http.StatusOK).json(t, &ticks)
	if len(ticks.Ticks) != 1 {
		t.Fatalf("limit=1 gave %d ticks", len(ticks.Ticks))
	}
	for _, bad := range []string{"0", "201", "ten"} {
		expect(t, e.do("GET", "/api/ticks?limit="+bad, ""), http.StatusBadRequest).errorMessage(t)
	}
}

// mutatingRoutes are every route that needs the token when one is set.
var mutatingRoutes = []struct{ path, body string }{
	{"/tick", ""},
	{"/api/runs", `{"task":"send_email"}`},
	{"/api/runs/1/cancel", ""},
	{"/api/runs/2/retry", ""},
	{"/api/schedules/cleanup/pause", ""},
	{"/api/schedules/cleanup/resume", ""},
	{"/api/schedules/cleanup/trigger", ""},
}

func TestTokenRequired(t *testing.T) {
	// A limiter loose enough for every wrong token below (TestAuthLimit
	// tests the default one).
	e := newEnv(t, withToken("s3cret-token"), withAuthLimiter(handler.NewAuthLimiter(handler.AuthLimit{Failures: 1000})))
	e.addTask("send_email", "")
	e.addTask("flaky", "")
	before, ticksBefore := e.runs(), len(e.ticks())

	for _, rt := range mutatingRoutes {
		for name, auth := range map[string]string{
			"missing":     "",
			"wrong":       "Bearer s3cret-tokeN",
			"prefix":      "Bearer s3cret",
			"longer":      "Bearer s3cret-token-and-more",
			"basic":       "Basic s3cret-token",
			"bare token":  "s3cret-token",
			"empty token": "Bearer ",
		} {
			req, _ := http.NewRequest("POST", e.srv.URL+rt.path, strings.NewReader(rt.body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			r := expect(t, e.send(req), http.StatusUnauthorized)
			r.errorMessage(t)
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", name, rt.path)
			}
		}
	}
	after := e.runs()
	if len(after) != len(before) || len(e.ticks()) != ticksBefore {
		t.Fatalf("unauthorized requests wrote: runs %d -> %d, ticks %d -> %d", len(before), len(after), ticksBefore, len(e.ticks()))
	}
	for i := range after {
		if after[i].Status != before[i].Status {
			t.Fatalf("unauthorized requests changed run %d: %s -> %s", after[i].ID, before[i].Status, after[i].Status)
		}
	}
	if s, _ := e.engine.Schedule(t.Context(), "cleanup"); s.Paused {
		t.Fatal("an unauthorized pause paused the schedule")
	}

	// Reads stay open; the right token (case-insensitive scheme) is accepted.
	expect(t, e.call("GET", "/api/runs", "", false), http.StatusOK)
	expect(t, e.call("GET", "/healthz", "", false), http.StatusOK)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/schedules/cleanup/pause", nil)
	req.Header.Set("Authorization", "bearer s3cret-token")
	expect(t, e.send(req), http.StatusOK)
	expect(t, e.do("POST", "/tick", ""), http.StatusOK)
	expect(t, e.do("POST", "/api/runs", `{"task":"send_email"}`), http.StatusCreated)
}

func TestRoutingErrorsAreJSON(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
		allow        []string
	}{
		{"GET", "/tick", http.StatusMethodNotAllowed, []string{"POST"}},
		{"DELETE", "/api/runs", http.StatusMethodNotAllowed, []string{"GET", "POST"}},
		{"PUT", "/api/runs/1/cancel", http.StatusMethodNotAllowed, []string{"POST"}},
		{"GET", "/api/runs/1/retry", http.StatusMethodNotAllowed, []string{"POST"}},
		{"DELETE", "/api/schedules", http.StatusMethodNotAllowed, []string{"GET", "POST"}},
		{"POST", "/healthz", http.StatusMethodNotAllowed, []string{"GET"}},
		{"POST", "/api/schedules/cleanup", http.StatusMethodNotAllowed, []string{"GET", "PUT", "PATCH", "DELETE"}},
		{"GET", "/api/nope", http.StatusNotFound, nil},
		{"GET", "/api/runs/1/nope", http.StatusNotFound, nil},
		{"POST", "/api", http.StatusNotFound, nil},
	} {
		r := expect(t, e.do(c.method, c.path, ""), c.status)
		msg := r.errorMessage(t)
		if c.status == http.StatusMethodNotAllowed {
			allow := r.header.Get("Allow")
			for _, m := range c.allow {
				if !strings.Contains(allow, m) {
					t.Errorf("%s %s: Allow %q lacks %s", c.method, c.path, allow, m)
				}
			}
			if !strings.Contains(msg, c.method) {
				t.Errorf("%s %s: message %q does not name the method", c.method, c.path, msg)
			}
		}
	}
	if n := len(e.runs()) + len(e.ticks()); n != 0 {
		t.Fatalf("routing errors wrote %d records", n)
	}
}

func TestStoreFailureIsGeneric500(t *testing.T) {
	e := newEnv(t)
	e.store.down.Store(true)
	r := expect(t, e.do("GET", "/api/runs", ""), http.StatusInternalServerError)
	msg := r.errorMessage(t)
	if strings.Contains(msg, "refused") {
		t.Errorf("500 leaks the internal error: %q", msg)
	}
	id := r.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(msg, id) {
		t.Errorf("500 message %q does not give the request id %q", msg, id)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, errDown.Error()) || !strings.Contains(logs, `"request_id":"`+id+`"`) {
		t.Errorf("the full error is not logged with the request id:\n%s", logs)
	}
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/tasks", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	r := expect(t, e.send(req), http.StatusOK)
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id = %q, want the client's", got)
	}
	req.Header.Set("X-Request-Id", "bad id with spaces")
	if got := e.send(req).header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("a malformed client id was echoed: %q", got)
	}
	var line string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, `"request_id":"abc-123"`) {
			line = l
		}
	}
	for _, want := range []string{`"msg":"http request"`, `"method":"GET"`, `"path":"/api/tasks"`, `"status":200`, `"duration_ms":`} {
		if !strings.Contains(line, want) {
			t.Errorf("request log line %q lacks %s", line, want)
		}
	}
}

// TestAddTaskRunAt: run_at or delay_seconds holds the run pending until then
// (on the stub clock); bad values are 400s naming the field, nothing written.
func TestAddTaskRunAt(t *testing.T) {
	e := newEnv(t)
	var atRun, delayed core.Run
	expect(t, e.do("POST", "/api/runs", `{"task":"send_email","run_at":"`+t0.Add(5*time.Minute).Format(time.RFC3339)+`"}`), http.StatusCreated).json(t, &atRun)
	expect(t, e.do("POST", "/api/runs", `{"task":"send_email","delay_seconds":600}`), http.StatusCreated).json(t, &delayed)
	if !atRun.RunAt.Equal(t0.Add(5*time.Minute)) || !delayed.RunAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("run_at %v and %v, want +5m and +10m", atRun.RunAt, delayed.RunAt)
	}
	status := func(id int64) core.Status {
		r, err := e.store.GetRun(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	e.tick()
	if a, d := status(atRun.ID), status(delayed.ID); a != core.StatusPending || d != core.StatusPending {
		t.Fatalf("after a tick before either is due: %s, %s; want both pending", a, d)
	}
	e.clock.Set(t0.Add(5 * time.Minute))
	e.tick()
	if a, d := status(atRun.ID), status(delayed.ID); a != core.StatusSuccess || d != core.StatusPending {
		t.Fatalf("after the tick at +5m: %s, %s; want success, pending", a, d)
	}
	before := len(e.runs())
	for _, c := range []struct{ name, body, mention string }{
		{"both", `{"task":"send_email","run_at":"2026-03-02T10:00:00Z","delay_seconds":1}`, "at most one"},
		{"not RFC 3339", `{"task":"send_email","run_at":"tomorrow"}`, "run_at"},
		{"too late", `{"task":"send_email","run_at":"2300-01-01T00:00:00Z"}`, "run_at"},
		{"negative delay", `{"task":"send_email","delay_seconds":-1}`, "delay_seconds"},
		{"delay too long", `{"task":"send_email","delay_seconds":1e12}`, "delay_seconds"},
		{"delay not a number", `{"task":"send_email","delay_seconds":"10"}`, "delay_seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := expect(t, e.do("POST", "/api/runs", c.body), http.StatusBadRequest).errorMessage(t)
			if !strings.Contains(msg, c.mention) {
				t.Errorf("error %q does not mention %q", msg, c.mention)
			}
		})
	}
	if got := len(e.runs()); got != before {
		t.Fatalf("bad input wrote runs: %d -> %d", before, got)
	}
}
