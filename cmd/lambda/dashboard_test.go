package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// TestFunctionURLServesDashboard: the dashboard is served through the
// Function URL by default, and TICKFLOW_DASHBOARD=false turns it off. Built
// with -tags tickflow.nodashboard (.ci/run runs this test that way too), it
// is never served, whatever TICKFLOW_DASHBOARD says, and the REST API still is.
func TestFunctionURLServesDashboard(t *testing.T) {
	for _, tt := range []struct {
		env    string
		status string
		body   string
	}{
		{"", `"statusCode":200`, "cleanup_expired_sessions"},
		{"true", `"statusCode":200`, "cleanup_expired_sessions"},
		{"false", `"statusCode":404`, "no route"},
	} {
		if !dashboardLinked {
			tt.status, tt.body = `"statusCode":404`, "no route"
		}
		cfg, err := loadConfig(func(k string) string {
			return map[string]string{
				"DATABASE_URL":       "sqlite:" + filepath.Join(t.TempDir(), "tickflow.db"),
				"TICKFLOW_DASHBOARD": tt.env,
			}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		h, store, err := setup(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		fn := lambda.NewHandler(h.Lambda())
		if _, err := fn.Invoke(context.Background(), []byte(`{}`)); err != nil { // sync the schedules
			t.Fatalf("tick: %v", err)
		}
		res, err := fn.Invoke(context.Background(), []byte(`{"version":"2.0","rawPath":"/ui/schedules","requestContext":{"http":{"method":"GET"}}}`))
		api, apiErr := fn.Invoke(context.Background(), []byte(`{"version":"2.0","rawPath":"/api/schedules","requestContext":{"http":{"method":"GET"}}}`))
		store.Close()
		if apiErr != nil || !bytes.Contains(api, []byte(`"statusCode":200`)) || !bytes.Contains(api, []byte("cleanup_expired_sessions")) {
			t.Errorf("TICKFLOW_DASHBOARD=%q: GET /api/schedules = %.300s, %v; want 200 with the schedules", tt.env, api, apiErr)
		}
		if err != nil || !bytes.Contains(res, []byte(tt.status)) || !bytes.Contains(bytes.ToLower(res), []byte(tt.body)) {
			t.Errorf("TICKFLOW_DASHBOARD=%q: GET /ui/schedules = %.300s, %v; want %s with %q", tt.env, res, err, tt.status, tt.body)
		}
	}
	if _, err := loadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://h/db", "TICKFLOW_DASHBOARD": "maybe"}[k]
	}); err == nil {
		t.Error("TICKFLOW_DASHBOARD=maybe: want an error")
	}
}
