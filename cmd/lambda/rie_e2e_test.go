package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// rieBinary is the AWS Lambda Runtime Interface Emulator, installed with
//
//	go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
const rieBinary = "aws-lambda-rie"

// TestBootstrapUnderEmulator is `sam local invoke` without Docker: it builds
// bootstrap exactly as for Lambda, runs it under the Runtime Interface
// Emulator bound to 127.0.0.1, invokes it with every fixture of events/ one
// at a time (the emulator serves one invocation at a time), and checks the
// reports and the runs recorded in PostgreSQL.
func TestBootstrapUnderEmulator(t *testing.T) {
	rie := findRIE(t)
	dbURL := sqlstoretest.URLPostgres(t)
	bootstrap := buildBootstrap(t)

	addr, apiAddr := freeAddr(t), freeAddr(t)
	logs := &syncBuffer{}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"AWS_LAMBDA_FUNCTION_NAME=tickflow-tick",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=50", // template.yaml's Timeout
		"TICKFLOW_MAX_CONNS=2",
		"LOG_LEVEL=info",
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", logs.String())
		}
	})
	waitListening(t, addr, exited)
	listening := time.Since(started)

	invoke := func(payload []byte) (body []byte, took time.Duration) {
		t.Helper()
		url := "http://" + addr + "/2015-03-31/functions/function/invocations"
		client := &http.Client{Timeout: 60 * time.Second}
		begin := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(payload))
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		took = time.Since(begin)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("invoke: status %d, %v: %s", resp.StatusCode, err, body)
		}
		return body, took
	}
	fixture := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(repoRoot, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	report := func(name string) (core.Report, time.Duration) {
		t.Helper()
		body, took := invoke(fixture(name))
		var rep core.Report
		if err := json.Unmarshal(body, &rep); err != nil || rep.TickID == "" {
			t.Fatalf("%s: not a tick report (%v): %s", name, err, body)
		}
		if rep.Error != "" {
			t.Fatalf("%s: tick failed: %s", name, rep.Error)
		}
		return rep, took
	}

	// 1. Cold start: the emulator starts bootstrap on the first invocation,
	// which opens the pool, migrates, syncs the demo schedules and runs
	// cleanup_expired_sessions (RunOnStartup).
	first, coldTook := report("eventbridge-rule.json")
	if !first.Synced || first.Claimed != 1 || first.Succeeded != 1 {
		t.Errorf("first tick = %+v, want synced with cleanup_expired_sessions claimed and succeeded", first)
	}

	// 2. A manual run enqueued in PostgreSQL is run by the next tick.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := sqlstore.Open(ctx, dbURL, sqlstore.WithMaxOpenConns(1))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer store.Close()
	email, _, err := store.InsertRun(ctx, core.InsertRunParams{
		Task: demo.SendEmail, DisplayName: demo.SendEmail, Source: core.SourceManual,
		Payload: json.RawMessage(`{"to":"ada@example.com","subject":"Welcome"}`), MaxAttempts: 1,
	})
	if err != nil {
		t.Fatalf("enqueue send_email: %v", err)
	}
	second, warmTook := report("scheduler.json")
	if second.Synced || second.Claimed != 1 || second.Succeeded != 1 {
		t.Errorf("scheduler tick = %+v, want the send_email run claimed and succeeded", second)
	}

	// 3. Nothing else is due: the Scheduler Input and empty payloads tick too.
	for _, name := range []string{"scheduler-input.json", "empty.json"} {
		if rep, _ := report(name); rep.Claimed != 0 || rep.Failed != 0 {
			t.Errorf("%s: report %+v, want an empty tick", name, rep)
		}
	}
	if body, _ := invoke(nil); !bytes.Contains(body, []byte(`"tick_id"`)) {
		t.Errorf("an empty request body must tick too, got %s", body)
	}

	// 4. A Function URL request is served by the REST API.
	body, _ := invoke(fixture("function-url-runs.json"))
	var resp events.LambdaFunctionURLResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("function URL response: %v: %s", err, body)
	}
	var page struct {
		Runs []core.Run `json:"runs"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /api/runs = %d (%v): %s", resp.StatusCode, err, resp.Body)
	}
	if len(page.Runs) != 2 {
		t.Errorf("GET /api/runs lists %d runs, want 2", len(page.Runs))
	}

	// 5. A payload no trigger sends is a Lambda error, not a tick.
	if body, _ := invoke([]byte(`[1, 2]`)); !bytes.Contains(body, []byte(`"errorMessage"`)) {
		t.Errorf("an array payload must fail the invocation, got %s", body)
	}

	// What PostgreSQL recorded.
	runs, err := store.ListRuns(ctx, core.ListRunsParams{})
	if err != nil {
		t.Fatalf("list runs: %v", err)
	}
	byTask := map[string]core.Run{}
	for _, r := range runs {
		byTask[r.Task] = r
	}
	if len(runs) != 2 {
		t.Errorf("recorded %d runs, want 2: %+v", len(runs), runs)
	}
	if r := byTask[demo.CleanupExpiredSessions]; r.Status != core.StatusSuccess || r.Source != core.SourceScheduled || r.Slot == nil || r.TickID != first.TickID {
		t.Errorf("cleanup_expired_sessions run = %+v, want a scheduled success by the first tick", r)
	}
	if r := byTask[demo.SendEmail]; r.ID != email.ID || r.Status != core.StatusSuccess || r.TickID != second.TickID {
		t.Errorf("send_email run = %+v, want success by the second tick", r)
	}
	ticks, err := store.ListTicks(ctx, 100)
	if err != nil {
		t.Fatalf("list ticks: %v", err)
	}
	if len(ticks) != 5 {
		t.Errorf("recorded %d ticks, want 5 (four fixtures and the empty body)", len(ticks))
	}
	for _, tk := range ticks {
		if tk.Trigger != "lambda" || tk.Error != "" {
			t.Errorf("tick %+v, want trigger lambda without error", tk)
		}
	}

	// 6. SIGTERM: the emulator forwards it; the function closes its pool and exits.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-exited:
		stopped = true
	case <-time.After(10 * time.Second):
		t.Fatalf("the emulator did not exit within 10 s of SIGTERM")
	}
	out := logs.String()
	if !strings.Contains(out, "shutdown: store closed") {
		t.Errorf("the function did not close its store on SIGTERM")
	}
	if strings.Contains(out, "did not exit after deadline") {
		t.Errorf("the function had to be killed after SIGTERM")
	}

	initMS := "?"
	if m := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`).FindStringSubmatch(out); m != nil {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			initMS = fmt.Sprintf("%.1f ms", v)
		}
	}
	t.Logf("cold start under the emulator (PostgreSQL): process start to first invocation answered %s "+
		"(emulator listening after %s; first invocation incl. exec, init and tick %s; init %s); warm invocation %s",
		(listening + coldTook).Round(time.Millisecond), listening.Round(time.Millisecond),
		coldTook.Round(time.Millisecond), initMS, warmTook.Round(time.Millisecond))
}

// findRIE returns the emulator's path from PATH or $(go env GOPATH)/bin. When
// it is missing the test is skipped, or fails when CI is set.
func findRIE(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath(rieBinary); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", rieBinary)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	msg := rieBinary + " not found on PATH or in $(go env GOPATH)/bin; install it with " +
		"go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// buildBootstrap builds this package as Lambda's bootstrap for the host's
// architecture, with the flags of a release build.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bootstrap: %v\n%s", err, b)
	}
	return out
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits until the emulator accepts connections on addr, or
// fails when it exits or 10 s pass.
func waitListening(t *testing.T, addr string, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("the emulator exited before listening: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("the emulator did not listen on %s within 10 s", addr)
}

// syncBuffer is a bytes.Buffer safe for the emulator's concurrent writes.
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
