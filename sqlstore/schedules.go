package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// defaultClaimLimit bounds a claim when the caller gives no limit.
const defaultClaimLimit = 1000

// scheduleJSON is one schedule of SyncSchedules' JSON parameter; its keys are
// the column names the statement reads.
type scheduleJSON struct {
	Name           string  `json:"name"`
	Task           string  `json:"task"`
	DisplayName    string  `json:"display_name"`
	Kind           string  `json:"kind"`
	EverySeconds   float64 `json:"every_seconds"`
	Cron           string  `json:"cron"`
	Timezone       string  `json:"timezone"`
	SpecHash       string  `json:"spec_hash"`
	RunOnStartup   bool    `json:"run_on_startup"`
	Misfire        string  `json:"misfire"`
	Overlap        string  `json:"overlap"`
	MaxCatchup     int     `json:"max_catchup"`
	Retries        int     `json:"retries"`
	DelaySeconds   float64 `json:"delay_seconds"`
	Backoff        float64 `json:"backoff"`
	TimeoutSeconds float64 `json:"timeout_seconds"`
	JitterSeconds  float64 `json:"jitter_seconds"`
	Anchor         any     `json:"anchor"`
	NextRun        any     `json:"next_run"`
	OnceAt         any     `json:"once_at"`
}

// syncChunk bounds the schedules of one upsert statement of SyncSchedules:
// its JSON parameter (about 450 bytes per schedule) is built per chunk, so
// the memory a sync needs is bounded by the chunk, not by the number of
// schedules (one 100,000-schedule document and its copies peaked at over
// 400 MiB).
const syncChunk = 5000

// SyncSchedules upserts the schedules by name, syncChunk per statement, and
// marks the others orphaned, in one transaction. Only code schedules are
// written: a name held by a runtime (api) schedule is left alone and
// counted in Conflicts. Changed counts existing
// rows that changed in any stored field (spec, display fields, or being
// un-orphaned); only a changed spec_hash re-bases anchor and next_run. A name
// listed twice counts once (the last entry wins). Misfire and overlap default
// to coalesce and skip when empty.
func (s *Store) SyncSchedules(ctx context.Context, p core.SyncSchedulesParams) (core.SyncResult, error) {
	var res core.SyncResult
	// pick[i] is the index in p.Schedules of the i-th distinct name's last
	// entry, in the order the names first appear.
	at := make(map[string]int, len(p.Schedules))
	pick := make([]int, 0, len(p.Schedules))
	names := make([]string, 0, len(p.Schedules))
	for i, r := range p.Schedules {
		if j, dup := at[r.Name]; dup {
			pick[j] = i
			continue
		}
		at[r.Name] = len(pick)
		pick = append(pick, i)
		names = append(names, r.Name)
	}
	at = nil
	now := s.d.now(p.Now)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		existing := -1
		if q, ok := s.d.stmts()["sync_schedules_count"]; ok {
			// SQLite cannot tell an insert from an update in RETURNING; the
			// write lock is held, so counting first is exact.
			if err := tx.GetContext(ctx, &existing, q, s.d.strings(names)); err != nil {
				return fmt.Errorf("count existing: %w", s.d.interpret(err))
			}
		}
		if err := tx.GetContext(ctx, &res.Conflicts, s.d.q("sync_schedules_conflicts"), s.d.strings(names)); err != nil {
			return fmt.Errorf("count keys held by runtime schedules: %w", s.d.interpret(err))
		}
		changed, inserted, err := s.upsertSchedules(ctx, tx, now, p.Schedules, pick)
		if err != nil {
			return err
		}
		if existing >= 0 {
			inserted = len(pick) - existing
		}
		res.Inserted, res.Changed, res.Unchanged = inserted, changed-inserted, len(pick)-changed-res.Conflicts
		r, err := tx.ExecContext(ctx, s.d.q("sync_schedules_orphan"), now, s.d.strings(names), s.taskList(p.Tasks))
		if err != nil {
			return fmt.Errorf("mark orphans: %w", s.d.interpret(err))
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("mark orphans: %w", err)
		}
		res.Orphaned = int(n)
		return nil
	})
	if err != nil {
		return core.SyncResult{}, fmt.Errorf("sync schedules: %w", err)
	}
	return res, nil
}

// upsertSchedules upserts recs[pick[i]] for every i, syncChunk per
// statement, and returns how many rows the statements wrote (changed) and,
// of those, how many they inserted (PostgreSQL only; SQLite counts apart).
func (s *Store) upsertSchedules(ctx context.Context, tx *sqlx.Tx, now any, recs []core.ScheduleRecord, pick []int) (changed, inserted int, err error) {
	batch := make([]scheduleJSON, 0, min(len(pick), syncChunk))
	var written []sql.NullBool
	for len(pick) > 0 {
		chunk := pick[:min(len(pick), syncChunk)]
		pick = pick[len(chunk):]
		batch = batch[:0]
		for _, i := range chunk {
			batch = append(batch, s.scheduleJSON(recs[i]))
		}
		js, err := jsonParam(batch)
		if err != nil {
			return 0, 0, err
		}
		written = written[:0]
		if err := tx.SelectContext(ctx, &written, s.d.q("sync_schedules_upsert"), now, js); err != nil {
			return 0, 0, fmt.Errorf("upsert: %w", s.d.interpret(err))
		}
		changed += len(written)
		for _, ins := range written {
			if ins.Bool {
				inserted++
			}
		}
	}
	return changed, inserted, nil
}

// scheduleJSON is r as the upsert statement reads it.
func (s *Store) scheduleJSON(r core.ScheduleRecord) scheduleJSON {
	misfire, overlap := string(r.Misfire), string(r.Overlap)
	if misfire == "" {
		misfire = string(core.MisfireCoalesce)
	}
	if overlap == "" {
		overlap = string(core.OverlapSkip)
	}
	j := scheduleJSON{
		Name: r.Name, Task: r.Task, DisplayName: r.DisplayName, Kind: r.Kind,
		EverySeconds: r.EverySeconds, Cron: r.Cron, Timezone: r.Timezone, SpecHash: r.SpecHash,
		RunOnStartup: r.RunOnStartup, Misfire: misfire, Overlap: overlap, MaxCatchup: r.MaxCatchup,
		Retries: r.Retries, DelaySeconds: r.DelaySeconds, Backoff: r.Backoff,
		TimeoutSeconds: r.TimeoutSeconds, JitterSeconds: r.JitterSeconds,
		Anchor: s.d.arg(r.Anchor), NextRun: s.d.arg(r.NextRun),
	}
	if r.OnceAt != nil {
		j.OnceAt = s.d.arg(*r.OnceAt)
	}
	return j
}

// plannedRunJSON is one run of ClaimDue's insert; its keys are the columns
// the statement reads.
type plannedRunJSON struct {
	Schedule     string `json:"schedule"`
	Task         string `json:"task"`
	DisplayName  string `json:"display_name"`
	Slot         any    `json:"slot"`
	SlotsCovered int    `json:"slots_covered"`
	Status       string `json:"status"`
	RunAt        any    `json:"run_at"`
	MaxAttempts  int    `json:"max_attempts"`
	Error        string `json:"error"`
	// A runtime schedule's payload and policy overrides (omitted: none).
	Payload           json.RawMessage `json:"payload,omitempty"`
	RetryDelaySeconds *float64        `json:"retry_delay_seconds,omitempty"`
	RetryBackoff      *float64        `json:"retry_backoff,omitempty"`
	TimeoutSeconds    *float64        `json:"timeout_seconds,omitempty"`

	slot  time.Time // Slot as planned, to match the rows the insert returns
	runAt time.Time // RunAt as planned (zero: now)
	due   int       // the index of its schedule's due row
}

// overrides are the run's policy overrides as planned.
func (pr *plannedRunJSON) overrides() core.RunOverrides {
	return core.RunOverrides{RetryDelaySeconds: pr.RetryDelaySeconds, RetryBackoff: pr.RetryBackoff, TimeoutSeconds: pr.TimeoutSeconds}
}

// advanceJSON is one schedule's new next_run (and remaining_runs, nil:
// unchanged).
type advanceJSON struct {
	Name          string `json:"name"`
	NextRun       any    `json:"next_run"`
	RemainingRuns *int   `json:"remaining_runs,omitempty"`

	nextRun time.Time // NextRun as planned (zero: never again)
}

// ClaimDue locks up to p.Limit due schedules (FOR UPDATE SKIP LOCKED on
// PostgreSQL; the database write lock, taken by BEGIN IMMEDIATE, on SQLite),
// calls p.Plan with them, inserts every planned run in one statement (a
// (schedule, slot) that exists is a conflict, not an error) and advances
// every planned next_run in one statement: three statements in one
// transaction, whatever the batch size (two on PostgreSQL, where the insert
// and the advance are one statement). Plans for schedules that were not
// claimed are ignored, as are later plans for a schedule already planned.
// Running runs need p.LeaseUntil.
func (s *Store) ClaimDue(ctx context.Context, p core.ClaimDueParams) (core.ClaimDueResult, error) {
	var res core.ClaimDueResult
	if err := checkClaimDue(p); err != nil {
		return res, err
	}
	limit := claimLimit(p)
	now := s.d.now(p.Now)
	buf := freeClaimBufs.get()
	defer buf.release()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if s.d.jitOff {
			if _, err := tx.ExecContext(ctx, s.d.q("claim_due_jit_off")); err != nil {
				return fmt.Errorf("claim due: jit off: %w", s.d.interpret(err))
			}
		}
		if s.inClaim != nil {
			if err := s.inClaim(tx); err != nil {
				return err
			}
		}
		due, err := s.selectDue(ctx, tx, now, limit, s.taskList(p.Tasks), p.After, buf.due[:0], nil)
		buf.due = due
		if err != nil {
			return err
		}
		res.Claimed, res.Last = len(due), lastDue(due)
		if len(due) == 0 {
			return nil
		}
		planned, advance := s.plannedRuns(due, p.Plan(due), buf.planned[:0], buf.advance[:0])
		buf.planned, buf.advance = planned, advance
		if s.d.arrays { // one statement inserts the runs and advances the schedules
			return s.storePlanned(ctx, tx, p, now, planned, advance, &res)
		}
		if len(planned) > 0 {
			js, err := jsonParam(planned)
			if err != nil {
				return err
			}
			inserted, err := s.insertPlanned(ctx, tx, planned, p, now, s.d.arg(p.LeaseUntil), p.TickID, js)
			if err != nil {
				return err
			}
			res.Runs, res.Conflicts = inserted, len(planned)-len(inserted)
		}
		if len(advance) > 0 {
			js, err := jsonParam(advance)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.d.q("claim_due_advance"), js, now); err != nil {
				return fmt.Errorf("advance next_run: %w", s.d.interpret(err))
			}
		}
		return s.alertMissed(ctx, tx, p, now, res.Runs)
	})
	if err != nil {
		return core.ClaimDueResult{}, fmt.Errorf("claim due: %w", err)
	}
	return res, nil
}

// storePlanned inserts the planned runs running (a slot recorded already
// is skipped: a conflict) and advances the schedules in one statement
// (PostgreSQL), and writes the claim's alerts, all in tx; res gets the
// runs inserted and the conflicts.
func (s *Store) storePlanned(ctx context.Context, tx *sqlx.Tx, p core.ClaimDueParams, now any, planned []plannedRunJSON, advance []advanceJSON, res *core.ClaimDueResult) error {
	if len(planned) == 0 && len(advance) == 0 {
		return nil
	}
	pb := getParamBuf()
	defer pb.release() // after the statement: args alias it
	args := append([]any{now, s.d.arg(p.LeaseUntil), p.TickID}, pb.claimArrays(planned, advance)...)
	inserted, err := s.insertPlanned(ctx, tx, planned, p, args...)
	if err != nil {
		return err
	}
	res.Runs, res.Conflicts = inserted, len(planned)-len(inserted)
	return s.alertMissed(ctx, tx, p, now, res.Runs)
}

// claimLimit is p's batch size, or the default.
func claimLimit(p core.ClaimDueParams) int {
	if p.Limit <= 0 {
		return defaultClaimLimit
	}
	return p.Limit
}

// lastDue is the key of the last of due, the selected rows in the claim's
// order (nil: none).
func lastDue(due []core.DueSchedule) *core.DueKey {
	if len(due) == 0 {
		return nil
	}
	d := &due[len(due)-1]
	return &core.DueKey{NextRun: d.NextRun, Name: d.Name}
}

// claimBuf holds one ClaimDue's batch-sized slices, reused by the next
// claim (a tick claims batch after batch): growing a fresh due slice to
// 5,000 schedules allocated about 7 MB a batch, most of a 10,000-run
// tick's allocated bytes, and a big tick's garbage paces the GC.
type claimBuf struct {
	due     []core.DueSchedule
	planned []plannedRunJSON
	advance []advanceJSON
	// A held claim's due rows' run ids and taken flags (heldRows).
	ids   []int64
	taken []bool
}

// freeClaimBufs keeps released claimBufs for the next claims.
var freeClaimBufs = make(freeList[claimBuf], 2)

// maxKeptClaimBuf bounds the due schedules of a buffer kept for reuse.
const maxKeptClaimBuf = 20000

// release clears the buffers (they must not keep the batch's strings and
// payloads alive) and keeps them for the next claim.
func (b *claimBuf) release() {
	if cap(b.due) > maxKeptClaimBuf || cap(b.planned) > 2*maxKeptClaimBuf {
		return
	}
	clear(b.due)
	clear(b.planned)
	clear(b.advance)
	b.due, b.planned, b.advance = b.due[:0], b.planned[:0], b.advance[:0]
	b.ids, b.taken = b.ids[:0], b.taken[:0]
	freeClaimBufs.put(b)
}

// selectDue locks up to limit due schedules (claim_due_select), scanned
// without reflection and appended to due (a reused buffer).
func (s *Store) selectDue(ctx context.Context, tx *sqlx.Tx, now any, limit int, tasks any, after *core.DueKey, due []core.DueSchedule, held *heldRows) ([]core.DueSchedule, error) {
	args := []any{now, limit, tasks}
	if s.d.arrays {
		args = append(args, held != nil, nil, nil)
		if after != nil {
			args[4], args[5] = after.NextRun.UTC(), after.Name
		}
	}
	rows, err := tx.QueryContext(ctx, s.d.q("claim_due_select"), args...)
	if err != nil {
		return due, fmt.Errorf("select due: %w", s.d.interpret(err))
	}
	defer rows.Close()
	if cap(due) == 0 {
		due = make([]core.DueSchedule, 0, min(limit, 1024))
	}
	// Scan's destinations escape: declared once, not once per row, and a
	// row is scanned into its place in due (DueSchedule is large: building
	// it apart and appending it copied it, and its pointers met the GC's
	// write barrier).
	var (
		nextRun sendTime
		api     sql.RawBytes // decoded before the next row
		in      interner     // runtime schedules' repeated strings
		runID   sql.NullInt64
		taken   sql.NullBool
	)
	dest := []any{nil, nil, &nextRun, nil, &api}
	if s.d.arrays {
		dest = append(dest, &runID, &taken)
	}
	for rows.Next() {
		due = append(due, core.DueSchedule{})
		d := &due[len(due)-1]
		dest[0], dest[1], dest[3] = &d.Name, &d.SpecHash, &d.Active
		if err := rows.Scan(dest...); err != nil {
			return due[:len(due)-1], fmt.Errorf("select due: scan: %w", s.d.interpret(err))
		}
		if held != nil {
			if !runID.Valid {
				return due[:len(due)-1], errors.New("select due: a held claim's row without a run id")
			}
			held.ids = append(held.ids, runID.Int64)
			held.taken = append(held.taken, taken.Bool)
		}
		d.NextRun, d.Origin = nextRun.Time, core.OriginCode
		if api != nil {
			if in == nil {
				in = interner{}
			}
			if err := decodeDueAPI(api, s.d.packed, d, in); err != nil {
				return due[:len(due)-1], fmt.Errorf("select due: schedule %q: %w", d.Name, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return due, fmt.Errorf("select due: %w", s.d.interpret(err))
	}
	return due, nil
}

// plannedRuns flattens the plans of the claimed schedules (due) into the
// runs to insert and the next_run advances, appended to planned and advance
// (reused buffers). Plans for schedules that were not claimed are ignored,
// as are later plans for a schedule already planned. The JSON-only fields
// are filled for SQLite alone.
func (s *Store) plannedRuns(due []core.DueSchedule, plans []core.SchedulePlan, planned []plannedRunJSON, advance []advanceJSON) ([]plannedRunJSON, []advanceJSON) {
	n := 0
	for i := range plans {
		n += len(plans[i].Runs)
	}
	planned, advance = slices.Grow(planned, n), slices.Grow(advance, len(plans))
	var claimed map[string]int // due index; only when the plans are not in due's order
	if !inDueOrder(due, plans) {
		claimed = make(map[string]int, len(due))
		for i := range due {
			claimed[due[i].Name] = i
		}
	}
	d := 0 // the plan's due row
	for i := range plans {
		pl := &plans[i]
		if claimed != nil {
			k, ok := claimed[pl.Schedule]
			if !ok {
				continue
			}
			delete(claimed, pl.Schedule) // one plan per schedule
			d = k
		} else {
			for due[d].Name != pl.Schedule { // inDueOrder: it is ahead
				d++
			}
		}
		a := advanceJSON{Name: pl.Schedule, RemainingRuns: pl.RemainingRuns, nextRun: pl.NextRun}
		if !s.d.arrays {
			a.NextRun = s.d.arg(pl.NextRun)
		}
		advance = append(advance, a)
		for j := range pl.Runs {
			r := &pl.Runs[j]
			pr := plannedRunJSON{
				Schedule: pl.Schedule, Task: r.Task, DisplayName: r.DisplayName,
				SlotsCovered: max(r.SlotsCovered, 1), Status: string(r.Status),
				MaxAttempts: max(r.MaxAttempts, 1), Error: r.Error, Payload: r.Payload,
				RetryDelaySeconds: r.Overrides.RetryDelaySeconds, RetryBackoff: r.Overrides.RetryBackoff,
				TimeoutSeconds: r.Overrides.TimeoutSeconds, slot: r.Slot, runAt: r.RunAt, due: d,
			}
			if !s.d.arrays {
				pr.Slot, pr.RunAt = s.d.arg(r.Slot), s.d.arg(r.RunAt)
			}
			planned = append(planned, pr)
		}
	}
	return planned, advance
}

// inDueOrder reports whether every plan is for a claimed schedule, at most
// one per schedule, in the order of due (as Engine.plan returns them): then
// plannedRuns needs no set of the claimed names.
func inDueOrder(due []core.DueSchedule, plans []core.SchedulePlan) bool {
	j := 0
	for i := range plans {
		for j < len(due) && due[j].Name != plans[i].Schedule {
			j++
		}
		if j == len(due) {
			return false
		}
		j++
	}
	return true
}

// insertPlanned runs the insert statement with args and returns the runs
// inserted (a slot recorded already is skipped), ordered by id. Only the
// identity columns come back from the database (and created_at when p.Now
// is zero on PostgreSQL, whose statement then reads now()); the rest is
// what was planned: the status as planned, run_at the planned instant of a
// pending run or else now, created_at now.
func (s *Store) insertPlanned(ctx context.Context, tx *sqlx.Tx, planned []plannedRunJSON, p core.ClaimDueParams, args ...any) ([]core.Run, error) {
	rows, err := tx.QueryContext(ctx, s.d.q("claim_due_insert_runs"), args...)
	if err != nil {
		return nil, fmt.Errorf("insert runs: %w", s.d.interpret(err))
	}
	defer rows.Close()
	m := plannedMatcher{planned: planned}
	out := make([]core.Run, 0, len(planned))
	// Every row shares the statement's created_at and the lease: one
	// pointer each per batch, not one per run.
	lease := p.LeaseUntil.UTC()
	now := p.Now.UTC().Truncate(time.Microsecond)
	createdAt := &now
	slots := make([]time.Time, 0, len(planned)) // the runs' Slot pointers point here
	// Scan's destinations escape: declared once, not once per row.
	var (
		id       int64
		schedule string
		slot     sendTime
		created  sendTime
	)
	for rows.Next() {
		if err := rows.Scan(&id, &schedule, &slot, &created); err != nil {
			return nil, fmt.Errorf("insert runs: scan: %w", s.d.interpret(err))
		}
		pr := m.find(schedule, slot.Time)
		if pr == nil {
			return nil, fmt.Errorf("insert runs: the database returned a run for %s at %v that was not planned", schedule, slot.Time)
		}
		if created.Valid && !createdAt.Equal(created.Time) {
			createdAt = created.ptr()
		}
		out = append(out, core.Run{})
		r := &out[len(out)-1]
		pr.fill(r, id, createdAt, &lease, p.TickID)
		if slot.Valid {
			slots = append(slots, slot.Time)
			r.Slot = &slots[len(slots)-1]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert runs: %w", s.d.interpret(err))
	}
	byID := func(a, b core.Run) int { return cmp.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(out, byID) {
		slices.SortFunc(out, byID)
	}
	return out, nil
}

// fill writes into *r (a zero Run) the run pr stands for once stored with
// id at createdAt (the claim's now), leased until lease when it runs; its
// Slot is left to the caller (a batch's slots share one array).
func (pr *plannedRunJSON) fill(r *core.Run, id int64, createdAt, lease *time.Time, tickID string) {
	r.ID, r.Task, r.DisplayName, r.Schedule = id, pr.Task, pr.DisplayName, pr.Schedule
	r.Source, r.SlotsCovered = core.SourceScheduled, pr.SlotsCovered
	r.Status, r.MaxAttempts, r.Error = core.Status(pr.Status), pr.MaxAttempts, pr.Error
	r.RunAt, r.CreatedAt, r.TickID = *createdAt, *createdAt, tickID
	r.Payload, r.RunOverrides = pr.Payload, pr.overrides()
	switch {
	case r.Status == core.StatusRunning:
		r.Attempt = 1
		r.LeaseUntil, r.StartedAt = lease, createdAt
	case r.Status == core.StatusPending:
		if !pr.runAt.IsZero() {
			r.RunAt = time.UnixMicro(pr.runAt.UnixMicro()).UTC()
		}
	case r.Status.Final():
		r.FinishedAt = createdAt
	}
}

// plannedMatcher finds the planned run a row of the insert stands for. The
// rows come back in the order they were planned, less the conflicts, so it
// looks ahead of the last match first and builds an index only if a row is
// not there (an order no statement here produces, but nothing guarantees).
type plannedMatcher struct {
	planned []plannedRunJSON
	next    int
	byKey   map[plannedKey]*plannedRunJSON
}

type plannedKey struct {
	schedule string
	slot     int64
}

// lookAhead bounds the planned runs skipped over (conflicts) before the
// matcher falls back to its index.
const lookAhead = 8

func (m *plannedMatcher) find(schedule string, slot time.Time) *plannedRunJSON {
	us := slot.UnixMicro()
	for i := m.next; i < len(m.planned) && i < m.next+lookAhead; i++ {
		if pr := &m.planned[i]; pr.slot.UnixMicro() == us && pr.Schedule == schedule {
			m.next = i + 1
			return pr
		}
	}
	if m.byKey == nil {
		m.byKey = make(map[plannedKey]*plannedRunJSON, len(m.planned))
		for i := range m.planned {
			m.byKey[plannedKey{m.planned[i].Schedule, m.planned[i].slot.UnixMicro()}] = &m.planned[i]
		}
	}
	return m.byKey[plannedKey{schedule, us}]
}

// ListSchedules returns every stored schedule by name, with its latest run
// (by id: a scheduled, skipped or triggered run).
func (s *Store) ListSchedules(ctx context.Context) ([]core.ScheduleRecord, error) {
	recs, err := s.schedules(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return recs, nil
}

// schedules reads the schedule named name, or every schedule when name is
// empty, with their latest runs.
func (s *Store) schedules(ctx context.Context, name string) ([]core.ScheduleRecord, error) {
	var rows []scheduleRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("list_schedules"), name); err != nil {
		return nil, s.d.interpret(err)
	}
	out := make([]core.ScheduleRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// GetSchedule returns one schedule with its latest run, or an error wrapping
// core.ErrNotFound.
func (s *Store) GetSchedule(ctx context.Context, name string) (core.ScheduleRecord, error) {
	if name == "" {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	recs, err := s.schedules(ctx, name)
	if err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("get schedule %q: %w", name, err)
	}
	if len(recs) == 0 {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	return recs[0], nil
}

// SetSchedulePaused pauses or resumes p.Name, stamping updated_at with p.Now
// (the database clock when zero), and returns it (an error wrapping
// core.ErrNotFound if absent). A paused schedule is not claimed; its
// next_run stays where it was, so the misfire policy decides what a resumed
// schedule runs.
func (s *Store) SetSchedulePaused(ctx context.Context, p core.SetSchedulePausedParams) (core.ScheduleRecord, error) {
	name := p.Name
	r, err := s.db.ExecContext(ctx, s.d.q("set_schedule_paused"), name, p.Paused, s.d.now(p.Now))
	if err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("set schedule %q paused: %w", name, s.d.interpret(err))
	}
	if n, err := r.RowsAffected(); err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("set schedule %q paused: %w", name, err)
	} else if n == 0 {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	return s.GetSchedule(ctx, name)
}
