package handler

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns a logger writing to w, as JSON lines when json is true
// (what Lambda and log pipelines want) or as text otherwise, dropping
// records below level. Records logged with a context (InfoContext, Log)
// carry the ids found in it: aws_request_id inside a Lambda invocation and
// request_id inside an HTTP request served by a Handler. Give the same
// logger to core.Config.Logger so the engine's tick logs carry them too.
func NewLogger(w io.Writer, json bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if json {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(contextHandler{h})
}

// withContextIDs makes l add the context's request ids, unless it already
// does (a NewLogger logger).
func withContextIDs(l *slog.Logger) *slog.Logger {
	if _, ok := l.Handler().(contextHandler); ok {
		return l
	}
	return slog.New(contextHandler{l.Handler()})
}

// contextHandler adds aws_request_id and request_id from the record's
// context.
type contextHandler struct {
	slog.Handler
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	var awsID string
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		awsID = lc.AwsRequestID
		r.AddAttrs(slog.String("aws_request_id", awsID))
	}
	if id := requestIDFrom(ctx); id != "" && id != awsID {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
