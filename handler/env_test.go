package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// t0 is the stub clock's start: a Monday, far from DST changes.
var t0 = time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)

// errDown is the infrastructure failure faultyStore injects.
var errDown = errors.New("connection refused (injected)")

// faultyStore fails chosen methods with errDown while down is set, to test
// infrastructure failures.
type faultyStore struct {
	core.Store
	down atomic.Bool
}

func (s *faultyStore) BeginTick(ctx context.Context, p core.BeginTickParams) (core.TickStart, error) {
	if s.down.Load() {
		return core.TickStart{}, errDown
	}
	return s.Store.BeginTick(ctx, p)
}

func (s *faultyStore) ListRuns(ctx context.Context, p core.ListRunsParams) ([]core.Run, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.ListRuns(ctx, p)
}

func (s *faultyStore) Stats(ctx context.Context, now time.Time) (core.Stats, error) {
	if s.down.Load() {
		return core.Stats{}, errDown
	}
	return s.Store.Stats(ctx, now)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a handler over a real store with a stub clock and a small
// registry:
//
//   - cleanup: every 5 minutes, 1 retry (its first slot is t0+5m);
//   - report: cron 0 9 * * * in America/New_York;
//   - send_email: manual, succeeds, records its payloads;
//   - flaky: manual, always fails, no retries.
type env struct {
	t      *testing.T
	store  *faultyStore
	clock  *core.StubClock
	engine *core.Engine
	h      *handler.Handler
	srv    *httptest.Server
	logs   *syncBuffer
	token  string

	mu     sync.Mutex
	emails []string
}

type envOption func(*envConfig)

type envConfig struct {
	postgres    bool
	noDashboard bool
	hcfg        handler.Config
}

func withPostgres() envOption { return func(c *envConfig) { c.postgres = true } }

func withToken(tok string) envOption { return func(c *envConfig) { c.hcfg.Token = tok } }

func withMaxBody(n int64) envOption { return func(c *envConfig) { c.hcfg.MaxBodyBytes = n } }

func withMetrics(m http.Handler) envOption { return func(c *envConfig) { c.hcfg.Metrics = m } }

func withAllowedHosts(hosts ...string) envOption {
	return func(c *envConfig) { c.hcfg.AllowedHosts = hosts }
}

func withAuthLimiter(l *handler.AuthLimiter) envOption {
	return func(c *envConfig) { c.hcfg.AuthLimiter = l }
}

// stubDashboard stands for the dashboard (package handler/dashboard, tested
// there): an HTML page at every path, so that the tests see whether a path
// reaches it or stays the API's.
type stubDashboard struct{}

func (stubDashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, "<!doctype html><title>dashboard</title>"+r.URL.Path)
}

// withoutDashboard leaves Config.Dashboard nil (newEnv sets stubDashboard
// otherwise).
func withoutDashboard() envOption { return func(c *envConfig) { c.noDashboard = true } }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	var cfg envConfig
	for _, o := range opts {
		o(&cfg)
	}
	var st core.Store
	if cfg.postgres {
		st = sqlstoretest.OpenPostgres(t)
	} else {
		st = sqlstoretest.OpenSQLite(t)
	}
	e := &env{t: t, store: &faultyStore{Store: st}, clock: core.NewStubClock(t0), logs: &syncBuffer{}, token: cfg.hcfg.Token}
	log := handler.NewLogger(e.logs, true, slog.LevelDebug)

	reg := core.NewRegistry()
	reg.MustSchedule("cleanup", func(context.Context, core.RunInfo) error { return nil },
		core.Every(5*time.Minute), core.Retries(1), core.Name("Clean up sessions"))
	reg.MustSchedule("report", func(context.Context, core.RunInfo) error { return nil },
		core.Cron("0 9 * * *"), core.Timezone("America/New_York"))
	reg.MustRegister("send_email", func(_ context.Context, run core.RunInfo) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.emails = append(e.emails, string(run.Payload))
		return nil
	})
	reg.MustRegister("flaky", func(context.Context, core.RunInfo) error { return errors.New("flaky failed") })

	eng, err := core.NewEngine(core.Config{Store: e.store, Registry: reg, Clock: e.clock, Logger: log, Workers: 4})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if _, err := eng.Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	e.engine = eng
	hcfg := cfg.hcfg
	hcfg.Engine, hcfg.Logger = eng, log
	if !cfg.noDashboard {
		hcfg.Dashboard = stubDashboard{}
	}
	h, err := handler.New(hcfg)
	if err != nil {
		t.Fatalf("handler.New: %v", err)
	}
	e.h = h
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test on error.
func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorMessage returns the {"error": ...} message, failing the test when the
// body is not that shape or not JSON.
func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json (body %s)", ct, r.body)
	}
	var body map[string]any
	r.json(t, &body)
	msg, ok := body["error"].(string)
	if !ok || msg == "" {
		t.Fatalf("error body %s has no error message", r.body)
	}
	return msg
}

// call sends a request, a body as application/json; auth adds the env's
// token when it has one.
func (e *env) call(method, path, body string, auth bool) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// do is call with the token.
func (e *env) do(method, path, body string) response {
	e.t.Helper()
	return e.call(method, path, body, true)
}

// expect fails the test unless the response has status want.
func expect(t *testing.T, r response, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// runs lists every run in the store, newest first.
func (e *env) runs() []core.Run {
	e.t.Helper()
	runs, err := e.store.Store.ListRuns(context.Background(), core.ListRunsParams{Limit: 500})
	if err != nil {
		e.t.Fatalf("list runs: %v", err)
	}
	return runs
}

// ticks lists the recorded ticks.
func (e *env) ticks() []core.TickRecord {
	e.t.Helper()
	ticks, err := e.store.Store.ListTicks(context.Background(), 500)
	if err != nil {
		e.t.Fatalf("list ticks: %v", err)
	}
	return ticks
}

// addTask enqueues a manual run through the API and returns it.
func (e *env) addTask(task, payload string) core.Run {
	e.t.Helper()
	body := `{"task":"` + task + `"`
	if payload != "" {
		body += `,"payload":` + payload
	}
	body += "}"
	var run core.Run
	expect(e.t, e.do("POST", "/api/runs", body), http.StatusCreated).json(e.t, &run)
	return run
}

// tick runs one tick through POST /tick and returns its report.
func (e *env) tick() core.Report {
	e.t.Helper()
	var rep core.Report
	expect(e.t, e.do("POST", "/tick", ""), http.StatusOK).json(e.t, &rep)
	return rep
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
