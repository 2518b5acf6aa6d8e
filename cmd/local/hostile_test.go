package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// The tests in this file feed the built binary bad input and hostile
// clients: each must get exit 2 (or a closed connection) and change nothing.
// RELIABILITY.md's "Bad input and hostile clients" table lists them.

// noStore fails the test when dir holds the default SQLite file: a refused
// command must not create or open the store.
func noStore(t *testing.T, dir, what string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "tickflow.db")); err == nil {
		t.Errorf("%s: the store was created; bad input must be refused before it is opened", what)
	}
}

// TestEnqueueBadText: a NUL escape or invalid UTF-8 in --payload, the
// idempotency key or the task name is exit 2 on both dialects (PostgreSQL
// answered exit 1 with "invalid byte sequence for encoding UTF8", SQLite
// stored the bytes), and no run is written.
func TestEnqueueBadText(t *testing.T) {
	cases := map[string][]string{
		"escaped NUL in payload": {"enqueue", demo.SendEmail, "--payload", `{"to":"ada\u0000@example.com"}`},
		"bad byte in payload":    {"enqueue", demo.SendEmail, "--payload", "{\"to\":\"\xff\"}"},
		"bad byte in key":        {"enqueue", demo.SendEmail, "--idempotency-key", "key-\xfe"},
		"bad byte in task":       {"enqueue", demo.SendEmail + "\xc3"},
		"lone surrogate":         {"enqueue", demo.SendEmail, "--payload", `["\ud800"]`},
	}
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			url := "sqlite:" + filepath.Join(dir, "runs.db")
			if dialect == "postgres" {
				url = sqlstoretest.URLPostgres(t)
			}
			env := []string{"DATABASE_URL=" + url}
			for name, args := range cases {
				r := cliRun(t, dir, env, args...)
				if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "invalid") {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and a validation message", name, r.code, r.stdout, r.stderr)
				}
			}
			if dialect == "sqlite" {
				if _, err := os.Stat(filepath.Join(dir, "runs.db")); err == nil {
					t.Errorf("the store was created by refused enqueues")
				}
				return
			}
			runs, err := openStore(t, url).ListRuns(context.Background(), core.ListRunsParams{})
			if err != nil || len(runs) != 0 {
				t.Errorf("runs after refused enqueues: %d (%v), want none", len(runs), err)
			}
		})
	}
}

// TestEnqueueIdempotencyConflict: a key reused for another payload is
// refused (exit 2); the same payload written differently is the same
// request and prints the first run.
func TestEnqueueIdempotencyConflict(t *testing.T) {
	dir := t.TempDir()
	first := cliRun(t, dir, nil, "enqueue", demo.SendEmail, "--payload", `{"to":"ada@example.com","n":1}`, "--idempotency-key", "welcome")
	first.ok(t, "enqueue")
	var run core.Run
	if err := json.Unmarshal([]byte(first.stdout), &run); err != nil {
		t.Fatal(err)
	}
	same := cliRun(t, dir, nil, "enqueue", demo.SendEmail, "--payload", `{ "n": 1, "to": "ada@example.com" }`, "--idempotency-key", "welcome")
	same.ok(t, "enqueue the same request")
	var again core.Run
	if err := json.Unmarshal([]byte(same.stdout), &again); err != nil || again.ID != run.ID {
		t.Errorf("the same request printed run %d (%v), want %d", again.ID, err, run.ID)
	}
	other := cliRun(t, dir, nil, "enqueue", demo.SendEmail, "--payload", `{"to":"bob@example.com","n":1}`, "--idempotency-key", "welcome")
	if other.code != 2 || other.stdout != "" || !strings.Contains(other.stderr, "different request") {
		t.Errorf("another payload under the key: exit %d, stdout %q, stderr %q; want exit 2 naming the conflict", other.code, other.stdout, other.stderr)
	}
	runs, err := openStore(t, "sqlite:"+filepath.Join(dir, "tickflow.db")).ListRuns(context.Background(), core.ListRunsParams{})
	if err != nil || len(runs) != 1 || !strings.Contains(string(runs[0].Payload), "ada@") {
		t.Errorf("stored runs %+v (%v), want only the first", runs, err)
	}
}

// TestTickBadSettings: settings beyond the documented bounds and a --now
// outside [core.MinTime, core.MaxTime) are exit 2 before the store is
// opened (--now 0001-01-01 used to fall back to the database clock, --now
// 9999-12-31 to record slots centuries ahead).
func TestTickBadSettings(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"huge workers":    {"--workers", "2000000"},
		"huge batch":      {"--batch-size", "60000"},
		"huge timeout":    {"--timeout", "48h"},
		"negative batch":  {"--batch-size", "-1"},
		"year 9999":       {"--now", "9999-12-31T23:59:59Z"},
		"year 1":          {"--now", "0001-01-01T00:00:00Z"},
		"just before min": {"--now", "1999-12-31T23:59:59Z"},
		"max itself":      {"--now", "2200-01-01T00:00:00Z"},
		"negative retain": {"--retain-runs", "-1h"},
		"fractional days": {"--retain-failed-runs", "1.5d"},
		"retain words":    {"--retain-ticks", "a while"},
		"huge claim hold": {"--claim-hold", "2m"},
		"zero claim hold": {"--claim-hold", "0"},
		"claim hold word": {"--claim-hold", "never"},
		"claim hold -1s":  {"--claim-hold", "-1s"},
	} {
		r := cliRun(t, dir, nil, append([]string{"tick"}, args...)...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "bad --") {
			t.Errorf("tick %s (%s): exit %d, stdout %q, stderr %q; want exit 2", strings.Join(args, " "), name, r.code, r.stdout, r.stderr)
		}
	}
	noStore(t, dir, "tick with bad settings")
	if rep := tickReport(t, dir, nil, "--now", "2199-12-31T23:59:59Z", "--workers", "1000", "--batch-size", "50000"); rep.Error != "" {
		t.Errorf("tick at the edge of the range: %+v", rep)
	}
	for _, hold := range []string{"off", "500ms", "1m"} {
		if rep := tickReport(t, dir, nil, "--claim-hold", hold); rep.Error != "" {
			t.Errorf("tick --claim-hold %s: %+v", hold, rep)
		}
	}
	if rep := tickReport(t, dir, nil, "--retain-runs", "forever", "--retain-failed-runs", "36h", "--retain-ticks", "0"); rep.Error != "" {
		t.Errorf("tick with retention flags: %+v", rep)
	}
}

// TestServeBadConfig: a token HTTP cannot carry, a bad sslmode, a zero read
// timeout or a too short interval are exit 2 before the store is opened
// (they used to be exit 1 after it was opened and migrated).
func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct {
		env  []string
		args []string
		want string
	}{
		"token with a space":  {nil, []string{"--token", "a b"}, "bad --token"},
		"token of spaces":     {nil, []string{"--token", "   "}, "bad --token"},
		"token from env":      {[]string{"TICKFLOW_TOKEN=\t"}, nil, "TICKFLOW_TOKEN"},
		"token not ASCII":     {nil, []string{"--token", "s3cr\xe9t"}, "bad --token"},
		"bogus sslmode":       {nil, []string{"--database-url", "postgres://u:hunter2@127.0.0.1:1/db?sslmode=bogus"}, "sslmode"},
		"zero read timeout":   {nil, []string{"--read-timeout", "0s"}, "bad --read-timeout"},
		"huge read timeout":   {nil, []string{"--read-timeout", "1000h"}, "bad --read-timeout"},
		"nanosecond interval": {nil, []string{"--interval", "1ns"}, "bad --interval"},
		"bad log level":       {nil, []string{"--log-level", "loud"}, "bad --log-level"},
		"port out of range":   {nil, []string{"--addr", "127.0.0.1:99999"}, "bad --addr"},
		"negative retention":  {nil, []string{"--retain-ticks", "-24h"}, "bad --retain-ticks"},
		"retention in weeks":  {nil, []string{"--retain-runs", "4w"}, "bad --retain-runs"},
	} {
		r := cliRun(t, dir, tt.env, append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 mentioning %q without secrets", name, r.code, r.stderr, tt.want)
		}
	}
	noStore(t, dir, "serve with bad configuration")
}

// TestPasswordNotInMessages: a password given as a URL query parameter or
// in key=value form never appears in the CLI's messages.
func TestPasswordNotInMessages(t *testing.T) {
	dir := t.TempDir()
	for _, url := range []string{
		"postgres://127.0.0.1:1/db?user=u&password=hunter2&sslmode=disable&connect_timeout=2",
		"postgres://127.0.0.1:1/db?sslpassword=hunter2&sslmode=disable&connect_timeout=2",
		"postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 password=hunter2",
	} {
		r := cliRun(t, dir, nil, "migrate", "--database-url", url)
		if r.code == 0 || strings.Contains(r.stderr+r.stdout, "hunter2") {
			t.Errorf("migrate --database-url %q: exit %d, output %q; want a failure without the password", url, r.code, r.stderr+r.stdout)
		}
	}
}

// serveProc is a running `tickflow serve` and its logs.
type serveProc struct {
	base string
	logs chan string
	cmd  *exec.Cmd
}

// startServe starts the binary's serve on a free loopback port and waits
// for its "serving" log line.
func startServe(t *testing.T, dir string, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, logs: make(chan string, 1)}
	urlCh := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg=serving url=(http://\S+)`)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlCh <- m[1]
			}
		}
		_ = cmd.Wait()
		p.logs <- all.String()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case p.base = <-urlCh:
	case out := <-p.logs:
		t.Fatalf("serve exited before serving:\n%s", out)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not log its URL within 30 s")
	}
	return p
}

// stop sends SIGTERM and returns the logs.
func (p *serveProc) stop(t *testing.T) string {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case out := <-p.logs:
		return out
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM")
		return ""
	}
}

// TestServeSyncsAtStartAndCutsSlowBodies: with --interval 0 no tick runs,
// yet the code's schedules are listed from the first request (they were
// missing until the first tick); and a client that announces a 100-byte
// body and sends 1 byte is disconnected after --read-timeout.
func TestServeSyncsAtStartAndCutsSlowBodies(t *testing.T) {
	p := startServe(t, t.TempDir(), nil, "--interval", "0", "--read-timeout", "300ms")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(p.base + "/api/schedules/" + demo.CleanupExpiredSessions)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/schedules/%s before any tick = %d %s, want 200", demo.CleanupExpiredSessions, resp.StatusCode, body)
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.Copy(io.Discard, conn) // returns at EOF: the server closed the connection
	if elapsed := time.Since(start); err != nil || elapsed > 5*time.Second {
		t.Errorf("slow body: connection open after %s (err %v), want it closed after the 300ms read timeout", elapsed, err)
	}
	if out := p.stop(t); !strings.Contains(out, "msg=stopped") {
		t.Errorf("serve did not stop cleanly:\n%s", out)
	}
}

// TestServeLogHidesQueryPassword: the "serving" log line names the
// database without a password given as a query parameter (PostgreSQL only:
// serve must reach the database to log it).
func TestServeLogHidesQueryPassword(t *testing.T) {
	url := sqlstoretest.URLPostgres(t)
	url += "&password=hunter2"
	p := startServe(t, t.TempDir(), []string{"DATABASE_URL=" + url}, "--interval", "0")
	if out := p.stop(t); strings.Contains(out, "hunter2") || !strings.Contains(out, "password=xxxxx") {
		t.Errorf("serve logs show the password or no redacted URL:\n%s", out)
	}
}

// TestEnqueueRunAt: --run-at and --delay store the run pending until then;
// bad values are exit 2 before the store is opened.
func TestEnqueueRunAt(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"both":           {"--run-at", "2026-03-02T10:00:00Z", "--delay", "1m"},
		"not RFC 3339":   {"--run-at", "tomorrow"},
		"too late":       {"--run-at", "2300-01-01T00:00:00Z"},
		"negative delay": {"--delay", "-1s"},
		"delay too long": {"--delay", "9000h"},
	} {
		r := cliRun(t, dir, nil, append([]string{"enqueue", demo.SendEmail}, args...)...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "bad --") {
			t.Errorf("enqueue %s (%s): exit %d, stdout %q, stderr %q; want exit 2", strings.Join(args, " "), name, r.code, r.stdout, r.stderr)
		}
	}
	noStore(t, dir, "enqueue with a bad --run-at or --delay")

	at := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	r := cliRun(t, dir, nil, "enqueue", demo.SendEmail, "--run-at", at.Format(time.RFC3339))
	r.ok(t, "enqueue --run-at")
	var run core.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || !run.RunAt.Equal(at) || run.Status != core.StatusPending {
		t.Fatalf("enqueue --run-at printed %+v (%v), want pending at %v", run, err, at)
	}
	d := cliRun(t, dir, nil, "enqueue", demo.SendEmail, "--delay", "1h")
	d.ok(t, "enqueue --delay")
	var delayed core.Run
	if err := json.Unmarshal([]byte(d.stdout), &delayed); err != nil || delayed.RunAt.Sub(delayed.CreatedAt) != time.Hour {
		t.Fatalf("enqueue --delay 1h printed %+v (%v), want run_at an hour after created_at", delayed, err)
	}
	statuses := func() [2]core.Status {
		st := openStore(t, "sqlite:"+filepath.Join(dir, "tickflow.db"))
		var out [2]core.Status
		for i, id := range []int64{run.ID, delayed.ID} {
			r, err := st.GetRun(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = r.Status
		}
		return out
	}
	tickReport(t, dir, nil)
	if got := statuses(); got != [2]core.Status{core.StatusPending, core.StatusPending} {
		t.Errorf("after a tick now: %v, want both pending", got)
	}
	tickReport(t, dir, nil, "--now", at.Format(time.RFC3339))
	if got := statuses(); got != [2]core.Status{core.StatusSuccess, core.StatusSuccess} {
		t.Errorf("after a tick at %v: %v, want both succeeded", at, got)
	}
}
