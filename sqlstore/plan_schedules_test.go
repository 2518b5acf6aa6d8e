package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// TestListSchedulesPagePlanUsesIndexes pins the PostgreSQL plans of the
// schedule list at 20,000 schedules: a key prefix with a cursor is a range
// of tickflow_schedules_key_idx (not a scan of the table), and a label
// filter reads tickflow_schedules_labelled_idx.
func TestListSchedulesPagePlanUsesIndexes(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	db := st.DB()
	db.MustExec(`INSERT INTO tickflow_schedules (name, task, kind, every_seconds, created_at, updated_at, origin, labels)
		SELECT 'tenant' || lpad(i::text, 5, '0') || '/report', 'report', 'every', 3600, now(), now(),
		       'api', jsonb_build_object('tenant', 'tenant' || i, 'tier', CASE WHEN i % 2 = 0 THEN 'gold' ELSE 'free' END)
		FROM generate_series(1, 20000) AS i`)
	seedStatesPostgres(db, "now()")
	db.MustExec("ANALYZE tickflow_schedules, tickflow_schedule_state")
	explain := func(args ...any) string {
		t.Helper()
		var plan []string
		if err := db.Select(&plan, "EXPLAIN "+st.Statement("list_schedules_page"), args...); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	for _, c := range []struct {
		what  string
		args  []any
		index string
	}{
		{"key prefix and cursor", []any{"", nil, "", nil, nil, `tenant12%`, "tenant12000/report", 51}, "tickflow_schedules_key_idx"},
		{"cursor only", []any{"", nil, "", nil, nil, "", "tenant12000/report", 51}, "tickflow_schedules_key_idx"},
		{"label", []any{"", `{"tenant":"tenant77"}`, "", nil, nil, "", "", 51}, "tickflow_schedules_labelled_idx"},
	} {
		plan := explain(c.args...)
		if !strings.Contains(plan, c.index) || strings.Contains(plan, "Seq Scan on tickflow_schedules") {
			t.Errorf("%s: the plan does not read %s:\n%s", c.what, c.index, plan)
		}
	}
}

// TestClaimDueSelectPlanProbesLiveRuns pins the PostgreSQL plan of the
// claim's lock select with 200,000 due schedules and 50,000 runs in the
// live index (a big tick's running runs): the overlap check probes the live
// index by schedule for each row, never a hashed subquery over all live
// runs (read again by every batch, slower as the tick went on), and the
// due schedules come in due-index order; held, the taken flag probes the
// slot key per row too.
func TestClaimDueSelectPlanProbesLiveRuns(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	db := st.DB()
	db.MustExec(`INSERT INTO tickflow_schedules (name, task, kind, every_seconds, created_at, updated_at, origin)
		SELECT 's' || lpad(i::text, 7, '0'), 'report', 'every', 60, now(), now(), 'api'
		FROM generate_series(1, 200000) AS i`)
	seedStatesPostgres(db, "now() - interval '1 minute'")
	db.MustExec(`INSERT INTO tickflow_runs (task, schedule, source, slot, status, attempt, run_at, created_at,
			started_at, lease_until, tick_id)
		SELECT 'report', 'r' || lpad(i::text, 7, '0'), 'scheduled', now(), 'running', 1, now(), now(), now(),
		       now() + interval '5 minutes', 'tick_1'
		FROM generate_series(1, 50000) AS i`)
	db.MustExec("ANALYZE tickflow_schedules, tickflow_schedule_state, tickflow_runs")
	var lines []string
	if err := db.Select(&lines, "EXPLAIN "+st.Statement("claim_due_select"), nil, 5000, "{report}", true, nil, nil); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "tickflow_schedule_state_due_key_idx") || !strings.Contains(plan, "tickflow_runs_live_idx") ||
		!strings.Contains(plan, "(schedule = st.name)") || strings.Contains(plan, "hashed") ||
		strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "tickflow_runs_slot_key") {
		t.Errorf("claim_due_select (held) does not probe the live index and the slot key per due schedule:\n%s", plan)
	}
}

// seedStatesPostgres gives every tickflow_schedules row seeded by SQL its
// tickflow_schedule_state row (spec hash "h"), next_run the SQL expression
// next.
func seedStatesPostgres(db *sqlx.DB, next string) {
	db.MustExec(`INSERT INTO tickflow_schedule_state (name, task, origin, spec_hash, anchor, next_run)
		SELECT name, task, origin, 'h', now(), ` + next + ` FROM tickflow_schedules`)
}
