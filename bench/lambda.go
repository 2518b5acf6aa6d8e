package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/tickflow/tickflow/sqlstore"
)

// rieModule is the Runtime Interface Emulator the cold start is measured
// under; the error for a missing emulator says how to install it.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// scheduledEvent is an EventBridge scheduled-rule payload, what the
// function receives every minute in production.
const scheduledEvent = `{"version":"0","id":"bench-0001","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/tickflow"],"detail":{}}`

func lambdaContenders(s sizes) []contender {
	return []contender{{name: "lambda", run: func(ctx context.Context) (Result, error) {
		return benchLambda(ctx, s.Reps)
	}}}
}

// benchLambda builds cmd/lambda as the issue prescribes, reports its size,
// and measures cold starts under the emulator: a fresh emulator per cold
// start, then one warm invocation; plus a fresh PostgreSQL connection alone.
func benchLambda(ctx context.Context, reps int) (Result, error) {
	res := Result{Name: "lambda", Group: "lambda", Title: "Lambda bootstrap under the Runtime Interface Emulator"}
	root, err := moduleRoot(ctx)
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp("", "tickflow-bench-lambda-")
	if err != nil {
		return res, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := buildLambda(ctx, root, "./cmd/lambda", bootstrap, runtime.GOARCH, lambdaTags); err != nil {
		return res, err
	}
	empty := filepath.Join(dir, "empty", "bootstrap")
	if err := buildLambda(ctx, "", "./internal/emptylambda", empty, runtime.GOARCH, lambdaTags); err != nil {
		return res, err
	}
	fi, err := os.Stat(bootstrap)
	if err != nil {
		return res, fmt.Errorf("stat bootstrap: %w", err)
	}
	fig := &LambdaFigures{BootstrapBytes: fi.Size(), Arch: "linux/" + runtime.GOARCH}
	res.Lambda = fig
	// The other builds, for size only: template.yaml deploys arm64, and a
	// function that only ticks can leave the dashboard out.
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	for _, b := range []struct{ arch, tags string }{
		{runtime.GOARCH, lambdaTags + ",tickflow.nodashboard"},
		{other, lambdaTags},
		{other, lambdaTags + ",tickflow.nodashboard"},
	} {
		out := filepath.Join(dir, "builds", b.arch+"-"+b.tags, "bootstrap")
		if err := buildLambda(ctx, root, "./cmd/lambda", out, b.arch, b.tags); err != nil {
			return res, err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return res, fmt.Errorf("stat %s: %w", out, err)
		}
		fig.Builds = append(fig.Builds, BuildSize{Arch: "linux/" + b.arch, Tags: b.tags, Bytes: fi.Size()})
	}
	rie, err := findRIE(ctx)
	if err != nil {
		return res, err
	}

	schema, err := openSchema(ctx, res.Name)
	if err != nil {
		return res, err
	}
	defer schema.Close(ctx)
	dbURL := schema.URL
	st, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return res, fmt.Errorf("open store: %w", err)
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}

	var connects []float64
	for i := 0; i < reps; i++ {
		d, err := connectOnce(ctx, dbURL)
		if err != nil {
			return res, err
		}
		connects = append(connects, d.Seconds()*1000)
	}
	fig.ConnectMS = median(connects)

	var warm, coldMigrate []float64
	for i := 0; i < reps; i++ {
		cold, w, err := coldStart(ctx, rie, bootstrap, dbURL, false)
		if err != nil {
			return res, err
		}
		fig.ColdRuns = append(fig.ColdRuns, cold.Seconds()*1000)
		warm = append(warm, w.Seconds()*1000)
		res.Runs = append(res.Runs, cold.Seconds())
	}
	var emptyCold []float64
	for i := 0; i < reps; i++ {
		cold, _, err := coldStart(ctx, rie, empty, dbURL, false)
		if err != nil {
			return res, err
		}
		emptyCold = append(emptyCold, cold.Seconds()*1000)
	}
	fig.EmptyColdMS = median(emptyCold)
	for i := 0; i < max(1, reps/2); i++ {
		cold, _, err := coldStart(ctx, rie, bootstrap, dbURL, true)
		if err != nil {
			return res, err
		}
		coldMigrate = append(coldMigrate, cold.Seconds()*1000)
	}
	fig.ColdMS, fig.WarmMS, fig.ColdMigrateMS = median(fig.ColdRuns), median(warm), median(coldMigrate)

	// One more cold start through the counting proxy: what the first
	// invocation sends to the database, and how long each kind takes.
	var counter Counter
	proxy, purl, err := startCountingProxy(dbURL, &counter)
	if err != nil {
		return res, err
	}
	defer proxy.Close()
	if _, _, err := coldStartOpt(ctx, rie, bootstrap, purl, false, false); err != nil {
		return res, fmt.Errorf("counted cold start: %w", err)
	}
	res.Counts = []Counts{counter.Snapshot()}
	res.Breakdown = proxy.Spent()
	res.Notes = append(res.Notes, "Lambda: bootstrap built from cmd/lambda with CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags \"-s -w\" for this machine's architecture; cold start is the first invocation (an EventBridge scheduled event) of a fresh aws-lambda-rie on 127.0.0.1, from request to response, which includes starting the process, opening the store (connect and ping), the first tick's sync of the demo schedules and the tick; TICKFLOW_MIGRATE=false (schema already applied) unless stated; the connect is a fresh lib/pq connection and its first round trip, measured alone.")
	return res, nil
}

// lambdaTags are the build tags of the bootstrap, as the issue prescribes.
const lambdaTags = "lambda.norpc"

// buildLambda builds pkg (in dir, or the bench module when dir is empty)
// for linux/arch the way the issue prescribes for the bootstrap.
func buildLambda(ctx context.Context, dir, pkg, out, arch, tags string) error {
	build := exec.CommandContext(ctx, "go", "build", "-tags", tags, "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w: %s", pkg, err, b)
	}
	return nil
}

// moduleRoot is the directory of the tickflow module (the replace target).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/tickflow/tickflow").Output()
	if err != nil {
		return "", fmt.Errorf("find the tickflow module (run from bench/): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// findRIE looks for aws-lambda-rie on PATH and in GOBIN/GOPATH/bin.
func findRIE(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.CommandContext(ctx, "go", "env", v).Output()
		if err != nil {
			continue
		}
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if d == "" {
				continue
			}
			if v == "GOPATH" {
				d = filepath.Join(d, "bin")
			}
			p := filepath.Join(d, "aws-lambda-rie")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("aws-lambda-rie not found: install it with `go install %s`", rieModule)
}

// connectOnce opens a fresh PostgreSQL connection and makes its first round
// trip, the way sqlstore.Open does at cold start.
func connectOnce(ctx context.Context, dbURL string) (time.Duration, error) {
	start := time.Now()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	return time.Since(start), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// coldStart starts a fresh emulator with the bootstrap, waits until it
// listens, and times the first invocation and a second (warm) one.
func coldStart(ctx context.Context, rie, bootstrap, dbURL string, migrate bool) (cold, warm time.Duration, err error) {
	return coldStartOpt(ctx, rie, bootstrap, dbURL, migrate, true)
}

// coldStartOpt is coldStart; without warmToo it stops after the first
// invocation.
func coldStartOpt(ctx context.Context, rie, bootstrap, dbURL string, migrate, warmToo bool) (cold, warm time.Duration, err error) {
	apiPort, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	riePort, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", riePort),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--log-level", "error",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		fmt.Sprintf("TICKFLOW_MIGRATE=%t", migrate),
		"LOG_LEVEL=error",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=60")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", riePort)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("aws-lambda-rie did not listen on %s: %s", addr, lastLine(logs.String()))
		}
		time.Sleep(2 * time.Millisecond)
	}
	invoke := func() (time.Duration, error) {
		url := "http://" + addr + "/2015-03-31/functions/function/invocations"
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(scheduledEvent))
		if err != nil {
			return 0, err
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("invoke: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("invoke: %w", err)
		}
		var rep struct {
			TickID       string `json:"tick_id"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(body, &rep); err != nil || rep.TickID == "" {
			return 0, fmt.Errorf("invoke answered %d %s (logs: %s)", resp.StatusCode, body, lastLine(logs.String()))
		}
		return elapsed, nil
	}
	if cold, err = invoke(); err != nil {
		return 0, 0, err
	}
	if !warmToo {
		return cold, 0, nil
	}
	if warm, err = invoke(); err != nil {
		return 0, 0, err
	}
	if cold <= 0 {
		return 0, 0, errors.New("no cold start measured")
	}
	return cold, warm, nil
}
