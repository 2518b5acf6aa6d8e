package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/tickflow/tickflow/core"
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
	db.MustExec(`INSERT INTO tickflow_schedules (name, task, kind, every_seconds, spec_hash, anchor, next_run,
			created_at, updated_at, origin)
		SELECT 'rt' || lpad(i::text, 6, '0'), 'report', 'every', 3600, 'h', now(), now(), now(), now(), 'api'
		FROM generate_series(1, 20000) AS i`)
	db.MustExec("ANALYZE tickflow_schedules")
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
	if !strings.Contains(text, "Index Scan using tickflow_schedules_pkey") || strings.Contains(text, "Seq Scan") {
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
		_, err := st.DB().ExecContext(ctx, `SELECT name FROM tickflow_schedules WHERE name = $1 FOR UPDATE NOWAIT`, name)
		return err
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
