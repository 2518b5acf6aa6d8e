package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/notify/webhook"
)

const secret = "0123456789abcdef"

func TestCheckURLRejectsHostileValues(t *testing.T) {
	for _, raw := range []string{
		"", "example.com/hook", "ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd",
		"http://", "http:///path", "https://exa mple.com/", "https://example.com/\nX-Injected: 1",
		"https://example.com:99999/", "https://example.com:0/", "http://[::1", "\x00", strings.Repeat("a", 3000),
	} {
		if err := webhook.CheckURL(raw); err == nil {
			t.Errorf("CheckURL(%q) accepted", raw)
		}
	}
	for _, raw := range []string{"https://hooks.example.com/services/T0/B0/x", "http://127.0.0.1:8080/alerts", "https://u:p@example.com/h?token=1"} {
		if err := webhook.CheckURL(raw); err != nil {
			t.Errorf("CheckURL(%q) = %v", raw, err)
		}
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	_, err := webhook.New(webhook.Config{URL: "ftp://user:hunter2@example.com/services/TOKEN"})
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "TOKEN") {
		t.Fatalf("error %v shows a secret", err)
	}
	_, err = webhook.New(webhook.Config{URL: "https://example.com/h", Secret: "short-hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("short secret: %v", err)
	}
	for raw, want := range map[string]string{
		"https://u:pw@hooks.example.com/services/T/B/X?x=1": "https://xxxxx@hooks.example.com/xxxxx",
		"http://127.0.0.1:9000":                             "http://127.0.0.1:9000",
		"not a url at all":                                  "xxxxx",
	} {
		if got := webhook.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestNotifySignsAndPosts(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
	}))
	defer srv.Close()
	sent := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	n, err := webhook.New(webhook.Config{URL: srv.URL, Secret: secret, Now: func() time.Time { return sent }})
	if err != nil {
		t.Fatal(err)
	}
	a := core.Alert{ID: 7, Kind: core.AlertRunFailed, Key: "run-failed:9:1", Text: "tickflow: run 9 failed", Attempt: 1,
		AlertBody: core.AlertBody{Runs: []core.AlertRun{{ID: 9, Task: "t", Status: core.StatusFailed, Attempt: 1, Error: "boom"}}}}
	if err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodPost || got.Header.Get("Content-Type") != "application/json" ||
		got.Header.Get(webhook.TimestampHeader) != strconv.FormatInt(sent.Unix(), 10) || got.Header.Get(webhook.KeyHeader) != a.Key {
		t.Fatalf("request %s %v", got.Method, got.Header)
	}
	if !webhook.Verify([]byte(secret), body, got.Header.Get(webhook.SignatureHeader)) {
		t.Fatalf("signature %q does not verify", got.Header.Get(webhook.SignatureHeader))
	}
	if webhook.Verify([]byte("another-secret-0000"), body, got.Header.Get(webhook.SignatureHeader)) ||
		webhook.Verify([]byte(secret), append(body, ' '), got.Header.Get(webhook.SignatureHeader)) {
		t.Fatal("a signature verified under another secret or body")
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p["text"] != a.Text || p["kind"] != "run_failed" || p["key"] != a.Key || p["sent_at"] != float64(sent.Unix()) || p["runs"] == nil {
		t.Fatalf("body %s", body)
	}
}

func TestNotifyErrors(t *testing.T) {
	status := http.StatusInternalServerError
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Repeat("x", 10000))
	}))
	defer srv.Close()
	defer close(release)
	notify := func(path string, timeout time.Duration) error {
		n, err := webhook.New(webhook.Config{URL: srv.URL + path, Secret: secret, Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		return n.Notify(context.Background(), core.Alert{Key: "k"})
	}
	err := notify("/services/TOKEN", 0)
	if err == nil || !strings.Contains(err.Error(), "status 500") || strings.Contains(err.Error(), "TOKEN") || len(err.Error()) > 400 {
		t.Fatalf("500: %v", err)
	}
	if err := notify("/redirect", 0); err == nil || !strings.Contains(err.Error(), "status 302") {
		t.Fatalf("redirect: %v", err)
	}
	if err := notify("/slow", 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	status = http.StatusNoContent
	if err := notify("/ok", 0); err != nil {
		t.Fatalf("204: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
