package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/notify/webhook"
)

// TestAlertFlagsRejectHostileValues: a webhook URL that is not http(s), has
// no host, or carries spaces or control characters, a short secret, or a
// secret without a URL, from a flag or the environment, is exit 2 before
// the store is opened, and no message shows the secret or the URL's token.
func TestAlertFlagsRejectHostileValues(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct {
		env  []string
		args []string
	}{
		"ftp url":             {nil, []string{"--alert-webhook-url", "ftp://u:hunter2@example.com/x"}},
		"javascript url":      {nil, []string{"--alert-webhook-url", "javascript:alert('hunter2')"}},
		"no host":             {nil, []string{"--alert-webhook-url", "https:///services/hunter2"}},
		"header injection":    {nil, []string{"--alert-webhook-url", "https://example.com/hunter2\r\nX-Evil: 1"}},
		"relative url":        {nil, []string{"--alert-webhook-url", "hooks/hunter2"}},
		"short secret":        {nil, []string{"--alert-webhook-url", "https://example.com/h", "--alert-webhook-secret", "hunter2"}},
		"secret without url":  {nil, []string{"--alert-webhook-secret", "hunter2-hunter2-hunter2"}},
		"env url":             {[]string{"TICKFLOW_ALERT_WEBHOOK_URL=gopher://example.com/hunter2"}, nil},
		"env short secret":    {[]string{"TICKFLOW_ALERT_WEBHOOK_URL=https://example.com/h", "TICKFLOW_ALERT_WEBHOOK_SECRET=hunter2"}, nil},
		"missing secret file": {nil, []string{"--alert-webhook-url", "https://example.com/h", "--alert-webhook-secret-file", filepath.Join(dir, "nope")}},
		"zero gap":            {nil, []string{"--alert-ticks-stopped-after", "0s"}},
		"huge gap":            {nil, []string{"--alert-ticks-stopped-after", "10000h"}},
		"secret twice":        {nil, []string{"--alert-webhook-url", "https://example.com/h", "--alert-webhook-secret", "hunter2-hunter2-hunter2", "--alert-webhook-secret-file", "/dev/null"}},
	} {
		for _, cmd := range [][]string{{"tick"}, {"serve", "--addr", "127.0.0.1:0"}} {
			r := cliRun(t, dir, tt.env, append(cmd, tt.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, "bad --alert-") || strings.Contains(r.stderr, "hunter2") {
				t.Errorf("%s %s: exit %d, stderr %q; want exit 2 naming the flag, without secrets", cmd[0], name, r.code, r.stderr)
			}
		}
	}
	noStore(t, dir, "alert flags with bad values")
	if r := cliRun(t, dir, nil, "tick", "-h"); strings.Contains(r.stderr+r.stdout, "hunter2") {
		t.Errorf("help shows a secret")
	}
}

// TestTickDeliversAlertsToWebhook: tick --alert-webhook-url with a secret
// file delivers a due alert, signed, to the server.
func TestTickDeliversAlertsToWebhook(t *testing.T) {
	const secret = "a-secret-of-24-bytes-xyz"
	var verified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte(secret), b, r.Header.Get(webhook.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		verified.Add(1)
	}))
	defer srv.Close()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tickReport(t, dir, nil) // creates the store
	st := openStore(t, "sqlite:"+filepath.Join(dir, "tickflow.db"))
	if _, err := st.InsertAlert(context.Background(), core.InsertAlertParams{Kind: core.AlertSlotsMissed, Key: "cli-test", Body: []byte(`{"slots":3}`)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	rep := tickReport(t, dir, []string{"TICKFLOW_ALERT_WEBHOOK_URL=" + srv.URL + "/hook"}, "--alert-webhook-secret-file", secretFile)
	if rep.AlertsDelivered != 1 || verified.Load() != 1 {
		t.Fatalf("report %+v, %d verified posts; want 1 alert delivered", rep, verified.Load())
	}
}
