package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// listPage runs "schedules list --json" with args and decodes the page.
func listPage(t *testing.T, dir string, env []string, args ...string) core.SchedulePage {
	t.Helper()
	r := cliRun(t, dir, env, append([]string{"schedules", "list", "--json"}, args...)...)
	r.ok(t, "schedules list")
	var p core.SchedulePage
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("schedules list --json printed %q: %v", r.stdout, err)
	}
	return p
}

func keys(recs []core.ScheduleRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Name)
	}
	return out
}

// TestSchedulesCommands: create with every flag, list with filters and
// pages (JSON and table), update of a few fields, delete; a duplicate key,
// an unknown key and a code schedule are exit 2.
func TestSchedulesCommands(t *testing.T) {
	dir := t.TempDir()
	cliRun(t, dir, nil, "migrate").ok(t, "migrate")
	r := cliRun(t, dir, nil, "schedules", "create", "--key", "acme/report", "--task", demo.SendEmail,
		"--cron", "0 9 * * 1", "--timezone", "Europe/Paris", "--payload", `{"to":"ops@acme.example"}`,
		"--label", "tenant=acme", "--label", "tier=gold", "--start-at", "2026-01-01T00:00:00Z", "--end-at", "2030-01-01T00:00:00Z",
		"--max-runs", "10", "--retries", "3", "--delay", "30s", "--backoff", "2", "--timeout", "1m", "--jitter", "5s",
		"--misfire", "skip", "--overlap", "allow", "--name", "Acme report")
	r.ok(t, "schedules create")
	var rec core.ScheduleRecord
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Name != "acme/report" || rec.Origin != core.OriginAPI || rec.Timezone != "Europe/Paris" || rec.Labels["tier"] != "gold" ||
		rec.MaxRuns == nil || *rec.MaxRuns != 10 || rec.Retries != 3 || rec.DelaySeconds != 30 || rec.Backoff != 2 ||
		rec.TimeoutSeconds != 60 || rec.JitterSeconds != 5 || rec.Misfire != core.MisfireSkip || rec.Overlap != core.OverlapAllow ||
		rec.DisplayName != "Acme report" || rec.EndAt == nil || !strings.Contains(string(rec.Payload), "ops@acme") {
		t.Fatalf("created %+v", rec)
	}
	cliRun(t, dir, nil, "schedules", "create", "--key", "globex", "--task", demo.SendEmail, "--every", "10m", "--label", "tenant=globex", "--paused").ok(t, "create globex")
	cliRun(t, dir, nil, "schedules", "create", "--key", "once", "--task", demo.SendEmail, "--once-at", "2099-01-01T09:00:00Z").ok(t, "create once")

	dup := cliRun(t, dir, nil, "schedules", "create", "--key", "globex", "--task", demo.SendEmail, "--every", "1m")
	if dup.code != 2 || !strings.Contains(dup.stderr, "globex") {
		t.Errorf("duplicate key: exit %d, stderr %q; want exit 2 naming the key", dup.code, dup.stderr)
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"acme/report", demo.CleanupExpiredSessions, "globex", demo.MorningReport, "once"}},
		{[]string{"--origin", "api"}, []string{"acme/report", "globex", "once"}},
		{[]string{"--label", "tenant=acme", "--label", "tier=gold"}, []string{"acme/report"}},
		{[]string{"--task", demo.SendEmail, "--prefix", "g"}, []string{"globex"}},
		{[]string{"--paused", "true"}, []string{"globex"}},
		{[]string{"--origin", "code", "--after", demo.CleanupExpiredSessions}, []string{demo.MorningReport}},
	} {
		if got := keys(listPage(t, dir, nil, c.args...).Schedules); !slices.Equal(got, c.want) {
			t.Errorf("list %v = %v, want %v", c.args, got, c.want)
		}
	}
	p := listPage(t, dir, nil, "--limit", "2")
	if len(p.Schedules) != 2 || p.Next != demo.CleanupExpiredSessions {
		t.Errorf("first page of 2 = %v next %q", keys(p.Schedules), p.Next)
	}
	table := cliRun(t, dir, nil, "schedules", "list", "--limit", "2")
	table.ok(t, "schedules list")
	if !strings.Contains(table.stdout, "ORIGIN") || !strings.Contains(table.stdout, "acme/report") || !strings.Contains(table.stdout, " api ") ||
		!strings.Contains(table.stderr, `--after "`+demo.CleanupExpiredSessions+`"`) {
		t.Errorf("list table:\n%s\nstderr %s", table.stdout, table.stderr)
	}

	u := cliRun(t, dir, nil, "schedules", "update", "--key", "globex", "--paused=false", "--every", "15m", "--label", "tenant=globex", "--label", "env=prod")
	u.ok(t, "schedules update")
	rec = core.ScheduleRecord{}
	if err := json.Unmarshal([]byte(u.stdout), &rec); err != nil || rec.Paused || rec.EverySeconds != 900 || rec.Labels["env"] != "prod" || rec.Task != demo.SendEmail {
		t.Errorf("updated %+v (%v)", rec, err)
	}
	code := cliRun(t, dir, nil, "schedules", "update", "--key", demo.CleanupExpiredSessions, "--every", "1m")
	if code.code != 2 || !strings.Contains(code.stderr, "declared in code") {
		t.Errorf("update of a code schedule's spec: exit %d, stderr %q", code.code, code.stderr)
	}
	cliRun(t, dir, nil, "schedules", "update", "--key", demo.CleanupExpiredSessions, "--paused").ok(t, "pause a code schedule")

	del := cliRun(t, dir, nil, "schedules", "delete", "--key", "globex")
	del.ok(t, "schedules delete")
	for _, args := range [][]string{{"--key", "globex"}, {"--key", demo.MorningReport}} {
		if r := cliRun(t, dir, nil, append([]string{"schedules", "delete"}, args...)...); r.code != 2 || r.stdout != "" {
			t.Errorf("delete %v: exit %d, stdout %q, stderr %q; want exit 2", args, r.code, r.stdout, r.stderr)
		}
	}
	if got := keys(listPage(t, dir, nil, "--origin", "api").Schedules); !slices.Equal(got, []string{"acme/report", "once"}) {
		t.Errorf("after delete: %v", got)
	}
	// The plain command still syncs and prints every schedule.
	all := cliRun(t, dir, nil, "schedules")
	all.ok(t, "schedules")
	if !strings.Contains(all.stdout, "acme/report") || !strings.Contains(all.stdout, demo.MorningReport) {
		t.Errorf("schedules:\n%s", all.stdout)
	}
}

// TestSchedulesCommandsBadInput: bad flags, an escaped NUL, invalid UTF-8,
// far-future times, huge numbers, bad label selectors, an unknown task or
// a bad cron are exit 2 with a message, and nothing is written, on both
// dialects. Input the CLI can check alone is refused before the store is
// opened. (A NUL byte or a payload over 128 KiB cannot be an argument.)
func TestSchedulesCommandsBadInput(t *testing.T) {
	create := []string{"schedules", "create", "--key", "k", "--task", demo.SendEmail}
	early := map[string][]string{
		"no key":             {"schedules", "create", "--task", demo.SendEmail, "--every", "1m"},
		"no task":            {"schedules", "create", "--key", "k", "--every", "1m"},
		"bad byte in key":    {"schedules", "create", "--key", "a\xffb", "--task", demo.SendEmail, "--every", "1m"},
		"bad JSON payload":   append(slices.Clone(create), "--every", "1m", "--payload", "{"),
		"NUL in payload":     append(slices.Clone(create), "--every", "1m", "--payload", `{"a":"\u0000"}`),
		"far-future once":    append(slices.Clone(create), "--once-at", "9999-12-31T23:59:59Z"),
		"once not RFC 3339":  append(slices.Clone(create), "--once-at", "tomorrow"),
		"far-future end":     append(slices.Clone(create), "--every", "1m", "--end-at", "3000-01-01T00:00:00Z"),
		"negative every":     append(slices.Clone(create), "--every", "-1m"),
		"huge max runs":      append(slices.Clone(create), "--every", "1m", "--max-runs", "99999999999999999999"),
		"negative max runs":  append(slices.Clone(create), "--every", "1m", "--max-runs", "-1"),
		"bad misfire":        append(slices.Clone(create), "--every", "1m", "--misfire", "later"),
		"label without =":    append(slices.Clone(create), "--every", "1m", "--label", "tenant"),
		"label twice":        append(slices.Clone(create), "--every", "1m", "--label", "t=a", "--label", "t=b"),
		"unknown flag":       append(slices.Clone(create), "--every", "1m", "--color", "red"),
		"extra argument":     append(slices.Clone(create), "--every", "1m", "now"),
		"update huge every":  {"schedules", "update", "--key", "k", "--every", "2562047h"},
		"update bad end":     {"schedules", "update", "--key", "k", "--end-at", "soon"},
		"delete without key": {"schedules", "delete"},
		"list bad label":     {"schedules", "list", "--label", "=x"},
		"list bad origin":    {"schedules", "list", "--origin", "cloud"},
		"list bad limit":     {"schedules", "list", "--limit", "0"},
		"list huge limit":    {"schedules", "list", "--limit", "1001"},
		"list bad paused":    {"schedules", "list", "--paused", "yes"},
		"list bad prefix":    {"schedules", "list", "--prefix", "\xff"},
		"key without value":  {"schedules", "create", "--key"},
	}
	late := map[string][]string{
		"unknown task":     {"schedules", "create", "--key", "k", "--task", "nope", "--every", "1m"},
		"bad cron":         append(slices.Clone(create), "--cron", "0 0 31 2 *"),
		"bad zone":         append(slices.Clone(create), "--cron", "0 9 * * *", "--timezone", "Mars/Olympus"),
		"no spec":          create,
		"end before start": append(slices.Clone(create), "--every", "1m", "--start-at", "2027-01-01T00:00:00Z", "--end-at", "2026-01-01T00:00:00Z"),
		"update unknown":   {"schedules", "update", "--key", "nope", "--paused"},
		"delete unknown":   {"schedules", "delete", "--key", "nope"},
	}
	for _, dialect := range sqlstoretest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			url := "sqlite:" + filepath.Join(dir, "tickflow.db")
			if dialect == "postgres" {
				url = sqlstoretest.URLPostgres(t)
			}
			env := []string{"DATABASE_URL=" + url}
			for name, args := range early {
				r := cliRun(t, dir, env, args...)
				if r.code != 2 || r.stdout != "" || r.stderr == "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and a message", name, r.code, r.stdout, r.stderr)
				}
			}
			if dialect == "sqlite" {
				noStore(t, dir, "refused schedules commands")
				if r := cliRun(t, dir, env, "migrate"); r.code != 0 {
					t.Fatal(r.stderr)
				}
			}
			for name, args := range late {
				r := cliRun(t, dir, env, args...)
				if r.code != 2 || r.stdout != "" || r.stderr == "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and a message", name, r.code, r.stdout, r.stderr)
				}
			}
			page, err := openStore(t, url).ListSchedulesPage(context.Background(), core.ScheduleFilter{Origin: core.OriginAPI, Limit: 10})
			if err != nil || len(page.Schedules) != 0 {
				t.Errorf("runtime schedules after refused commands: %v (%v), want none", keys(page.Schedules), err)
			}
		})
	}
}
