package sqlstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// apiRec is a runtime schedule record as the Engine builds it.
func apiRec(name string) core.ScheduleRecord {
	r := sched(name, t0.Add(time.Minute))
	r.Origin = core.OriginAPI
	r.Payload = json.RawMessage(`{"tenant":"acme"}`)
	r.Labels = map[string]string{"tenant": "acme"}
	return r
}

// TestInsertSchedulesPlanProbesKeys pins the PostgreSQL plan of
// insert_schedules at 20,000 stored schedules: the records are matched to
// existing rows by a primary key probe each, not by hashing the table.
func TestInsertSchedulesPlanProbesKeys(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	db := st.DB()
	db.MustExec(`INSERT INTO tickflow_schedules (name, task, kind, every_seconds, created_at, updated_at, origin)
		SELECT 'rt' || lpad(i::text, 6, '0'), 'report', 'every', 3600, now(), now(), 'api'
		FROM generate_series(1, 20000) AS i`)
	seedStatesPostgres(db, "now()")
	db.MustExec("ANALYZE tickflow_schedules, tickflow_schedule_state")
	recs := make([]core.ScheduleRecord, 5000)
	for i := range recs {
		recs[i] = apiRec(fmt.Sprintf("rt%06d", i*4))
	}
	args, err := st.InsertArgs(nil, true, recs)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := db.Select(&plan, "EXPLAIN "+st.Statement("insert_schedules"), args...); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Scan using tickflow_schedules_pkey") ||
		!strings.Contains(text, "Index Scan using tickflow_schedule_state_pkey") || strings.Contains(text, "Seq Scan") {
		t.Errorf("insert_schedules does not probe the primary key per record:\n%s", text)
	}
}

// TestNoopUpsertLeavesRowsUnlocked: an upsert that changes nothing, in a
// transaction still open, neither locks nor writes its rows on PostgreSQL
// (a tick's FOR UPDATE SKIP LOCKED claim would skip locked rows until the
// transaction ends); a changed record is locked.
func TestNoopUpsertLeavesRowsUnlocked(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	ctx := context.Background()
	recs := []core.ScheduleRecord{apiRec("a"), apiRec("b"), apiRec("c")}
	if _, err := st.InsertSchedules(ctx, nil, core.InsertSchedulesParams{Now: t0, Records: recs, Upsert: true}); err != nil {
		t.Fatal(err)
	}
	tx, err := st.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	recs[2].Payload = json.RawMessage(`{"tenant":"beta"}`)
	res, err := st.InsertSchedules(ctx, tx, core.InsertSchedulesParams{Now: t0.Add(time.Minute), Records: recs, Upsert: true})
	if err != nil || res != (core.UpsertResult{Changed: 1, Unchanged: 2}) {
		t.Fatalf("re-upsert: %+v, %v; want 1 changed, 2 unchanged", res, err)
	}
	lock := func(name string) error {
		for _, table := range []string{"tickflow_schedules", "tickflow_schedule_state"} {
			if _, err := st.DB().ExecContext(ctx, `SELECT name FROM `+table+` WHERE name = $1 FOR UPDATE NOWAIT`, name); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	}
	for _, name := range []string{"a", "b"} {
		if err := lock(name); err != nil {
			t.Errorf("unchanged schedule %s is locked by the open upsert: %v", name, err)
		}
	}
	var pqErr *pq.Error
	if err := lock("c"); err == nil || !errors.As(err, &pqErr) || pqErr.Code != "55P03" {
		t.Errorf("changed schedule c: lock attempt %v; want lock_not_available", err)
	}
}

// TestClaimDueRuntimeColumns: the claim hands planning every column of a
// runtime schedule, each value distinct from its default and from the
// others of its type (so a column read into its neighbour fails), and
// nothing of a code schedule's row.
func TestClaimDueRuntimeColumns(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		onceAt, startAt, endAt := t0.Add(-90*time.Second), t0.Add(-time.Hour), t0.Add(48*time.Hour+123456*time.Microsecond)
		remaining := 7
		rt := core.ScheduleRecord{
			Name: "rt", Task: "report", DisplayName: "Nightly report", Kind: "cron", Cron: "*/5 * * * *",
			Timezone: "Europe/Paris", SpecHash: "hrt", Misfire: core.MisfireCatchup, Overlap: core.OverlapAllow,
			MaxCatchup: 11, Retries: 3, DelaySeconds: 2.5, Backoff: 1.75, TimeoutSeconds: 42.25, JitterSeconds: 0.125,
			Anchor: t0.Add(-24*time.Hour + 654321*time.Microsecond), NextRun: t0.Add(-time.Minute), Origin: core.OriginAPI,
			OnceAt: &onceAt, StartAt: &startAt, EndAt: &endAt, RemainingRuns: &remaining, MaxRuns: &remaining,
			Payload: json.RawMessage(`{"tenant": "acme", "n": [1, 2.5, null]}`), Labels: map[string]string{},
		}
		every := rt
		every.Name, every.Kind, every.Cron, every.Timezone, every.EverySeconds = "rt2", "every", "", "", 90.5
		every.OnceAt, every.StartAt, every.EndAt, every.RemainingRuns, every.MaxRuns, every.Payload = nil, nil, nil, nil, nil, nil
		if _, err := st.InsertSchedules(ctx, nil, core.InsertSchedulesParams{Now: t0.Add(-2 * time.Hour), Records: []core.ScheduleRecord{rt, every}}); err != nil {
			t.Fatal(err)
		}
		mustSync(t, st, t0.Add(-2*time.Hour), sched("code", t0.Add(-30*time.Second)))
		var saw []core.DueSchedule
		if _, err := st.ClaimDue(ctx, core.ClaimDueParams{
			Now: t0, TickID: "tick_1", Limit: 10, LeaseUntil: t0.Add(time.Minute),
			Plan: plan(&saw, t0.Add(time.Hour), func(core.DueSchedule) []core.PlannedRun { return nil }),
		}); err != nil {
			t.Fatal(err)
		}
		got := map[string]core.DueSchedule{}
		for _, d := range saw {
			got[d.Name] = d
		}
		if len(saw) != 3 || len(got) != 3 {
			t.Fatalf("claimed %+v; want rt, rt2 and code", saw)
		}
		want := func(r core.ScheduleRecord) core.DueSchedule {
			return core.DueSchedule{
				Name: r.Name, SpecHash: r.SpecHash, NextRun: r.NextRun, Origin: core.OriginAPI,
				Task: r.Task, DisplayName: r.DisplayName, Kind: r.Kind, EverySeconds: r.EverySeconds, Cron: r.Cron,
				Timezone: r.Timezone, OnceAt: r.OnceAt, Anchor: r.Anchor, StartAt: r.StartAt, EndAt: r.EndAt,
				RemainingRuns: r.RemainingRuns, Payload: r.Payload, Misfire: r.Misfire, Overlap: r.Overlap,
				MaxCatchup: r.MaxCatchup, Jitter: 125 * time.Millisecond, Retries: r.Retries,
				Delay: 2500 * time.Millisecond, Backoff: r.Backoff, Timeout: 42250 * time.Millisecond,
			}
		}
		for _, r := range []core.ScheduleRecord{rt, every} {
			if g, w := got[r.Name], want(r); !dueEqual(g, w) {
				t.Errorf("due runtime schedule %s =\n%+v; want\n%+v", r.Name, g, w)
			}
		}
		if c := got["code"]; !dueEqual(c, core.DueSchedule{Name: "code", SpecHash: "h1", NextRun: t0.Add(-30 * time.Second), Origin: core.OriginCode}) {
			t.Errorf("due code schedule = %+v; want its name, hash and next run only", c)
		}
	})
}

// dueEqual compares due schedules, instants by Equal and payloads as
// compacted JSON (SQLite stores them compacted, PostgreSQL's json keeps its
// bytes).
func dueEqual(a, b core.DueSchedule) bool {
	compact := func(p json.RawMessage) string {
		var buf bytes.Buffer
		if len(p) > 0 && json.Compact(&buf, p) != nil {
			return "invalid: " + string(p)
		}
		return buf.String()
	}
	inst := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	if !a.NextRun.Equal(b.NextRun) || !a.Anchor.Equal(b.Anchor) || !inst(a.OnceAt, b.OnceAt) ||
		!inst(a.StartAt, b.StartAt) || !inst(a.EndAt, b.EndAt) || compact(a.Payload) != compact(b.Payload) ||
		(a.RemainingRuns == nil) != (b.RemainingRuns == nil) || (a.RemainingRuns != nil && *a.RemainingRuns != *b.RemainingRuns) {
		return false
	}
	a.NextRun, a.Anchor, b.NextRun, b.Anchor = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.OnceAt, a.StartAt, a.EndAt, a.RemainingRuns, a.Payload = nil, nil, nil, nil, nil
	b.OnceAt, b.StartAt, b.EndAt, b.RemainingRuns, b.Payload = nil, nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

// TestDeleteScheduleDeletesState: on PostgreSQL a schedule is two rows;
// deleting it deletes both (no foreign key does it), and a delete refused
// for the origin deletes neither.
func TestDeleteScheduleDeletesState(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	ctx := context.Background()
	if _, err := st.InsertSchedules(ctx, nil, core.InsertSchedulesParams{Records: []core.ScheduleRecord{apiRec("a"), apiRec("b")}}); err != nil {
		t.Fatal(err)
	}
	rows := func() (defs, states int) {
		t.Helper()
		if err := st.DB().Get(&defs, `SELECT count(*) FROM tickflow_schedules`); err != nil {
			t.Fatal(err)
		}
		if err := st.DB().Get(&states, `SELECT count(*) FROM tickflow_schedule_state`); err != nil {
			t.Fatal(err)
		}
		return defs, states
	}
	if err := st.DeleteSchedule(ctx, nil, core.DeleteScheduleParams{Key: "a", Origin: core.OriginCode}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("delete of an api schedule as code: %v; want a conflict", err)
	}
	if d, s := rows(); d != 2 || s != 2 {
		t.Fatalf("after a refused delete: %d definitions, %d states; want 2, 2", d, s)
	}
	if err := st.DeleteSchedule(ctx, nil, core.DeleteScheduleParams{Key: "a", Origin: core.OriginAPI}); err != nil {
		t.Fatal(err)
	}
	if d, s := rows(); d != 1 || s != 1 {
		t.Fatalf("after deleting a: %d definitions, %d states; want 1, 1", d, s)
	}
	var left string
	if err := st.DB().Get(&left, `SELECT name FROM tickflow_schedule_state`); err != nil || left != "b" {
		t.Fatalf("state left: %q, %v; want b", left, err)
	}
}
