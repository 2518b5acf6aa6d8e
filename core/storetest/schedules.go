package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// txBeginner is a store that can begin the application's own transaction
// on its database (sqlstore.Store).
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// apiRegistry registers the tasks the runtime schedule tests use.
func apiRegistry(t *testing.T) *core.Registry {
	reg := core.NewRegistry()
	x := newExecs()
	mustRegister(t, reg, "report", x.task(nil), core.Retries(1))
	mustRegister(t, reg, "remind", x.task(nil))
	mustSchedule(t, reg, "cleanup", x.task(nil), core.Every(time.Hour))
	return reg
}

// hourly is a runtime schedule of report every hour for tenant.
func hourly(key, tenant string) core.ScheduleParams {
	return core.ScheduleParams{Key: key, Task: "report", Every: time.Hour, Labels: map[string]string{"tenant": tenant}}
}

// testScheduleCRUD: create (and a duplicate), upsert unchanged and changed,
// partial update, delete, and the code schedule rules.
func testScheduleCRUD(t *testing.T, h *harness) {
	ctx := t.Context()
	e := h.engine(apiRegistry(t))
	h.tick(e) // sync the code schedule "cleanup"

	p := hourly("acme/report", "acme")
	p.Payload = json.RawMessage(`{"to":"ops@acme.test"}`)
	p.MaxRuns = 3
	rec, err := e.CreateSchedule(ctx, p)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	got := h.schedule("acme/report")
	if got.Origin != core.OriginAPI || got.Task != "report" || !got.NextRun.Equal(at(time.Hour)) ||
		got.Labels["tenant"] != "acme" || !sameJSON(got.Payload, p.Payload) || got.MaxRuns == nil || *got.MaxRuns != 3 ||
		got.RemainingRuns == nil || *got.RemainingRuns != 3 || got.SpecHash != rec.SpecHash || got.Retries != 1 {
		t.Errorf("created schedule: %+v", got)
	}
	_, err = e.CreateSchedule(ctx, p)
	wantErrIs(t, "create of an existing key", err, core.ErrDuplicate)
	_, err = e.CreateSchedule(ctx, core.ScheduleParams{Key: "cleanup", Task: "report", Every: time.Hour})
	wantErrIs(t, "create over a code schedule's key", err, core.ErrDuplicate)

	// Upsert: the same params are a no-op, updated_at kept.
	h.set(minutes(10))
	_, res, err := e.UpsertSchedule(ctx, p)
	if err != nil || res != (core.UpsertResult{Unchanged: 1}) {
		t.Errorf("upsert of the same params: %+v, %v; want unchanged", res, err)
	}
	if again := h.schedule("acme/report"); !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("unchanged upsert moved updated_at %v -> %v", got.UpdatedAt, again.UpdatedAt)
	}
	// A changed label keeps the spec's place.
	p.Labels = map[string]string{"tenant": "acme", "tier": "gold"}
	if _, res, err = e.UpsertSchedule(ctx, p); err != nil || res != (core.UpsertResult{Changed: 1}) {
		t.Errorf("upsert of new labels: %+v, %v", res, err)
	}
	h.wantNextRun("acme/report", at(time.Hour))
	// A changed spec takes effect from the next slot of the new spec.
	p.Every = 30 * time.Minute
	up, res, err := e.UpsertSchedule(ctx, p)
	if err != nil || res != (core.UpsertResult{Changed: 1}) || !up.NextRun.Equal(at(40*time.Minute)) {
		t.Errorf("upsert of a new spec: next_run %v, %+v, %v; want %v", up.NextRun, res, err, at(40*time.Minute))
	}
	// Upsert of a new key creates it.
	if _, res, err = e.UpsertSchedule(ctx, hourly("beta/report", "beta")); err != nil || res != (core.UpsertResult{Created: 1}) {
		t.Errorf("upsert of a new key: %+v, %v", res, err)
	}
	_, _, err = e.UpsertSchedule(ctx, core.ScheduleParams{Key: "cleanup", Task: "report", Every: time.Hour})
	wantErrIs(t, "upsert over a code schedule", err, core.ErrConflict)

	// Partial update: only the fields given.
	paused, name := true, "Weekly"
	u, err := e.UpdateSchedule(ctx, "acme/report", core.ScheduleUpdate{Paused: &paused, DisplayName: &name})
	if err != nil || !u.Paused || u.DisplayName != "Weekly" || u.EverySeconds != 1800 || u.Labels["tier"] != "gold" ||
		!u.NextRun.Equal(at(40*time.Minute)) || *u.RemainingRuns != 3 {
		t.Errorf("partial update: %+v, %v", u, err)
	}
	cron, zone := "0 9 * * *", "Europe/Paris"
	u, err = e.UpdateSchedule(ctx, "acme/report", core.ScheduleUpdate{Cron: &cron, Timezone: &zone})
	if err != nil || u.Kind != core.KindCron || u.EverySeconds != 0 || !u.NextRun.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("update to cron: %+v, %v", u, err)
	}
	_, err = e.UpdateSchedule(ctx, "nope", core.ScheduleUpdate{Paused: &paused})
	wantErrIs(t, "update of an unknown key", err, core.ErrNotFound)
	bad := "bogus"
	_, err = e.UpdateSchedule(ctx, "acme/report", core.ScheduleUpdate{Task: &bad})
	wantValidation(t, "update to an unknown task", err, "task")
	if s := h.schedule("acme/report"); s.Task != "report" {
		t.Errorf("a refused update wrote: %+v", s)
	}
	// A code schedule: pause allowed, spec or delete refused.
	if c, err := e.UpdateSchedule(ctx, "cleanup", core.ScheduleUpdate{Paused: &paused}); err != nil || !c.Paused {
		t.Errorf("pause of a code schedule: %+v, %v", c, err)
	}
	every := time.Minute
	_, err = e.UpdateSchedule(ctx, "cleanup", core.ScheduleUpdate{Every: &every})
	wantErrIs(t, "spec update of a code schedule", err, core.ErrConflict)
	if err == nil || !containsText(err.Error(), "declared in code") {
		t.Errorf("spec update of a code schedule: %v; want it to say declared in code", err)
	}
	wantErrIs(t, "delete of a code schedule", e.DeleteSchedule(ctx, "cleanup"), core.ErrConflict)

	// Delete: gone; deleting again is not found.
	if err := e.DeleteSchedule(ctx, "beta/report"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := h.store.GetSchedule(ctx, "beta/report"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("deleted schedule still there: %v", err)
	}
	wantErrIs(t, "delete of a deleted key", e.DeleteSchedule(ctx, "beta/report"), core.ErrNotFound)
	// Re-created, it starts afresh.
	if _, err := e.CreateSchedule(ctx, hourly("beta/report", "beta")); err != nil {
		t.Errorf("re-create a deleted key: %v", err)
	}
}

// containsText reports whether s contains sub.
func containsText(s, sub string) bool {
	return strings.Contains(s, sub)
}

// wantValidation checks err is a ValidationError naming field.
func wantValidation(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *core.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Errorf("%s: %v; want a ValidationError for %s", what, err, field)
	}
}

// testScheduleBatch: UpsertSchedules of many schedules, then again
// unchanged, then a duplicate key in the batch writes nothing.
func testScheduleBatch(t *testing.T, h *harness) {
	ctx := t.Context()
	e := h.engine(apiRegistry(t))
	ps := make([]core.ScheduleParams, 1200)
	for i := range ps {
		ps[i] = hourly(fmt.Sprintf("t%04d", i), fmt.Sprintf("tenant%d", i%7))
	}
	res, err := e.UpsertSchedules(ctx, ps)
	if err != nil || res != (core.UpsertResult{Created: 1200}) {
		t.Fatalf("first batch: %+v, %v", res, err)
	}
	ps[5].Every = 2 * time.Hour
	res, err = e.UpsertSchedules(ctx, ps)
	if err != nil || res != (core.UpsertResult{Changed: 1, Unchanged: 1199}) {
		t.Errorf("second batch: %+v, %v", res, err)
	}
	dup := append([]core.ScheduleParams{hourly("fresh", "x")}, ps[0], ps[0])
	_, err = e.UpsertSchedules(ctx, dup)
	wantValidation(t, "a batch with a key twice", err, "key")
	if _, err := h.store.GetSchedule(ctx, "fresh"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a refused batch wrote: %v", err)
	}
	_, err = e.UpsertSchedules(ctx, make([]core.ScheduleParams, core.MaxUpsertBatch+1))
	wantValidation(t, "a batch over the limit", err, "schedules")
}

// testScheduleBatchMixed: one UpsertSchedules batch mixing a new key, an
// identical schedule, a changed spec, a changed payload, changed labels and
// a changed max_runs counts each exactly, re-bases only the changed spec,
// keeps updated_at of the identical one, and is all Unchanged when sent
// again; a payload is stored compact, so the same params sent with other
// whitespace are identical.
func testScheduleBatchMixed(t *testing.T, h *harness) {
	ctx := t.Context()
	e := h.engine(apiRegistry(t))
	ps := []core.ScheduleParams{hourly("same", "a"), hourly("spec", "a"), hourly("payload", "a"), hourly("labels", "a"), hourly("runs", "a")}
	ps[2].Payload = json.RawMessage(`{"to": "ops@acme.test", "note": "<b>&</b>"}`)
	ps[4].MaxRuns = 5
	if res, err := e.UpsertSchedules(ctx, ps); err != nil || res != (core.UpsertResult{Created: 5}) {
		t.Fatalf("first batch: %+v, %v", res, err)
	}
	before := map[string]core.ScheduleRecord{}
	for _, p := range ps {
		before[p.Key] = h.schedule(p.Key)
	}

	h.set(minutes(10))
	ps[1].Every = 30 * time.Minute
	ps[2].Payload = json.RawMessage(`{"to":"ops@acme.test","note":"<i>&</i>"}`)
	ps[3].Labels = map[string]string{"tenant": "a", "tier": "gold"}
	ps[4].MaxRuns = 7
	ps = append(ps, hourly("new", "b"))
	res, err := e.UpsertSchedules(ctx, ps)
	if err != nil || res != (core.UpsertResult{Created: 1, Changed: 4, Unchanged: 1}) {
		t.Fatalf("mixed batch: %+v, %v; want 1 created, 4 changed, 1 unchanged", res, err)
	}
	if got := h.schedule("same"); !got.UpdatedAt.Equal(before["same"].UpdatedAt) {
		t.Errorf("identical schedule: updated_at %v -> %v", before["same"].UpdatedAt, got.UpdatedAt)
	}
	for _, key := range []string{"spec", "payload", "labels", "runs", "new"} {
		if got := h.schedule(key); !got.UpdatedAt.Equal(at(minutes(10))) {
			t.Errorf("%s: updated_at %v, want %v", key, got.UpdatedAt, at(minutes(10)))
		}
	}
	h.wantNextRun("spec", at(minutes(40))) // re-based: now + 30 minutes
	for _, key := range []string{"same", "payload", "labels", "runs"} {
		if got := h.schedule(key); !got.NextRun.Equal(at(time.Hour)) || !got.Anchor.Equal(before[key].Anchor) {
			t.Errorf("%s (same spec): anchor %v next_run %v; want %v and %v kept", key, got.Anchor, got.NextRun, before[key].Anchor, at(time.Hour))
		}
	}
	h.wantNextRun("new", at(minutes(70)))
	if got := h.schedule("payload"); !sameJSON(got.Payload, ps[2].Payload) {
		t.Errorf("payload: %s, want %s", got.Payload, ps[2].Payload)
	}
	if got := h.schedule("labels"); got.Labels["tier"] != "gold" {
		t.Errorf("labels: %v", got.Labels)
	}
	if got := h.schedule("runs"); got.MaxRuns == nil || *got.MaxRuns != 7 || got.RemainingRuns == nil || *got.RemainingRuns != 7 {
		t.Errorf("max_runs 5 -> 7: max_runs %v remaining %v; want 7 and 7", got.MaxRuns, got.RemainingRuns)
	}

	// The same batch again, the payload with other whitespace: all unchanged.
	h.set(minutes(20))
	ps[2].Payload = json.RawMessage("{ \"to\" : \"ops@acme.test\",\n \"note\": \"<i>&</i>\" }")
	if res, err := e.UpsertSchedules(ctx, ps); err != nil || res != (core.UpsertResult{Unchanged: 6}) {
		t.Errorf("the same batch again: %+v, %v; want 6 unchanged", res, err)
	}
	if got := h.schedule("spec"); !got.UpdatedAt.Equal(at(minutes(10))) {
		t.Errorf("unchanged again: updated_at %v, want %v", got.UpdatedAt, at(minutes(10)))
	}
}

// testScheduleList: every filter, and a pagination walk that sees every
// matching schedule exactly once.
func testScheduleList(t *testing.T, h *harness) {
	ctx := t.Context()
	e := h.engine(apiRegistry(t))
	h.tick(e) // the code schedule "cleanup"
	var ps []core.ScheduleParams
	for i := range 57 {
		p := hourly(fmt.Sprintf("acme/%02d", i), "acme")
		if i%2 == 1 {
			p.Labels["tier"] = "gold"
		}
		if i%5 == 0 {
			p.Task = "remind"
		}
		p.Paused = i%10 == 0
		ps = append(ps, p)
	}
	for i := range 13 {
		ps = append(ps, hourly(fmt.Sprintf("beta/%02d", i), "beta"))
	}
	ps = append(ps, hourly("acme_x", "acme"), hourly("acme%y", "acme")) // LIKE metacharacters
	past := core.ScheduleParams{Key: "acme/once", Task: "remind", Once: at(-time.Hour)}
	ps = append(ps, past)
	if _, err := e.UpsertSchedules(ctx, ps); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	count := func(f core.ScheduleFilter) (int, []string) {
		t.Helper()
		f.Limit = 7
		seen := map[string]bool{}
		var keys []string
		for {
			page, err := e.ListSchedules(ctx, f)
			if err != nil {
				t.Fatalf("list %+v: %v", f, err)
			}
			for _, s := range page.Schedules {
				if seen[s.Name] {
					t.Errorf("list %+v: %s twice", f, s.Name)
				}
				if len(keys) > 0 && s.Name <= keys[len(keys)-1] {
					t.Errorf("list %+v: %s after %s", f, s.Name, keys[len(keys)-1])
				}
				seen[s.Name] = true
				keys = append(keys, s.Name)
			}
			if page.Next == "" {
				return len(keys), keys
			}
			f.After = page.Next
		}
	}
	for _, c := range []struct {
		what string
		f    core.ScheduleFilter
		want int
	}{
		{"all", core.ScheduleFilter{}, 57 + 13 + 3 + 1},
		{"api", core.ScheduleFilter{Origin: core.OriginAPI}, 57 + 13 + 3},
		{"code", core.ScheduleFilter{Origin: core.OriginCode}, 1},
		{"prefix acme/", core.ScheduleFilter{KeyPrefix: "acme/"}, 58},
		{"prefix acme_", core.ScheduleFilter{KeyPrefix: "acme_"}, 1},
		{"prefix acme%", core.ScheduleFilter{KeyPrefix: "acme%"}, 1},
		{"task remind", core.ScheduleFilter{Task: "remind"}, 12 + 1},
		{"label tenant=acme", core.ScheduleFilter{Labels: map[string]string{"tenant": "acme"}}, 57 + 2},
		{"labels tenant=acme,tier=gold", core.ScheduleFilter{Labels: map[string]string{"tenant": "acme", "tier": "gold"}}, 28},
		{"label tier=silver", core.ScheduleFilter{Labels: map[string]string{"tier": "silver"}}, 0},
		{"paused", core.ScheduleFilter{Paused: &yes}, 6},
		{"not paused, prefix beta/", core.ScheduleFilter{Paused: &no, KeyPrefix: "beta/"}, 13},
		{"completed", core.ScheduleFilter{Completed: &yes}, 0},
		{"task and label", core.ScheduleFilter{Task: "report", Labels: map[string]string{"tier": "gold"}}, 28 - 6},
	} {
		if n, keys := count(c.f); n != c.want {
			t.Errorf("list %s: %d schedules, want %d: %v", c.what, n, c.want, keys)
		}
	}
	_, err := e.ListSchedules(ctx, core.ScheduleFilter{Limit: core.MaxListLimit + 1})
	wantValidation(t, "a limit over the maximum", err, "limit")
	_, err = e.ListSchedules(ctx, core.ScheduleFilter{Origin: "cron"})
	wantValidation(t, "an unknown origin", err, "origin")
}

// testScheduleTx: schedule writes in the caller's transaction commit and
// roll back with it.
func testScheduleTx(t *testing.T, h *harness) {
	ctx := t.Context()
	b, ok := h.store.(txBeginner)
	if !ok {
		t.Skip("the store cannot begin a caller's transaction")
	}
	e := h.engine(apiRegistry(t))
	inTx := func(commit bool, fn func(tx *sql.Tx) error) {
		t.Helper()
		tx, err := b.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			t.Fatalf("in tx: %v", err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	inTx(false, func(tx *sql.Tx) error {
		_, err := e.CreateScheduleTx(ctx, tx, hourly("rolled-back", "acme"))
		return err
	})
	if _, err := h.store.GetSchedule(ctx, "rolled-back"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a schedule created in a rolled-back transaction exists: %v", err)
	}
	inTx(true, func(tx *sql.Tx) error {
		if _, err := e.CreateScheduleTx(ctx, tx, hourly("committed", "acme")); err != nil {
			return err
		}
		if _, _, err := e.UpsertScheduleTx(ctx, tx, hourly("upserted", "acme")); err != nil {
			return err
		}
		paused := true
		if _, err := e.UpdateScheduleTx(ctx, tx, "committed", core.ScheduleUpdate{Paused: &paused}); err != nil {
			return err
		}
		// A refused create leaves the transaction usable.
		if _, err := e.CreateScheduleTx(ctx, tx, hourly("committed", "acme")); !errors.Is(err, core.ErrDuplicate) {
			return fmt.Errorf("duplicate create in tx: %v", err)
		}
		_, err := e.UpsertSchedulesTx(ctx, tx, []core.ScheduleParams{hourly("batch1", "b"), hourly("batch2", "b")})
		return err
	})
	if s := h.schedule("committed"); !s.Paused || s.Origin != core.OriginAPI {
		t.Errorf("committed schedule: %+v", s)
	}
	h.schedule("upserted")
	h.schedule("batch2")
	inTx(false, func(tx *sql.Tx) error { return e.DeleteScheduleTx(ctx, tx, "committed") })
	h.schedule("committed")
	inTx(true, func(tx *sql.Tx) error { return e.DeleteScheduleTx(ctx, tx, "committed") })
	if _, err := h.store.GetSchedule(ctx, "committed"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("deleted in a committed transaction, still there: %v", err)
	}
}

// testSyncLeavesAPIRows: sync never writes, orphans or counts as its own a
// runtime schedule, even one whose key a code schedule also declares; and
// two engines with different task sets share the store without orphaning
// each other's schedules.
func testSyncLeavesAPIRows(t *testing.T, h *harness) {
	ctx := t.Context()
	x := newExecs()
	regA := core.NewRegistry()
	mustRegister(t, regA, "report", x.task(nil))
	mustSchedule(t, regA, "a_code", x.task(nil), core.Every(time.Hour))
	regB := core.NewRegistry()
	mustRegister(t, regB, "remind", x.task(nil))
	mustSchedule(t, regB, "b_code", x.task(nil), core.Every(time.Hour))
	mustSchedule(t, regB, "taken", x.task(nil), core.Every(time.Minute))
	a, b := h.engine(regA), h.engine(regB)
	if _, err := a.CreateSchedule(ctx, core.ScheduleParams{Key: "taken", Task: "report", Every: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateSchedule(ctx, core.ScheduleParams{Key: "a_api", Task: "report", Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateSchedule(ctx, core.ScheduleParams{Key: "b_api", Task: "remind", Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	ra, err := a.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Sync(ctx)
	if err != nil || rb.Conflicts != 1 || rb.Orphaned != 0 || rb.Inserted != 1 {
		t.Errorf("sync of b: %+v, %v; want 1 inserted, 1 conflict", rb, err)
	}
	if ra.Orphaned != 0 {
		t.Errorf("sync of a orphaned %d", ra.Orphaned)
	}
	if _, err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if s := h.schedule("taken"); s.Origin != core.OriginAPI || s.Task != "report" || s.EverySeconds != 7200 {
		t.Errorf("sync overwrote a runtime schedule: %+v", s)
	}
	for _, key := range []string{"a_code", "b_code", "a_api", "b_api", "taken"} {
		if s := h.schedule(key); s.Orphaned {
			t.Errorf("%s orphaned by a process sharing the store", key)
		}
	}
	// b no longer schedules b_code (its task stays): only it is orphaned.
	regB2 := core.NewRegistry()
	mustRegister(t, regB2, "remind", x.task(nil))
	mustRegister(t, regB2, "b_code", x.task(nil))
	if r, err := h.engine(regB2).Sync(ctx); err != nil || r.Orphaned != 1 {
		t.Errorf("sync without b_code: %+v, %v; want 1 orphaned", r, err)
	}
	if !h.schedule("b_code").Orphaned || h.schedule("b_api").Orphaned || h.schedule("a_code").Orphaned {
		t.Errorf("orphans after b dropped b_code: b_code %v b_api %v a_code %v",
			h.schedule("b_code").Orphaned, h.schedule("b_api").Orphaned, h.schedule("a_code").Orphaned)
	}
}
