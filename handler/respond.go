package handler

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tickflow/tickflow/core"
)

// errorBody is every error response: {"error": "message"}.
type errorBody struct {
	Error string `json:"error"`
}

// statusOf is the one table from errors to HTTP status codes. 5xx errors
// are answered with a generic message (see writeError).
func statusOf(err error) int {
	var tooLarge *http.MaxBytesError
	var mediaType *mediaTypeError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &mediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, core.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, core.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, core.ErrConflict), errors.Is(err, core.ErrDuplicate):
		return http.StatusConflict
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers err with its status. A 5xx gets a generic message; the
// full error is attached to the request log line (one line per request,
// with its request id), not sent to the client.
func writeError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status >= 500 {
		msg = "internal error; see the server log for request " + w.Header().Get("X-Request-Id")
		if rw, ok := w.(*responseWriter); ok {
			rw.err = err
		}
	}
	if status == http.StatusRequestEntityTooLarge {
		var tooLarge *http.MaxBytesError
		errors.As(err, &tooLarge)
		msg = fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit)
	}
	writeJSON(w, status, errorBody{Error: msg})
}

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal error: encode response"}` + "\n")
		if rw, ok := w.(*responseWriter); ok {
			rw.err = fmt.Errorf("encode response: %w", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// badRequest is a 400 naming the input at fault.
func badRequest(field, value, reason string) error {
	return &core.ValidationError{Field: field, Value: value, Reason: reason}
}

// decodeBody reads a JSON object into v: the body is bounded by max (413
// above it), must be sent as application/json (415 otherwise: a form of
// another site can send text/plain) and valid UTF-8 (400: the decoder
// would silently replace bad bytes), unknown fields and trailing data are
// rejected (400). An empty body is a 400 when required, else leaves v
// unchanged, whatever its Content-Type.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any, required bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequest("body", "", "could not be read: "+err.Error())
	}
	if len(body) > 0 && !isJSONContentType(r.Header.Get("Content-Type")) {
		return &mediaTypeError{got: r.Header.Get("Content-Type")}
	}
	if !utf8.Valid(body) {
		return badRequest("body", "", "must be valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return badRequest("body", "", "a JSON object is required")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body", "", "malformed JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("body", "", "malformed JSON: unexpected data after the object")
	}
	return nil
}

// emptyBody is the body of a POST route that takes no input: empty, or a
// JSON object with no fields ({}).
type emptyBody struct{}

// authorized reports whether r carries the configured token (always true
// when none is configured): BearerMatches.
func (h *Handler) authorized(r *http.Request) bool {
	return BearerMatches(r, h.cfg.Token)
}

type requestIDKey struct{}

// withRequestID returns ctx carrying the request id (logged as request_id by
// NewLogger's loggers).
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestIDFrom returns the request id set by ServeHTTP, if any.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID is the id already in the context (a Lambda Function URL
// request), a well-formed X-Request-Id header, or a new random id.
func requestID(r *http.Request) string {
	if id := requestIDFrom(r.Context()); id != "" {
		return id
	}
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)
		if !ok {
			return false
		}
	}
	return true
}

// responseWriter records what was written, for the request log.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int
	wroteHeader bool
	// err is an internal error to log with the request (never sent).
	err error
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush supports streaming handlers (the dashboard may use them).
func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// jsonErrorWriter turns the ServeMux's plain-text errors (404, 405) into
// {"error": ...} while keeping the status and headers (Allow).
type jsonErrorWriter struct {
	*responseWriter
	r        *http.Request
	replaced bool
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.replaced = true
		w.Header().Del("Content-Length")
		msg := strings.ToLower(http.StatusText(code))
		switch code {
		case http.StatusNotFound:
			msg = fmt.Sprintf("no route for %s %s", w.r.Method, w.r.URL.Path)
		case http.StatusMethodNotAllowed:
			msg = fmt.Sprintf("method %s is not allowed on %s; allowed: %s", w.r.Method, w.r.URL.Path, w.Header().Get("Allow"))
		}
		writeJSON(w.responseWriter, code, errorBody{Error: msg})
		return
	}
	w.responseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil // the mux's text body, replaced by JSON
	}
	return w.responseWriter.Write(p)
}
