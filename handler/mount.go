package handler

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
)

// What a handler mounted as Config.Dashboard (package handler/dashboard)
// may use of the Handler that serves it, so that it answers with the same
// rules as the API without this package importing it: the error-to-status
// table, the token check, the runs query, the request log line and, through
// the request's context, the Handler itself (for Check).

type servingKey struct{}

// FromContext returns the Handler serving the request ctx belongs to (set by
// ServeHTTP, like http.ServerContextKey for the *http.Server), or nil outside
// one. The dashboard calls its Check for the "ticks have stopped" banner.
func FromContext(ctx context.Context) *Handler {
	h, _ := ctx.Value(servingKey{}).(*Handler)
	return h
}

// TickPeriod is the configured Config.TickPeriod (default 1 minute): how
// often ticks are expected.
func (h *Handler) TickPeriod() time.Duration { return h.cfg.TickPeriod }

// StatusOf is the API's one table from errors to HTTP statuses:
// core.ErrNotFound 404, core.ErrInvalid 400, core.ErrConflict and
// core.ErrDuplicate 409, a body over its limit 413, a body that is not
// application/json 415, anything else 500.
func StatusOf(err error) int { return statusOf(err) }

// RecordError attaches err to the request's log line (one line per request,
// written by ServeHTTP) when w is the writer ServeHTTP passed down, and
// reports whether it did; otherwise the caller logs err itself. For errors
// answered with a generic message, never shown to the client.
func RecordError(w http.ResponseWriter, err error) bool {
	rw, ok := w.(*responseWriter)
	if ok {
		rw.err = err
	}
	return ok
}

// BearerMatches reports whether r carries "Authorization: Bearer <token>"
// (always true when token is empty). Both sides are hashed first so the
// comparison takes the same time whatever the lengths. A request that
// carries an Authorization header that does not match counts as a failed
// authentication of its client (AuthFailed).
func BearerMatches(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	scheme, got, ok := strings.Cut(auth, " ")
	if ok && strings.EqualFold(scheme, "Bearer") && TokenMatches(got, token) {
		return true
	}
	if auth != "" {
		AuthFailed(r)
	}
	return false
}

// TokenMatches compares a token given by a client (surrounding white space
// ignored) with the configured one in constant time: both are hashed first.
func TokenMatches(given, token string) bool {
	a := sha256.Sum256([]byte(strings.TrimSpace(given)))
	b := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// ParseListRuns reads the runs filter of GET /api/runs's query (status,
// source, task, schedule, cursor, limit); a bad value is a
// *core.ValidationError naming the parameter.
func ParseListRuns(q url.Values) (core.ListRunsParams, error) { return parseListRuns(q) }

// RunID parses a route's {id} path value: a positive integer run id, else a
// *core.ValidationError (400).
func RunID(r *http.Request) (int64, error) { return runID(r) }

// ParseScheduleFilter reads the schedules filter of GET /api/schedules's
// query (task, label=k=v repeated, origin, paused, completed, prefix,
// after, limit); a bad value is a *core.ValidationError naming the
// parameter.
func ParseScheduleFilter(q url.Values) (core.ScheduleFilter, error) { return parseScheduleFilter(q) }
