package handler_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// TestPostgresTickAndAddTask runs the tick and add_task paths, over HTTP and
// Lambda, against PostgreSQL (TEST_DATABASE_URL; skipped without it unless
// CI is set).
func TestPostgresTickAndAddTask(t *testing.T) {
	e := newEnv(t, withPostgres(), withToken("pg-token"))
	run := e.addTask("send_email", `{"to":"pg@example.com"}`)
	var again core.Run
	body := `{"task":"send_email","idempotency_key":"pg-1"}`
	expect(t, e.do("POST", "/api/runs", body), http.StatusCreated).json(t, &again)
	expect(t, e.do("POST", "/api/runs", body), http.StatusOK)
	expect(t, e.do("POST", "/api/runs", `{"task":"nope"}`), http.StatusNotFound)
	expect(t, e.do("POST", "/api/runs", `{"task":`), http.StatusBadRequest)
	expect(t, e.call("POST", "/api/runs", body, false), http.StatusUnauthorized)
	if n := len(e.runs()); n != 2 {
		t.Fatalf("runs = %d, want 2", n)
	}

	e.clock.Advance(5 * time.Minute)
	rep := e.tick()
	if rep.Claimed != 3 || rep.Succeeded != 3 {
		t.Fatalf("HTTP tick = %+v, want the 2 manual runs and the cleanup slot", rep)
	}
	var got core.Run
	expect(t, e.do("GET", "/api/runs/"+itoa(run.ID), ""), http.StatusOK).json(t, &got)
	if got.Status != core.StatusSuccess {
		t.Fatalf("manual run after the tick = %+v", got)
	}

	e.clock.Advance(5 * time.Minute)
	if _, err := e.invoke(readFixture(t, "scheduler-envelope.json"), 30*time.Second, "req-pg"); err != nil {
		t.Fatalf("lambda tick: %v", err)
	}
	if n := len(e.runs()); n != 4 {
		t.Fatalf("runs after the lambda tick = %d, want 4", n)
	}
	e.store.down.Store(true)
	if _, err := e.invoke(readFixture(t, "eventbridge-rule.json"), 30*time.Second, "req-pg-down"); err == nil {
		t.Fatal("a store failure did not fail the invocation")
	}
}
