package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// testSessions: a session opened through the Engine is valid on every
// engine over the store until it expires (by the stub clock, the instant
// itself excluded) or is ended, only for the fingerprint it was opened
// with; malformed ids are refused without an error; creating a session
// prunes expired ones; a zero Now follows the database clock.
func testSessions(t *testing.T, h *harness) {
	reg := core.NewRegistry()
	a, b := h.engine(reg), h.engine(reg)
	ctx := t.Context()
	check := func(e *core.Engine, id, fp string) bool {
		t.Helper()
		ok, err := e.CheckSession(ctx, id, fp)
		if err != nil {
			t.Fatalf("check session: %v", err)
		}
		return ok
	}
	const fp, otherFP = "fp-one", "fp-two"

	id, expires, err := a.CreateSession(ctx, fp, time.Hour)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	if !expires.Equal(at(time.Hour)) {
		t.Errorf("expires = %v, want %v", expires, at(time.Hour))
	}
	id2, _, err := a.CreateSession(ctx, fp, time.Hour)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	if id == id2 || len(id) < 43 {
		t.Fatalf("session ids %q and %q: want two distinct random ids", id, id2)
	}
	if !check(a, id, fp) || !check(b, id, fp) {
		t.Fatal("a new session is not valid on both engines")
	}
	if check(a, id, otherFP) {
		t.Error("a session is valid for another fingerprint")
	}

	// Expiry by the stub clock: valid up to, not at, expires_at.
	h.set(time.Hour - time.Microsecond)
	if !check(b, id, fp) {
		t.Error("session refused a microsecond before it expires")
	}
	h.set(time.Hour)
	if check(b, id, fp) {
		t.Error("session valid at its expiry")
	}
	h.set(0)

	// Ending a session ends it everywhere, and only it.
	if err := b.EndSession(ctx, id); err != nil {
		t.Fatalf("end session: %v", err)
	}
	if check(a, id, fp) {
		t.Error("an ended session is still valid")
	}
	if !check(a, id2, fp) {
		t.Error("ending one session ended another")
	}
	if err := a.EndSession(ctx, id); err != nil {
		t.Errorf("ending an ended session: %v", err)
	}

	// Malformed ids are simply invalid; a bad fingerprint or TTL is the
	// caller's bug.
	for _, bad := range []string{"", "x", strings.Repeat("0", 64), strings.Repeat("A", 42) + "\x00",
		strings.Repeat("é", 22)[:43], strings.Repeat("A", 1<<16), id2 + "A", id2[:42] + "="} {
		if ok, err := a.CheckSession(ctx, bad, fp); ok || err != nil {
			t.Errorf("check of malformed id %.50q: %v, %v; want false, nil", bad, ok, err)
		}
		if err := a.EndSession(ctx, bad); err != nil {
			t.Errorf("end of malformed id %.50q: %v", bad, err)
		}
	}
	for _, bad := range []string{"", "a\x00b", "\xff", strings.Repeat("f", 129)} {
		_, _, err := a.CreateSession(ctx, bad, time.Hour)
		wantErrIs(t, "create with a bad fingerprint", err, core.ErrInvalid)
		_, err = a.CheckSession(ctx, id2, bad)
		wantErrIs(t, "check with a bad fingerprint", err, core.ErrInvalid)
	}
	for _, ttl := range []time.Duration{0, -time.Second, core.MaxSessionTTL + 1} {
		_, _, err := a.CreateSession(ctx, fp, ttl)
		wantErrIs(t, "create with TTL "+ttl.String(), err, core.ErrInvalid)
	}

	// The store: a duplicate id hash, pruning, and the database clock.
	st := h.store
	create := func(hash string, ttl time.Duration, now time.Time) {
		t.Helper()
		if _, err := st.CreateSession(ctx, core.CreateSessionParams{IDHash: hash, Fingerprint: fp, TTL: ttl, Now: now}); err != nil {
			t.Fatalf("store create session %s: %v", hash, err)
		}
	}
	stored := func(hash string, now time.Time) bool {
		t.Helper()
		ok, err := st.CheckSession(ctx, core.CheckSessionParams{IDHash: hash, Fingerprint: fp, Now: now})
		if err != nil {
			t.Fatalf("store check session %s: %v", hash, err)
		}
		return ok
	}
	create("short", time.Minute, at(0))
	create("long", 2*time.Hour, at(0))
	_, err = st.CreateSession(ctx, core.CreateSessionParams{IDHash: "long", Fingerprint: fp, TTL: time.Hour, Now: at(0)})
	wantErrIs(t, "a duplicate id hash", err, core.ErrDuplicate)
	_, err = st.CreateSession(ctx, core.CreateSessionParams{IDHash: "zero", Fingerprint: fp, Now: at(0)})
	wantErrIs(t, "store create with a zero TTL", err, core.ErrInvalid)
	if !stored("short", at(0)) {
		t.Fatal("store session not found")
	}
	create("later", time.Hour, at(2*time.Minute)) // prunes "short", expired by then
	if stored("short", at(0)) {
		t.Error("an expired session survived the creation of another (not pruned)")
	}
	if !stored("long", at(0)) || !stored("later", at(2*time.Minute)) {
		t.Error("pruning removed a live session")
	}
	if err := st.DeleteSession(ctx, core.DeleteSessionParams{IDHash: "long"}); err != nil {
		t.Fatalf("store delete session: %v", err)
	}
	if stored("long", at(0)) {
		t.Error("a deleted session is still valid")
	}

	before := time.Now().Add(-time.Minute)
	exp, err := st.CreateSession(context.Background(), core.CreateSessionParams{IDHash: "dbclock", Fingerprint: fp, TTL: time.Hour})
	if err != nil {
		t.Fatalf("store create session by the database clock: %v", err)
	}
	within(t, "expiry by the database clock", exp, before.Add(time.Hour), time.Now().Add(time.Hour+time.Minute))
	if !stored("dbclock", time.Time{}) {
		t.Error("a session is not valid by the database clock")
	}
	if stored("dbclock", exp) {
		t.Error("a session is valid at its expiry")
	}
}
