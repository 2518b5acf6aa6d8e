package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
)

// TestAuditBackfillCLI runs the built binary: ticks with an outage, an
// audit (exit 0, coalesced slots), history pruned (exit 1, missed), a dry
// run, a backfill, a repeat that creates nothing, and an audit that is
// clean again; bad input exits 2 and writes nothing.
func TestAuditBackfillCLI(t *testing.T) {
	dir := t.TempDir()
	env := []string{"DATABASE_URL=sqlite:" + filepath.Join(dir, "audit.db")}
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(m int) string { return t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
	key := demo.CleanupExpiredSessions // every 5 minutes, run on startup
	for _, m := range []int{0, 5, 30} {
		cliRun(t, dir, env, "tick", "--now", at(m)).ok(t, "tick at +"+at(m))
	}
	window := []string{"--from", at(0), "--to", at(31), "--now", at(30)}

	r := cliRun(t, dir, env, append([]string{"audit", key}, window...)...)
	r.ok(t, "audit")
	if !strings.Contains(r.stdout, "SLOT (UTC)") || !strings.Contains(r.stdout, "7 slots: 3 success, 4 coalesced") {
		t.Errorf("audit table:\n%s", r.stdout)
	}

	// Prune every run but the latest: the history of +0m and +5m is gone.
	st := openStore(t, env[0][len("DATABASE_URL="):])
	far := t0.Add(1000 * time.Hour)
	if _, err := st.PruneRuns(t.Context(), core.PruneRunsParams{Now: far, FinishedBefore: far, FailedBefore: far, Limit: 100}); err != nil {
		t.Fatal(err)
	}
	r = cliRun(t, dir, env, append([]string{"audit", key, "--json"}, window...)...)
	var a core.AuditResult
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &a) != nil || a.Missed() != 2 || !strings.Contains(r.stderr, "2 of 7 slots missed") {
		t.Fatalf("audit after pruning: exit %d, %+v\nstderr %s", r.code, a.Counts, r.stderr)
	}

	bad := [][]string{
		{"audit", key},
		{"audit", key, "--from", at(0)},
		{"audit", key, "--from", at(31), "--to", at(0)},
		{"audit", key, "--from", "yesterday", "--to", at(0)},
		{"audit", key, "--from", at(0), "--to", "9999-01-01T00:00:00Z"},
		{"audit", key, "--from", at(0), "--to", "2027-03-10T00:00:00Z"},
		{"audit", "nope", "--from", at(0), "--to", at(30)},
		{"audit", "--from", at(0), "--to", at(30)},
		{"audit", "a\xffb", "--from", at(0), "--to", at(30)},
		{"backfill", key, "--from", at(31), "--to", at(0)},
		{"backfill", "nope", "--from", at(0), "--to", at(30)},
		{"backfill", key, "--from", at(0), "--to", "2027-03-10T00:00:00Z"},
	}
	for _, args := range bad {
		if r := cliRun(t, dir, env, args...); r.code != 2 || r.stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}

	r = cliRun(t, dir, env, append([]string{"backfill", key, "--dry-run"}, window...)...)
	r.ok(t, "backfill --dry-run")
	if !strings.Contains(r.stdout, "6 runs would be created") {
		t.Errorf("dry run:\n%s", r.stdout)
	}
	r = cliRun(t, dir, env, append([]string{"backfill", key}, window...)...)
	r.ok(t, "backfill")
	if !strings.Contains(r.stdout, "6 runs created") {
		t.Errorf("backfill:\n%s", r.stdout)
	}
	r = cliRun(t, dir, env, append([]string{"backfill", key}, window...)...)
	r.ok(t, "second backfill")
	if !strings.Contains(r.stdout, "0 runs created") {
		t.Errorf("second backfill:\n%s", r.stdout)
	}
	cliRun(t, dir, env, "tick", "--now", at(31)).ok(t, "tick after the backfill")
	r = cliRun(t, dir, env, append([]string{"audit", key}, window...)...)
	r.ok(t, "audit after the backfill")
	if !strings.Contains(r.stdout, "7 slots: 7 success") {
		t.Errorf("audit after the backfill:\n%s", r.stdout)
	}
}
