package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Config configures a Handler. Zero values take the documented defaults.
type Config struct {
	// Engine runs ticks and manual operations. Required.
	Engine *core.Engine
	// Token, when set, is required as "Authorization: Bearer <token>" by
	// POST /tick and every mutating API route (401 otherwise). Compared in
	// constant time. Empty (the default) means no authentication.
	Token string
	// TickPeriod is how often the external trigger is expected to call the
	// tick (default 1 minute). /healthz uses it.
	TickPeriod time.Duration
	// StaleAfter: /healthz answers 503 when the last tick started more than
	// StaleAfter × TickPeriod ago (default 3).
	StaleAfter float64
	// MaxBodyBytes bounds request bodies; a larger body is answered 413
	// (default 1 MiB).
	MaxBodyBytes int64
	// Logger receives request and invocation logs (default slog.Default()).
	// NewLogger builds one that adds the request ids found in the context.
	Logger *slog.Logger
	// Metrics serves GET /metrics. prommetrics.New builds the Prometheus
	// one, which counts ticks as an observer of the engine (core.Observer),
	// not through the handler: ticks from the CLI, POST /tick, the timer
	// and Lambda are counted alike, once. Nil (the default) answers
	// GET /metrics with a JSON 404. The handler package links no metrics
	// library, so a binary that sets none (the Lambda function) carries none.
	Metrics http.Handler
	// Dashboard, when set, serves every path outside the API: the web
	// dashboard at "/" and under "/ui/" (dashboard.New in package
	// handler/dashboard builds it; README, "Dashboard"). The API's namespace
	// (/api/…, /tick, /healthz, /metrics) stays the API's, with JSON errors.
	// Nil (the default) serves the API alone: any other path is a JSON 404.
	// It is a value rather than a flag so that a program without it, the
	// tick-only Lambda build, does not link it.
	Dashboard http.Handler
	// AllowedHosts are the host names (a port is ignored; "*" means any)
	// served when no Token is set, besides the loopback names (localhost,
	// *.localhost, 127.0.0.0/8, [::1]): a request addressed to another host
	// is answered 421, so that a web page cannot reach a token-less server
	// through DNS rebinding. Unused when a Token is set. A Lambda Function
	// URL request is addressed to the function's own domain and always
	// served. ParseAllowedHosts reads the comma-separated form. Empty by
	// default.
	AllowedHosts []string
	// AuthLimiter counts failed authentications per client and refuses a
	// client over its limit with 429 (default NewAuthLimiter(AuthLimit{}):
	// 10 failures a minute per address). Pass one instance to share it.
	AuthLimiter *AuthLimiter
}

func (c *Config) validate() error {
	switch {
	case c.Engine == nil:
		return errors.New("handler config: Engine is required")
	case c.TickPeriod < 0:
		return fmt.Errorf("handler config: TickPeriod %s must not be negative", c.TickPeriod)
	case c.StaleAfter < 0 || c.StaleAfter != c.StaleAfter:
		return fmt.Errorf("handler config: StaleAfter %v must be a positive number", c.StaleAfter)
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("handler config: MaxBodyBytes %d must not be negative", c.MaxBodyBytes)
	case strings.ContainsAny(c.Token, " \t\r\n"):
		return errors.New("handler config: Token must not contain white space")
	}
	for _, a := range c.AllowedHosts {
		if err := checkAllowedHost(a); err != nil {
			return fmt.Errorf("handler config: %w", err)
		}
	}
	if c.AuthLimiter == nil {
		c.AuthLimiter = NewAuthLimiter(AuthLimit{})
	}
	if c.TickPeriod == 0 {
		c.TickPeriod = time.Minute
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = 3
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Handler serves tickflow over HTTP and Lambda. Create it with New; it is
// safe for concurrent use.
type Handler struct {
	cfg    Config
	engine *core.Engine
	log    *slog.Logger

	// mux holds the API routes and the dashboard; api holds the API routes
	// alone, so a path of the API's namespace that no route matches gets a
	// JSON 404/405 instead of the dashboard's catch-all.
	mux *http.ServeMux
	api *http.ServeMux

	// allowedHosts is Config.AllowedHosts normalized; cop guards the API's
	// unsafe methods against cross-origin requests; limiter is
	// Config.AuthLimiter (guard.go).
	allowedHosts map[string]struct{}
	cop          *http.CrossOriginProtection
	limiter      *AuthLimiter
}

// New validates cfg, applies its defaults and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		cfg: cfg, engine: cfg.Engine, log: withContextIDs(cfg.Logger),
		allowedHosts: map[string]struct{}{}, cop: http.NewCrossOriginProtection(), limiter: cfg.AuthLimiter,
	}
	for _, a := range cfg.AllowedHosts {
		if a == "*" {
			h.allowedHosts["*"] = struct{}{}
			continue
		}
		h.allowedHosts[normalizeHost(a)] = struct{}{}
	}
	h.api = http.NewServeMux()
	h.routes(h.api)
	h.mux = http.NewServeMux()
	h.routes(h.mux)
	if cfg.Dashboard != nil {
		// After the API routes: this catch-all answers every path the API
		// does not own (ServeHTTP keeps the API's namespace from it).
		h.mux.Handle("/", cfg.Dashboard)
	}
	return h, nil
}

// routes registers the API on mux. Every route is in apiNamespace.
func (h *Handler) routes(mux *http.ServeMux) {
	mux.Handle("POST /tick", h.mutating(h.postTick))
	mux.Handle("GET /healthz", h.reading(h.getHealth))
	mux.Handle("GET /metrics", h.metricsHandler())

	mux.Handle("GET /api/schedules", h.reading(h.listSchedules))
	mux.Handle("GET /api/schedules/{name}", h.reading(h.getSchedule))
	mux.Handle("POST /api/schedules", h.mutating(h.createSchedule))
	mux.Handle("PUT /api/schedules/{name}", h.mutating(h.putSchedule))
	mux.Handle("PATCH /api/schedules/{name}", h.mutating(h.patchSchedule))
	mux.Handle("DELETE /api/schedules/{name}", h.mutating(h.deleteSchedule))
	mux.Handle("POST /api/schedules/{name}/pause", h.mutating(h.pauseSchedule))
	mux.Handle("POST /api/schedules/{name}/resume", h.mutating(h.resumeSchedule))
	mux.Handle("POST /api/schedules/{name}/trigger", h.mutating(h.triggerSchedule))

	mux.Handle("GET /api/runs", h.reading(h.listRuns))
	mux.Handle("POST /api/runs", h.mutating(h.addTask))
	mux.Handle("GET /api/runs/{id}", h.reading(h.getRun))
	mux.Handle("POST /api/runs/{id}/cancel", h.mutating(h.cancelRun))
	mux.Handle("POST /api/runs/{id}/retry", h.mutating(h.retryRun))

	mux.Handle("GET /api/tasks", h.reading(h.listTasks))
	mux.Handle("GET /api/ticks", h.reading(h.listTicks))
}

// inAPINamespace reports whether path belongs to the API rather than the
// dashboard.
func inAPINamespace(path string) bool {
	switch path {
	case "/tick", "/healthz", "/metrics", "/api":
		return true
	}
	return strings.HasPrefix(path, "/api/")
}

// patternPath strips the method and host from a ServeMux pattern.
func patternPath(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	return pattern
}

// ServeHTTP serves the API, /tick, /healthz, /metrics and (when configured)
// the dashboard, logging each request (method, path, status, duration_ms,
// request_id). Before any route it applies guard.go's rules: the Host
// check without a token (421), the failed-authentication limit (429) and,
// on the API's unsafe methods, cross-origin protection (403).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	ctx := context.WithValue(withRequestID(r.Context(), id), servingKey{}, h)
	r = r.WithContext(ctx)
	rw := &responseWriter{ResponseWriter: w}
	rw.Header().Set("X-Request-Id", id)

	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			rw.err = fmt.Errorf("panic: %v", p)
			if !rw.wroteHeader {
				writeJSON(rw, http.StatusInternalServerError, errorBody{Error: http.StatusText(http.StatusInternalServerError)})
			}
		}
		h.logRequest(ctx, r, rw, time.Since(start))
	}()

	if !h.guard(rw, r) {
		return
	}
	target := h.mux
	_, pattern := h.mux.Handler(r)
	if inAPINamespace(r.URL.Path) && !inAPINamespace(patternPath(pattern)) {
		// A catch-all (the dashboard's "/") must not answer an API path.
		target, pattern = h.api, ""
	}
	if pattern == "" {
		// The mux's own 404/405 (or redirect): keep its status and Allow
		// header, make the body JSON.
		target.ServeHTTP(&jsonErrorWriter{responseWriter: rw, r: r}, r)
		return
	}
	target.ServeHTTP(rw, r)
}

func (h *Handler) logRequest(ctx context.Context, r *http.Request, rw *responseWriter, d time.Duration) {
	status := rw.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []any{
		"method", r.Method, "path", r.URL.Path, "status", status,
		"duration_ms", float64(d.Microseconds()) / 1000, "bytes", rw.bytes,
	}
	lvl := slog.LevelInfo
	switch {
	case status >= 500:
		lvl = slog.LevelError
	case status >= 400:
		lvl = slog.LevelWarn
	case r.URL.Path == "/metrics" || r.URL.Path == "/healthz":
		lvl = slog.LevelDebug // scraped and polled: noise at info
	}
	if rw.err != nil {
		attrs = append(attrs, "error", rw.err.Error())
	}
	h.log.Log(ctx, lvl, "http request", attrs...)
}

// apiFunc is an API route: it writes its response or returns an error that
// ServeHTTP maps to a status (statusOf).
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// reading adapts a read-only route.
func (h *Handler) reading(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// mutating adapts a route that writes: it checks the token first.
func (h *Handler) mutating(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tickflow"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or wrong bearer token"})
			return
		}
		if err := f(w, r); err != nil {
			writeError(w, err)
		}
	})
}
