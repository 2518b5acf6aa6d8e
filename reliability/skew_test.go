package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/reliability/internal/suite"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// TestClockSkew is scenario 5: the application clock is off by ±5 minutes
// from the database clock, and the slots that fire are the ones due by the
// database clock.
//
// A process's wall clock cannot be moved without moving the machine's (Go
// reads it through the vDSO, so LD_PRELOAD tricks such as libfaketime do
// not reach it, and time namespaces do not cover CLOCK_REALTIME), and the
// shared PostgreSQL server's clock must not be touched either. So the skew
// is made on the database side of this test's own schema: the schema
// defines now() (and the other current-time functions) as pg_catalog.now()
// plus an offset, and the tick process connects with
// search_path=<schema>,pg_catalog, so every unqualified now() in sqlstore's
// SQL reads the skewed clock. Relative to that database clock, the tick
// process's own clock (time.Now) is off by -offset: the situation of an
// application host whose clock is wrong. The ticks are real: the ticker
// runs with no stub clock (core.Config.Clock nil).
//
// Four hourly schedules get next_run at DB-7m, DB-2m, DB+2m and DB+7m. By
// the database clock the first two are due; by an application clock 5
// minutes behind only the first would be, and 5 minutes ahead the first
// three. The test requires exactly the first two, for -5m, 0 and +5m.
func TestClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{-5 * time.Minute, 0, 5 * time.Minute} {
		t.Run("db_minus_app="+skew.String(), func(t *testing.T) { runSkew(t, skew) })
	}
}

func runSkew(t *testing.T, skew time.Duration) {
	ctx := context.Background()
	raw := sqlstoretest.URLPostgres(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Set("search_path", schema+",pg_catalog")
	q.Set("application_name", "tickflow_rel_skew")
	u.RawQuery = q.Encode()
	skewedURL := u.String()

	admin, err := sql.Open("postgres", sqlstoretest.PostgresBaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	secs := int64(skew / time.Second)
	for _, fn := range []string{"now", "transaction_timestamp", "statement_timestamp", "clock_timestamp"} {
		stmt := fmt.Sprintf(`CREATE FUNCTION %s.%s() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT pg_catalog.%s() + interval '%d seconds' $$`,
			schema, fn, fn, secs)
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("define the skewed %s(): %v", fn, err)
		}
	}
	skewedDB, err := sql.Open("postgres", skewedURL)
	if err != nil {
		t.Fatal(err)
	}
	defer skewedDB.Close()
	dbNow := func() time.Time {
		var now time.Time
		if err := skewedDB.QueryRowContext(ctx, "SELECT now()").Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now.UTC()
	}
	if d := dbNow().Sub(time.Now()) - skew; d < -10*time.Second || d > 10*time.Second {
		t.Fatalf("the schema's now() is off by %s from the app clock, want %s", dbNow().Sub(time.Now()), skew)
	}

	args := []string{"--database-url", skewedURL, "--suite", "skew"}
	first, code := tickOnce(t, args...)
	if code != 0 {
		t.Fatalf("first tick: %s", first.Error)
	}
	observed := first.Report.Now.Sub(first.AppNow)
	if d := observed - skew; d < -10*time.Second || d > 10*time.Second {
		t.Fatalf("the tick read now=%s while its process clock said %s (offset %s); want the database clock, offset %s: sqlstore does not read now() from the database",
			first.Report.Now, first.AppNow, observed, skew)
	}

	d0 := dbNow()
	offsets := map[string]time.Duration{"skew_a": -7 * time.Minute, "skew_b": -2 * time.Minute, "skew_c": 2 * time.Minute, "skew_d": 7 * time.Minute}
	slots := map[string]time.Time{}
	for name, off := range offsets {
		slots[name] = d0.Add(off).Truncate(time.Second)
		if _, err := admin.ExecContext(ctx, fmt.Sprintf(`UPDATE %s.tickflow_schedule_state SET next_run = $1 WHERE name = $2`, schema), slots[name], name); err != nil {
			t.Fatal(err)
		}
	}

	second, code := tickOnce(t, args...)
	if code != 0 {
		t.Fatalf("second tick: %s", second.Error)
	}
	var fired, byApp, byDB []string
	for _, e := range second.Executions {
		fired = append(fired, e.Schedule)
		if !e.Slot.Equal(slots[e.Schedule]) {
			t.Errorf("%s ran slot %s, want its next_run %s", e.Schedule, e.Slot, slots[e.Schedule])
		}
	}
	for _, name := range suite.SkewNames {
		if !slots[name].After(second.AppNow) {
			byApp = append(byApp, name)
		}
		if !slots[name].After(second.Report.Now) {
			byDB = append(byDB, name)
		}
	}
	sort.Strings(fired)

	st := openURL(t, skewedURL)
	runs := allRuns(t, st)
	for _, r := range runs {
		if r.StartedAt == nil {
			continue
		}
		if d := r.StartedAt.Sub(second.Report.Now); d < 0 || d > 10*time.Second {
			t.Errorf("run %d started_at %s, not on the tick's database clock %s", r.ID, r.StartedAt, second.Report.Now)
		}
	}
	recs, err := st.ListSchedules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		want := slots[rec.Name]
		if want.After(second.Report.Now) {
			continue
		}
		if next := want.Add(time.Hour); !rec.NextRun.Equal(next) {
			t.Errorf("%s: next_run %s, want %s", rec.Name, rec.NextRun, next)
		}
	}
	figures(t, fmt.Sprintf("skew/db_minus_app=%s", skew),
		"observed_db_minus_app_s", int(observed.Round(time.Second).Seconds()),
		"fired", strings.Join(fired, ","), "due_by_db_clock", strings.Join(byDB, ","),
		"due_by_app_clock", strings.Join(byApp, ","), "runs", len(runs))
	if strings.Join(fired, ",") != "skew_a,skew_b" {
		t.Errorf("fired %v, want skew_a,skew_b (due by the database clock); by the app clock %v would be due", fired, byApp)
	}
}
