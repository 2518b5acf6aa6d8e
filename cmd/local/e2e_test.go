package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// binary is the CLI built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tickflow-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tickflow")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the CLI: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished CLI process.
type result struct {
	code           int
	stdout, stderr string
}

// cliRun runs the built binary in dir with a clean environment plus env.
func cliRun(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func (r result) ok(t *testing.T, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
}

// TestNextDesignExamples prints DESIGN.md's DST examples (America/New_York,
// 2026): a wall time in the spring-forward gap, one that occurs twice, and an
// expression covering every hour across the fall-back.
func TestNextDesignExamples(t *testing.T) {
	tests := []struct {
		cron, after string
		want        []string // the UTC column
		wantLocal   []string // the zone column, with abbreviation
	}{
		{"30 2 * * *", "2026-03-07T17:00:00Z",
			[]string{"2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"},
			[]string{"2026-03-08T03:30:00-04:00 EDT", "2026-03-09T02:30:00-04:00 EDT"}},
		{"30 1 * * *", "2026-10-31T17:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
			[]string{"2026-11-01T01:30:00-04:00 EDT", "2026-11-02T01:30:00-05:00 EST"}},
		{"*/30 * * * *", "2026-11-01T04:50:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:00:00Z"},
			[]string{"2026-11-01T01:00:00-04:00 EDT", "2026-11-01T01:30:00-04:00 EDT", "2026-11-01T01:00:00-05:00 EST", "2026-11-01T01:30:00-05:00 EST", "2026-11-01T02:00:00-05:00 EST"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		r := cliRun(t, dir, nil, "next", "--cron", tt.cron, "--tz", "America/New_York", "--after", tt.after, "-n", fmt.Sprint(len(tt.want)))
		r.ok(t, "next "+tt.cron)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != len(tt.want) {
			t.Fatalf("next %q printed %d lines, want %d:\n%s", tt.cron, len(lines), len(tt.want), r.stdout)
		}
		for i, line := range lines {
			utc, local, _ := strings.Cut(line, " ")
			if utc != tt.want[i] || local != tt.wantLocal[i] {
				t.Errorf("next %q line %d = %q, want %q %q", tt.cron, i+1, line, tt.want[i], tt.wantLocal[i])
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tickflow.db")); err == nil {
		t.Errorf("next must not create a store")
	}
}

func TestNextEvery(t *testing.T) {
	r := cliRun(t, t.TempDir(), nil, "next", "--every", "300s", "--after", "2026-03-08T06:58:00Z", "--tz", "America/New_York", "-n", "2")
	r.ok(t, "next --every")
	want := "2026-03-08T07:03:00Z 2026-03-08T03:03:00-04:00 EDT\n2026-03-08T07:08:00Z 2026-03-08T03:08:00-04:00 EDT\n"
	if r.stdout != want {
		t.Errorf("next --every printed\n%s\nwant\n%s", r.stdout, want)
	}
}

func TestNextBadInput(t *testing.T) {
	tests := map[string][]string{
		"both":        {"--cron", "* * * * *", "--every", "1m"},
		"neither":     {},
		"bad cron":    {"--cron", "61 * * * *"},
		"never fires": {"--cron", "0 0 31 2 *"},
		"bad zone":    {"--cron", "0 9 * * *", "--tz", "Mars/Olympus_Mons"},
		"bad every":   {"--every", "-5m"},
		"bad after":   {"--every", "5m", "--after", "tomorrow"},
		"bad n":       {"--every", "5m", "-n", "0"},
		"bad flag":    {"--when", "now"},
		// --tz Local is refused with --every as it is with --cron.
		"local zone with every": {"--every", "5m", "--tz", "Local"},
		"local zone with cron":  {"--cron", "0 9 * * *", "--tz", "Local"},
		"after out of range":    {"--every", "5m", "--after", "9999-12-31T23:59:59Z"},
		"after year 1":          {"--every", "5m", "--after", "0001-01-01T00:00:00Z"},
	}
	dir := t.TempDir()
	for name, args := range tests {
		r := cliRun(t, dir, nil, append([]string{"next"}, args...)...)
		if r.code != 2 || r.stdout != "" || r.stderr == "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and a message", name, r.code, r.stdout, r.stderr)
		}
	}
}

// TestNextStopsAtMaxTime: fire times at or after core.MaxTime are not
// printed (they used to run into year 10000, which RFC 3339 cannot write).
func TestNextStopsAtMaxTime(t *testing.T) {
	r := cliRun(t, t.TempDir(), nil, "next", "--every", "1h", "--after", "2199-12-31T22:30:00Z", "-n", "5")
	r.ok(t, "next near the end of the range")
	if want := "2199-12-31T23:30:00Z 2199-12-31T23:30:00Z UTC\n"; r.stdout != want {
		t.Errorf("next printed %q, want %q", r.stdout, want)
	}
}

func TestHelpAndBadFlags(t *testing.T) {
	dir := t.TempDir()
	if r := cliRun(t, dir, nil, "-h"); r.code != 0 || !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("-h: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := cliRun(t, dir, nil, "serve", "-h"); r.code != 0 || !strings.Contains(r.stdout, "-addr") || !strings.Contains(r.stdout, "-interval") {
		t.Errorf("serve -h: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := cliRun(t, dir, nil, "tick", "--bogus"); r.code != 2 || !strings.Contains(r.stderr, "flag provided but not defined") {
		t.Errorf("tick --bogus: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cliRun(t, dir, nil, "bogus"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("bogus: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "tickflow.db")); err == nil {
		t.Errorf("help and bad flags must not create a store")
	}
}

// tickReport runs `tick` and decodes its report.
func tickReport(t *testing.T, dir string, env []string, args ...string) core.Report {
	t.Helper()
	r := cliRun(t, dir, env, append([]string{"tick"}, args...)...)
	r.ok(t, "tick")
	var rep core.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("tick printed no JSON report (%v):\n%s", err, r.stdout)
	}
	return rep
}

func openStore(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), url, sqlstore.WithMaxOpenConns(1))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestTickRecordsRuns ticks a fresh store of each dialect: the first tick
// syncs the demo schedules and runs cleanup_expired_sessions (run on
// startup); the second finds nothing due; an enqueued send_email runs on the
// third.
func TestTickRecordsRuns(t *testing.T) {
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			url := "sqlite:" + filepath.Join(dir, "fresh.db") // a fresh file: the CLI migrates it
			if dialect == "postgres" {
				url = sqlstoretest.URLPostgresEmpty(t) // an empty schema: the CLI migrates it
			}
			env := []string{"DATABASE_URL=" + url}

			first := tickReport(t, dir, env)
			if !first.Synced || first.Claimed != 1 || first.Succeeded != 1 || first.Error != "" {
				t.Errorf("first tick = %+v, want synced, cleanup_expired_sessions claimed and succeeded", first)
			}
			if second := tickReport(t, dir, env); second.Claimed != 0 || !second.Synced {
				// Each process syncs once: a new process syncs again (unchanged).
				t.Errorf("second tick = %+v, want nothing claimed", second)
			}

			r := cliRun(t, dir, env, "enqueue", demo.SendEmail, "--payload", `{"to":"ada@example.com"}`, "--idempotency-key", "welcome-ada")
			r.ok(t, "enqueue")
			var run core.Run
			if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || run.Status != core.StatusPending || run.Task != demo.SendEmail {
				t.Fatalf("enqueue printed %s (%v), want a pending send_email run", r.stdout, err)
			}
			again := cliRun(t, dir, env, "enqueue", demo.SendEmail, "--payload", `{"to":"ada@example.com"}`, "--idempotency-key", "welcome-ada")
			again.ok(t, "enqueue again")
			var same core.Run
			if err := json.Unmarshal([]byte(again.stdout), &same); err != nil || same.ID != run.ID || !strings.Contains(again.stderr, "used before") {
				t.Errorf("a second enqueue with the same key = run %d (%v), stderr %q; want run %d", same.ID, err, again.stderr, run.ID)
			}
			if third := tickReport(t, dir, env); third.Claimed != 1 || third.Succeeded != 1 {
				t.Errorf("third tick = %+v, want the send_email run claimed and succeeded", third)
			}

			st := openStore(t, url)
			runs, err := st.ListRuns(context.Background(), core.ListRunsParams{})
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 2 {
				t.Fatalf("recorded %d runs, want 2: %+v", len(runs), runs)
			}
			for _, r := range runs {
				if r.Status != core.StatusSuccess {
					t.Errorf("run %d (%s) is %s, want success", r.ID, r.Task, r.Status)
				}
			}
			got, err := st.GetRun(context.Background(), run.ID)
			var payload struct{ To string }
			if err != nil || json.Unmarshal(got.Payload, &payload) != nil || payload.To != "ada@example.com" {
				t.Errorf("send_email run payload = %s, %v; want the enqueued one", got.Payload, err)
			}
		})
	}
}

// TestTickStubClock simulates 12 minutes with --now: cleanup_expired_sessions
// (every 300 s from its first tick) runs at +0, +5 and +10 minutes only.
func TestTickStubClock(t *testing.T) {
	dir := t.TempDir()
	env := []string{"DATABASE_URL=sqlite:" + filepath.Join(dir, "sim.db")}
	start := time.Date(2026, 3, 8, 6, 58, 0, 0, time.UTC)
	claimed := 0
	for m := 0; m <= 12; m++ {
		now := start.Add(time.Duration(m) * time.Minute)
		rep := tickReport(t, dir, env, "--now", now.Format(time.RFC3339))
		if !rep.Now.Equal(now) {
			t.Fatalf("tick at %s reported now=%s", now, rep.Now)
		}
		claimed += rep.Claimed
	}
	st := openStore(t, env[0][len("DATABASE_URL="):])
	runs, err := st.ListRuns(context.Background(), core.ListRunsParams{Schedule: demo.CleanupExpiredSessions})
	if err != nil {
		t.Fatal(err)
	}
	var slots []string
	for _, r := range runs {
		slots = append(slots, r.Slot.UTC().Format("15:04"))
	}
	if got, want := strings.Join(slots, " "), "07:08 07:03 06:58"; got != want || claimed != 3 {
		t.Errorf("slots (newest first) = %s with %d claimed, want %s and 3", got, claimed, want)
	}
}

func TestMigrateAndSchedules(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // idempotent
		r := cliRun(t, dir, nil, "migrate")
		r.ok(t, "migrate")
		if !strings.Contains(r.stdout, "schema applied: sqlite:tickflow.db (sqlite)") || !strings.Contains(r.stdout, "schedules synced:") {
			t.Errorf("migrate printed %q", r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tickflow.db")); err != nil {
		t.Errorf("the default store is the SQLite file tickflow.db in the working directory: %v", err)
	}
	r := cliRun(t, dir, nil, "schedules")
	r.ok(t, "schedules")
	for _, want := range []string{"NAME", "cleanup_expired_sessions", "every 5 minutes", "morning_report", "at 09:00 every day, America/New_York", "EST"} {
		if !strings.Contains(r.stdout, want) && !strings.Contains(r.stdout, strings.Replace(want, "EST", "EDT", 1)) {
			t.Errorf("schedules output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestServe starts the server on a free loopback port with a 200 ms built-in
// trigger: it answers /healthz, and the demo run appears in GET /api/runs.
// SIGTERM stops it cleanly.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--interval", "200ms")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := make(chan string, 1)
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
		logs <- all.String()
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var base string
	select {
	case base = <-urlCh:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not log its URL within 30 s")
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("serve listens on %s, want loopback", base)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, []byte) {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	// Waiting for another process's timer: poll, bounded.
	var page struct {
		Runs []core.Run `json:"runs"`
	}
	deadline := time.Now().Add(30 * time.Second)
	// The run is visible as running before it finishes: wait for a final
	// status.
	for (len(page.Runs) == 0 || page.Runs[0].Status == core.StatusRunning) && time.Now().Before(deadline) {
		code, body := get("/api/runs?task=" + demo.CleanupExpiredSessions)
		if code != http.StatusOK {
			t.Fatalf("GET /api/runs = %d %s", code, body)
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("GET /api/runs: %v: %s", err, body)
		}
		if len(page.Runs) == 0 || page.Runs[0].Status == core.StatusRunning {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(page.Runs) != 1 || page.Runs[0].Status != core.StatusSuccess || page.Runs[0].Source != core.SourceScheduled {
		t.Fatalf("demo runs = %+v, want one successful scheduled cleanup_expired_sessions", page.Runs)
	}
	if code, body := get("/healthz"); code != http.StatusOK || !bytes.Contains(body, []byte(`"status":"ok"`)) {
		t.Errorf("GET /healthz = %d %s", code, body)
	}
	// serve links prommetrics and the dashboard (the Lambda binary does not).
	if code, body := get("/metrics"); code != http.StatusOK || !bytes.Contains(body, []byte(`tickflow_ticks_total{result="ok"}`)) {
		t.Errorf("GET /metrics = %d %s", code, body)
	}
	if code, body := get("/ui/schedules"); code != http.StatusOK || !bytes.Contains(body, []byte("<html")) {
		t.Errorf("GET /ui/schedules = %d %.200s", code, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-logs:
		if err := <-exited; err != nil {
			t.Errorf("serve exited with %v after SIGTERM:\n%s", err, out)
		}
		if !strings.Contains(out, "msg=stopped") || !strings.Contains(out, `msg="tick done"`) {
			t.Errorf("serve logs lack the timer ticks or the clean stop:\n%s", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM")
	}
}

func TestServeRefusesPublicAddressWithoutToken(t *testing.T) {
	dir := t.TempDir()
	r := cliRun(t, dir, nil, "serve", "--addr", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "without a token") {
		t.Errorf("serve --addr 0.0.0.0:0: exit %d, stderr %q; want exit 2 and a refusal", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "tickflow.db")); err == nil {
		t.Errorf("a refused serve must not create a store")
	}
}
