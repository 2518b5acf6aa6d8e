package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tickflow/tickflow/core"
)

// Tick runs one tick labelled with trigger ("lambda", "http", "timer",
// "cli") and returns its report. The engine logs the tick and passes it to
// its observers (metrics). A task failure is a recorded run, not an error;
// the error is an infrastructure failure (the store), with the partial
// report (its Error set). POST /tick, Lambda and cmd/local's timer all call
// it.
func (h *Handler) Tick(ctx context.Context, trigger string) (core.Report, error) {
	rep, err := h.engine.TickAs(ctx, trigger)
	if err != nil && rep.Error == "" {
		rep.Error = err.Error()
	}
	return rep, err
}

// LambdaFunc is the Lambda function Handler.Lambda returns. It is a plain
// func(ctx, payload) (any, error) for lambda.Start, and also implements
// lambda.Handler (Invoke), so the SDK hands it the raw payload: an empty
// invocation body reaches DecodeTrigger instead of failing JSON decoding.
type LambdaFunc func(ctx context.Context, payload json.RawMessage) (any, error)

// Invoke implements lambda.Handler: it calls f with the raw payload and
// returns its result as JSON.
func (f LambdaFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := f(ctx, json.RawMessage(payload))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode lambda response: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Lambda returns the function to give lambda.Start (or lambda.NewHandler).
// A scheduled-trigger payload (see DecodeTrigger) runs one tick under the
// invocation's deadline (the engine claims and starts nothing when less
// than its DeadlineMargin is left) and returns the core.Report. A Function
// URL request is served by ServeHTTP and answered as a buffered
// events.LambdaFunctionURLResponse (InvokeMode BUFFERED, the default).
//
// A task failure is a recorded run and the invocation succeeds; an
// infrastructure failure (the database is down) is returned as the Lambda
// error, so the trigger's retry policy and dead-letter queue see it. An
// unsupported payload is an error too. Each invocation is logged once, with
// aws_request_id.
func (h *Handler) Lambda() LambdaFunc {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		trig, err := DecodeTrigger(payload)
		if err != nil {
			h.log.ErrorContext(ctx, "lambda invocation rejected", "payload_bytes", len(payload), "error", err)
			return nil, err
		}
		if trig.Kind == KindFunctionURL {
			return h.serveFunctionURL(ctx, trig.Request), nil
		}
		attrs := []any{"trigger_kind", trig.Kind}
		if trig.ID != "" {
			attrs = append(attrs, "event_id", trig.ID)
		}
		if d, ok := ctx.Deadline(); ok {
			attrs = append(attrs, "remaining_ms", time.Until(d).Milliseconds())
		}
		rep, err := h.Tick(ctx, "lambda")
		attrs = append(attrs, "tick_id", rep.TickID, "claimed", rep.Claimed, "succeeded", rep.Succeeded,
			"failed", rep.Failed, "retried", rep.Retried, "skipped", rep.Skipped, "duration_ms", rep.DurationMS)
		if err != nil {
			h.log.ErrorContext(ctx, "lambda tick failed", append(attrs, "error", err)...)
			return nil, fmt.Errorf("tick %s: %w", rep.TickID, err)
		}
		h.log.InfoContext(ctx, "lambda tick done", attrs...)
		return rep, nil
	}
}

// serveFunctionURL serves a Function URL request through ServeHTTP and
// buffers the response.
func (h *Handler) serveFunctionURL(ctx context.Context, req *events.LambdaFunctionURLRequest) *events.LambdaFunctionURLResponse {
	id := req.RequestContext.RequestID
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		id = lc.AwsRequestID
	}
	if id != "" {
		ctx = withRequestID(ctx, id)
	}
	// The request's host is the domain AWS routed to this function, not a
	// header a browser chose: it passes the Host check (hostAllowed).
	ctx = withFunctionURL(ctx)
	var body io.Reader = strings.NewReader(req.Body)
	if req.IsBase64Encoded {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	path := req.RawPath
	if path == "" {
		path = "/"
	}
	url := "https://" + req.RequestContext.DomainName + path
	if req.RawQueryString != "" {
		url += "?" + req.RawQueryString
	}
	w := &bufferedWriter{header: http.Header{}}
	r, err := http.NewRequestWithContext(ctx, req.RequestContext.HTTP.Method, url, body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "malformed Function URL request: " + err.Error()})
		return w.response()
	}
	for k, v := range req.Headers {
		r.Header.Set(k, v)
	}
	if len(req.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(req.Cookies, "; "))
	}
	r.RemoteAddr = req.RequestContext.HTTP.SourceIP
	r.RequestURI = path
	h.ServeHTTP(w, r)
	return w.response()
}

// bufferedWriter collects a response for a buffered Function URL answer.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *bufferedWriter) response() *events.LambdaFunctionURLResponse {
	res := &events.LambdaFunctionURLResponse{StatusCode: w.status, Headers: map[string]string{}}
	if res.StatusCode == 0 {
		res.StatusCode = http.StatusOK
	}
	for k, v := range w.header {
		if k == "Set-Cookie" {
			res.Cookies = v
			continue
		}
		res.Headers[k] = strings.Join(v, ",")
	}
	if b := w.body.Bytes(); utf8.Valid(b) {
		res.Body = string(b)
	} else {
		res.Body, res.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return res
}
