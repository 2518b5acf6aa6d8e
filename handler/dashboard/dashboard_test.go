package dashboard_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler/dashboard"
)

// page is a dashboard answer.
type page struct {
	status int
	header http.Header
	body   string
}

// dashClient is a browser-like client of the env's server: it keeps
// cookies and does not follow redirects, so tests see each 303.
type dashClient struct {
	t       *testing.T
	e       *env
	cookies []*http.Cookie
	header  http.Header
}

func newDashClient(e *env) *dashClient {
	return &dashClient{t: e.t, e: e, header: http.Header{}}
}

func (c *dashClient) do(method, path string, form url.Values) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	for _, ck := range res.Cookies() {
		c.cookies = slices.DeleteFunc(c.cookies, func(old *http.Cookie) bool { return old.Name == ck.Name })
		if ck.MaxAge >= 0 && ck.Value != "" {
			c.cookies = append(c.cookies, ck)
		}
	}
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *dashClient) get(path string) page {
	c.t.Helper()
	return c.do("GET", path, nil)
}

func (c *dashClient) post(path string, form url.Values) page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.do("POST", path, form)
}

// want fails the test unless p has status want and is an HTML page.
func (p page) want(t *testing.T, want int) page {
	t.Helper()
	if p.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", p.status, want, p.body)
	}
	if want < 300 || want >= 400 {
		if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("Content-Type %q, want text/html", ct)
		}
		if !strings.Contains(p.body, `name="viewport"`) || !strings.Contains(p.body, "</html>") {
			t.Fatalf("not a complete dashboard page:\n%s", p.body)
		}
	}
	return p
}

// has fails the test unless the body contains every string.
func (p page) has(t *testing.T, subs ...string) page {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
	return p
}

// lacks fails the test if the body contains any of the strings.
func (p page) lacks(t *testing.T, subs ...string) page {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.body, s) {
			t.Fatalf("page has %q but should not:\n%s", s, p.body)
		}
	}
	return p
}

// redirect fails the test unless p is a 303 to location.
func (p page) redirect(t *testing.T, location string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != location {
		t.Fatalf("got %d to %q, want 303 to %q; body:\n%s", p.status, p.header.Get("Location"), location, p.body)
	}
}

var runRowRE = regexp.MustCompile(`<tr id="run-(\d+)"`)

// runIDs lists the run rows of a runs page, in page order.
func (p page) runIDs(t *testing.T) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range runRowRE.FindAllStringSubmatch(p.body, -1) {
		id, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatalf("run id %q: %v", m[1], err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (e *env) getRun(id int64) core.Run {
	e.t.Helper()
	r, err := e.store.Store.GetRun(context.Background(), id)
	if err != nil {
		e.t.Fatalf("get run %d: %v", id, err)
	}
	return r
}

func (e *env) schedule(name string) core.ScheduleRecord {
	e.t.Helper()
	s, err := e.store.Store.GetSchedule(context.Background(), name)
	if err != nil {
		e.t.Fatalf("get schedule %s: %v", name, err)
	}
	return s
}

func TestDashboardPagesRender(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)

	home := c.get("/")
	if home.status != http.StatusFound || home.header.Get("Location") != "/ui/schedules" {
		t.Fatalf("GET / = %d to %q, want 302 to /ui/schedules", home.status, home.header.Get("Location"))
	}

	s := c.get("/ui/schedules").want(t, http.StatusOK)
	s.has(t,
		// Display name, the specs in words.
		"Clean up sessions", "every 5 minutes", "at 09:00 every day, America/New_York",
		// cleanup's next run (t0+5m); report's in its zone and in UTC.
		"2026-03-09 12:05:00 UTC", "2026-03-09 09:00:00 EDT (America/New_York)", "2026-03-09 13:00:00 UTC", "in 1h",
		"misfire <b>coalesce</b>", "overlap <b>skip</b>",
		`action="/ui/schedules/cleanup/trigger"`, `action="/ui/schedules/report/pause"`,
		"none yet", // no run yet
	)
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Cache-Control"} {
		if s.header.Get(h) == "" {
			t.Errorf("schedules page lacks the %s header", h)
		}
	}
	if csp := s.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows inline code or another origin", csp)
	}
	// No external resource: every src/href is a path on this site.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(s.body, -1) {
		if !strings.HasPrefix(m[1], "/") {
			t.Errorf("page links outside the site: %q", m[1])
		}
	}

	e.tick()
	e.clock.Advance(5 * time.Minute)
	e.tick() // runs cleanup's first slot
	s = c.get("/ui/schedules").want(t, http.StatusOK)
	last := e.schedule("cleanup").LastRunID
	if last == nil {
		t.Fatal("cleanup has no last run after its slot ran")
	}
	s.has(t, `<a href="/ui/runs/`+itoa(*last)+`">#`+itoa(*last)+`</a> <span class="badge st-success">success</span>`)

	c.get("/ui/runs").want(t, http.StatusOK).has(t, `id="run-`+itoa(*last)+`"`, "Clean up sessions", `<option value="failed">failed</option>`)
	ticks := c.get("/ui/ticks").want(t, http.StatusOK)
	for _, tk := range e.ticks() {
		ticks.has(t, `id="`+tk.ID+`"`)
	}
	ticks.has(t, `<span class="badge st-success">ok</span>`).lacks(t, "Ticks have stopped arriving")

	css := c.get("/ui/static/style.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "@media") {
		t.Fatalf("style.css: %d %q", css.status, css.header.Get("Content-Type"))
	}
	js := c.get("/ui/static/dashboard.js")
	if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("dashboard.js: %d %q", js.status, js.header.Get("Content-Type"))
	}
	if c.get("/ui/static/nope.css").status != http.StatusNotFound {
		t.Error("a missing asset is not a 404")
	}
}

func TestDashboardRunsFilters(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)
	email := e.addTask("send_email", `{"to":"ada@example.com"}`)
	flaky := e.addTask("flaky", "")
	trig, err := e.engine.Trigger(context.Background(), "cleanup")
	if err != nil {
		t.Fatal(err)
	}
	e.tick() // email succeeds, flaky fails, the trigger runs
	e.clock.Advance(5 * time.Minute)
	e.tick() // cleanup's scheduled slot
	var scheduled int64
	for _, r := range e.runs() {
		if r.Source == core.SourceScheduled {
			scheduled = r.ID
		}
	}
	if scheduled == 0 {
		t.Fatal("no scheduled run was recorded")
	}

	all := c.get("/ui/runs").want(t, http.StatusOK).runIDs(t)
	if want := []int64{scheduled, trig.ID, flaky.ID, email.ID}; !slices.Equal(all, want) {
		t.Fatalf("runs page lists %v, want %v (newest first)", all, want)
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"status=failed", []int64{flaky.ID}},
		{"status=success&source=manual", []int64{trig.ID, email.ID}},
		{"source=scheduled", []int64{scheduled}},
		{"task=send_email", []int64{email.ID}},
		{"schedule=cleanup", []int64{scheduled, trig.ID}},
		{"schedule=cleanup&source=manual", []int64{trig.ID}},
		{"status=cancelled", nil},
	} {
		p := c.get("/ui/runs?"+tc.query).want(t, http.StatusOK)
		if got := p.runIDs(t); !slices.Equal(got, tc.want) {
			t.Errorf("?%s lists %v, want %v", tc.query, got, tc.want)
		}
		q, _ := url.ParseQuery(tc.query)
		for _, v := range q {
			p.has(t, `<option value="`+v[0]+`" selected>`) // the form shows the active filter
		}
	}
	c.get("/ui/runs?status=nope").want(t, http.StatusBadRequest).has(t, "status")
	c.get("/ui/runs?cursor=-3").want(t, http.StatusBadRequest)
}

func TestDashboardRunsPagination(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)
	const n = 53
	var ids []int64
	for i := 0; i < n; i++ {
		r, _, err := e.engine.AddTask(context.Background(), core.AddTaskParams{Task: "send_email"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{r.ID}, ids...) // newest first
	}
	first := c.get("/ui/runs?task=send_email").want(t, http.StatusOK)
	got := first.runIDs(t)
	if len(got) != 50 || !slices.Equal(got, ids[:50]) {
		t.Fatalf("first page lists %d runs %v, want the newest 50", len(got), got)
	}
	m := regexp.MustCompile(`href="(/ui/runs\?[^"]*cursor=[^"]*)" id="older"`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("first page has no Older link:\n%s", first.body)
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.Contains(next, "task=send_email") {
		t.Errorf("Older link %q drops the filter", next)
	}
	second := c.get(next).want(t, http.StatusOK)
	if got := second.runIDs(t); !slices.Equal(got, ids[50:]) {
		t.Fatalf("second page lists %v, want %v", got, ids[50:])
	}
	second.lacks(t, `id="older"`).has(t, `href="/ui/runs?task=send_email" id="newest"`)
}

func TestDashboardRunDetail(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)
	email := e.addTask("send_email", `{"to":"<script>alert(1)</script>","n":1}`)
	flaky := e.addTask("flaky", "")
	rep := e.tick()

	d := c.get("/ui/runs/"+itoa(email.ID)).want(t, http.StatusOK)
	d.has(t, "Run #"+itoa(email.ID), `<span class="badge st-success">success</span>`,
		"&#34;to&#34;: &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;,\n  &#34;n&#34;: 1", // indented, escaped payload
		rep.TickID, "1 of 1", "none (manual run)")
	d.lacks(t, "<script>alert", `data-action="retry"`, `data-action="cancel"`)

	f := c.get("/ui/runs/"+itoa(flaky.ID)).want(t, http.StatusOK)
	f.has(t, `<span class="badge st-failed">failed</span>`, `id="run-error">flaky failed</pre>`, `action="/ui/runs/`+itoa(flaky.ID)+`/retry"`)

	c.get("/ui/runs/999999").want(t, http.StatusNotFound).has(t, "not found")
	c.get("/ui/runs/abc").want(t, http.StatusBadRequest)
	c.get("/ui/nowhere").want(t, http.StatusNotFound).has(t, "There is no page at /ui/nowhere")
}

func TestDashboardActions(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)

	// Run now: a manual run of the schedule's task, then back with a message.
	c.post("/ui/schedules/cleanup/trigger", url.Values{"next": {"/ui/schedules"}}).redirect(t, "/ui/schedules")
	runs := e.runs()
	if len(runs) != 1 || runs[0].Schedule != "cleanup" || runs[0].Source != core.SourceManual || runs[0].Status != core.StatusPending {
		t.Fatalf("after run now: %+v", runs)
	}
	trig := runs[0]
	c.get("/ui/schedules").want(t, http.StatusOK).has(t, "Run #"+itoa(trig.ID)+" of Clean up sessions queued", `href="/ui/runs/`+itoa(trig.ID)+`"`)
	c.get("/ui/schedules").want(t, http.StatusOK).lacks(t, "queued") // the message shows once

	// Pause and resume.
	c.post("/ui/schedules/report/pause", nil).redirect(t, "/ui/schedules")
	if !e.schedule("report").Paused {
		t.Fatal("report is not paused")
	}
	c.get("/ui/schedules").want(t, http.StatusOK).has(t, `<span class="badge st-paused">paused</span>`, `action="/ui/schedules/report/resume"`)
	c.post("/ui/schedules/report/resume", url.Values{"next": {"/ui/runs?schedule=report"}}).redirect(t, "/ui/runs?schedule=report")
	if e.schedule("report").Paused {
		t.Fatal("report is still paused")
	}

	// Cancel a pending run; cancelling it again is a conflict.
	c.post("/ui/runs/"+itoa(trig.ID)+"/cancel", nil).redirect(t, "/ui/runs/"+itoa(trig.ID))
	if st := e.getRun(trig.ID).Status; st != core.StatusCancelled {
		t.Fatalf("cancelled run is %s", st)
	}
	c.post("/ui/runs/"+itoa(trig.ID)+"/cancel", nil).want(t, http.StatusConflict).has(t, "not possible")

	// Retry a failed run.
	flaky := e.addTask("flaky", "")
	e.tick()
	if st := e.getRun(flaky.ID).Status; st != core.StatusFailed {
		t.Fatalf("flaky run is %s, want failed", st)
	}
	c.post("/ui/runs/"+itoa(flaky.ID)+"/retry", url.Values{"next": {"/ui/runs"}}).redirect(t, "/ui/runs")
	if st := e.getRun(flaky.ID).Status; st != core.StatusPending {
		t.Fatalf("retried run is %s, want pending", st)
	}
	c.get("/ui/runs").want(t, http.StatusOK).has(t, "Run #"+itoa(flaky.ID)+" will be retried")

	// Errors are pages with the API's statuses, and change nothing.
	before := len(e.runs())
	c.post("/ui/schedules/nope/trigger", nil).want(t, http.StatusNotFound)
	c.post("/ui/schedules/nope/pause", nil).want(t, http.StatusNotFound)
	c.post("/ui/runs/999999/retry", nil).want(t, http.StatusNotFound)
	c.post("/ui/runs/abc/cancel", nil).want(t, http.StatusBadRequest)
	if after := len(e.runs()); after != before {
		t.Fatalf("failed actions created runs: %d -> %d", before, after)
	}
	// A GET on an action is not an action.
	c.get("/ui/schedules/cleanup/trigger").want(t, http.StatusNotFound)

	// "next" cannot send the browser to another site.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "ui/runs"} {
		c.post("/ui/schedules/report/pause", url.Values{"next": {next}}).redirect(t, "/ui/schedules")
	}
	// Another site cannot make the browser act (CSRF).
	c.header.Set("Sec-Fetch-Site", "cross-site")
	c.header.Set("Origin", "https://evil.example")
	c.post("/ui/schedules/report/resume", nil).want(t, http.StatusForbidden)
	if !e.schedule("report").Paused {
		t.Fatal("a cross-site form resumed the schedule")
	}
}

func TestDashboardTokenRules(t *testing.T) {
	const token = "s3cret-token"
	e := newEnv(t, withToken(token))
	c := newDashClient(e)

	// Reading is open, like the API's GET routes.
	c.get("/ui/schedules").want(t, http.StatusOK).has(t, `id="signin-link"`)
	c.get("/ui/runs").want(t, http.StatusOK)

	// Without the token an action answers 401 with the sign-in form and
	// changes nothing.
	c.post("/ui/schedules/cleanup/trigger", url.Values{"next": {"/ui/schedules"}}).
		want(t, http.StatusUnauthorized).has(t, `action="/ui/login"`, `name="next" value="/ui/schedules"`)
	c.post("/ui/schedules/cleanup/pause", nil).want(t, http.StatusUnauthorized)
	if len(e.runs()) != 0 || e.schedule("cleanup").Paused {
		t.Fatal("an action without the token changed state")
	}

	// A wrong token does not sign in.
	c.post("/ui/login", url.Values{"token": {"wrong"}, "next": {"/ui/schedules"}}).want(t, http.StatusUnauthorized).has(t, "not right")
	c.post("/ui/schedules/cleanup/pause", nil).want(t, http.StatusUnauthorized)

	// The right token sets a session cookie that is not the token.
	c.get("/ui/login?next=/ui/runs").want(t, http.StatusOK).has(t, `name="next" value="/ui/runs"`)
	c.post("/ui/login", url.Values{"token": {token}, "next": {"/ui/runs"}}).redirect(t, "/ui/runs")
	var session *http.Cookie
	for _, ck := range c.cookies {
		if ck.Name == "tickflow_session" {
			session = ck
		}
	}
	if session == nil || strings.Contains(session.Value, token) || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", session)
	}
	c.get("/ui/schedules").want(t, http.StatusOK).has(t, "Sign out").lacks(t, `id="signin-link"`)
	c.post("/ui/schedules/cleanup/trigger", nil).redirect(t, "/ui/schedules")
	c.post("/ui/schedules/cleanup/pause", nil).redirect(t, "/ui/schedules")
	if len(e.runs()) != 1 || !e.schedule("cleanup").Paused {
		t.Fatal("signed-in actions did not apply")
	}

	// A forged cookie is refused.
	forged := newDashClient(e)
	forged.cookies = []*http.Cookie{{Name: "tickflow_session", Value: strings.Repeat("0", 64)}}
	forged.post("/ui/schedules/cleanup/resume", nil).want(t, http.StatusUnauthorized)

	// The API's bearer header works too (scripts).
	bearer := newDashClient(e)
	bearer.header.Set("Authorization", "Bearer "+token)
	bearer.post("/ui/schedules/cleanup/resume", nil).redirect(t, "/ui/schedules")
	if e.schedule("cleanup").Paused {
		t.Fatal("bearer resume did not apply")
	}

	// Signing out ends the session.
	c.post("/ui/logout", nil).redirect(t, "/ui/schedules")
	c.post("/ui/schedules/cleanup/pause", nil).want(t, http.StatusUnauthorized)
}

func TestDashboardStaleBanner(t *testing.T) {
	e := newEnv(t) // TickPeriod 1m, StaleAfter 3: stale after 3m
	c := newDashClient(e)
	const banner = "Ticks have stopped arriving"
	c.get("/ui/schedules").want(t, http.StatusOK).lacks(t, banner) // starting

	e.clock.Advance(4 * time.Minute) // no tick ever came
	c.get("/ui/ticks").want(t, http.StatusOK).has(t, banner, "No tick has been recorded yet")

	e.tick()
	c.get("/ui/ticks").want(t, http.StatusOK).lacks(t, banner)
	e.clock.Advance(2 * time.Minute)
	c.get("/ui/runs").want(t, http.StatusOK).lacks(t, banner)
	e.clock.Advance(90 * time.Second) // 3m30s since the last tick
	c.get("/ui/runs").want(t, http.StatusOK).has(t, banner, "started 3m 30s ago")
	c.get("/ui/ticks").want(t, http.StatusOK).has(t, `<span class="badge st-failed">stale</span>`)
}

func TestDashboardStoreFailure(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)
	e.store.down.Store(true)
	p := c.get("/ui/runs").want(t, http.StatusInternalServerError)
	p.has(t, "see its log for request").lacks(t, "injected")
	if !strings.Contains(e.logs.String(), "injected") {
		t.Error("the store error was not logged")
	}
}

// TestDashboardStandalone: New validates its Config, and the dashboard is a
// plain http.Handler: served without a handler.Handler, its pages render
// (with no staleness banner, which needs the Handler's Check).
func TestDashboardStandalone(t *testing.T) {
	if _, err := dashboard.New(dashboard.Config{}); err == nil {
		t.Error("New without an Engine: want an error")
	}
	e := newEnv(t)
	if _, err := dashboard.New(dashboard.Config{Engine: e.engine, Token: "a b"}); err == nil {
		t.Error("New with a token holding white space: want an error")
	}
	dash, err := dashboard.New(dashboard.Config{Engine: e.engine})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour) // stale by the Handler's rule: no banner here
	rec := httptest.NewRecorder()
	dash.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/schedules", nil))
	p := page{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	p.want(t, http.StatusOK).has(t, "Clean up sessions").lacks(t, "Ticks have stopped arriving")
	rec = httptest.NewRecorder()
	dash.ServeHTTP(rec, httptest.NewRequest("GET", "/api/schedules", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /api/schedules on the bare dashboard = %d, want its 404 page", rec.Code)
	}
}

// sessionCookie returns c's session cookie, or nil.
func (c *dashClient) sessionCookie() *http.Cookie {
	for _, ck := range c.cookies {
		if ck.Name == "tickflow_session" {
			return ck
		}
	}
	return nil
}

// signIn signs c in with token and returns its session cookie.
func (c *dashClient) signIn(token string) *http.Cookie {
	c.t.Helper()
	c.post("/ui/login", url.Values{"token": {token}, "next": {"/ui/runs"}}).redirect(c.t, "/ui/runs")
	ck := c.sessionCookie()
	if ck == nil {
		c.t.Fatal("sign-in set no session cookie")
	}
	return ck
}

// withCookie is a new client of e's server that sends only the session
// cookie value.
func withCookie(e *env, value string) *dashClient {
	c := newDashClient(e)
	c.cookies = []*http.Cookie{{Name: "tickflow_session", Value: value}}
	return c
}

// TestDashboardSessions: a sign-in opens a server-side session that the
// server checks on every action. It ends on sign-out (a replayed cookie is
// refused), at its expiry seven days later by the engine's clock, and when
// the token changes; each sign-in gets its own random id, and the old
// cookie, an HMAC of a constant under the token that anyone holding the
// token could compute offline, is refused. A store failure during the check
// counts as signed out. On both dialects: sessions live in the database, so
// every serverless instance sees them.
func TestDashboardSessions(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testDashboardSessions(t, dialect) })
	}
}

func testDashboardSessions(t *testing.T, dialect string) {
	const token = "s3cret-token"
	e := newEnv(t, withToken(token), withDialect(dialect))
	pause := func(c *dashClient) page { return c.post("/ui/schedules/cleanup/pause", nil) }
	resume := func(c *dashClient) page { return c.post("/ui/schedules/cleanup/resume", nil) }

	// Signed in, actions work; the cookie lives as long as the session.
	a := newDashClient(e)
	ckA := a.signIn(token)
	if ckA.MaxAge != 7*24*60*60 || !ckA.HttpOnly || ckA.SameSite != http.SameSiteLaxMode || strings.Contains(ckA.Value, token) {
		t.Fatalf("session cookie %+v", ckA)
	}
	pause(a).redirect(t, "/ui/schedules")
	if !e.schedule("cleanup").Paused {
		t.Fatal("signed-in pause did not apply")
	}

	// Each sign-in is its own session.
	b := newDashClient(e)
	ckB := b.signIn(token)
	if ckB.Value == ckA.Value {
		t.Fatalf("two sign-ins got the same session id %q", ckA.Value)
	}

	// The old cookie value, computable offline from the token, is refused.
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("tickflow dashboard session v1"))
	resume(withCookie(e, hex.EncodeToString(m.Sum(nil)))).want(t, http.StatusUnauthorized)
	// So are garbage values, without a server error.
	for _, v := range []string{"x", strings.Repeat("A", 4000), ckA.Value + "A", ckA.Value[:42] + "~"} {
		resume(withCookie(e, v)).want(t, http.StatusUnauthorized)
	}
	raw := newDashClient(e)
	raw.header.Set("Cookie", "tickflow_session=été"+ckA.Value[5:])
	resume(raw).want(t, http.StatusUnauthorized)
	if !e.schedule("cleanup").Paused {
		t.Fatal("a refused cookie resumed the schedule")
	}

	// Sign-out ends the session on the server: replaying the cookie fails,
	// and the other session lives on.
	a.post("/ui/logout", nil).redirect(t, "/ui/schedules")
	if a.sessionCookie() != nil {
		t.Error("sign-out did not clear the cookie")
	}
	resume(withCookie(e, ckA.Value)).want(t, http.StatusUnauthorized)
	withCookie(e, ckA.Value).get("/ui/schedules").want(t, http.StatusOK).has(t, `id="signin-link"`)
	resume(withCookie(e, ckB.Value)).redirect(t, "/ui/schedules")
	pause(b).redirect(t, "/ui/schedules")

	// A new token (another dashboard over the same database) ends every
	// session opened with the old one.
	other := *e
	other.token = "n3w-token"
	dash, err := dashboard.New(dashboard.Config{Engine: e.engine, Token: other.token})
	if err != nil {
		t.Fatal(err)
	}
	other.srv = httptest.NewServer(dash)
	t.Cleanup(other.srv.Close)
	resume(withCookie(&other, ckB.Value)).want(t, http.StatusUnauthorized)
	c := newDashClient(&other)
	c.signIn(other.token)
	resume(c).redirect(t, "/ui/schedules")
	pause(c).redirect(t, "/ui/schedules")

	// The server enforces the expiry: seven days by the engine's clock.
	e.clock.Advance(7*24*time.Hour - time.Second)
	resume(b).redirect(t, "/ui/schedules")
	e.clock.Advance(2 * time.Second)
	pause(b).want(t, http.StatusUnauthorized)
	if e.schedule("cleanup").Paused {
		t.Fatal("an expired session paused the schedule")
	}

	// A store failure during the check is "not signed in", and is logged;
	// a failed sign-out says so instead of pretending.
	d := newDashClient(e)
	d.signIn(token)
	e.store.down.Store(true)
	pause(d).want(t, http.StatusUnauthorized)
	if !strings.Contains(e.logs.String(), "injected") {
		t.Error("the session check's store error was not logged")
	}
	d.post("/ui/logout", nil).want(t, http.StatusInternalServerError).lacks(t, "Signed out", "injected")
	e.store.down.Store(false)
	if e.schedule("cleanup").Paused {
		t.Fatal("an action applied while the session could not be checked")
	}
}
