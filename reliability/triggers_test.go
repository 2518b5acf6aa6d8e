package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/reliability/internal/suite"
)

// eventBridgeEvent is an EventBridge scheduled-rule event for the trigger
// instant at, as AWS delivers it.
func eventBridgeEvent(id string, at time.Time) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"version":"0","id":%q,"detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"123456789012","time":%q,"region":"us-east-1",`+
		`"resources":["arn:aws:events:us-east-1:123456789012:rule/tickflow-every-minute"],"detail":{}}`, id, rfc(at)))
}

// lambdaNode is one "Lambda container": an engine with its own store
// connection pool behind its own handler, as two concurrent instances of
// the function would be.
type lambdaNode struct {
	fn handler.LambdaFunc
}

func newLambdaNode(t *testing.T, url string, reg *core.Registry, clock core.Clock, tune func(*core.Config)) *lambdaNode {
	t.Helper()
	cfg := core.Config{Store: openURL(t, url), Registry: reg, Clock: clock, Logger: quietLogger()}
	if tune != nil {
		tune(&cfg)
	}
	eng, err := core.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := handler.New(handler.Config{Engine: eng, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return &lambdaNode{fn: h.Lambda()}
}

// invoke delivers payload under a Lambda-like deadline and returns the
// tick's report.
func (n *lambdaNode) invoke(payload json.RawMessage, deadline time.Duration) (core.Report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	out, err := n.fn(ctx, payload)
	if err != nil {
		return core.Report{}, err
	}
	rep, ok := out.(core.Report)
	if !ok {
		return core.Report{}, fmt.Errorf("lambda returned %T, want core.Report", out)
	}
	return rep, nil
}

// TestDuplicateAndLateTriggers is scenario 2: the same EventBridge event is
// delivered several times, concurrently to two Lambda instances and
// sequentially, and later triggers arrive 10 minutes late. No slot may run
// twice, and missed slots follow each schedule's misfire policy.
func TestDuplicateAndLateTriggers(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) { runTriggers(t, dialect) })
	}
}

func runTriggers(t *testing.T, dialect string) {
	url := dialectURL(t, dialect)
	st := openURL(t, url)
	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	clock := core.NewStubClock(t0)
	rec := &suite.Recorder{}
	reg := core.NewRegistry()
	fn := func(_ context.Context, info core.RunInfo) error { rec.Record(info); return nil }
	specs := map[string]suite.Spec{}
	for _, every := range []time.Duration{time.Minute, 15 * time.Minute} {
		for _, p := range []core.MisfirePolicy{core.MisfireCoalesce, core.MisfireSkip, core.MisfireCatchup} {
			name := fmt.Sprintf("every%dm_%s", int(every.Minutes()), p)
			if err := reg.Schedule(name, fn, core.Every(every), core.Misfire(p)); err != nil {
				t.Fatal(err)
			}
			specs[name] = suite.Spec{Every: every}
		}
	}
	a := newLambdaNode(t, url, reg, clock, nil)
	b := newLambdaNode(t, url, reg, clock, nil)

	var (
		deliveries int
		reports    []core.Report
		mu         sync.Mutex
	)
	deliver := func(n *lambdaNode, ev json.RawMessage) error {
		rep, err := n.invoke(ev, time.Minute)
		mu.Lock()
		defer mu.Unlock()
		deliveries++
		reports = append(reports, rep)
		return err
	}
	// concurrently delivers ev once to each node given, at the same time.
	concurrently := func(ev json.RawMessage, nodes ...*lambdaNode) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, len(nodes))
		for i, n := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = deliver(n, ev) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("delivery failed: %v", err)
			}
		}
	}
	execsOf := func(name string) map[time.Time]int {
		out := map[time.Time]int{}
		for _, e := range rec.Snapshot() {
			if e.Schedule == name {
				out[e.Slot]++
			}
		}
		return out
	}

	// t0: both instances sync; nothing is due.
	concurrently(eventBridgeEvent("ev-t0", t0), a, b)

	// t0+1m: one event delivered six times: four at once on two instances,
	// then twice more one after the other.
	t1 := t0.Add(time.Minute)
	clock.Set(t1)
	ev1 := eventBridgeEvent("ev-t1", t1)
	concurrently(ev1, a, a, b, b)
	concurrently(ev1, a)
	concurrently(ev1, b)
	for name, sp := range specs {
		got := execsOf(name)
		if sp.Every == time.Minute && got[t1] != 1 {
			t.Errorf("%s: slot %s executed %d times after six deliveries, want 1", name, t1, got[t1])
		}
	}

	// The trigger of t0+2m arrives 10 minutes late, at t0+12m, twice at
	// once: slots t0+2m..t0+12m (11) are due for the minutely schedules.
	t12 := t0.Add(12 * time.Minute)
	clock.Set(t12)
	evLate := eventBridgeEvent("ev-t2", t0.Add(2*time.Minute))
	concurrently(evLate, a, b)
	concurrently(evLate, b)

	// The trigger of t0+15m arrives 10 minutes late, at t0+25m, twice: the
	// quarter-hourly slot t0+15m is now beyond the misfire grace.
	t25 := t0.Add(25 * time.Minute)
	clock.Set(t25)
	evLate2 := eventBridgeEvent("ev-t15", t0.Add(15*time.Minute))
	concurrently(evLate2, a, b)
	concurrently(evLate2, a)

	// A rewind (a restored backup, a bad manual edit) puts the minutely
	// schedules' next_run back to t0+2m: every slot the next tick plans is
	// already recorded, and the unique (schedule, slot) key turns each into
	// a conflict: coalesce 1 (t0+25m), skip 2 (t0+24m skipped, t0+25m),
	// catchup 24 (t0+2m..t0+25m).
	t2 := t0.Add(2 * time.Minute)
	for name, sp := range specs {
		if sp.Every == time.Minute {
			setNextRun(t, dialect, url, name, t2)
		}
	}
	runsBefore, execsBefore, reportsBefore := countRuns(t, st), len(rec.Snapshot()), len(reports)
	concurrently(evLate2, a, b)
	rewindConflicts := 0
	for _, r := range reports[reportsBefore:] {
		rewindConflicts += r.Conflicts
	}
	if n, e := countRuns(t, st), len(rec.Snapshot()); n != runsBefore || e != execsBefore || rewindConflicts != 27 {
		t.Errorf("after the rewind: runs %d -> %d, executions %d -> %d, conflicts %d (want no new run or execution and 27 conflicts)",
			runsBefore, n, execsBefore, e, rewindConflicts)
	}

	runs := allRuns(t, st)
	expected := map[string][]time.Time{}
	for name, sp := range specs {
		expected[name] = slotsBetween(t, sp, t0, t0, t25)
	}
	execs := rec.Snapshot()
	c, problems := account(expected, runs, execs)
	for _, p := range problems {
		t.Error(p)
	}
	if c.Lost != 0 || c.Duplicated != 0 || c.Unexpected != 0 || c.Unfinished != 0 {
		t.Errorf("slots: %s", c)
	}
	checkNextRuns(t, st, specs, runs)

	// Per policy, the records of the late window (t0+2m..t0+12m) and of the
	// late quarter-hour slot.
	type rec2 struct {
		slot    time.Time
		covered int
		status  core.Status
	}
	in := func(name string, from, to time.Time) []rec2 {
		var out []rec2
		for _, r := range runs {
			if r.Schedule == name && r.Slot != nil && !r.Slot.Before(from) && !r.Slot.After(to) {
				out = append(out, rec2{r.Slot.UTC(), r.SlotsCovered, r.Status})
			}
		}
		return out
	}
	t15 := t0.Add(15 * time.Minute)
	check := func(name string, got []rec2, want []rec2) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: records %v, want %v", name, got, want)
		}
	}
	check("every1m_coalesce", in("every1m_coalesce", t2, t12), []rec2{{t12, 11, core.StatusSuccess}})
	check("every1m_skip", in("every1m_skip", t2, t12), []rec2{{t12.Add(-time.Minute), 10, core.StatusSkipped}, {t12, 1, core.StatusSuccess}})
	var catchup []rec2
	for s := t2; !s.After(t12); s = s.Add(time.Minute) {
		catchup = append(catchup, rec2{s, 1, core.StatusSuccess})
	}
	check("every1m_catchup", in("every1m_catchup", t2, t12), catchup)
	check("every15m_coalesce", in("every15m_coalesce", t15, t15), []rec2{{t15, 1, core.StatusSuccess}})
	check("every15m_skip", in("every15m_skip", t15, t15), []rec2{{t15, 1, core.StatusSkipped}})
	check("every15m_catchup", in("every15m_catchup", t15, t15), []rec2{{t15, 1, core.StatusSuccess}})
	if n := execsOf("every15m_skip")[t15]; n != 0 {
		t.Errorf("every15m_skip: the late slot was executed %d times; policy skip runs none", n)
	}

	var claimed int
	for _, r := range reports {
		claimed += r.Claimed
	}
	figures(t, "triggers/"+dialect,
		"lambda_instances", 2, "deliveries", deliveries, "distinct_events", 4, "schedules", len(specs),
		"slots_expected", c.Expected, "runs_recorded", len(runs), "executions", len(execs), "slots_run", c.Run,
		"coalesced", c.Coalesced, "skipped", c.Skipped, "duplicated", c.Duplicated, "lost", c.Lost,
		"claimed", claimed, "rewind_conflicts", rewindConflicts, "rewind_new_runs", len(runs)-runsBefore)
	if len(execs) != claimed {
		t.Errorf("%d executions for %d claimed runs", len(execs), claimed)
	}
}

// setNextRun moves a schedule's next_run behind the store's back, with the
// dialect's own encoding of instants (timestamptz; SQLite unix microseconds)
// and its own table (PostgreSQL keeps next_run in tickflow_schedule_state).
func setNextRun(t *testing.T, dialect, storeURL, name string, at time.Time) {
	t.Helper()
	driver, dsn, arg, stmt := "postgres", storeURL, any(at), `UPDATE tickflow_schedule_state SET next_run = $1 WHERE name = $2`
	if dialect == "sqlite" {
		driver, dsn, arg, stmt = "sqlite", strings.TrimPrefix(storeURL, "sqlite:"), at.UnixMicro(), `UPDATE tickflow_schedules SET next_run = ? WHERE name = ?`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(stmt, arg, name)
	if err != nil {
		t.Fatalf("set next_run of %s: %v", name, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("set next_run of %s: %d rows", name, n)
	}
}
