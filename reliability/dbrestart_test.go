package reliability

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/reliability/internal/suite"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// The phases of TestDatabaseRestart, in simulated minutes.
const (
	restartKillFrom   = 9  // backends terminated at random while ticks run
	restartKillTo     = 16 //
	restartDownFrom   = 17 // the role may not log in: every connection fails
	restartDownTo     = 22 //
	restartRecovery   = 23 // one tick, the first after recovery
	restartLastMinute = 34
)

// TestDatabaseRestart is scenario 4. The PostgreSQL server is shared with the
// other packages' tests running at the same time, so it is not restarted:
// the test gets a login role of its own and the faults hit only that role's
// connections. Minutes 9-16: its backends are terminated with
// pg_terminate_backend at random instants while four engines tick
// concurrently. Minutes 17-22: the role is altered to NOLOGIN and its
// backends terminated, so every connection attempt is refused, as while a
// server restarts. Minute 23: LOGIN again, and one tick runs (the first
// after recovery). Then four engines tick again until minute 34.
//
// After every minute: each schedule's next_run is consistent with its
// recorded slots (nothing half-advanced). At the end: no run running or
// pending, no slot recorded twice or lost, and the recovery tick applied
// each schedule's misfire policy to the slots missed during the outage.
func TestDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	base := sqlstoretest.PostgresBaseURL(t)
	var b [4]byte
	_, _ = crand.Read(b[:])
	role := "tickflow_rel_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("postgres", withParams(t, base, map[string]string{"application_name": "tickflow_rel_admin"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // registered first: runs after the role's cleanup
	exec := func(stmt string) {
		t.Helper()
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	terminate := func() int {
		var n int
		err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1`, role).Scan(&n)
		if err != nil {
			t.Errorf("terminate backends: %v", err)
		}
		return n
	}
	exec("CREATE ROLE " + role + " LOGIN")
	t.Cleanup(func() {
		_, _ = admin.ExecContext(ctx, "ALTER ROLE "+role+" NOLOGIN")
		terminate()
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+role+" CASCADE")
		if _, err := admin.ExecContext(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	exec("CREATE SCHEMA " + role + " AUTHORIZATION " + role)

	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	appURL := withParams(t, u.String(), map[string]string{"search_path": role, "application_name": role})
	observerURL := withParams(t, base, map[string]string{"search_path": role, "application_name": "tickflow_rel_observer"})
	{
		st := openURL(t, appURL)
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("migrate as %s: %v", role, err)
		}
		st.Close()
	}
	observer := openURL(t, observerURL, sqlstore.WithMaxOpenConns(2))

	specs := map[string]suite.Spec{}
	policies := map[string]core.MisfirePolicy{}
	kinds := []struct {
		spec    suite.Spec
		misfire core.MisfirePolicy
	}{
		{suite.Spec{Every: time.Minute}, core.MisfireCoalesce},
		{suite.Spec{Every: time.Minute}, core.MisfireCatchup},
		{suite.Spec{Every: time.Minute}, core.MisfireSkip},
		{suite.Spec{Every: 2 * time.Minute}, core.MisfireCoalesce},
		{suite.Spec{Cron: "*/3 * * * *", Timezone: "UTC"}, core.MisfireCatchup},
		{suite.Spec{Cron: "* * * * *", Timezone: "Europe/Paris"}, core.MisfireSkip},
	}
	rec := &suite.Recorder{}
	reg := core.NewRegistry()
	// killInTask is armed at the start of every kill-phase minute: the first
	// task to run then terminates the role's backends itself, so at least one
	// tick is guaranteed to lose its connections mid-flight however fast the
	// ticks are (the random killer below alone can miss ticks that finish in
	// a few milliseconds).
	var killInTask atomic.Bool
	var kills atomic.Int64
	task := func(ctx context.Context, info core.RunInfo) error {
		rec.Record(info)
		if killInTask.CompareAndSwap(true, false) {
			kills.Add(int64(terminate()))
		}
		tm := time.NewTimer(time.Duration(rand.IntN(4000)) * time.Microsecond) // some work
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-ctx.Done():
		}
		return nil
	}
	for i := 0; i < 120; i++ {
		k := kinds[i%len(kinds)]
		name := fmt.Sprintf("db_%03d", i)
		opts := []core.Option{core.Misfire(k.misfire), core.Retries(1)}
		if k.spec.Every > 0 {
			opts = append(opts, core.Every(k.spec.Every))
		} else {
			opts = append(opts, core.Cron(k.spec.Cron), core.Timezone(k.spec.Timezone))
		}
		reg.MustSchedule(name, task, opts...)
		specs[name], policies[name] = k.spec, k.misfire
	}

	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	clock := core.NewStubClock(t0)
	engines := make([]*core.Engine, 4)
	for i := range engines {
		eng, err := core.NewEngine(core.Config{
			Store: openURL(t, appURL, sqlstore.WithMaxOpenConns(3)), Registry: reg, Clock: clock, Logger: quietLogger(),
			BatchSize: 25, MaxTickDuration: 20 * time.Second, LeaseGrace: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = eng
	}

	var (
		failed        = map[string]int{}
		ticks         = map[string]int{}
		errSamples    = map[string]bool{}
		inconsistent  int
		noReportError int
	)
	phase := func(m int) string {
		switch {
		case m >= restartKillFrom && m <= restartKillTo:
			return "kill"
		case m >= restartDownFrom && m <= restartDownTo:
			return "down"
		case m == restartRecovery:
			return "recovery"
		}
		return "normal"
	}
	var downRuns, downTicks int
	for m := 0; m <= restartLastMinute; m++ {
		clock.Set(t0.Add(time.Duration(m) * time.Minute))
		ph := phase(m)
		switch {
		case m == restartDownFrom:
			exec("ALTER ROLE " + role + " NOLOGIN")
			kills.Add(int64(terminate()))
			downRuns = countRuns(t, observer)
			tk, err := observer.ListTicks(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			downTicks = len(tk)
		case m == restartRecovery:
			exec("ALTER ROLE " + role + " LOGIN")
		}
		active := engines
		if ph == "recovery" {
			active = engines[:1]
		}
		stop := make(chan struct{})
		var killer sync.WaitGroup
		if ph == "kill" {
			killInTask.Store(true)
			killer.Add(1)
			go func() {
				defer killer.Done()
				for {
					tm := time.NewTimer(time.Duration(5+rand.IntN(40)) * time.Millisecond) // fault injection pace
					select {
					case <-stop:
						tm.Stop()
						return
					case <-tm.C:
						kills.Add(int64(terminate()))
					}
				}
			}()
		}
		var wg sync.WaitGroup
		errs := make([]error, len(active))
		reps := make([]core.Report, len(active))
		for i, eng := range active {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = eng.Tick(ctx)
			}()
		}
		wg.Wait()
		close(stop)
		killer.Wait()
		killInTask.Store(false) // armed for this minute only, used or not
		for i, err := range errs {
			ticks[ph]++
			if err == nil {
				if ph == "down" {
					t.Errorf("minute %d: a tick succeeded while the database refused every connection", m)
				}
				continue
			}
			failed[ph]++
			if reps[i].Error == "" {
				noReportError++ // the error is returned; the report's Error is left empty
			}
			if len(errSamples) < 6 {
				errSamples[err.Error()] = true
			}
			if ph == "normal" || ph == "recovery" {
				t.Errorf("minute %d (%s): tick failed: %v", m, ph, err)
			}
		}
		// Nothing half-advanced: after every minute, next_run agrees with
		// the recorded slots of every schedule.
		if n := checkNextRuns(t, observer, specs, allRuns(t, observer)); n > 0 {
			inconsistent += n
			t.Errorf("minute %d (%s): %d schedules with next_run inconsistent with their runs", m, ph, n)
		}
		if ph == "down" {
			tk, err := observer.ListTicks(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if n := countRuns(t, observer); n != downRuns || len(tk) != downTicks {
				t.Errorf("minute %d: the store changed while down: runs %d -> %d, ticks %d -> %d", m, downRuns, n, downTicks, len(tk))
			}
		}
	}

	runs := allRuns(t, observer)
	end := t0.Add(restartLastMinute * time.Minute)
	expected := map[string][]time.Time{}
	for name, sp := range specs {
		expected[name] = slotsBetween(t, sp, t0, t0, end)
	}
	c, problems := account(expected, runs, rec.Snapshot())
	for _, p := range problems {
		t.Error(p)
	}
	if c.Lost != 0 || c.Duplicated != 0 || c.Unexpected != 0 || c.Unfinished != 0 {
		t.Errorf("slots: %s", c)
	}
	badShape := checkRecoveryShape(t, runs, policies, specs, t0)
	var interrupted int
	for _, r := range runs {
		interrupted += r.Interruptions
	}
	var samples []string
	for s := range errSamples {
		samples = append(samples, s)
	}
	sort.Strings(samples)
	for _, s := range samples {
		t.Logf("tick error sample: %s", s)
	}
	figures(t, "dbrestart/postgres",
		"engines", len(engines), "schedules", len(specs), "simulated_minutes", restartLastMinute,
		"backends_terminated", kills.Load(),
		"kill_phase_ticks_failed", fmt.Sprintf("%d/%d", failed["kill"], ticks["kill"]),
		"down_phase_ticks_failed", fmt.Sprintf("%d/%d", failed["down"], ticks["down"]),
		"normal_ticks_failed", failed["normal"]+failed["recovery"], "failed_reports_without_error", noReportError,
		"next_run_inconsistent", inconsistent, "recovery_policy_violations", badShape,
		"slots_expected", c.Expected, "slots_run", c.Run, "coalesced", c.Coalesced, "skipped", c.Skipped,
		"duplicated", c.Duplicated, "lost", c.Lost, "unfinished", c.Unfinished,
		"interruptions_recovered", interrupted, "reexecuted_slots", c.Reexecuted)
	if failed["kill"] == 0 {
		t.Errorf("no tick failed while backends were being terminated: the fault did not hit")
	}
	if failed["down"] != ticks["down"] {
		t.Errorf("%d of %d ticks failed while the database refused connections, want all", failed["down"], ticks["down"])
	}
}

// checkRecoveryShape verifies that the records written by the recovery tick
// for the slots missed during the outage follow each schedule's misfire
// policy: coalesce one run covering them all, catchup one run per slot,
// skip one skipped record for all but the latest and a run for the latest.
// It returns the number of schedules that deviate.
func checkRecoveryShape(t *testing.T, runs []core.Run, policies map[string]core.MisfirePolicy, specs map[string]suite.Spec, t0 time.Time) int {
	t.Helper()
	recovery := t0.Add(restartRecovery * time.Minute)
	before := map[string]time.Time{}
	for _, r := range runs {
		if r.Slot == nil || r.Source != core.SourceScheduled {
			continue
		}
		if r.Slot.Before(t0.Add(restartDownFrom*time.Minute)) && r.Slot.After(before[r.Schedule]) {
			before[r.Schedule] = r.Slot.UTC()
		}
	}
	bad := 0
	for name, policy := range policies {
		missed := slotsBetween(t, specs[name], t0, before[name], recovery)
		var got []core.Run
		for _, r := range runs {
			if r.Schedule == name && r.Slot != nil && r.Slot.After(before[name]) && !r.Slot.After(recovery) {
				got = append(got, r)
			}
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Slot.Before(*got[j].Slot) })
		var desc []string
		for _, r := range got {
			desc = append(desc, fmt.Sprintf("%s/%d/%s", r.Slot.UTC().Format("15:04"), r.SlotsCovered, r.Status))
		}
		ok := len(missed) > 0
		n := len(missed)
		switch {
		case !ok:
		case policy == core.MisfireCoalesce:
			ok = len(got) == 1 && got[0].SlotsCovered == n && got[0].Status == core.StatusSuccess
		case policy == core.MisfireCatchup:
			ok = len(got) == n
			for _, r := range got {
				ok = ok && r.SlotsCovered == 1 && r.Status == core.StatusSuccess
			}
		case policy == core.MisfireSkip && n == 1:
			ok = len(got) == 1 && got[0].Status == core.StatusSuccess
		case policy == core.MisfireSkip:
			ok = len(got) == 2 && got[0].Status == core.StatusSkipped && got[0].SlotsCovered == n-1 &&
				got[1].Status == core.StatusSuccess && got[1].SlotsCovered == 1
		}
		for _, r := range got {
			ok = ok && r.CreatedAt.Equal(recovery) // written by the recovery tick
		}
		if !ok {
			bad++
			t.Errorf("recovery of %s (%s, %d slots missed since %s): records %v", name, policy, len(missed), before[name].Format("15:04"), desc)
		}
	}
	return bad
}

// withParams returns raw with the query parameters set.
func withParams(t *testing.T, raw string, params map[string]string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
