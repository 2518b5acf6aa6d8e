package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // zones must not depend on the runtime image's files

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/notify/webhook"
	"github.com/tickflow/tickflow/sqlstore"
)

// register adds the program's tasks and schedules. THIS is the function to
// change in your copy: replace demo.Register with your own calls, e.g.
//
//	reg.Schedule("cleanup_expired_sessions", cleanup, core.Every(5*time.Minute), core.Retries(1))
//	reg.Schedule("morning_report", report, core.Cron("0 9 * * *"), core.Timezone("America/New_York"))
//	reg.Register("send_email", sendEmail) // manual-only, enqueued with POST /api/runs
func register(reg *core.Registry) error {
	return demo.Register(reg)
}

func main() {
	cfg, err := loadConfig(os.Getenv)
	log := handler.NewLogger(os.Stdout, true, cfg.logLevel)
	slog.SetDefault(log)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	cfg.metricsOut = os.Stdout
	start := time.Now()
	h, store, err := setup(context.Background(), cfg, log)
	if err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	log.Info("cold start done", "dialect", store.Dialect(), "migrated", cfg.migrate, "duration_ms", time.Since(start).Milliseconds())
	lambda.StartWithOptions(h.Lambda(), lambda.WithEnableSIGTERM(func() {
		// The execution environment is shutting down (no invocation is
		// running): close the pool so PostgreSQL frees the connections now,
		// then exit instead of waiting for SIGKILL.
		if err := store.Close(); err != nil {
			log.Warn("close store at shutdown", "error", err)
		}
		log.Info("shutdown: store closed")
		os.Exit(0)
	}))
}

// config is the function's configuration, read from the environment once
// at cold start.
type config struct {
	databaseURL string
	migrate     bool
	// dashboard serves the dashboard through the Function URL
	// (TICKFLOW_DASHBOARD, default true unless built with -tags
	// tickflow.nodashboard).
	dashboard bool
	token     string
	// allowedHosts (TICKFLOW_ALLOWED_HOSTS) are served without a token
	// besides loopback names (handler.Config.AllowedHosts); a Function
	// URL request, addressed to the function's own domain, always is.
	allowedHosts []string
	maxConns     int
	tickPeriod   time.Duration
	// claimHold (TICKFLOW_CLAIM_HOLD) is core.Config.ClaimHold.
	claimHold time.Duration
	// retention (TICKFLOW_RETAIN_RUNS, TICKFLOW_RETAIN_FAILED_RUNS,
	// TICKFLOW_RETAIN_TICKS) is core.Config.Retention; zero fields take
	// the engine's defaults.
	retention core.Retention
	// alertURL and alertSecret (TICKFLOW_ALERT_WEBHOOK_URL,
	// TICKFLOW_ALERT_WEBHOOK_SECRET) configure the webhook that receives
	// failure alerts; an empty URL turns alerts off.
	alertURL, alertSecret string
	// alertStoppedAfter (TICKFLOW_ALERT_TICKS_STOPPED_AFTER) is
	// core.Alerts.TicksStoppedAfter: default 3 × tickPeriod (the /healthz
	// threshold), at least core.DefaultTicksStoppedAfter.
	alertStoppedAfter time.Duration
	logLevel          slog.Level
	// functionName (AWS_LAMBDA_FUNCTION_NAME, set by Lambda) is the
	// dimension of the tick metrics.
	functionName string
	// metricsOut receives each tick's metrics as a CloudWatch Embedded
	// Metric Format line (main: stdout, which Lambda sends to CloudWatch
	// Logs); nil writes none.
	metricsOut io.Writer
}

// loadConfig reads the environment. It returns the config (with a usable log
// level even on error) and the first problem found.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		databaseURL: strings.TrimSpace(getenv("DATABASE_URL")),
		migrate:     true,
		token:       getenv("TICKFLOW_TOKEN"),
		maxConns:    2,
		tickPeriod:  time.Minute,
		logLevel:    slog.LevelInfo,

		functionName: getenv("AWS_LAMBDA_FUNCTION_NAME"),
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.logLevel.UnmarshalText([]byte(v)); err != nil {
			return cfg, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", v)
		}
	}
	if cfg.databaseURL == "" {
		return cfg, fmt.Errorf("DATABASE_URL is required (postgres://user:pass@host:5432/db?sslmode=require)")
	}
	if v := getenv("TICKFLOW_MIGRATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("TICKFLOW_MIGRATE %q: want true or false", v)
		}
		cfg.migrate = b
	}
	cfg.dashboard = dashboardLinked
	if v := getenv("TICKFLOW_DASHBOARD"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("TICKFLOW_DASHBOARD %q: want true or false", v)
		}
		cfg.dashboard = b
	}
	if v := getenv("TICKFLOW_ALLOWED_HOSTS"); v != "" {
		hosts, err := handler.ParseAllowedHosts(v)
		if err != nil {
			return cfg, fmt.Errorf("TICKFLOW_ALLOWED_HOSTS %q: %w", v, err)
		}
		cfg.allowedHosts = hosts
	}
	if v := getenv("TICKFLOW_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return cfg, fmt.Errorf("TICKFLOW_MAX_CONNS %q: want 1 to 100", v)
		}
		cfg.maxConns = n
	}
	if v := getenv("TICKFLOW_CLAIM_HOLD"); v != "" {
		d, err := core.ParseClaimHold(v)
		if err != nil {
			return cfg, fmt.Errorf("TICKFLOW_CLAIM_HOLD %w", err)
		}
		cfg.claimHold = d
	}
	if v := getenv("TICKFLOW_TICK_PERIOD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("TICKFLOW_TICK_PERIOD %q: want a positive duration such as 1m", v)
		}
		cfg.tickPeriod = d
	}
	for _, v := range []struct {
		name string
		dst  *time.Duration
	}{
		{"TICKFLOW_RETAIN_RUNS", &cfg.retention.Runs},
		{"TICKFLOW_RETAIN_FAILED_RUNS", &cfg.retention.FailedRuns},
		{"TICKFLOW_RETAIN_TICKS", &cfg.retention.Ticks},
	} {
		d, err := core.ParseRetention(getenv(v.name))
		if err != nil {
			return cfg, fmt.Errorf("%s %w", v.name, err)
		}
		*v.dst = d
	}
	cfg.alertURL, cfg.alertSecret = strings.TrimSpace(getenv("TICKFLOW_ALERT_WEBHOOK_URL")), getenv("TICKFLOW_ALERT_WEBHOOK_SECRET")
	switch {
	case cfg.alertURL == "" && cfg.alertSecret != "":
		return cfg, fmt.Errorf("TICKFLOW_ALERT_WEBHOOK_SECRET is set without TICKFLOW_ALERT_WEBHOOK_URL")
	case cfg.alertURL != "":
		cfg.alertStoppedAfter = max(core.DefaultTicksStoppedAfter, 3*cfg.tickPeriod)
		if v := getenv("TICKFLOW_ALERT_TICKS_STOPPED_AFTER"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > 30*24*time.Hour {
				return cfg, fmt.Errorf("TICKFLOW_ALERT_TICKS_STOPPED_AFTER %q: want a positive duration such as 10m, at most 720h", v)
			}
			cfg.alertStoppedAfter = d
		}
		if err := webhook.CheckURL(cfg.alertURL); err != nil {
			return cfg, fmt.Errorf("TICKFLOW_ALERT_WEBHOOK_URL: %w", err)
		}
		if err := webhook.CheckSecret(cfg.alertSecret); err != nil {
			return cfg, fmt.Errorf("TICKFLOW_ALERT_WEBHOOK_SECRET: %w", err)
		}
	}
	return cfg, nil
}

// alerts is the engine's Alerts: the webhook notifier when a URL is set.
func (c config) alerts() (core.Alerts, error) {
	if c.alertURL == "" {
		return core.Alerts{}, nil
	}
	n, err := webhook.New(webhook.Config{URL: c.alertURL, Secret: c.alertSecret})
	if err != nil {
		return core.Alerts{}, fmt.Errorf("alert webhook: %w", err)
	}
	return core.Alerts{Notifier: n, TicksStoppedAfter: c.alertStoppedAfter}, nil
}

// setup registers the tasks, opens the store with a small pool kept across
// invocations, applies the schema when configured (under an advisory lock, so
// racing cold starts are safe) and returns the handler.
func setup(ctx context.Context, cfg config, log *slog.Logger) (*handler.Handler, *sqlstore.Store, error) {
	reg := core.NewRegistry()
	if err := register(reg); err != nil {
		return nil, nil, fmt.Errorf("register tasks: %w", err)
	}
	store, err := sqlstore.Open(ctx, cfg.databaseURL, sqlstore.WithMaxOpenConns(cfg.maxConns), sqlstore.WithLogger(log))
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	if cfg.migrate {
		if err := store.Migrate(ctx); err != nil {
			store.Close()
			return nil, nil, fmt.Errorf("migrate: %w", err)
		}
	}
	alerts, err := cfg.alerts()
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	engine, err := core.NewEngine(core.Config{Store: store, Registry: reg, Logger: log, Trigger: "lambda", Retention: cfg.retention, ClaimHold: cfg.claimHold, Alerts: alerts})
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("engine: %w", err)
	}
	// No Prometheus: metrics go to CloudWatch (see doc.go), from an observer
	// of the engine, so every tick it runs is counted once.
	if cfg.metricsOut != nil {
		engine.AddObserver(newEMFMetrics(cfg.metricsOut, cfg.functionName))
	}
	hcfg := handler.Config{Engine: engine, Token: cfg.token, TickPeriod: cfg.tickPeriod, Logger: log, AllowedHosts: cfg.allowedHosts}
	switch {
	case cfg.dashboard && dashboardLinked:
		if hcfg.Dashboard, err = newDashboard(engine, cfg.token, log); err != nil {
			store.Close()
			return nil, nil, fmt.Errorf("dashboard: %w", err)
		}
	case cfg.dashboard:
		log.Warn("TICKFLOW_DASHBOARD=true but this bootstrap was built with -tags tickflow.nodashboard: the dashboard is not served (the REST API is)")
	}
	h, err := handler.New(hcfg)
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("handler: %w", err)
	}
	return h, store, nil
}
