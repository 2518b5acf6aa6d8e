package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/sqlstore"
)

// ExampleNew serves the API over an embedded SQLite store: enqueue a task
// with POST /api/runs, then run a tick with POST /tick (what the trigger
// does every minute).
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tickflow-example")
	defer os.RemoveAll(dir)
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "tickflow.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	reg := core.NewRegistry()
	reg.MustRegister("send_email", func(_ context.Context, run core.RunInfo) error {
		fmt.Printf("sending email %s (attempt %d)\n", run.Payload, run.Attempt)
		return nil
	})
	engine, _ := core.NewEngine(core.Config{
		Store: store, Registry: reg, Logger: handler.NewLogger(io.Discard, true, 0),
		Clock: core.NewStubClock(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)), // omit in production: the database clock
	})
	h, err := handler.New(handler.Config{Engine: engine, Token: "s3cret", Logger: handler.NewLogger(io.Discard, true, 0)})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(path, body string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer s3cret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, summary(b))
	}
	post("/api/runs", `{"task":"send_email","payload":{"to":"ada@example.com"}}`)
	post("/tick", "")
	// Output:
	// 201 send_email pending
	// sending email {"to":"ada@example.com"} (attempt 1)
	// 200 claimed=1 succeeded=1 failed=0
}

// summary prints the fields of a run or a report that do not change between
// runs of the example.
func summary(b []byte) string {
	var v struct {
		Task      string
		Status    string
		TickID    string `json:"tick_id"`
		Claimed   int
		Succeeded int
		Failed    int
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	if v.TickID != "" {
		return fmt.Sprintf("claimed=%d succeeded=%d failed=%d", v.Claimed, v.Succeeded, v.Failed)
	}
	return v.Task + " " + v.Status
}
