package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/notify/webhook"
)

// A receiver checks the signature over the raw body before it trusts the
// alert, and drops keys it has seen.
func ExampleVerify() {
	secret := []byte("a-long-random-secret")
	seen := map[string]bool{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(webhook.KeyHeader)
		fmt.Println("verified", key, "repeat:", seen[key])
		seen[key] = true
	}))
	defer receiver.Close()

	n, err := webhook.New(webhook.Config{URL: receiver.URL + "/alerts", Secret: string(secret)})
	if err != nil {
		panic(err)
	}
	a := core.Alert{ID: 1, Kind: core.AlertRunFailed, Key: "run-failed:42:1", Text: "tickflow: run 42 failed"}
	for range 2 {
		if err := n.Notify(context.Background(), a); err != nil {
			panic(err)
		}
	}
	// Output:
	// verified run-failed:42:1 repeat: false
	// verified run-failed:42:1 repeat: true
}
