package browser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The demo schedule the test drives (registered by cmd/local).
const demoSchedule = "cleanup_expired_sessions"

// heartbeat is a runtime schedule the test creates, every 2 s, so that its
// history strip and chart fill while the test runs.
const heartbeat = "heartbeat"

// TestDashboardInBrowser drives the dashboard served by "cmd/local serve" in
// headless Chromium: sign in, run a schedule now, see the run appear and
// finish, open its detail, pause and resume the schedule, see the history
// strips and a schedule's chart, backfill the slots a pause folded, filter
// the runs, and take a screenshot of each view.
func TestDashboardInBrowser(t *testing.T) {
	chrome := findChromium(t)
	root := moduleRoot(t)
	bin := buildLocal(t, root)
	token := randomToken(t)
	base := startServe(t, bin, token)
	ctx := startBrowser(t, chrome)
	shots := newShots(t, root)

	// The schedules view, reached from "/".
	do(t, ctx, "open the dashboard",
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#schedule-"+demoSchedule)),
	)
	if loc := eval[string](t, ctx, "location.pathname"); loc != "/ui/schedules" {
		t.Fatalf("/ led to %s, want /ui/schedules", loc)
	}

	// The server has a token: sign in once through the form.
	clickAndLoad(t, ctx, "#signin-link")
	do(t, ctx, "type the token", chromedp.SendKeys(chromedp.CSS("#token"), token))
	clickAndLoad(t, ctx, "#signin")
	waitText(t, ctx, "#flash", "Signed in")

	// A runtime schedule every 2 s, whose slots fill the strips meanwhile.
	if code, body := apiDo(t, base, token, "POST", "/api/schedules", `{"key":"`+heartbeat+`","task":"send_email","name":"Heartbeat","every":2}`); code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", heartbeat, code, body)
	}

	// Run now: the page comes back with a message linking to the new run.
	row := "#schedule-" + demoSchedule
	clickAndLoad(t, ctx, row+` button[data-action="trigger"]`)
	waitText(t, ctx, "#flash", "queued")
	runPath := eval[string](t, ctx, `document.querySelector("#flash-link").getAttribute("href")`)
	runID := strings.TrimPrefix(runPath, "/ui/runs/")
	if runID == runPath || runID == "" {
		t.Fatalf("flash link %q does not name a run", runPath)
	}

	// A run enqueued through the REST API shows up as well.
	emailID := enqueue(t, base, token, `{"task":"send_email","payload":{"to":"ada@example.com","subject":"Welcome"}}`)

	// The runs view shows the new run and, refreshing itself, its status
	// once the built-in trigger's tick has run it.
	do(t, ctx, "open the runs", chromedp.Navigate(base+"/ui/runs"))
	waitJS(t, ctx, "the new run listed", fmt.Sprintf(`!!document.querySelector("#run-%s")`, runID))
	for _, id := range []string{runID, emailID} {
		waitJS(t, ctx, "run "+id+" succeeded", fmt.Sprintf(`!!document.querySelector('#run-%s[data-status="success"] .badge.st-success')`, id))
	}
	if src := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('#run-%s td[data-label="Source"]').textContent.trim()`, runID)); src != "manual" {
		t.Errorf("run now recorded source %q, want manual", src)
	}
	shots.take(t, ctx, "runs")

	// The detail view.
	clickAndLoad(t, ctx, fmt.Sprintf("#run-%s a.runlink", runID))
	waitText(t, ctx, "#run-status", "success")
	detail := eval[string](t, ctx, "document.querySelector('main').innerText")
	for _, want := range []string{"Run #" + runID, "manual", demoSchedule, "1 of", "tick_"} {
		if !strings.Contains(detail, want) {
			t.Errorf("run detail lacks %q:\n%s", want, detail)
		}
	}
	shots.take(t, ctx, "run-detail")

	// Pause and resume; the API agrees with what the page shows.
	do(t, ctx, "open the schedules", chromedp.Navigate(base+"/ui/schedules"))
	clickAndLoad(t, ctx, row+` button[data-action="pause"]`)
	waitJS(t, ctx, "the schedule paused", fmt.Sprintf(`!!document.querySelector(%q)`, row+" .badge.st-paused"))
	if !apiPaused(t, base) {
		t.Fatal("the API does not report the schedule paused")
	}
	clickAndLoad(t, ctx, row+` button[data-action="resume"]`)
	waitJS(t, ctx, "the schedule resumed", fmt.Sprintf(`!!document.querySelector(%q)`, row+" .badge.st-active"))
	if apiPaused(t, base) {
		t.Fatal("the API still reports the schedule paused")
	}
	// For the screenshot: one schedule paused, and no one-time message.
	clickAndLoad(t, ctx, `#schedule-morning_report button[data-action="pause"]`)
	waitText(t, ctx, "#flash", "Paused")

	// The heartbeat paused for a few slots, then resumed: its next tick
	// folds them into one run (misfire coalesce).
	waitAudit(t, base, heartbeat, "3 successful slots", func(c map[string]int) bool { return c["success"] >= 3 })
	if code, body := apiDo(t, base, token, "POST", "/api/schedules/"+heartbeat+"/pause", ""); code != http.StatusOK {
		t.Fatalf("pause %s: %d %s", heartbeat, code, body)
	}
	waitAudit(t, base, heartbeat, "3 slots passed while paused", func(c map[string]int) bool { return c["paused"] >= 3 })
	if code, body := apiDo(t, base, token, "POST", "/api/schedules/"+heartbeat+"/resume", ""); code != http.StatusOK {
		t.Fatalf("resume %s: %d %s", heartbeat, code, body)
	}
	waitAudit(t, base, heartbeat, "coalesced slots, then runs again", func(c map[string]int) bool { return c["coalesced"] >= 1 && c["success"] >= 5 })

	// The strips: each cell links to a run and says its slot and outcome.
	do(t, ctx, "reload the schedules", chromedp.Navigate(base+"/ui/schedules"))
	if eval[bool](t, ctx, `!!document.querySelector("#flash")`) {
		t.Error("the one-time message shows twice")
	}
	cells := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#schedule-`+heartbeat+` .strip a.cell")).map(a => a.dataset.outcome + " " + a.getAttribute("href") + " " + (a.getAttribute("aria-label") || ""))`)
	outcomes := map[string]int{}
	for _, c := range cells {
		f := strings.Fields(c)
		if len(f) < 3 || !strings.HasPrefix(f[1], "/ui/runs/") && f[0] != "missed" && f[0] != "due" {
			t.Errorf("strip cell %q: want a run link and a label", c)
			continue
		}
		outcomes[f[0]]++
	}
	if len(cells) < 5 || len(cells) > 20 || outcomes["success"] < 3 || outcomes["coalesced"] < 1 {
		t.Errorf("heartbeat strip: %d cells %v, want 5 to 20 with successes and coalesced slots", len(cells), outcomes)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#schedule-`+demoSchedule+` .strip a.cell").length`); n < 1 {
		t.Errorf("%s's strip has %d cells, want its run-on-startup slot", demoSchedule, n)
	}
	shots.take(t, ctx, "schedules")

	// The schedule's page: one chart mark per run of the window, the
	// audit table, and a backfill of the folded slots, dry run first.
	clickAndLoad(t, ctx, "#schedule-"+heartbeat+" a.schedule-link")
	waitJS(t, ctx, "the chart", `!!document.querySelector("svg#chart")`)
	marks := eval[int](t, ctx, `document.querySelectorAll("svg#chart .mark").length`)
	ownRuns := eval[int](t, ctx, `Array.from(document.querySelectorAll("table.audit tbody tr")).filter(tr => tr.querySelector('td[data-label="Run"] a') && !tr.textContent.includes("covers it")).length`)
	if marks < 5 || marks != ownRuns {
		t.Errorf("chart has %d run marks, the audit table %d runs of their own; want equal, at least 5", marks, ownRuns)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#strip a.cell").length`); n < 5 {
		t.Errorf("the schedule page's strip has %d cells", n)
	}
	if w := eval[float64](t, ctx, `document.querySelector("svg#chart").getBoundingClientRect().width`); w < 600 {
		t.Errorf("the chart is %v px wide", w)
	}
	shots.take(t, ctx, "schedule-detail")
	clickAndLoad(t, ctx, "#backfill-dry-run")
	waitText(t, ctx, "#backfill-preview", "would create")
	clickAndLoad(t, ctx, "#backfill-confirm")
	waitText(t, ctx, "#flash", "Backfilled "+heartbeat)

	// Filter the runs through the form.
	do(t, ctx, "open the runs", chromedp.Navigate(base+"/ui/runs"))
	do(t, ctx, "choose filters",
		chromedp.SetValue(chromedp.CSS("#f-status"), "success"),
		chromedp.SetValue(chromedp.CSS("#f-source"), "manual"),
	)
	clickAndLoad(t, ctx, "#apply-filters")
	if q := eval[string](t, ctx, "location.search"); !strings.Contains(q, "status=success") || !strings.Contains(q, "source=manual") {
		t.Fatalf("filter form led to %q", q)
	}
	rows := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("tr[data-run]")).map(r => r.id + ":" + r.dataset.status + ":" + r.querySelector('td[data-label="Source"]').textContent.trim())`)
	if len(rows) == 0 || !contains(rows, "run-"+runID+":success:manual") {
		t.Fatalf("filtered runs %v lack run %s", rows, runID)
	}
	for _, r := range rows {
		if !strings.HasSuffix(r, ":success:manual") {
			t.Errorf("filtered runs include %s", r)
		}
	}
	do(t, ctx, "filter scheduled runs", chromedp.Navigate(base+"/ui/runs?source=scheduled"))
	if eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector("#run-%s")`, runID)) {
		t.Errorf("source=scheduled lists the manual run %s", runID)
	}

	// The ticks view lists the built-in trigger's ticks.
	do(t, ctx, "open the ticks", chromedp.Navigate(base+"/ui/ticks"))
	waitJS(t, ctx, "ticks listed", `document.querySelectorAll("table.ticks tbody tr").length > 0`)
	if eval[bool](t, ctx, `!!document.querySelector("#stale-banner")`) {
		t.Error("the stale-ticks banner shows while ticks arrive")
	}
	shots.take(t, ctx, "ticks")

	// At phone width the runs view stacks into cards without overflowing.
	do(t, ctx, "phone width",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(base+"/ui/runs"),
		chromedp.WaitVisible(chromedp.CSS("#run-"+runID)),
	)
	if w := eval[float64](t, ctx, "document.documentElement.scrollWidth"); w > 390 {
		t.Errorf("at 390 px wide the runs page is %v px wide", w)
	}
	shots.take(t, ctx, "runs-phone")
	shots.publish(t)
}

// findChromium returns the browser's path. Without one the test is skipped,
// or fails under CI.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	unavailable(t, "no Chromium found on PATH (apt-get install chromium, or set CHROMIUM_PATH)")
	return ""
}

// unavailable skips the test locally and fails it in CI, where the browser
// test must run.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the module")
	}
	return filepath.Dir(gomod)
}

// buildLocal builds cmd/local into a temporary directory.
func buildLocal(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tickflow-local")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/local")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/local: %v\n%s", err, out)
	}
	return bin
}

func randomToken(t *testing.T) string {
	t.Helper()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "e2e-" + hex.EncodeToString(b[:])
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startServe runs "serve" on a free loopback port with a fresh SQLite file
// and a one-second built-in trigger; it returns the base URL once the server
// answers, and stops the server when the test ends.
func startServe(t *testing.T, bin, token string) string {
	t.Helper()
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "tickflow.db")
	cmd := exec.Command(bin, "serve", "--addr", addr, "--database-url", "sqlite:"+db, "--interval", "1s", "--token", token)
	logPath := filepath.Join(filepath.Dir(db), "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own copy
	logs := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("serve output:\n%s", logs())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("serve exited early: %v\n%s", err, logs())
		default:
		}
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer on %s within 30s: %v\n%s", addr, err, logs())
		}
		time.Sleep(100 * time.Millisecond) // polling another process's startup
	}
}

// startBrowser launches headless Chromium with a fresh profile and returns
// a tab context bounded to the test's time budget.
func startBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	budget, cancelBudget := context.WithTimeout(context.Background(), 150*time.Second)
	alloc, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelBudget()
	})
	if err := chromedp.Do(ctx); err != nil {
		unavailable(t, "the browser %s did not start: %v", chrome, err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// clickAndLoad clicks the element and waits for the page it leads to.
func clickAndLoad(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
	if err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// waitJS waits (up to 20 s) until the expression is true in the page. It
// evaluates the expression afresh every 100 ms rather than with
// chromedp.Poll, whose execution context can still be the previous page's
// right after a navigation.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			t.Fatalf("waiting for %s (%s): last error %v\npage:\n%s", what, expr, err, body)
		}
		time.Sleep(100 * time.Millisecond) // the page changes on the server's ticks, not on a clock we own
	}
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	w, _ := json.Marshal(want)
	waitJS(t, ctx, fmt.Sprintf("%s to say %q", sel, want),
		fmt.Sprintf(`(function(){ var e = document.querySelector(%s); return !!e && e.textContent.includes(%s); })()`, q, w))
}

// enqueue adds a manual run through the REST API and returns its id.
func enqueue(t *testing.T, base, token, body string) string {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/runs", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /api/runs: %v", err)
	}
	defer res.Body.Close()
	var run struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&run); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/runs: %d %v", res.StatusCode, err)
	}
	return fmt.Sprint(run.ID)
}

// apiDo calls the REST API with the token and returns the status and body.
func apiDo(t *testing.T, base, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitAudit polls the schedule's audit of the last hour (GET
// /api/schedules/{name}/slots) until ok accepts its counts per outcome.
func waitAudit(t *testing.T, base, name, what string, ok func(map[string]int) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		now := time.Now().UTC()
		q := url.Values{"from": {now.Add(-time.Hour).Format(time.RFC3339)}, "to": {now.Add(time.Minute).Format(time.RFC3339)}}
		res, err := http.Get(base + "/api/schedules/" + name + "/slots?" + q.Encode())
		if err != nil {
			t.Fatalf("audit %s: %v", name, err)
		}
		var a struct {
			Counts map[string]int `json:"counts"`
		}
		err = json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		if err == nil && res.StatusCode == http.StatusOK && ok(a.Counts) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s of %s: %d %v, counts %v", what, name, res.StatusCode, err, a.Counts)
		}
		time.Sleep(200 * time.Millisecond) // the slots pass on the server's clock, not one we own
	}
}

// apiPaused reads the demo schedule's paused state through the REST API.
func apiPaused(t *testing.T, base string) bool {
	t.Helper()
	res, err := http.Get(base + "/api/schedules/" + demoSchedule)
	if err != nil {
		t.Fatalf("GET schedule: %v", err)
	}
	defer res.Body.Close()
	var s struct {
		Paused bool `json:"paused"`
	}
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET schedule: %d %v", res.StatusCode, err)
	}
	return s.Paused
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// shots collects screenshots in a temporary directory; publish copies them
// to docs/screenshots when UPDATE_SCREENSHOTS=1.
type shots struct {
	dir, docs string
	names     []string
}

func newShots(t *testing.T, root string) *shots {
	return &shots{dir: t.TempDir(), docs: filepath.Join(root, "docs", "screenshots")}
}

func (s *shots) take(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Let fonts and layout settle, and keep the focus ring out of the shot.
	do(t, ctx, "settle", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	s.names = append(s.names, name)
}

func (s *shots) publish(t *testing.T) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		t.Logf("screenshots in %s (UPDATE_SCREENSHOTS=1 copies them to docs/screenshots)", s.dir)
		return
	}
	if err := os.MkdirAll(s.docs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range s.names {
		b, err := os.ReadFile(filepath.Join(s.dir, n+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.docs, n+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d screenshots to docs/screenshots", len(s.names))
}
