package handler_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/handler/dashboard"
)

// serve sends req to the handler itself (not through a listener), so that
// the test sets Host and RemoteAddr.
func (e *env) serve(req *http.Request) response {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// state is what a refused request must not change: the runs (id, status)
// and ticks stored, and whether cleanup is paused.
func (e *env) state() string {
	e.t.Helper()
	var b strings.Builder
	for _, r := range e.runs() {
		fmt.Fprintf(&b, "%d:%s ", r.ID, r.Status)
	}
	s, err := e.engine.Schedule(e.t.Context(), "cleanup")
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(&b, "ticks=%d paused=%t", len(e.ticks()), s.Paused)
	return b.String()
}

// TestCrossOriginWritesRefused: with no token, a page of another site
// submitting a text/plain form (a CSRF) to any mutating route is refused
// with a JSON 403 and changes nothing; a body that is not application/json
// is a 415; curl-like requests (no Origin) and same-origin ones still work.
func TestCrossOriginWritesRefused(t *testing.T) {
	e := newEnv(t)
	run := e.addTask("send_email", "")
	before := e.state()
	routes := []struct{ path, body string }{
		{"/tick", ""},
		{"/api/runs", `{"task":"send_email"}`},
		{"/api/runs/" + itoa(run.ID) + "/cancel", ""},
		{"/api/runs/" + itoa(run.ID) + "/retry", ""},
		{"/api/schedules/cleanup/pause", ""},
		{"/api/schedules/cleanup/resume", ""},
		{"/api/schedules/cleanup/trigger", ""},
		{"/api/nowhere", ""},
	}
	for _, rt := range routes {
		for name, hdr := range map[string]map[string]string{
			"fetch metadata": {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
			"same-site":      {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost:8080"},
			"origin only":    {"Origin": "http://evil.example"},
		} {
			req, _ := http.NewRequest("POST", e.srv.URL+rt.path, strings.NewReader(rt.body))
			req.Header.Set("Content-Type", "text/plain")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			r := e.send(req)
			if r.status != http.StatusForbidden {
				t.Errorf("%s cross-origin (%s): %d %s, want 403", rt.path, name, r.status, r.body)
				continue
			}
			if msg := r.errorMessage(t); !strings.Contains(msg, "cross-origin") {
				t.Errorf("%s: 403 message %q", rt.path, msg)
			}
		}
	}
	// A JSON body sent as something else, without Origin, is a 415.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin1", "application/jsonp"} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/runs", strings.NewReader(`{"task":"send_email"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		r := expect(t, e.send(req), http.StatusUnsupportedMediaType)
		if msg := r.errorMessage(t); !strings.Contains(msg, "application/json") {
			t.Errorf("415 message %q does not say what to send", msg)
		}
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/schedules/cleanup/trigger", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "text/plain")
	expect(t, e.send(req), http.StatusUnsupportedMediaType)
	if after := e.state(); after != before {
		t.Fatalf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}

	// Reads from another site are not writes; curl (no Origin), a
	// body-less POST without Content-Type, and same-origin pages work.
	get, _ := http.NewRequest("GET", e.srv.URL+"/api/runs", nil)
	get.Header.Set("Sec-Fetch-Site", "cross-site")
	expect(t, e.send(get), http.StatusOK)
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/schedules/cleanup/pause", nil)
	expect(t, e.send(req), http.StatusOK)
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/runs", strings.NewReader(`{"task":"send_email"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	expect(t, e.send(req), http.StatusCreated)
	expect(t, e.do("POST", "/tick", ""), http.StatusOK)
}

// TestHostCheck: with no token, only loopback names and Config.AllowedHosts
// are served (421 otherwise), so a DNS-rebinding page cannot reach the API
// or the dashboard as "same origin". With a token every host is served.
func TestHostCheck(t *testing.T) {
	e := newEnv(t, withAllowedHosts("tickflow.internal", "10.0.0.5:8080"))
	before := e.state()
	request := func(method, host, path string) response {
		req := httptest.NewRequest(method, path, nil)
		req.Host = host
		return e.serve(req)
	}
	for _, host := range []string{"evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io", "10.0.0.6:8080", "0.0.0.0:8080", "[::2]:8080"} {
		for _, rt := range []struct{ method, path string }{{"GET", "/api/runs"}, {"POST", "/tick"}, {"POST", "/api/schedules/cleanup/pause"}, {"GET", "/"}, {"GET", "/healthz"}} {
			r := request(rt.method, host, rt.path)
			if r.status != http.StatusMisdirectedRequest {
				t.Errorf("%s %s with Host %s: %d, want 421", rt.method, rt.path, host, r.status)
				continue
			}
			if msg := r.errorMessage(t); !strings.Contains(msg, "not allowed") || !strings.Contains(msg, "allowed-hosts") {
				t.Errorf("421 message %q", msg)
			}
		}
	}
	if after := e.state(); after != before {
		t.Fatalf("refused hosts changed the store:\nbefore %s\nafter  %s", before, after)
	}
	for _, host := range []string{"localhost", "localhost:8080", "LOCALHOST.", "app.localhost:3000", "127.0.0.1:8080", "127.1.2.3", "[::1]:8080", "[::1]", "tickflow.internal", "TickFlow.Internal:443", "10.0.0.5:9999"} {
		if r := request("GET", host, "/api/runs"); r.status != http.StatusOK {
			t.Errorf("Host %s: %d %s, want 200", host, r.status, r.body)
		}
	}

	tok := newEnv(t, withToken("tok"))
	req := httptest.NewRequest("GET", "/api/runs", nil)
	req.Host = "tickflow.example.com"
	if r := tok.serve(req); r.status != http.StatusOK {
		t.Errorf("with a token, Host %s: %d, want 200", req.Host, r.status)
	}
	any := newEnv(t, withAllowedHosts("*"))
	req = httptest.NewRequest("GET", "/api/runs", nil)
	req.Host = "anything.example"
	if r := any.serve(req); r.status != http.StatusOK {
		t.Errorf("AllowedHosts *: %d, want 200", r.status)
	}

	for _, bad := range []string{"http://x/", "a b", "*.example.com", "x@y", ""} {
		if _, err := handler.New(handler.Config{Engine: e.engine, AllowedHosts: []string{bad}}); err == nil {
			t.Errorf("AllowedHosts %q accepted", bad)
		}
	}
	if got, err := handler.ParseAllowedHosts(" a.example , ,b.example:80 "); err != nil || len(got) != 2 {
		t.Errorf("ParseAllowedHosts = %q, %v", got, err)
	}
}

// TestFunctionURLHostAndOrigin: without a token, a Function URL request is
// served whatever Host header the event lists (its host is the function's
// domain, which AWS routed), and a cross-origin write through it is
// refused like any other.
func TestFunctionURLHostAndOrigin(t *testing.T) {
	e := newEnv(t)
	var req events.LambdaFunctionURLRequest
	if err := json.Unmarshal(readFixture(t, "function-url-get-runs.json"), &req); err != nil {
		t.Fatal(err)
	}
	req.Headers["host"] = "evil.example"
	b, _ := json.Marshal(req)
	if res := e.invokeURL(b); res.StatusCode != http.StatusOK {
		t.Fatalf("Function URL GET without a token: %d %s", res.StatusCode, res.Body)
	}

	if err := json.Unmarshal(readFixture(t, "function-url-add-task.json"), &req); err != nil {
		t.Fatal(err)
	}
	req.Headers["origin"] = "https://evil.example"
	req.Headers["sec-fetch-site"] = "cross-site"
	req.Headers["content-type"] = "text/plain"
	b, _ = json.Marshal(req)
	if res := e.invokeURL(b); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin Function URL POST: %d %s, want 403", res.StatusCode, res.Body)
	}
	req.Headers["origin"] = "https://" + req.RequestContext.DomainName
	req.Headers["sec-fetch-site"] = "same-origin"
	req.Headers["content-type"] = "application/json"
	b, _ = json.Marshal(req)
	if res := e.invokeURL(b); res.StatusCode != http.StatusCreated {
		t.Fatalf("same-origin Function URL POST: %d %s, want 201", res.StatusCode, res.Body)
	}
	if n := len(e.runs()); n != 1 {
		t.Fatalf("runs = %d, want the same-origin one only", n)
	}
}

// authClock is a settable clock for the AuthLimiter.
type authClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *authClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestAuthLimit: a burst of 300 wrong tokens from one client meets 429
// (with Retry-After) after the 10th, on POST /tick and on the dashboard's
// sign-in alike (one limiter); the right token from another client still
// works; the client is served again once its window has passed; memory is
// bounded.
func TestAuthLimit(t *testing.T) {
	clock := &authClock{now: t0}
	lim := handler.NewAuthLimiter(handler.AuthLimit{Now: clock.Now})
	e := newEnv(t, withToken("right-token"), withAuthLimiter(lim), withoutDashboard())
	// The real dashboard, so that its sign-in form counts too.
	dash, err := dashboard.New(dashboard.Config{Engine: e.engine, Token: "right-token", Logger: e.engine.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := handler.New(handler.Config{Engine: e.engine, Token: "right-token", AuthLimiter: lim, Dashboard: dash, Logger: e.engine.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	tick := func(client, token string) response {
		req := httptest.NewRequest("POST", "/tick", nil)
		req.RemoteAddr = client
		req.Header.Set("Authorization", "Bearer "+token)
		return e.serve(req)
	}
	login := func(client, token string) response {
		req := httptest.NewRequest("POST", "/ui/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.RemoteAddr = client
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.serve(req)
	}

	for _, c := range []struct {
		name string
		try  func(client, token string) response
	}{{"POST /tick", tick}, {"POST /ui/login", login}} {
		t.Run(c.name, func(t *testing.T) {
			attacker := "198.51.100.7:40000"
			var unauthorized, limited int
			for i := range 300 {
				r := c.try(attacker, "guess-"+strconv.Itoa(i))
				switch r.status {
				case http.StatusUnauthorized:
					unauthorized++
				case http.StatusTooManyRequests:
					limited++
					if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 1 || ra > 60 {
						t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
					}
				default:
					t.Fatalf("wrong token %d: %d %s", i, r.status, r.body)
				}
			}
			if unauthorized != handler.DefaultAuthFailures || limited != 300-handler.DefaultAuthFailures {
				t.Fatalf("401s = %d, 429s = %d; want %d then 429", unauthorized, limited, handler.DefaultAuthFailures)
			}
			// The right token from the refused address waits too (else the
			// burst would still learn which guess is right) ...
			if r := c.try(attacker, "right-token"); r.status != http.StatusTooManyRequests {
				t.Fatalf("right token from the limited client: %d", r.status)
			}
			// ... another client is served, and reads stay open ...
			if r := c.try("203.0.113.9:5555", "right-token"); r.status != http.StatusOK && r.status != http.StatusSeeOther {
				t.Fatalf("right token from another client: %d %s", r.status, r.body)
			}
			get := httptest.NewRequest("GET", "/api/runs", nil)
			get.RemoteAddr = attacker
			expect(t, e.serve(get), http.StatusOK)
			// ... and the window passes.
			clock.Advance(handler.DefaultAuthWindow)
			if r := c.try(attacker, "right-token"); r.status != http.StatusOK && r.status != http.StatusSeeOther {
				t.Fatalf("right token after the window: %d %s", r.status, r.body)
			}
		})
	}

	// Bounded memory: 5000 addresses remembered at most Clients; IPv6
	// addresses of one /64 are one client.
	small := handler.NewAuthLimiter(handler.AuthLimit{Clients: 100, Now: clock.Now})
	for i := range 5000 {
		req := httptest.NewRequest("POST", "/tick", nil)
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)
		small.Fail(req)
	}
	if n := small.Clients(); n != 100 {
		t.Fatalf("clients remembered = %d, want the cap 100", n)
	}
	v6 := handler.NewAuthLimiter(handler.AuthLimit{Now: clock.Now})
	for i := range 20 {
		req := httptest.NewRequest("POST", "/tick", nil)
		req.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)
		v6.Fail(req)
		if i == 19 && v6.RetryAfter(req) == 0 {
			t.Fatal("20 failures from one IPv6 /64 not limited")
		}
	}
	if n := v6.Clients(); n != 1 {
		t.Fatalf("one /64 counted as %d clients", n)
	}
}

// TestBadTextAndNumbers: NUL and invalid UTF-8 in every text input of every
// route, and out-of-range or malformed numbers, answer 400 with nothing
// written, on both dialects.
func TestBadTextAndNumbers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		run := e.addTask("send_email", "")
		before := e.state()
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/runs", `{"task":"send_email","idempotency_key":"a\u0000b"}`},
			{"POST", "/api/runs", "{\"task\":\"send_email\",\"idempotency_key\":\"a\xffb\"}"},
			{"POST", "/api/runs", "{\"task\":\"send_email\",\"idempotency_key\":\"" + strings.Repeat("é", 101) + "\"}"},
			{"POST", "/api/runs", `{"task":"send_email","payload":{"to":"a\u0000b"}}`},
			{"POST", "/api/runs", "{\"task\":\"send_email\",\"payload\":\"\xff\"}"},
			{"POST", "/api/runs", `{"task":"send_email","payload":["\ud800"]}`},
			{"POST", "/api/runs", `{"task":"send\u0000email"}`},
			{"POST", "/api/runs", "{\"task\":\"send\xffemail\"}"},
			{"POST", "/api/runs", `{"task":"send_email","extra":1}`},
			{"POST", "/api/runs", `{"task":"send_email"} {"task":"send_email"}`},
			{"POST", "/api/runs", `{"task":""}`},
			{"POST", "/api/runs", `[]`},
			{"GET", "/api/runs?task=a%00b", ""},
			{"GET", "/api/runs?task=%ff", ""},
			{"GET", "/api/runs?schedule=a%00b", ""},
			{"GET", "/api/runs?schedule=%c3", ""},
			{"GET", "/api/runs?status=%00", ""},
			{"GET", "/api/runs?status=bogus", ""},
			{"GET", "/api/runs?source=%ff", ""},
			{"GET", "/api/runs?task=" + strings.Repeat("x", 201), ""},
			{"GET", "/api/runs?task=a&task=b", ""},
			{"GET", "/api/runs?limit=5&limit=500", ""},
			{"GET", "/api/runs?limit=500", ""},
			{"GET", "/api/runs?limit=201", ""},
			{"GET", "/api/runs?limit=0", ""},
			{"GET", "/api/runs?limit=-1", ""},
			{"GET", "/api/runs?limit=99999999999999999999", ""},
			{"GET", "/api/runs?limit=1e3", ""},
			{"GET", "/api/runs?limit=%205", ""},
			{"GET", "/api/runs?cursor=99999999999999999999", ""},
			{"GET", "/api/runs?cursor=-5", ""},
			{"GET", "/api/runs?cursor=0", ""},
			{"GET", "/api/runs?cursor=abc", ""},
			{"GET", "/api/ticks?limit=0", ""},
			{"GET", "/api/ticks?limit=201", ""},
			{"GET", "/api/ticks?limit=99999999999999999999", ""},
			{"GET", "/api/ticks?limit=1&limit=2", ""},
			{"GET", "/api/runs/99999999999999999999", ""},
			{"GET", "/api/runs/-1", ""},
			{"GET", "/api/runs/0", ""},
			{"GET", "/api/runs/1.5", ""},
			{"GET", "/api/runs/%00", ""},
			{"GET", "/api/runs/%ff", ""},
			{"POST", "/api/runs/99999999999999999999/cancel", ""},
			{"POST", "/api/runs/-1/retry", ""},
			{"POST", "/api/runs/%00/cancel", ""},
			{"POST", "/api/runs/" + itoa(run.ID) + "/cancel", `{"force":true}`},
			{"GET", "/api/schedules/a%00b", ""},
			{"GET", "/api/schedules/%ff", ""},
			{"POST", "/api/schedules/a%00b/pause", ""},
			{"POST", "/api/schedules/%ff/pause", ""},
			{"POST", "/api/schedules/a%00b/resume", ""},
			{"POST", "/api/schedules/%ff/trigger", ""},
			{"POST", "/api/schedules/a%00b/trigger", ""},
			{"POST", "/api/schedules/cleanup/pause", `{"paused":false}`},
			{"POST", "/tick", `{"now":"9999-12-31T23:59:59Z"}`},
			{"POST", "/tick", "\xff"},
		} {
			r := e.do(c.method, c.path, c.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s %s %q: %d %s, want 400", c.method, c.path, c.body, r.status, r.body)
				continue
			}
			r.errorMessage(t)
		}
		if after := e.state(); after != before {
			t.Fatalf("bad input changed the store:\nbefore %s\nafter  %s", before, after)
		}
		// The limits themselves are served.
		expect(t, e.do("GET", "/api/runs?limit="+strconv.Itoa(handler.MaxRunsLimit), ""), http.StatusOK)
		expect(t, e.do("GET", "/api/ticks?limit="+strconv.Itoa(handler.MaxTicksLimit), ""), http.StatusOK)
		expect(t, e.do("GET", "/api/runs?cursor=9223372036854775807", ""), http.StatusOK)
		expect(t, e.do("GET", "/api/runs/9223372036854775807", ""), http.StatusNotFound)
		expect(t, e.do("GET", "/api/schedules/"+url.PathEscape("名前"), ""), http.StatusNotFound)
		// Other methods are 405 with Allow.
		for _, m := range []string{"PUT", "DELETE", "PATCH"} {
			r := expect(t, e.do(m, "/api/runs", ""), http.StatusMethodNotAllowed)
			if r.header.Get("Allow") == "" {
				t.Errorf("%s /api/runs: 405 without Allow", m)
			}
		}
	})
}

// TestIdempotencyKeyConflict: a key reused for another payload or task is a
// 409 naming the key, the first run unchanged, on both dialects; the same
// request (other white space and key order) returns the first run (200).
func TestIdempotencyKeyConflict(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		var first, again core.Run
		expect(t, e.do("POST", "/api/runs", `{"task":"send_email","payload":{"invoice":42,"to":"a"},"idempotency_key":"inv-42"}`), http.StatusCreated).json(t, &first)
		expect(t, e.do("POST", "/api/runs", `{"idempotency_key":"inv-42","task":"send_email","payload":{ "to":"a", "invoice":42 }}`), http.StatusOK).json(t, &again)
		if again.ID != first.ID {
			t.Fatalf("same request returned run %d, want %d", again.ID, first.ID)
		}
		for _, body := range []string{
			`{"task":"send_email","payload":{"invoice":43,"to":"a"},"idempotency_key":"inv-42"}`,
			`{"task":"flaky","payload":{"invoice":42,"to":"a"},"idempotency_key":"inv-42"}`,
			`{"task":"send_email","idempotency_key":"inv-42"}`,
		} {
			r := expect(t, e.do("POST", "/api/runs", body), http.StatusConflict)
			if msg := r.errorMessage(t); !strings.Contains(msg, "idempotency key") || !strings.Contains(msg, "inv-42") {
				t.Errorf("409 message %q does not name the key", msg)
			}
		}
		runs := e.runs()
		if len(runs) != 1 || string(runs[0].Payload) != string(first.Payload) {
			t.Fatalf("runs after conflicts = %+v, want the first run only", runs)
		}
	})
}

// TestREADMELimits: the README's API table states the code's limits.
func TestREADMELimits(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, c := range []struct {
		route string
		def   int
		max   int
	}{
		{"GET /api/runs", handler.DefaultRunsLimit, handler.MaxRunsLimit}, {"GET /api/ticks", handler.DefaultTicksLimit, handler.MaxTicksLimit},
		{"GET /api/schedules", core.DefaultListLimit, core.MaxListLimit},
	} {
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(c.route) + "` \\|.*$").FindString(readme)
		want := fmt.Sprintf("`limit` (default %d, ≤ %d)", c.def, c.max)
		if !strings.Contains(row, want) {
			t.Errorf("README row of %s does not say %s: %q", c.route, want, row)
		}
	}
	if want := fmt.Sprintf("%d failed authentications", handler.DefaultAuthFailures); !strings.Contains(readme, want) {
		t.Errorf("README does not state the limit %q", want)
	}
}

// forEachDialect runs fn as a subtest over a fresh env on SQLite, then on
// PostgreSQL.
func forEachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var opts []envOption
			if dialect == "postgres" {
				opts = append(opts, withPostgres())
			}
			fn(t, newEnv(t, opts...))
		})
	}
}
