package handler

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The guards ServeHTTP applies before any route, against hostile browsers
// and clients:
//
//   - the Host check (DNS rebinding): without a token, only requests
//     addressed to a loopback name or to a host of Config.AllowedHosts are
//     served (421 otherwise);
//   - cross-origin writes (CSRF): every unsafe method on the API's
//     namespace passes http.CrossOriginProtection (403), and a JSON body
//     must be sent as application/json (415, decodeBody);
//   - brute force: a client with too many failed authentications is
//     answered 429 for a while (AuthLimiter).

// normalizeHost returns the host name of a Host header or an AllowedHosts
// entry: lower case, without port, brackets or a trailing dot.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimPrefix(strings.TrimSuffix(h, "]"), "[")
	return strings.TrimSuffix(h, ".")
}

// isLoopbackName reports whether host (normalized) can only name this
// machine: localhost, *.localhost, 127.0.0.0/8 or ::1.
func isLoopbackName(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseAllowedHosts reads a comma-separated list of host names for
// Config.AllowedHosts (serve's --allowed-hosts, TICKFLOW_ALLOWED_HOSTS):
// names or IP addresses, a port is ignored, "*" allows any host. Empty
// entries are skipped.
func ParseAllowedHosts(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if err := checkAllowedHost(e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func checkAllowedHost(e string) error {
	if e == "*" {
		return nil
	}
	if h := normalizeHost(e); h == "" || strings.ContainsAny(e, "/\\@?#* \t\r\n") {
		return fmt.Errorf("allowed host %q: want a host name or IP address (optionally with a port), or *", e)
	}
	return nil
}

type functionURLKey struct{}

// hostAllowed reports whether r may be served: always when a token is
// configured (every write needs it) and for a Lambda Function URL request
// (its host is the function's own domain, from the event AWS routed, not a
// header a browser chose); else only when addressed to a loopback name or
// an allowed host. A browser always sends Host, so an empty one (an
// HTTP/1.0 client) is not a rebinding page and is served.
func (h *Handler) hostAllowed(r *http.Request) bool {
	if h.cfg.Token != "" || r.Context().Value(functionURLKey{}) != nil || r.Host == "" {
		return true
	}
	host := normalizeHost(r.Host)
	if isLoopbackName(host) {
		return true
	}
	_, ok := h.allowedHosts[host]
	_, any := h.allowedHosts["*"]
	return ok || any
}

// refuseHost answers a request for a host that is not allowed.
func refuseHost(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMisdirectedRequest, errorBody{Error: fmt.Sprintf(
		"host %q is not allowed: without a token this server answers only loopback names (localhost, 127.0.0.1, [::1]) "+
			"and the hosts of --allowed-hosts (TICKFLOW_ALLOWED_HOSTS), so that a web page cannot reach it by DNS rebinding", r.Host)})
}

// refuseCrossOrigin answers an unsafe request that a page of another site
// sent (http.CrossOriginProtection: Sec-Fetch-Site or Origin says so).
// Requests without these headers (curl, scripts, EventBridge, Lambda
// events) are not refused.
func refuseCrossOrigin(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusForbidden, errorBody{Error: fmt.Sprintf(
		"cross-origin %s refused: a page of another site (Origin %q) cannot change this server", r.Method, r.Header.Get("Origin"))})
}

// mediaTypeError is a body sent with a Content-Type other than JSON (415).
type mediaTypeError struct{ got string }

func (e *mediaTypeError) Error() string {
	return fmt.Sprintf("Content-Type %q is not supported: send the body as application/json", e.got)
}

// isJSONContentType reports whether ct is application/json (parameters
// such as charset=utf-8 allowed).
func isJSONContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// Defaults of AuthLimit.
const (
	DefaultAuthFailures = 10
	DefaultAuthWindow   = time.Minute
	DefaultAuthClients  = 10000
)

// AuthLimit configures an AuthLimiter. Zero values take the defaults.
type AuthLimit struct {
	// Failures is how many failed authentications a client may make in one
	// Window before it is refused (default DefaultAuthFailures, 10).
	Failures int
	// Window is the period failures are counted over; a client over the
	// limit is refused until its window ends (default 1 minute).
	Window time.Duration
	// Clients bounds the number of clients remembered; beyond it the client
	// whose window started first is forgotten (default 10000).
	Clients int
	// ClientKey names the client of a request (default ClientIP: the
	// address of the connection, RemoteAddr, never a forwarded header).
	// Behind a reverse proxy every client shares the proxy's address: set it
	// to read the proxy's header only when the proxy sets it.
	ClientKey func(*http.Request) string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// AuthLimiter refuses a client that failed to authenticate too often: after
// AuthLimit.Failures wrong tokens in one window it answers 429 with
// Retry-After until the window ends. A Handler has one (Config.AuthLimiter)
// and counts the wrong bearer tokens of every route; the dashboard's
// sign-in form counts through AuthFailed, so both share it. Safe for
// concurrent use; its memory is bounded by AuthLimit.Clients.
type AuthLimiter struct {
	lim AuthLimit

	mu sync.Mutex
	// order holds *authEntry oldest window first; byKey indexes it.
	order *list.List
	byKey map[string]*list.Element
}

type authEntry struct {
	key      string
	start    time.Time
	failures int
}

// NewAuthLimiter returns a limiter with lim's settings (defaults for zero
// values).
func NewAuthLimiter(lim AuthLimit) *AuthLimiter {
	if lim.Failures <= 0 {
		lim.Failures = DefaultAuthFailures
	}
	if lim.Window <= 0 {
		lim.Window = DefaultAuthWindow
	}
	if lim.Clients <= 0 {
		lim.Clients = DefaultAuthClients
	}
	if lim.ClientKey == nil {
		lim.ClientKey = ClientIP
	}
	if lim.Now == nil {
		lim.Now = time.Now
	}
	return &AuthLimiter{lim: lim, order: list.New(), byKey: map[string]*list.Element{}}
}

// ClientIP is the address of r's connection (RemoteAddr without its port);
// an IPv6 address is reduced to its /64, which one client usually holds
// whole.
func ClientIP(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// expire forgets the entries whose window has ended. Called with mu held.
func (l *AuthLimiter) expire(now time.Time) {
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		if now.Sub(e.Value.(*authEntry).start) < l.lim.Window {
			return
		}
		delete(l.byKey, e.Value.(*authEntry).key)
		l.order.Remove(e)
	}
}

// Fail records a failed authentication by r's client.
func (l *AuthLimiter) Fail(r *http.Request) {
	key := l.lim.ClientKey(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.lim.Now()
	l.expire(now)
	if e, ok := l.byKey[key]; ok {
		e.Value.(*authEntry).failures++
		return
	}
	for l.order.Len() >= l.lim.Clients {
		oldest := l.order.Front()
		delete(l.byKey, oldest.Value.(*authEntry).key)
		l.order.Remove(oldest)
	}
	l.byKey[key] = l.order.PushBack(&authEntry{key: key, start: now, failures: 1})
}

// RetryAfter returns how long r's client stays refused: zero when it may
// try to authenticate.
func (l *AuthLimiter) RetryAfter(r *http.Request) time.Duration {
	key := l.lim.ClientKey(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.lim.Now()
	l.expire(now)
	e, ok := l.byKey[key]
	if !ok || e.Value.(*authEntry).failures < l.lim.Failures {
		return 0
	}
	return e.Value.(*authEntry).start.Add(l.lim.Window).Sub(now)
}

// Clients returns how many clients the limiter remembers (at most
// AuthLimit.Clients).
func (l *AuthLimiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// AuthFailed records a failed authentication by r's client with the
// limiter of the Handler serving r (FromContext); outside one it does
// nothing. The dashboard calls it for a wrong sign-in token.
func AuthFailed(r *http.Request) {
	if h := FromContext(r.Context()); h != nil {
		h.limiter.Fail(r)
	}
}

// AuthLimiter returns the Handler's limiter (Config.AuthLimiter or the
// default one).
func (h *Handler) AuthLimiter() *AuthLimiter { return h.limiter }

// credentialed reports whether r tries to authenticate or act: it carries
// an Authorization header or has an unsafe method (a sign-in form, an
// action). A refused client keeps reading without credentials.
func credentialed(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// refuseThrottled answers a client over its failure limit.
func refuseThrottled(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: fmt.Sprintf(
		"too many failed authentications from this address: retry in %d s", secs)})
}

// guard applies the Host, throttle and cross-origin rules to r; it
// reports whether r may go on (otherwise it has answered).
func (h *Handler) guard(w http.ResponseWriter, r *http.Request) bool {
	if !h.hostAllowed(r) {
		refuseHost(w, r)
		return false
	}
	if credentialed(r) {
		if wait := h.limiter.RetryAfter(r); wait > 0 {
			refuseThrottled(w, wait)
			return false
		}
	}
	// The dashboard guards its own forms (an HTML 403); everything else is
	// the API's.
	if h.cfg.Dashboard == nil || inAPINamespace(r.URL.Path) {
		if err := h.cop.Check(r); err != nil {
			refuseCrossOrigin(w, r)
			return false
		}
	}
	return true
}

// withFunctionURL marks ctx as a Lambda Function URL request's.
func withFunctionURL(ctx context.Context) context.Context {
	return context.WithValue(ctx, functionURLKey{}, true)
}
