package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// web holds the dashboard's templates and static assets, compiled into the
// binary: the dashboard needs no build step and no network.
//
//go:embed web
var web embed.FS

// dashPages are the page templates; each is parsed together with the layout.
var dashPages = []string{"schedules", "schedule", "runs", "run", "ticks", "login", "error"}

// dashTemplates maps a page name to its template (layout + page). They are
// parsed at the first page rendered, not at start-up.
var dashTemplates = sync.OnceValue(mustParseDashboard)

// dashAssetVersion is a short hash of the static assets, appended to their
// URLs so a new binary's assets are never served from a stale cache.
var dashAssetVersion = sync.OnceValue(assetVersion)

func mustParseDashboard() map[string]*template.Template {
	out := make(map[string]*template.Template, len(dashPages))
	for _, p := range dashPages {
		t := template.New("layout").Funcs(dashFuncs)
		t = template.Must(t.ParseFS(web, "web/templates/layout.html", "web/templates/"+p+".html"))
		out[p] = t
	}
	return out
}

func assetVersion() string {
	h := sha256.New()
	_ = fs.WalkDir(web, "web/static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// dashFuncs are the helpers templates format values with. Every time is
// shown with its zone named; "ago" is relative to the page's clock reading.
var dashFuncs = template.FuncMap{
	"utc":     fmtUTC,
	"inzone":  fmtInZone,
	"ago":     fmtAgo,
	"due":     fmtDue,
	"dur":     fmtDuration,
	"secs":    func(s float64) string { return fmtDuration(time.Duration(s * float64(time.Second))) },
	"ms":      func(ms float64) string { return fmtDuration(time.Duration(ms * float64(time.Millisecond))) },
	"runtime": runDuration,
	"trunc":   truncate,
	"pathesc": url.PathEscape,
}

func fmtUTC(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// fmtInZone shows t in the IANA zone tz ("" or an unknown zone: UTC), with
// the zone's abbreviation and name.
func fmtInZone(t time.Time, tz string) string {
	if t.IsZero() {
		return "—"
	}
	if tz == "" || tz == "UTC" {
		return fmtUTC(t)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmtUTC(t)
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST") + " (" + tz + ")"
}

// fmtAgo says how far t is from now: "3m 20s ago", "in 4m 10s", "just now".
func fmtAgo(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return ""
	case d > -time.Second && d < time.Second:
		return "just now"
	case d > 0:
		return fmtDuration(d.Truncate(time.Second)) + " ago"
	default:
		return "in " + fmtDuration((-d).Truncate(time.Second))
	}
}

// fmtDue says when a next run is due: "in 4m 10s", or "due since 3m" when
// it is already due (waiting for a tick).
func fmtDue(now, t time.Time) string {
	if t.After(now) {
		return fmtAgo(now, t)
	}
	return "due since " + fmtDuration(now.Sub(t).Truncate(time.Second))
}

// fmtDuration is a short human duration: "<1 ms", "850 ms", "2.5 s", "12 s", "4m 10s",
// "2h 5m", "3d 4h".
func fmtDuration(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDuration(-d)
	}
	switch {
	case d < time.Millisecond:
		if d == 0 {
			return "0 ms"
		}
		return "<1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second && d%time.Second != 0:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < 10*time.Minute:
		return pair(int(d.Minutes()), "m", int(d.Seconds())%60, "s")
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return pair(int(d.Hours()), "h", int(d.Minutes())%60, "m")
	default:
		return pair(int(d.Hours())/24, "d", int(d.Hours())%24, "h")
	}
}

// pair formats "4m 10s", or "4m" when the second part is zero.
func pair(a int, ua string, b int, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, ua)
	}
	return fmt.Sprintf("%d%s %d%s", a, ua, b, ub)
}

// runDuration is how long the run's latest attempt took ("—" before it
// finished).
func runDuration(r core.Run) string {
	if r.StartedAt == nil || r.FinishedAt == nil {
		return "—"
	}
	return fmtDuration(r.FinishedAt.Sub(*r.StartedAt))
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// prettyJSON indents a JSON payload for display ("" for none).
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// dashView is one rendered page: the template, its title and data.
type dashView struct {
	// page names the template (see dashPages).
	page  string
	title string
	// nav is the highlighted navigation entry.
	nav string
	// refresh > 0 makes browsers without JavaScript reload the page every
	// refresh seconds (JavaScript refreshes the live regions instead).
	refresh int
	status  int
	data    any
}

// dashPage is what every template receives.
type dashPage struct {
	Title        string
	Nav          string
	Refresh      int
	AssetVersion string
	// Now is the clock reading of the health check (the database's, or the
	// engine's stub clock); relative times are computed from it.
	Now time.Time
	// Health drives the "ticks have stopped" banner (nil if unknown).
	Health *dashHealth
	Flash  *dashFlash
	// Self is the current page's path and query, the default target of
	// the redirect after an action.
	Self          string
	TokenRequired bool
	SignedIn      bool
	Data          any
}

// dashHealth is the staleness rule of /healthz (handler.Handler.Check), for
// the banner and the ticks view.
type dashHealth struct {
	Stale      bool
	LastTickAt *time.Time
	Period     time.Duration
	Limit      time.Duration
}

// dashHealth runs the Check of the handler.Handler serving r; it returns
// the page's clock reading too. Served outside a Handler, there is no
// banner and the clock is the engine's (or the process's).
func (dash *Dashboard) dashHealth(r *http.Request) (*dashHealth, time.Time) {
	now := time.Now().UTC()
	h := handler.FromContext(r.Context())
	if h == nil {
		if t, ok, err := dash.engine.Clocked(r.Context()); ok && err == nil {
			now = t.UTC()
		}
		return nil, now
	}
	hl, ok, err := h.Check(r.Context())
	if hl.Now != nil {
		now = *hl.Now
	}
	if err != nil {
		// The page's own query reports the failure; no banner guesswork.
		dash.log.WarnContext(r.Context(), "dashboard health check failed", "error", err)
		return nil, now
	}
	return &dashHealth{
		Stale:      !ok,
		LastTickAt: hl.LastTickAt,
		Period:     h.TickPeriod(),
		Limit:      time.Duration(hl.ThresholdSeconds * float64(time.Second)).Round(time.Millisecond),
	}, now
}

// render writes v as a complete HTML page. The page is executed into a
// buffer first, so a template error is a clean 500, never half a page.
func (dash *Dashboard) render(w http.ResponseWriter, r *http.Request, v dashView) {
	t, ok := dashTemplates()[v.page]
	if !ok {
		dash.renderFailure(w, fmt.Errorf("dashboard: no template %q", v.page))
		return
	}
	health, now := dash.dashHealth(r)
	p := dashPage{
		Title: v.title, Nav: v.nav, Refresh: v.refresh, AssetVersion: dashAssetVersion(),
		Now: now, Health: health, Flash: takeFlash(w, r), Self: r.URL.RequestURI(),
		TokenRequired: dash.cfg.Token != "", SignedIn: dash.cfg.Token != "" && dash.dashAuthorized(r),
		Data: v.data,
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		dash.renderFailure(w, fmt.Errorf("dashboard: render %s: %w", v.page, err))
		return
	}
	status := v.status
	if status == 0 {
		status = http.StatusOK
	}
	setPageHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderFailure is the last resort when a page cannot be rendered.
func (dash *Dashboard) renderFailure(w http.ResponseWriter, err error) {
	if !handler.RecordError(w, err) {
		dash.log.Error("dashboard render failed", "error", err)
	}
	setPageHeaders(w.Header())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("internal error: the page could not be rendered; see the server log\n"))
}

// setPageHeaders marks a dashboard page: HTML, never cached, no inline
// script, no framing, forms post only to this origin.
func setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// dashErrorData is the error page's data.
type dashErrorData struct {
	Status     int
	StatusText string
	Message    string
	Back       string
}

// renderError answers err as a friendly page with the status of
// handler.StatusOf (the API's table): 404 for an unknown run or schedule, 409 for an action
// the record's state does not allow, 400 for bad input, 500 otherwise (with
// a generic message; the error is logged with the request).
func (dash *Dashboard) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status := handler.StatusOf(err)
	msg := err.Error()
	switch {
	case status >= 500:
		msg = "Something went wrong on the server; see its log for request " + w.Header().Get("X-Request-Id") + "."
		if !handler.RecordError(w, err) {
			dash.log.ErrorContext(r.Context(), "dashboard request failed", "path", r.URL.Path, "error", err)
		}
	case status == http.StatusRequestEntityTooLarge:
		msg = "The form was too large."
	case errors.Is(err, core.ErrConflict):
		msg = "That action is not possible in the record's current state: " + msg
	}
	dash.renderStatus(w, r, status, msg)
}

// renderStatus renders the error page with status and message.
func (dash *Dashboard) renderStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	back := "/ui/schedules"
	if r.PostForm != nil { // parsed by the action; never parse an unchecked body here
		back = safeNext(r.PostForm.Get("next"), back)
	}
	dash.render(w, r, dashView{
		page: "error", title: http.StatusText(status), status: status,
		data: dashErrorData{Status: status, StatusText: http.StatusText(status), Message: msg, Back: back},
	})
}

// flashCookie carries a one-time message from an action to the page it
// redirects to (Post/Redirect/Get).
const flashCookie = "tickflow_flash"

// dashFlash is a one-time message, with an optional link on this site.
type dashFlash struct {
	Text string
	Link string
}

func setFlash(w http.ResponseWriter, r *http.Request, f dashFlash) {
	v := url.Values{"m": {f.Text}}
	if f.Link != "" {
		v.Set("l", f.Link)
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: v.Encode(), Path: "/", MaxAge: 60,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// takeFlash returns the pending flash message, if any, and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) *dashFlash {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	v, err := url.ParseQuery(c.Value)
	if err != nil || v.Get("m") == "" {
		return nil
	}
	f := &dashFlash{Text: truncate(v.Get("m"), 300)}
	if l := v.Get("l"); l != "" {
		f.Link = safeNext(l, "")
	}
	return f
}

// isHTTPS reports whether the browser reached us over TLS (directly, or via
// a proxy or Lambda Function URL that says so).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") || r.URL.Scheme == "https"
}

// staticHandler serves web/static with a long cache lifetime: URLs carry
// the assets' hash.
func staticHandler() http.Handler {
	sub, err := fs.Sub(web, "web/static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.PathValue("file"), "/")
		if name == "" || strings.HasSuffix(name, "/") || path.Clean(name) != name {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		files.ServeHTTP(w, r2)
	})
}
