package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/handler/dashboard"
	"github.com/tickflow/tickflow/handler/prommetrics"
	"github.com/tickflow/tickflow/sqlstore"
)

// shutdownTimeout bounds how long serve waits for open HTTP requests at exit.
const shutdownTimeout = 30 * time.Second

// HTTP server limits. A request must arrive whole within --read-timeout
// (headers within readHeaderTimeout), so a client that announces a body and
// sends it slowly, or not at all, loses its connection instead of holding it.
// A response may take serveTickTimeout plus a minute: POST /tick answers
// after running a tick synchronously. An idle keep-alive connection is
// closed after idleTimeout.
const (
	defaultReadTimeout = time.Minute
	maxReadTimeout     = time.Hour
	readHeaderTimeout  = 10 * time.Second
	serveTickTimeout   = 5 * time.Minute
	writeTimeout       = serveTickTimeout + time.Minute
	idleTimeout        = 2 * time.Minute
	// minInterval and maxInterval bound a non-zero --interval.
	minInterval = 100 * time.Millisecond
	maxInterval = 24 * time.Hour
)

func runServe(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("serve", "serve [flags]",
		"Serves the REST API, POST /tick, /healthz, /metrics and the dashboard, and calls the\n"+
			"tick every --interval (the local stand-in for EventBridge). Stops on SIGINT or\n"+
			"SIGTERM after the running tick finishes. Listening on a non-loopback address\n"+
			"requires a token.")
	sf := c.addStoreFlags(fs, "info")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	interval := fs.Duration("interval", 10*time.Second, "built-in trigger period; 0 turns it off (call POST /tick yourself)")
	metrics := fs.Bool("metrics", true, "serve Prometheus metrics at GET /metrics (false: a JSON 404)")
	token := fs.String("token", c.getenv("TICKFLOW_TOKEN"), "bearer token required by POST /tick and mutating API routes (env TICKFLOW_TOKEN)")
	allowedHosts := fs.String("allowed-hosts", c.getenv("TICKFLOW_ALLOWED_HOSTS"),
		"without a token, host names served besides loopback ones, comma-separated (* for any): other Host headers get 421, against DNS rebinding (env TICKFLOW_ALLOWED_HOSTS)")
	readTimeout := fs.Duration("read-timeout", defaultReadTimeout, "longest time to read one request, body included: slower clients are disconnected")
	retain := addRetentionFlags(fs)
	holdFlag := addClaimHoldFlag(fs)
	alertFlags := addAlertFlags(fs, c.getenv)
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	// Every flag is checked before the store is opened: bad input is exit 2
	// and touches nothing.
	switch {
	case *interval < 0:
		return usagef("bad --interval %s: must not be negative", *interval)
	case *interval != 0 && (*interval < minInterval || *interval > maxInterval):
		return usagef("bad --interval %s: must be 0 (no built-in trigger) or %s to %s", *interval, minInterval, maxInterval)
	case *readTimeout <= 0 || *readTimeout > maxReadTimeout:
		return usagef("bad --read-timeout %s: must be greater than zero and at most %s", *readTimeout, maxReadTimeout)
	}
	retention, err := retain.retention()
	if err != nil {
		return err
	}
	hold, err := claimHold(*holdFlag)
	if err != nil {
		return err
	}
	alerts, err := alertFlags.alerts()
	if err != nil {
		return err
	}
	if err := checkToken(*token); err != nil {
		return err
	}
	if err := checkListen(*addr, *token); err != nil {
		return err
	}
	hosts, err := handler.ParseAllowedHosts(*allowedHosts)
	if err != nil {
		return usagef("bad --allowed-hosts (or TICKFLOW_ALLOWED_HOSTS): %v", err)
	}
	if err := sqlstore.CheckURL(sf.databaseURL); err != nil {
		return usageError{err: fmt.Errorf("bad --database-url: %w", err)}
	}

	a, err := c.open(ctx, sf, core.Config{Trigger: "timer", MaxTickDuration: serveTickTimeout, Retention: retention, ClaimHold: hold, Alerts: alerts})
	if err != nil {
		return err
	}
	defer a.Close()
	// Sync before serving, so the API lists the code's schedules from the
	// first request even when no tick has run yet (--interval 0).
	if _, err := a.engine.Sync(ctx); err != nil {
		return err
	}
	period := *interval
	if period == 0 {
		period = time.Minute // what /healthz expects from an outside trigger
	}
	dash, err := dashboard.New(dashboard.Config{Engine: a.engine, Token: *token, Logger: a.log})
	if err != nil {
		return fmt.Errorf("build dashboard: %w", err)
	}
	hcfg := handler.Config{
		Engine: a.engine, Token: *token, TickPeriod: period, Logger: a.log,
		Dashboard: dash, AllowedHosts: hosts,
	}
	if *metrics {
		hcfg.Metrics = prommetrics.New(a.engine)
	}
	h, err := handler.New(hcfg)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(readHeaderTimeout, *readTimeout),
		ReadTimeout:       *readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info("serving", "url", "http://"+ln.Addr().String(), "database", redact(sf.databaseURL),
		"interval", interval.String(), "token", *token != "")

	var wg sync.WaitGroup
	if *interval > 0 {
		wg.Go(func() { tickEvery(ctx, h, *interval, a) })
	}

	select {
	case <-ctx.Done():
		a.log.Info("shutting down: finishing the running tick and open requests")
	case err := <-served:
		wg.Wait()
		return fmt.Errorf("serve: %w", err)
	}
	wg.Wait()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// tickEvery calls the tick at once and then every interval until ctx ends.
// A tick in progress when ctx ends runs to completion: its context is not
// cancelled, so it records every outcome and releases its leases.
func tickEvery(ctx context.Context, h *handler.Handler, interval time.Duration, a *app) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := h.Tick(context.WithoutCancel(ctx), "timer"); err != nil {
			// The engine has logged the tick; the next one recovers.
			a.log.Warn("timer tick failed; retrying at the next interval", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// checkToken refuses a token HTTP clients cannot send as a bearer token: it
// must be printable ASCII without white space (an empty token means none).
func checkToken(token string) error {
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return usagef("bad --token (or TICKFLOW_TOKEN): must be printable ASCII without white space")
		}
	}
	return nil
}

// checkListen refuses a non-loopback address without a token: the API can
// enqueue runs and the tick runs code.
func checkListen(addr, token string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("bad --addr %q: %v", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usagef("bad --addr %q: %v", addr, err)
	}
	if token != "" || isLoopback(host) {
		return nil
	}
	return usagef("refusing to listen on %s without a token: set --token or TICKFLOW_TOKEN, or listen on 127.0.0.1", addr)
}

// isLoopback reports whether host names only the loopback interface. An empty
// host (":8080") listens on every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
