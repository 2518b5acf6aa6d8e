package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// The dashboard's token rule is the API's (handler.Config.Token): reading is
// open, and when Config.Token is set every action (run now, pause, resume,
// retry, cancel) requires it. A browser cannot attach an Authorization
// header to a plain form, so the dashboard offers a sign-in form instead: the
// token typed once is checked like a bearer token and exchanged for a
// server-side session (core.Engine.CreateSession). The cookie holds only the
// session's random id (256 bits from crypto/rand), never the token nor
// anything derived from it; the database keeps the id's SHA-256, so every
// instance of a serverless deployment checks the same sessions. A session
// ends after sessionTTL (7 days, by the engine's clock: the database's
// unless a Clock is set), on sign-out (the server deletes it, so a replayed
// cookie is refused), and when the token changes (each session records a
// keyed fingerprint of the token it was opened with). A store failure while
// checking a session counts as not signed in, and is logged. The cookie is
// HttpOnly, SameSite=Lax, Secure over HTTPS. Actions also accept the
// "Authorization: Bearer <token>" header, for scripts. Every POST of the
// dashboard passes http.CrossOriginProtection, so another site cannot make a
// signed-in browser act (CSRF).
const (
	sessionCookie = "tickflow_session"
	// fingerprintLabel is what the token's fingerprint is an HMAC of.
	fingerprintLabel = "tickflow session v2"
	sessionDays      = 7
	sessionTTL       = sessionDays * 24 * time.Hour
)

// fingerprint names the configured token in the sessions table: the first
// 128 bits of HMAC-SHA256(token, fingerprintLabel), in hex. It is not a
// credential (a cookie holds a session id, which the table does not), and
// it does not reveal the token.
func (dash *Dashboard) fingerprint() string {
	m := hmac.New(sha256.New, []byte(dash.cfg.Token))
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// dashAuthorized reports whether r may run dashboard actions: no token is
// configured, or r carries the bearer token, or the cookie of a live session
// opened with this token. A session the store cannot check is refused (and
// the failure logged): never signed in by default.
func (dash *Dashboard) dashAuthorized(r *http.Request) bool {
	if dash.cfg.Token == "" || handler.BearerMatches(r, dash.cfg.Token) {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	ok, err := dash.engine.CheckSession(r.Context(), c.Value, dash.fingerprint())
	if err != nil {
		dash.log.ErrorContext(r.Context(), "dashboard session check failed; treating the request as signed out", "error", err)
		return false
	}
	return ok
}

// loginData is the sign-in page's data.
type loginData struct {
	Next    string
	Message string
	Days    int
}

// renderLogin shows the sign-in form with status and an optional message.
func (dash *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tickflow"`)
	}
	dash.render(w, r, dashView{
		page: "login", title: "Sign in", status: status,
		data: loginData{Next: next, Message: msg, Days: sessionDays},
	})
}

// getLogin is GET /ui/login: the sign-in form (a redirect when no token is
// configured: there is nothing to sign in to).
func (dash *Dashboard) getLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"), "/ui/schedules")
	if dash.cfg.Token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	dash.renderLogin(w, r, http.StatusOK, next, "")
}

// postLogin is POST /ui/login: a right token opens a session, sets its
// cookie and redirects to next; a wrong one answers 401 with the form again.
func (dash *Dashboard) postLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseDashForm(w, r); err != nil {
		dash.renderError(w, r, err)
		return
	}
	next := safeNext(r.PostFormValue("next"), "/ui/schedules")
	if dash.cfg.Token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if !handler.TokenMatches(r.PostFormValue("token"), dash.cfg.Token) {
		handler.AuthFailed(r) // counted with the API's wrong tokens: 429 after too many
		dash.log.WarnContext(r.Context(), "dashboard sign-in with a wrong token")
		dash.renderLogin(w, r, http.StatusUnauthorized, next, "That token is not right.")
		return
	}
	id, _, err := dash.engine.CreateSession(r.Context(), dash.fingerprint(), sessionTTL)
	if err != nil {
		dash.renderError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/",
		MaxAge: int(sessionTTL.Seconds()), HttpOnly: true,
		Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
	setFlash(w, r, dashFlash{Text: "Signed in: actions are enabled in this browser."})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// postLogout is POST /ui/logout: it ends the session on the server, so the
// cookie is worthless even if kept or copied, and clears the cookie. If the
// store cannot end it, the answer is an error page and the cookie stays, so
// that signing out can be tried again.
func (dash *Dashboard) postLogout(w http.ResponseWriter, r *http.Request) {
	if err := parseDashForm(w, r); err != nil {
		dash.renderError(w, r, err)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := dash.engine.EndSession(r.Context(), c.Value); err != nil {
			dash.renderError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	setFlash(w, r, dashFlash{Text: "Signed out."})
	http.Redirect(w, r, safeNext(r.PostFormValue("next"), "/ui/schedules"), http.StatusSeeOther)
}

// maxFormBytes bounds a dashboard form (they carry a few short fields).
const maxFormBytes = 16 << 10

// parseDashForm reads a small urlencoded form body (413 above maxFormBytes).
func parseDashForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return tooLarge
		}
		return &core.ValidationError{Field: "form", Reason: "could not be read: " + err.Error()}
	}
	return nil
}

// safeNext returns next when it is a path on this site (so a redirect
// cannot leave it), else def.
func safeNext(next, def string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return def
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return def
	}
	return u.RequestURI()
}
