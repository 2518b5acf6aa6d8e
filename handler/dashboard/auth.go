package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
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
// retry, cancel) requires it. A browser cannot attach an Authorization header to a plain
// form, so the dashboard offers a sign-in form instead: the token typed once
// is checked like a bearer token and exchanged for a session cookie holding
// HMAC-SHA256(token, sessionLabel), never the token itself. The cookie is
// HttpOnly, SameSite=Lax, Secure over HTTPS, lives sessionDays days, and
// stops working when the token changes. Actions also accept the
// "Authorization: Bearer <token>" header, for scripts. Every POST of the
// dashboard passes http.CrossOriginProtection, so another site cannot make a
// signed-in browser act (CSRF).
const (
	sessionCookie = "tickflow_session"
	sessionLabel  = "tickflow dashboard session v1"
	sessionDays   = 7
)

// sessionValue is the cookie value that proves knowledge of the token.
func (dash *Dashboard) sessionValue() string {
	m := hmac.New(sha256.New, []byte(dash.cfg.Token))
	m.Write([]byte(sessionLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// dashAuthorized reports whether r may run dashboard actions: no token is
// configured, or r carries the bearer token, or a valid session cookie.
func (dash *Dashboard) dashAuthorized(r *http.Request) bool {
	if dash.cfg.Token == "" || handler.BearerMatches(r, dash.cfg.Token) {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(dash.sessionValue())) == 1
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

// postLogin is POST /ui/login: a right token sets the session cookie and
// redirects to next; a wrong one answers 401 with the form again.
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
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: dash.sessionValue(), Path: "/",
		MaxAge: int((sessionDays * 24 * time.Hour).Seconds()), HttpOnly: true,
		Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
	setFlash(w, r, dashFlash{Text: "Signed in: actions are enabled in this browser."})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// postLogout is POST /ui/logout: it clears the session cookie.
func (dash *Dashboard) postLogout(w http.ResponseWriter, r *http.Request) {
	if err := parseDashForm(w, r); err != nil {
		dash.renderError(w, r, err)
		return
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
