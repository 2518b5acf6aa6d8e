package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// Runtime schedules: the store methods behind the Engine's CreateSchedule,
// UpsertSchedule(s), UpdateSchedule, DeleteSchedule and ListSchedules. Each
// takes the caller's transaction (core.Tx), or nil for one of its own.
//
// On PostgreSQL the caller's transaction is any *sql.Tx or *sqlx.Tx on the
// same database. On SQLite it must be a transaction begun on Store.DB()
// (whose transactions take the write lock at BEGIN): one begun on another
// connection pool to the same file would wait for this one's lock.

// querier is what the statements here need of a transaction: a
// core.Tx, or the *sqlx.Tx of a transaction of the store's own.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inCallerTx runs fn in tx, or in a transaction of the store's own when tx
// is nil. A caller's transaction is neither committed nor rolled back.
func (s *Store) inCallerTx(ctx context.Context, tx core.Tx, fn func(q querier) error) error {
	if tx != nil {
		return fn(tx)
	}
	return s.inTx(ctx, func(t *sqlx.Tx) error { return fn(t) })
}

// selectRows runs query in q and scans every row into dest (a pointer to a
// slice of structs with db tags), as sqlx.Select does.
func (s *Store) selectRows(ctx context.Context, q querier, dest any, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return s.d.interpret(err)
	}
	defer rows.Close()
	if err := sqlx.StructScan(rows, dest); err != nil {
		return s.d.interpret(err)
	}
	return nil
}

// apiScheduleJSON is one record of insert_schedules' JSON parameter: the
// columns sync writes plus those of runtime schedules.
type apiScheduleJSON struct {
	scheduleJSON
	Paused        bool              `json:"paused"`
	Payload       json.RawMessage   `json:"payload,omitempty"`
	Labels        map[string]string `json:"labels"`
	StartAt       any               `json:"start_at"`
	EndAt         any               `json:"end_at"`
	MaxRuns       *int              `json:"max_runs"`
	RemainingRuns *int              `json:"remaining_runs"`
	CompletedAt   any               `json:"completed_at"`
}

// apiScheduleJSON is r as insert_schedules reads it.
func (s *Store) apiScheduleJSON(r *core.ScheduleRecord) apiScheduleJSON {
	j := apiScheduleJSON{
		scheduleJSON: s.scheduleJSON(*r), Paused: r.Paused, Payload: r.Payload, Labels: r.Labels,
		MaxRuns: r.MaxRuns, RemainingRuns: r.RemainingRuns,
	}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	if r.StartAt != nil {
		j.StartAt = s.d.arg(*r.StartAt)
	}
	if r.EndAt != nil {
		j.EndAt = s.d.arg(*r.EndAt)
	}
	if r.CompletedAt != nil {
		j.CompletedAt = s.d.arg(*r.CompletedAt)
	}
	return j
}

// insertArgs are insert_schedules' parameters: now, upsert, then recs as
// one array per column on PostgreSQL (see scheduleArrays), one JSON
// document on SQLite.
func (s *Store) insertArgs(now any, upsert bool, recs []core.ScheduleRecord) ([]any, error) {
	if s.d.arrays {
		arrays, err := scheduleArrays(recs)
		if err != nil {
			return nil, err
		}
		return append([]any{now, upsert}, arrays...), nil
	}
	batch := make([]apiScheduleJSON, len(recs))
	for i := range recs {
		batch[i] = s.apiScheduleJSON(&recs[i])
	}
	js, err := jsonParam(batch)
	if err != nil {
		return nil, err
	}
	return []any{now, upsert, js}, nil
}

// insertChunk bounds the records of one insert_schedules statement (see
// syncChunk): core.MaxUpsertBatch is two statements.
const insertChunk = syncChunk

// InsertSchedules creates or upserts runtime schedules (see
// core.Store.InsertSchedules), insertChunk per statement, in tx (nil: its
// own transaction). A key taken (any row on create, a code row on upsert)
// is found by one indexed read before anything is written; a key another
// transaction inserts meanwhile is caught by the insert itself, whose rows
// are then deleted again, so nothing stays written on error.
func (s *Store) InsertSchedules(ctx context.Context, tx core.Tx, p core.InsertSchedulesParams) (core.UpsertResult, error) {
	var res core.UpsertResult
	if len(p.Records) == 0 {
		return res, nil
	}
	keys := make([]string, len(p.Records))
	for i := range p.Records {
		keys[i] = p.Records[i].Name
	}
	now := s.d.now(p.Now)
	err := s.inCallerTx(ctx, tx, func(q querier) error {
		var taken []struct {
			Name   string `db:"name"`
			Origin string `db:"origin"`
		}
		if err := s.selectRows(ctx, q, &taken, s.d.q("schedule_keys_taken"), s.d.strings(keys), !p.Upsert); err != nil {
			return fmt.Errorf("check keys: %w", err)
		}
		if len(taken) > 0 {
			return keyTaken(taken[0].Name, taken[0].Origin, p.Upsert)
		}
		existing := 0
		if qc, ok := s.d.stmts()["sync_schedules_count"]; ok && p.Upsert {
			// SQLite cannot tell an insert from an update in RETURNING; the
			// write lock is held, so counting first is exact.
			if err := q.QueryRowContext(ctx, qc, s.d.strings(keys)).Scan(&existing); err != nil {
				return fmt.Errorf("count existing: %w", s.d.interpret(err))
			}
		}
		var written []writtenRow
		for recs := p.Records; len(recs) > 0; {
			chunk := recs[:min(len(recs), insertChunk)]
			recs = recs[len(chunk):]
			args, err := s.insertArgs(now, p.Upsert, chunk)
			if err != nil {
				return err
			}
			var w []writtenRow
			if err := s.selectRows(ctx, q, &w, s.d.q("insert_schedules"), args...); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			written = append(written, w...)
		}
		if !p.Upsert {
			if len(written) < len(p.Records) { // a key inserted meanwhile
				return s.undoInsert(ctx, q, written, p.Records)
			}
			res.Created = len(written)
			return nil
		}
		if s.d.arrays {
			for _, w := range written {
				if w.Inserted.Bool {
					res.Created++
				}
			}
		} else {
			res.Created = len(p.Records) - existing
		}
		res.Changed = len(written) - res.Created
		res.Unchanged = len(p.Records) - len(written)
		return nil
	})
	if err != nil {
		return core.UpsertResult{}, fmt.Errorf("insert schedules: %w", err)
	}
	return res, nil
}

// writtenRow is a row insert_schedules wrote: its key, and on PostgreSQL
// whether it was inserted (NULL on SQLite).
type writtenRow struct {
	Name     string       `db:"name"`
	Inserted sql.NullBool `db:"inserted"`
}

// keyTaken is the error for a key held by a row of origin: a duplicate on
// create, a conflict on upsert (which only finds code rows).
func keyTaken(key, origin string, upsert bool) error {
	switch {
	case upsert:
		return fmt.Errorf("schedule %q is declared in code: %w", key, core.ErrConflict)
	case origin == core.OriginCode:
		return fmt.Errorf("schedule %q exists, declared in code: %w", key, core.ErrDuplicate)
	}
	return fmt.Errorf("schedule %q exists: %w", key, core.ErrDuplicate)
}

// undoInsert deletes the rows a create inserted when another transaction
// took one of its keys meanwhile, and reports that key as a duplicate.
func (s *Store) undoInsert(ctx context.Context, q querier, written []writtenRow, recs []core.ScheduleRecord) error {
	got := make(map[string]bool, len(written))
	for _, w := range written {
		got[w.Name] = true
		if _, err := q.ExecContext(ctx, s.d.q("delete_schedule"), w.Name, ""); err != nil {
			return fmt.Errorf("undo insert: %w", s.d.interpret(err))
		}
	}
	for _, r := range recs {
		if !got[r.Name] {
			return fmt.Errorf("schedule %q exists: %w", r.Name, core.ErrDuplicate)
		}
	}
	return fmt.Errorf("insert wrote %d of %d schedules: %w", len(written), len(recs), core.ErrDuplicate)
}

// lockSchedule reads schedule key in q, locking its row until q ends
// (ErrNotFound if absent).
func (s *Store) lockSchedule(ctx context.Context, q querier, key string) (core.ScheduleRecord, error) {
	var rows []scheduleRow
	if err := s.selectRows(ctx, q, &rows, s.d.q("lock_schedule"), key); err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("lock: %w", err)
	}
	if len(rows) == 0 {
		return core.ScheduleRecord{}, fmt.Errorf("schedule %q: %w", key, core.ErrNotFound)
	}
	return rows[0].record(), nil
}

// UpdateSchedule locks schedule p.Key in tx (nil: its own transaction),
// calls p.Apply with it and writes the result: a code schedule's paused
// state only (set_schedule_paused), a runtime schedule's every field
// (insert_schedules in upsert mode, which keeps its place when the spec is
// unchanged). It returns the schedule as stored, with its latest run.
func (s *Store) UpdateSchedule(ctx context.Context, tx core.Tx, p core.UpdateScheduleParams) (core.ScheduleRecord, error) {
	var out core.ScheduleRecord
	err := s.inCallerTx(ctx, tx, func(q querier) error {
		cur, err := s.lockSchedule(ctx, q, p.Key)
		if err != nil {
			return err
		}
		next, err := p.Apply(cur)
		if err != nil {
			return err
		}
		if next.Name != cur.Name {
			return fmt.Errorf("update changed the key %q to %q: %w", cur.Name, next.Name, core.ErrInvalid)
		}
		if cur.Origin != core.OriginAPI {
			if _, err := q.ExecContext(ctx, s.d.q("set_schedule_paused"), cur.Name, next.Paused, s.d.now(p.Now)); err != nil {
				return fmt.Errorf("set paused: %w", s.d.interpret(err))
			}
		} else {
			args, err := s.insertArgs(s.d.now(p.Now), true, []core.ScheduleRecord{next})
			if err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, s.d.q("insert_schedules"), args...); err != nil {
				return fmt.Errorf("write: %w", s.d.interpret(err))
			}
		}
		recs, err := s.schedulesIn(ctx, q, cur.Name)
		if err != nil {
			return err
		}
		out = recs[0]
		return nil
	})
	if err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("update schedule %q: %w", p.Key, err)
	}
	return out, nil
}

// DeleteSchedule deletes schedule p.Key in tx (nil: its own transaction)
// when its origin is p.Origin (any when empty). Its runs stay. An absent
// key wraps core.ErrNotFound, a row of another origin core.ErrConflict.
// The delete takes the row lock, so a tick's claim (FOR UPDATE SKIP
// LOCKED) either ran before it or never sees the row.
func (s *Store) DeleteSchedule(ctx context.Context, tx core.Tx, p core.DeleteScheduleParams) error {
	err := s.inCallerTx(ctx, tx, func(q querier) error {
		var deleted []string
		rows, err := q.QueryContext(ctx, s.d.q("delete_schedule"), p.Key, p.Origin)
		if err != nil {
			return s.d.interpret(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return s.d.interpret(err)
			}
			deleted = append(deleted, n)
		}
		if err := rows.Err(); err != nil {
			return s.d.interpret(err)
		}
		rows.Close()
		if len(deleted) > 0 {
			return nil
		}
		cur, err := s.lockSchedule(ctx, q, p.Key)
		if err != nil {
			return err
		}
		return fmt.Errorf("schedule %q is declared in code (origin %s): remove it from the code instead: %w", p.Key, cur.Origin, core.ErrConflict)
	})
	if err != nil {
		return fmt.Errorf("delete schedule %q: %w", p.Key, err)
	}
	return nil
}

// GetScheduleTx is GetSchedule reading in tx (nil: the pool).
func (s *Store) GetScheduleTx(ctx context.Context, tx core.Tx, name string) (core.ScheduleRecord, error) {
	if tx == nil {
		return s.GetSchedule(ctx, name)
	}
	recs, err := s.schedulesIn(ctx, tx, name)
	if err != nil {
		return core.ScheduleRecord{}, fmt.Errorf("get schedule %q: %w", name, err)
	}
	return recs[0], nil
}

// schedulesIn reads schedule name with its latest run in q (ErrNotFound
// when absent).
func (s *Store) schedulesIn(ctx context.Context, q querier, name string) ([]core.ScheduleRecord, error) {
	var rows []scheduleRow
	if err := s.selectRows(ctx, q, &rows, s.d.q("list_schedules"), name); err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("schedule %q: %w", name, core.ErrNotFound)
	}
	out := make([]core.ScheduleRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// ListSchedulesPage returns one page of schedules matching f by key in byte
// order (see list_schedules_page), reading one row more than the page to
// know whether another follows.
func (s *Store) ListSchedulesPage(ctx context.Context, f core.ScheduleFilter) (core.SchedulePage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = core.DefaultListLimit
	}
	var labels any
	if len(f.Labels) > 0 {
		js, err := json.Marshal(f.Labels)
		if err != nil {
			return core.SchedulePage{}, fmt.Errorf("list schedules: %w", err)
		}
		labels = string(js)
	}
	var args []any
	if s.d.name == "postgres" {
		args = []any{f.Task, labels, f.Origin, f.Paused, f.Completed, likePrefix(f.KeyPrefix), f.After, limit + 1}
	} else {
		var upper any
		if u, ok := prefixEnd(f.KeyPrefix); ok {
			upper = u
		}
		args = []any{f.Task, labels, f.Origin, f.Paused, f.Completed, f.KeyPrefix, upper, f.After, limit + 1}
	}
	var rows []scheduleRow
	if err := s.db.SelectContext(ctx, &rows, s.d.q("list_schedules_page"), args...); err != nil {
		return core.SchedulePage{}, fmt.Errorf("list schedules: %w", s.d.interpret(err))
	}
	var page core.SchedulePage
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = rows[limit-1].Name
	}
	page.Schedules = make([]core.ScheduleRecord, len(rows))
	for i := range rows {
		page.Schedules[i] = rows[i].record()
	}
	return page, nil
}

// likePrefix is a LIKE pattern matching the strings that start with
// prefix ("" for no prefix): % and _ escaped with the default escape \.
func likePrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
}

// prefixEnd is the least string greater than every string starting with
// prefix, in byte order: prefix with its last byte below 0xff incremented
// (and what follows it dropped). ok is false when there is none (an empty
// prefix, or all bytes 0xff).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// BeginTx begins a transaction on the store's database, for the
// application's own writes together with the Engine's ...Tx schedule
// methods (on SQLite it takes the write lock at once). The caller commits
// or rolls it back.
func (s *Store) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", s.d.interpret(err))
	}
	return tx, nil
}
