package dashboard_test

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
	"github.com/tickflow/tickflow/handler/dashboard"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// t0 is the stub clock's start: a Monday, far from DST changes.
var t0 = time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)

// errDown is the infrastructure failure faultyStore injects.
var errDown = errors.New("connection refused (injected)")

// faultyStore fails the reads the dashboard's pages make, and the session
// check and sign-out, with errDown while down is set.
type faultyStore struct {
	core.Store
	down atomic.Bool
	// slotReads counts SlotRuns and SlotRunsMany calls.
	slotReads atomic.Int64
}

func (s *faultyStore) SlotRuns(ctx context.Context, p core.SlotRunsParams) ([]core.SlotRun, error) {
	s.slotReads.Add(1)
	return s.Store.SlotRuns(ctx, p)
}

func (s *faultyStore) SlotRunsMany(ctx context.Context, p core.SlotRunsManyParams) ([]core.SlotRun, error) {
	s.slotReads.Add(1)
	return s.Store.SlotRunsMany(ctx, p)
}

func (s *faultyStore) ListRuns(ctx context.Context, p core.ListRunsParams) ([]core.Run, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.ListRuns(ctx, p)
}

func (s *faultyStore) CheckSession(ctx context.Context, p core.CheckSessionParams) (bool, error) {
	if s.down.Load() {
		return false, errDown
	}
	return s.Store.CheckSession(ctx, p)
}

func (s *faultyStore) DeleteSession(ctx context.Context, p core.DeleteSessionParams) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.DeleteSession(ctx, p)
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

// env is the dashboard mounted in a handler.Handler, as the commands wire
// it, over a real SQLite store with a stub clock and a small registry:
//
//   - cleanup: every 5 minutes, 1 retry (its first slot is t0+5m);
//   - report: cron 0 9 * * * in America/New_York;
//   - send_email: manual, succeeds;
//   - flaky: manual, always fails, no retries.
type env struct {
	t      *testing.T
	store  *faultyStore
	clock  *core.StubClock
	engine *core.Engine
	srv    *httptest.Server
	logs   *syncBuffer
	token  string
	// dialect is the store's: "sqlite" (the default) or "postgres".
	dialect string
}

type envOption func(*env)

func withToken(tok string) envOption { return func(e *env) { e.token = tok } }

// withDialect opens the store on dialect ("postgres" needs
// TEST_DATABASE_URL, else the test is skipped).
func withDialect(d string) envOption { return func(e *env) { e.dialect = d } }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, clock: core.NewStubClock(t0), logs: &syncBuffer{}, dialect: "sqlite"}
	for _, o := range opts {
		o(e)
	}
	e.store = &faultyStore{Store: sqlstoretest.Open(t, e.dialect)}
	log := handler.NewLogger(e.logs, true, slog.LevelDebug)

	reg := core.NewRegistry()
	noop := func(context.Context, core.RunInfo) error { return nil }
	reg.MustSchedule("cleanup", noop, core.Every(5*time.Minute), core.Retries(1), core.Name("Clean up sessions"))
	reg.MustSchedule("report", noop, core.Cron("0 9 * * *"), core.Timezone("America/New_York"))
	reg.MustRegister("send_email", noop)
	reg.MustRegister("flaky", func(context.Context, core.RunInfo) error { return errors.New("flaky failed") })

	eng, err := core.NewEngine(core.Config{Store: e.store, Registry: reg, Clock: e.clock, Logger: log, Workers: 4})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if _, err := eng.Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	e.engine = eng
	dash, err := dashboard.New(dashboard.Config{Engine: eng, Token: e.token, Logger: log})
	if err != nil {
		t.Fatalf("dashboard.New: %v", err)
	}
	h, err := handler.New(handler.Config{Engine: eng, Token: e.token, Logger: log, Dashboard: dash})
	if err != nil {
		t.Fatalf("handler.New: %v", err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// api calls the REST API with the token and decodes the JSON answer into
// out, failing the test unless the status is want.
func (e *env) api(method, path, body string, want int, out any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json") // the API's JSON bodies need it (415)
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	if res.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.StatusCode, want, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		e.t.Fatalf("decode %s: %v", b, err)
	}
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
	e.api("POST", "/api/runs", body, http.StatusCreated, &run)
	return run
}

// tick runs one tick through POST /tick and returns its report.
func (e *env) tick() core.Report {
	e.t.Helper()
	var rep core.Report
	e.api("POST", "/tick", "", http.StatusOK, &rep)
	return rep
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
