package handler_test

// Hostile-input fuzz targets for the transports (RELIABILITY.md, scenario
// 7): the Lambda payload decoder, the JSON body of POST /api/runs, the query
// of GET /api/runs and the body and query of POST /tick. Each has a committed
// seed corpus under testdata/fuzz/<FuzzName>/; `go test ./handler` replays
// it and .ci/fuzz mutates it for a fixed time. The HTTP targets run the real
// handler on a real SQLite store: no input may panic or get a 5xx, and a
// rejected request writes nothing.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

var triggerKinds = map[string]bool{
	handler.KindEventBridgeRule: true, handler.KindScheduler: true, handler.KindSchedulerInput: true,
	handler.KindEmpty: true, handler.KindFunctionURL: true,
}

// FuzzDecodeTrigger: any payload is classified or rejected with an error,
// never a panic; the classification is deterministic, and anything that is
// not JSON (besides an empty payload) is rejected.
func FuzzDecodeTrigger(f *testing.F) {
	for _, name := range []string{"eventbridge-rule.json", "scheduler-envelope.json", "scheduler-input.json",
		"function-url-add-task.json", "function-url-get-runs.json", "empty.json", "empty-object.json", "null.json",
		"sqs-event.json", "s3-event.json", "sns-event.json", "unknown-object.json"} {
		if b, err := readTestdata(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		``, ` `, `null`, `{}`, `[]`, `"tick"`, `42`, `{"detail-type":"Object Created","source":"aws.s3","detail":{}}`,
		`{"detail-type":"Scheduled Event","source":"aws.scheduler","detail":"{\"a\":1}"}`,
		`{"detail-type":"Scheduled Event","detail":"not json"}`, `{"detail-type":"Scheduled Event","time":"yesterday"}`,
		`{"requestContext":{"http":{"method":"POST"}},"rawPath":"/tick","body":"e30=","isBase64Encoded":true}`,
		`{"requestContext":{"http":{}},"version":"2.0"}`, `{"httpMethod":"GET","requestContext":{}}`,
		`{"requestContext":"x"}`, `{"a":` + strings.Repeat(`[`, 5000), "{\"\xff\":1}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		trig, err := handler.DecodeTrigger(payload)
		again, err2 := handler.DecodeTrigger(payload)
		if (err == nil) != (err2 == nil) || trig.Kind != again.Kind {
			t.Fatalf("not deterministic: %q/%v then %q/%v", trig.Kind, err, again.Kind, err2)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if !triggerKinds[trig.Kind] {
			t.Fatalf("unknown kind %q", trig.Kind)
		}
		trimmed := bytes.TrimSpace(payload)
		if len(trimmed) > 0 && !json.Valid(trimmed) {
			t.Fatalf("accepted a payload that is not JSON as %q: %q", trig.Kind, payload)
		}
		if (trig.Kind == handler.KindFunctionURL) != (trig.Request != nil) {
			t.Fatalf("kind %q with request %v", trig.Kind, trig.Request)
		}
		if trig.Kind == handler.KindFunctionURL && trig.Request.RequestContext.HTTP.Method == "" {
			t.Fatal("a Function URL request without a method was accepted")
		}
	})
}

// fuzzEnv is a handler on a real SQLite store with a stub clock, shared by
// the iterations of one fuzz worker.
type fuzzEnv struct {
	h     *handler.Handler
	store *sqlstore.Store
	runID int64
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	st := sqlstoretest.OpenSQLite(f)
	reg := core.NewRegistry()
	noop := func(context.Context, core.RunInfo) error { return nil }
	reg.MustSchedule("nightly", noop, core.Cron("0 3 * * *"), core.Timezone("Europe/Berlin"))
	reg.MustRegister("mail", noop)
	eng, err := core.NewEngine(core.Config{
		Store: st, Registry: reg, Clock: core.NewStubClock(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)),
		Logger: discardLogger(),
	})
	if err != nil {
		f.Fatal(err)
	}
	h, err := handler.New(handler.Config{Engine: eng, Logger: discardLogger(), MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := eng.Tick(context.Background()); err != nil {
		f.Fatal(err)
	}
	r, _, err := eng.AddTask(context.Background(), core.AddTaskParams{Task: "mail", IdempotencyKey: "seed"})
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{h: h, store: st, runID: r.ID}
}

// counts returns the number of runs stored and the id of the newest tick.
func (e *fuzzEnv) counts(t *testing.T) (runs int, lastTick string) {
	t.Helper()
	s, err := e.store.Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.RunsByStatus {
		runs += n
	}
	tk, err := e.store.ListTicks(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tk) > 0 {
		lastTick = tk[0].ID
	}
	return runs, lastTick
}

// readTestdata reads a payload fixture of testdata/.
func readTestdata(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

// discardLogger drops the handler's and engine's logs: the fuzzers would
// flood the output.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serve sends one request and checks what every answer must satisfy: no
// 5xx, a JSON body, and an "error" message on every 4xx.
func (e *fuzzEnv) serve(t *testing.T, method, target string, body []byte) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL.RawQuery = ""
	if i := strings.IndexByte(target, '?'); i >= 0 {
		req.URL.Path, req.URL.RawQuery = target[:i], target[i+1:]
	} else {
		req.URL.Path = target
	}
	req.Host = "localhost" // no token: only loopback names are served
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	out := w.Body.Bytes()
	if w.Code >= 500 {
		t.Fatalf("%s %s with body %q: status %d %s", method, target, body, w.Code, out)
	}
	if !json.Valid(out) {
		t.Fatalf("%s %s: status %d with a body that is not JSON: %q", method, target, w.Code, out)
	}
	if w.Code >= 400 {
		var eb struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(out, &eb); err != nil || eb.Error == "" {
			t.Fatalf("%s %s: status %d without an error message: %s", method, target, w.Code, out)
		}
	}
	return w.Code, out
}

// FuzzAPIAddTask: POST /api/runs with any body. A rejected body (4xx)
// writes nothing; an accepted one creates at most one run.
func FuzzAPIAddTask(f *testing.F) {
	for _, s := range []string{
		`{"task":"mail"}`, `{"task":"mail","payload":{"to":"a@example.com"},"idempotency_key":"k1"}`,
		`{"task":"mail","idempotency_key":"seed"}`, `{"task":"nightly","payload":[1,2,3]}`, `{"task":"nope"}`,
		`{"task":""}`, `{}`, ``, `null`, `[]`, `{"task":"mail"}{"task":"mail"}`, `{"task":"mail","extra":1}`,
		`{"task":"mail","payload":"` + strings.Repeat("x", 70000) + `"}`, `{"task":1}`, `{"task":"mail","payload":nul}`,
		`{"task":"mail","idempotency_key":"` + strings.Repeat("k", 300) + `"}`, "{\"task\":\"m\xffail\"}",
		`{"task":"mail","payload":` + strings.Repeat(`[`, 3000) + strings.Repeat(`]`, 3000) + `}`,
	} {
		f.Add([]byte(s))
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		before, _ := e.counts(t)
		code, out := e.serve(t, http.MethodPost, "/api/runs", body)
		after, _ := e.counts(t)
		switch {
		case code >= 400 && after != before:
			t.Fatalf("rejected body %q (status %d %s) changed the run count %d -> %d", body, code, out, before, after)
		case code == http.StatusCreated && after != before+1:
			t.Fatalf("201 for %q but the run count went %d -> %d", body, before, after)
		case code == http.StatusOK && after != before:
			t.Fatalf("200 (idempotent replay) for %q but the run count went %d -> %d", body, before, after)
		case code < 400 && code != http.StatusOK && code != http.StatusCreated:
			t.Fatalf("unexpected status %d for %q", code, body)
		}
		if code < 400 {
			var r core.Run
			if err := json.Unmarshal(out, &r); err != nil || r.ID == 0 || r.Task == "" {
				t.Fatalf("status %d with a body that is not a run: %s", code, out)
			}
		}
	})
}

// FuzzAPIListRuns: GET /api/runs with any query: 200 with a page of runs
// or 400 naming the parameter; never a 5xx, and nothing written.
func FuzzAPIListRuns(f *testing.F) {
	for _, s := range []string{
		``, `status=pending`, `status=bogus`, `source=manual&task=mail`, `schedule=nightly&limit=1`, `limit=0`,
		`limit=201`, `limit=-5`, `limit=1e3`, `cursor=1`, `cursor=0`, `cursor=-1`, `cursor=99999999999999999999`,
		`task=` + strings.Repeat("t", 250), `status=&source=&limit=`, `%zz`, `limit=1&limit=2`, `a=b&&&=`,
		"task=%00%ff", `status=success&source=scheduled&task=mail&schedule=nightly&cursor=2&limit=200`,
	} {
		f.Add(s)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, query string) {
		before, _ := e.counts(t)
		code, out := e.serve(t, http.MethodGet, "/api/runs?"+query, nil)
		if after, _ := e.counts(t); after != before {
			t.Fatalf("GET /api/runs?%s changed the run count %d -> %d", query, before, after)
		}
		switch code {
		case http.StatusOK:
			var page struct {
				Runs []core.Run `json:"runs"`
			}
			if err := json.Unmarshal(out, &page); err != nil || page.Runs == nil {
				t.Fatalf("200 without a runs array: %s", out)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("GET /api/runs?%q: status %d, want 200 or 400: %s", query, code, out)
		}
	})
}

// FuzzTick: POST /tick with any body and query. A body that is not empty
// or {} is refused before any tick runs (no tick recorded, no run); an
// accepted request runs one tick and answers its report.
func FuzzTick(f *testing.F) {
	for _, s := range []struct{ body, query string }{
		{``, ``}, {`{}`, ``}, {` {} `, `now=2030-01-01T00:00:00Z`}, {`{"now":"2030-01-01T00:00:00Z"}`, ``},
		{`[]`, ``}, {`null`, ``}, {`{}{}`, ``}, {`{"a":1}`, `force=1`}, {strings.Repeat(" ", 70000) + `{}`, ``},
		{"\xff", ``}, {`{`, `%`},
	} {
		f.Add([]byte(s.body), s.query)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		runs0, ticks0 := e.counts(t)
		target := "/tick"
		if query != "" && utf8.ValidString(query) {
			target += "?" + query
		}
		code, out := e.serve(t, http.MethodPost, target, body)
		runs1, ticks1 := e.counts(t)
		switch {
		case code >= 400 && (runs1 != runs0 || ticks1 != ticks0):
			t.Fatalf("refused tick (status %d %s) wrote: runs %d -> %d, newest tick %s -> %s", code, out, runs0, runs1, ticks0, ticks1)
		case code == http.StatusOK:
			var rep core.Report
			if err := json.Unmarshal(out, &rep); err != nil || rep.TickID == "" {
				t.Fatalf("200 without a tick report: %s", out)
			}
		case code < 400:
			t.Fatalf("unexpected status %d: %s", code, out)
		}
	})
}
