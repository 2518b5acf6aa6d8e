package core

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// untouchedStore fails the test on any store call: the Engine must refuse
// bad input before it reaches the store.
type untouchedStore struct {
	Store
	t *testing.T
}

func (s untouchedStore) InsertRun(context.Context, InsertRunParams) (Run, bool, error) {
	s.t.Error("InsertRun called: bad input reached the store")
	return Run{}, false, errors.New("must not be called")
}

func (s untouchedStore) ListRuns(context.Context, ListRunsParams) ([]Run, error) {
	s.t.Error("ListRuns called: bad input reached the store")
	return nil, errors.New("must not be called")
}

func (s untouchedStore) BeginTick(context.Context, BeginTickParams) (TickStart, error) {
	s.t.Error("BeginTick called: a bad clock reached the store")
	return TickStart{}, errors.New("must not be called")
}

func quietEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = NewRegistry()
		cfg.Registry.MustRegister("send_email", func(context.Context, RunInfo) error { return nil })
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != field || !errors.Is(err, ErrInvalid) {
		t.Errorf("%s: err %v, want a ValidationError for %q", what, err, field)
	}
}

func TestValidText(t *testing.T) {
	for s, want := range map[string]bool{
		"":               true,
		"send_email":     true,
		"héllo ✓ 日本":     true,
		"nul\x00inside":  false,
		"\x00":           false,
		"bad\xffbyte":    false,
		"\xc3":           false, // truncated two-byte sequence
		"\xed\xa0\x80":   false, // UTF-8-encoded surrogate
		"tab\tnewline\n": true,
	} {
		if got := ValidText(s); got != want {
			t.Errorf("ValidText(%q) = %t, want %t", s, got, want)
		}
		if err := CheckText("f", s); (err == nil) != want {
			t.Errorf("CheckText(%q) = %v", s, err)
		}
	}
}

func TestCheckPayload(t *testing.T) {
	for p, ok := range map[string]bool{
		``:                         true,
		`{"to":"ada@example.com"}`: true,
		`{"s":"\\u0000 is text"}`:  true, // an escaped backslash, then the letters u0000
		`{"emoji":"\ud83d\ude00"}`: true, // a surrogate pair
		`{"x":"\u00e9\u0041"}`:     true,
		`"\u0000"`:                 false,
		`{"a":"x\u0000y"}`:         false,
		`{"\u0000":1}`:             false, // in a key
		`["\ud83d"]`:               false, // high surrogate alone
		`["\ud83dx"]`:              false,
		`["\ud83d\u0041"]`:         false,
		`["\ude00"]`:               false, // low surrogate alone
		"{\"a\":\"\xff\"}":         false, // invalid UTF-8 json.Valid accepts
		"{\"a\":\"\x00\"}":         false, // a raw NUL is not JSON
		`{"broken":`:               false,
		`{"big":"` + strings.Repeat("x", MaxPayloadBytes) + `"}`: false,
	} {
		err := CheckPayload(json.RawMessage(p))
		if (err == nil) != ok {
			t.Errorf("CheckPayload(%.60q) = %v, want ok=%t", p, err, ok)
		}
		if err != nil {
			wantField(t, "CheckPayload", err, "payload")
		}
	}
}

// TestAddTaskRefusesBadText: a NUL or invalid UTF-8 in the task name, the
// idempotency key or the payload is a ValidationError naming the field,
// and nothing reaches the store (PostgreSQL would refuse the bytes, SQLite
// store them).
func TestAddTaskRefusesBadText(t *testing.T) {
	e := quietEngine(t, Config{Store: untouchedStore{t: t}})
	tests := []struct {
		name  string
		p     AddTaskParams
		field string
	}{
		{"NUL in task", AddTaskParams{Task: "send_email\x00"}, "task"},
		{"bad byte in task", AddTaskParams{Task: "send\xffemail"}, "task"},
		{"NUL in key", AddTaskParams{Task: "send_email", IdempotencyKey: "k\x00"}, "idempotency_key"},
		{"bad byte in key", AddTaskParams{Task: "send_email", IdempotencyKey: "k\xfe"}, "idempotency_key"},
		{"key too long", AddTaskParams{Task: "send_email", IdempotencyKey: strings.Repeat("é", 101)}, "idempotency_key"},
		{"escaped NUL in payload", AddTaskParams{Task: "send_email", Payload: json.RawMessage(`{"to":"\u0000"}`)}, "payload"},
		{"bad byte in payload", AddTaskParams{Task: "send_email", Payload: json.RawMessage("{\"to\":\"\xff\"}")}, "payload"},
		{"raw NUL in payload", AddTaskParams{Task: "send_email", Payload: json.RawMessage("{\"to\":\"\x00\"}")}, "payload"},
		{"payload not JSON", AddTaskParams{Task: "send_email", Payload: json.RawMessage(`{`)}, "payload"},
		{"payload too big", AddTaskParams{Task: "send_email", Payload: json.RawMessage(`"` + strings.Repeat("x", MaxPayloadBytes) + `"`)}, "payload"},
	}
	for _, tt := range tests {
		_, _, err := e.AddTask(t.Context(), tt.p)
		wantField(t, tt.name, err, tt.field)
	}
	// The key limit counts bytes and the message says so.
	_, _, err := e.AddTask(t.Context(), AddTaskParams{Task: "send_email", IdempotencyKey: strings.Repeat("k", MaxIdempotencyKeyBytes+1)})
	if err == nil || !strings.Contains(err.Error(), "200 bytes") {
		t.Errorf("long key: %v, want a limit in bytes", err)
	}
	for name, f := range map[string]func() error{
		"Trigger":           func() error { _, err := e.Trigger(t.Context(), "x\x00"); return err },
		"Schedule":          func() error { _, err := e.Schedule(t.Context(), "x\xff"); return err },
		"SetSchedulePaused": func() error { _, err := e.SetSchedulePaused(t.Context(), "x\x00", true); return err },
	} {
		wantField(t, name, f(), "schedule")
	}
	_, err = e.AcquireScheduleLock(t.Context(), "schedule:\x00", time.Minute)
	wantField(t, "AcquireScheduleLock", err, "key")
}

func TestListRunsValidatesFilters(t *testing.T) {
	e := quietEngine(t, Config{Store: untouchedStore{t: t}})
	for field, p := range map[string]ListRunsParams{
		"task":      {Task: "a\x00"},
		"schedule":  {Schedule: "\xff"},
		"status":    {Status: "done"},
		"source":    {Source: "cron\x00"},
		"before_id": {BeforeID: -1},
		"limit":     {Limit: -5},
	} {
		_, err := e.ListRuns(t.Context(), p)
		wantField(t, "ListRuns "+field, err, field)
	}
	if err := (ListRunsParams{Task: "send_email", Status: StatusFailed, Source: SourceManual, Limit: 10}).Validate(); err != nil {
		t.Errorf("good filters refused: %v", err)
	}
}

// keyStore answers InsertRun as a store does for a key used before: the
// existing run, not created.
type keyStore struct {
	Store
	existing Run
}

func (s keyStore) InsertRun(_ context.Context, p InsertRunParams) (Run, bool, error) {
	if p.IdempotencyKey == s.existing.IdempotencyKey {
		return s.existing, false, nil
	}
	return Run{ID: 2, Task: p.Task, Payload: p.Payload, IdempotencyKey: p.IdempotencyKey}, true, nil
}

// TestAddTaskIdempotencyConflict: reusing a key for another task or payload
// is a conflict; the same request (payload equal as JSON) returns the run.
func TestAddTaskIdempotencyConflict(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister("send_email", func(context.Context, RunInfo) error { return nil })
	reg.MustRegister("send_sms", func(context.Context, RunInfo) error { return nil })
	existing := Run{ID: 1, Task: "send_email", IdempotencyKey: "k1", Payload: json.RawMessage(`{"to": "ada", "n": 1}`)}
	e := quietEngine(t, Config{Store: keyStore{existing: existing}, Registry: reg})
	tests := []struct {
		name     string
		task     string
		payload  string
		conflict bool
	}{
		{"same bytes", "send_email", `{"to": "ada", "n": 1}`, false},
		{"same JSON value", "send_email", `{"n":1,"to":"ada"}`, false},
		{"other payload", "send_email", `{"to": "bob", "n": 1}`, true},
		{"number text differs", "send_email", `{"to": "ada", "n": 1.0}`, true},
		{"no payload", "send_email", ``, true},
		{"other task", "send_sms", `{"to": "ada", "n": 1}`, true},
	}
	for _, tt := range tests {
		r, created, err := e.AddTask(t.Context(), AddTaskParams{Task: tt.task, IdempotencyKey: "k1", Payload: json.RawMessage(tt.payload)})
		if tt.conflict {
			if !errors.Is(err, ErrConflict) || created {
				t.Errorf("%s: created %t err %v, want ErrConflict", tt.name, created, err)
			}
			continue
		}
		if err != nil || created || r.ID != 1 {
			t.Errorf("%s: run %d created %t err %v, want the existing run 1", tt.name, r.ID, created, err)
		}
	}
}
