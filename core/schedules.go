package core

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// Runtime schedules ("schedules as data"): schedules created, changed and
// deleted at runtime through the Engine, optionally inside the
// application's own transaction. See the package documentation.

// Tx is the application's own transaction: *sql.Tx and *sqlx.Tx satisfy it.
// The Engine's ...Tx methods run their statements in it and never commit
// or roll it back: the schedule change commits or rolls back with the
// caller's own writes. The transaction must be on the store's database (on
// SQLite, begin it on sqlstore's Store.DB()).
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Limits of runtime schedules.
const (
	// MaxScheduleKeyBytes bounds a runtime schedule's key.
	MaxScheduleKeyBytes = 200
	// MaxLabels bounds the labels of a schedule.
	MaxLabels = 32
	// MaxLabelKeyBytes and MaxLabelValueBytes bound one label.
	MaxLabelKeyBytes   = 63
	MaxLabelValueBytes = 255
	// MaxDisplayNameBytes bounds ScheduleParams.DisplayName.
	MaxDisplayNameBytes = 200
	// MaxUpsertBatch bounds the schedules of one UpsertSchedules call.
	MaxUpsertBatch = 10_000
	// DefaultListLimit and MaxListLimit bound a ListSchedules page.
	DefaultListLimit = 50
	MaxListLimit     = 1000
	// MaxRunsLimit bounds ScheduleParams.MaxRuns.
	MaxRunsLimit = 1 << 30
)

// ScheduleParams describes a runtime schedule (CreateSchedule,
// UpsertSchedule). Exactly one of Every, Cron and Once is set.
type ScheduleParams struct {
	// Key identifies the schedule (stored as its name): 1-200 bytes of
	// valid text.
	Key string
	// Task is the task the schedule runs: registered in this Engine's
	// Registry.
	Task string
	// DisplayName is shown by the API and dashboard (default: the task's).
	DisplayName string
	// Every, Cron (+ Timezone, default UTC) or Once: when slots fall.
	Every    time.Duration
	Cron     string
	Timezone string
	Once     time.Time
	// RunOnStartup: the first slot is the first tick after the schedule is
	// stored or its spec changes (or StartAt, when later).
	RunOnStartup bool
	// Payload is handed to each run (RunInfo.Payload); nil (or JSON null)
	// for none. It must pass CheckPayload.
	Payload json.RawMessage
	// Labels are string key/values for filtering (tenant=acme): at most
	// MaxLabels, keys 1-MaxLabelKeyBytes bytes, values at most
	// MaxLabelValueBytes, valid text.
	Labels map[string]string
	// Misfire, Overlap, MaxCatchup and Jitter as the options of the same
	// names (defaults coalesce, skip, DefaultMaxCatchup, 0).
	Misfire    MisfirePolicy
	Overlap    OverlapPolicy
	MaxCatchup int
	Jitter     time.Duration
	// Retries, Delay, Backoff and Timeout override the task's own policy
	// for this schedule's runs (nil: the task's).
	Retries *int
	Delay   *time.Duration
	Backoff *float64
	Timeout *time.Duration
	// StartAt: no slot before it; EndAt: no slot after it, after which the
	// schedule completes. Zero: unbounded. EndAt must be after StartAt.
	StartAt time.Time
	EndAt   time.Time
	// MaxRuns bounds the runs the schedule creates (skipped slots aside),
	// after which it completes; 0: unlimited.
	MaxRuns int
	// Paused: stored paused (not claimed until resumed).
	Paused bool
}

// ScheduleUpdate is a partial update of a runtime schedule (UpdateSchedule):
// nil fields are left as stored. Setting Every, Cron or Once replaces the
// kind (the others are cleared). Of a code schedule only Paused may change.
type ScheduleUpdate struct {
	Task         *string
	DisplayName  *string
	Every        *time.Duration
	Cron         *string
	Timezone     *string
	Once         *time.Time
	RunOnStartup *bool
	// Payload: a non-nil pointer replaces the payload (to nil: none).
	Payload    *json.RawMessage
	Labels     *map[string]string
	Misfire    *MisfirePolicy
	Overlap    *OverlapPolicy
	MaxCatchup *int
	Jitter     *time.Duration
	Retries    *int
	Delay      *time.Duration
	Backoff    *float64
	Timeout    *time.Duration
	// StartAt, EndAt: a non-nil pointer to the zero time clears the bound.
	StartAt *time.Time
	EndAt   *time.Time
	// MaxRuns: a new bound resets RemainingRuns to it (0: unlimited).
	MaxRuns *int
	Paused  *bool
}

// pausedOnly reports whether u changes nothing but Paused.
func (u ScheduleUpdate) pausedOnly() bool {
	v := u
	v.Paused = nil
	return v == ScheduleUpdate{}
}

// ScheduleFilter selects schedules for ListSchedules. Zero fields do not
// filter.
type ScheduleFilter struct {
	// Task: schedules of this task.
	Task string
	// Labels: schedules carrying every one of these labels.
	Labels map[string]string
	// Origin: OriginCode or OriginAPI.
	Origin string
	// Paused, Completed: schedules in that state.
	Paused    *bool
	Completed *bool
	// KeyPrefix: keys that start with it (byte-wise).
	KeyPrefix string
	// After is the cursor: keys after it, in byte order (SchedulePage.Next).
	After string
	// Limit is the page size: DefaultListLimit when 0, at most MaxListLimit.
	Limit int
}

// SchedulePage is one page of ListSchedules.
type SchedulePage struct {
	Schedules []ScheduleRecord `json:"schedules"`
	// Next is the cursor of the next page (ScheduleFilter.After); "" on the
	// last page.
	Next string `json:"next,omitempty"`
}

// UpsertResult counts what an upsert did.
type UpsertResult struct {
	// Created: keys that did not exist.
	Created int `json:"created"`
	// Changed: existing schedules written (any field differed).
	Changed int `json:"changed"`
	// Unchanged: existing schedules identical in every field (not written;
	// updated_at kept).
	Unchanged int `json:"unchanged"`
}

// InsertSchedulesParams are the inputs of Store.InsertSchedules.
type InsertSchedulesParams struct {
	// Now stamps created_at/updated_at (zero: the database clock).
	Now time.Time
	// Records are complete api records (as the Engine builds them), keys
	// distinct.
	Records []ScheduleRecord
	// Upsert: an existing api row is updated (its anchor, next_run and
	// completion kept when SpecHash is unchanged); an existing code row is
	// ErrConflict. Without Upsert any existing key is ErrDuplicate. Either
	// error writes nothing.
	Upsert bool
}

// UpdateScheduleParams are the inputs of Store.UpdateSchedule.
type UpdateScheduleParams struct {
	Now time.Time
	Key string
	// Apply computes the new record from the locked current one (pure: no
	// I/O). Its error is returned as is, and nothing is written.
	Apply func(cur ScheduleRecord) (ScheduleRecord, error)
}

// DeleteScheduleParams are the inputs of Store.DeleteSchedule.
type DeleteScheduleParams struct {
	Key string
	// Origin, when set, is the only origin deleted: a row of another origin
	// is ErrConflict.
	Origin string
}

// toSpec converts p's timing fields to the options spec newSchedule reads.
func (p *ScheduleParams) toSpec() *spec {
	sp := &spec{
		timezone: p.Timezone, runOnStartup: p.RunOnStartup, misfire: p.Misfire, overlap: p.Overlap,
		maxCatchup: p.MaxCatchup, jitter: p.Jitter, startAt: p.StartAt.UTC(),
	}
	if p.Every != 0 {
		sp.every, sp.everySet = p.Every, true
	}
	if p.Cron != "" {
		sp.cron, sp.cronSet = p.Cron, true
	}
	if !p.Once.IsZero() {
		sp.once, sp.onceSet = p.Once, true
	}
	return sp
}

// checkParams validates p's fields that are not part of the spec. The
// error is a ValidationError naming the field.
func checkParams(p *ScheduleParams) error {
	if err := CheckText("key", p.Key); err != nil {
		return err
	}
	if p.Key == "" || len(p.Key) > MaxScheduleKeyBytes {
		return invalid("key", CleanText(p.Key), "must be 1-%d bytes", MaxScheduleKeyBytes)
	}
	for _, f := range []struct{ field, v string }{{"task", p.Task}, {"display_name", p.DisplayName}, {"cron", p.Cron}, {"timezone", p.Timezone}} {
		if err := CheckText(f.field, f.v); err != nil {
			return err
		}
	}
	if len(p.DisplayName) > MaxDisplayNameBytes {
		return invalid("display_name", "", "must be at most %d bytes", MaxDisplayNameBytes)
	}
	if err := CheckPayload(p.Payload); err != nil {
		return err
	}
	if err := CheckLabels("labels", p.Labels); err != nil {
		return err
	}
	for _, t := range []struct {
		field string
		v     time.Time
	}{{"once", p.Once}, {"start_at", p.StartAt}, {"end_at", p.EndAt}} {
		if !t.v.IsZero() {
			if err := CheckTime(t.field, t.v); err != nil {
				return err
			}
		}
	}
	switch {
	case !p.StartAt.IsZero() && !p.EndAt.IsZero() && !p.EndAt.After(p.StartAt):
		return invalid("end_at", p.EndAt.UTC().Format(time.RFC3339), "must be after start_at")
	case !p.Once.IsZero() && !p.StartAt.IsZero() && p.Once.Before(p.StartAt):
		return invalid("start_at", p.StartAt.UTC().Format(time.RFC3339), "must not be after once")
	case !p.Once.IsZero() && !p.EndAt.IsZero() && p.Once.After(p.EndAt):
		return invalid("end_at", p.EndAt.UTC().Format(time.RFC3339), "must not be before once")
	case p.MaxRuns < 0 || p.MaxRuns > MaxRunsLimit:
		return invalid("max_runs", fmt.Sprint(p.MaxRuns), "must be 0 (unlimited) to %d", MaxRunsLimit)
	case p.MaxCatchup > MaxRunsLimit:
		return invalid("max_catchup", fmt.Sprint(p.MaxCatchup), "must be at most %d", MaxRunsLimit)
	case p.Retries != nil && (*p.Retries < 0 || *p.Retries > 1000):
		return invalid("retries", fmt.Sprint(*p.Retries), "must be 0-1000")
	case p.Delay != nil && (*p.Delay < 0 || *p.Delay > MaxRunDelay):
		return invalid("delay", p.Delay.String(), "must be 0 to %s", MaxRunDelay)
	case p.Backoff != nil && !(*p.Backoff >= 1 && *p.Backoff <= 1000): // also rejects NaN
		return invalid("backoff", fmt.Sprint(*p.Backoff), "must be 1-1000")
	case p.Timeout != nil && (*p.Timeout < 0 || *p.Timeout > MaxRunDelay):
		return invalid("timeout", p.Timeout.String(), "must be 0 to %s", MaxRunDelay)
	case p.Jitter > MaxRunDelay:
		return invalid("jitter", p.Jitter.String(), "must be at most %s", MaxRunDelay)
	case p.Every > 100*365*24*time.Hour:
		return invalid("every", p.Every.String(), "must be at most 100 years")
	}
	return nil
}

// CheckLabels returns nil when labels are storable schedule labels (see
// ScheduleParams.Labels), else a ValidationError naming field.
func CheckLabels(field string, labels map[string]string) error {
	if len(labels) > MaxLabels {
		return invalid(field, "", "at most %d labels", MaxLabels)
	}
	for k, v := range labels {
		if err := CheckText(field, k); err != nil {
			return err
		}
		if err := CheckText(field, v); err != nil {
			return err
		}
		if k == "" || len(k) > MaxLabelKeyBytes {
			return invalid(field, CleanText(k), "a label key must be 1-%d bytes", MaxLabelKeyBytes)
		}
		if len(v) > MaxLabelValueBytes {
			return invalid(field, CleanText(k), "a label value must be at most %d bytes", MaxLabelValueBytes)
		}
	}
	return nil
}

// apiSchedule validates p against this Engine's Registry and builds the
// Schedule it describes, through the path code schedules take.
func (e *Engine) apiSchedule(p *ScheduleParams) (*Schedule, error) {
	if err := checkParams(p); err != nil {
		return nil, err
	}
	task, ok := e.cfg.Registry.Task(p.Task)
	if !ok {
		return nil, invalid("task", CleanText(p.Task), "is not registered in this process")
	}
	return newSchedule(p.Key, task, p.toSpec())
}

// apiRecord is the record of the runtime schedule s built from p, stored
// at now: spec fields, anchor and next_run computed as for code schedules.
func apiRecord(s *Schedule, p *ScheduleParams, now time.Time) ScheduleRecord {
	rec := scheduleRecord(s, now)
	rec.Origin = OriginAPI
	if p.DisplayName != "" {
		rec.DisplayName = p.DisplayName
	}
	if p.Retries != nil {
		rec.Retries = *p.Retries
	}
	if p.Delay != nil {
		rec.DelaySeconds = p.Delay.Seconds()
	}
	if p.Backoff != nil {
		rec.Backoff = *p.Backoff
	}
	if p.Timeout != nil {
		rec.TimeoutSeconds = p.Timeout.Seconds()
	}
	if len(p.Payload) > 0 && !bytes.Equal(bytes.TrimSpace(p.Payload), []byte("null")) {
		rec.Payload = p.Payload
	}
	rec.Labels = maps.Clone(p.Labels)
	if rec.Labels == nil {
		rec.Labels = map[string]string{}
	}
	rec.StartAt, rec.EndAt = timePtr(p.StartAt), timePtr(p.EndAt)
	if p.MaxRuns > 0 {
		n, left := p.MaxRuns, p.MaxRuns
		rec.MaxRuns, rec.RemainingRuns = &n, &left
	}
	rec.Paused = p.Paused
	complete(&rec, now)
	return rec
}

// complete marks rec completed at now when its next slot is past its end.
func complete(rec *ScheduleRecord, now time.Time) {
	if rec.EndAt != nil && !rec.NextRun.IsZero() && rec.NextRun.After(*rec.EndAt) {
		rec.NextRun = time.Time{}
	}
	if rec.NextRun.IsZero() && rec.CompletedAt == nil {
		t := now.UTC()
		rec.CompletedAt = &t
	}
}

// timePtr is t in UTC, or nil when zero.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// apiClock returns the Engine's clock reading for a schedule write; the
// database's when no Clock is set (records need an instant to compute
// their first slot).
func (e *Engine) apiClock(ctx context.Context) (time.Time, error) {
	now, err := e.now(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if now.IsZero() {
		if now, err = e.cfg.Store.Now(ctx); err != nil {
			return time.Time{}, fmt.Errorf("read clock: %w", err)
		}
	}
	return now.UTC(), nil
}

// CreateSchedule stores a new runtime schedule (origin api) in its own
// transaction. A key that exists (runtime or code schedule) wraps
// ErrDuplicate; bad input is a ValidationError naming the field (an
// unknown task: "task"). Nothing is written on error.
func (e *Engine) CreateSchedule(ctx context.Context, p ScheduleParams) (ScheduleRecord, error) {
	return e.CreateScheduleTx(ctx, nil, p)
}

// CreateScheduleTx is CreateSchedule in the caller's transaction tx: the
// schedule exists for ticks once tx commits, and not at all if it rolls
// back. A nil tx is CreateSchedule.
func (e *Engine) CreateScheduleTx(ctx context.Context, tx Tx, p ScheduleParams) (ScheduleRecord, error) {
	recs, _, err := e.insertSchedules(ctx, tx, []ScheduleParams{p}, false)
	if err != nil {
		return ScheduleRecord{}, fmt.Errorf("create schedule %q: %w", CleanText(p.Key), err)
	}
	return recs[0], nil
}

// UpsertSchedule creates or replaces the runtime schedule p.Key, by key.
// An unchanged spec keeps the schedule's anchor, next slot and completion;
// a changed spec takes effect from the next slot (runs already recorded
// stay). A schedule identical in every field is not written (Unchanged).
// A key held by a code schedule wraps ErrConflict.
func (e *Engine) UpsertSchedule(ctx context.Context, p ScheduleParams) (ScheduleRecord, UpsertResult, error) {
	return e.UpsertScheduleTx(ctx, nil, p)
}

// UpsertScheduleTx is UpsertSchedule in the caller's transaction (nil: its
// own).
func (e *Engine) UpsertScheduleTx(ctx context.Context, tx Tx, p ScheduleParams) (ScheduleRecord, UpsertResult, error) {
	_, res, err := e.insertSchedules(ctx, tx, []ScheduleParams{p}, true)
	if err != nil {
		return ScheduleRecord{}, res, fmt.Errorf("upsert schedule %q: %w", CleanText(p.Key), err)
	}
	rec, err := e.cfg.Store.GetScheduleTx(ctx, tx, p.Key)
	if err != nil {
		return ScheduleRecord{}, res, fmt.Errorf("upsert schedule %q: read back: %w", CleanText(p.Key), err)
	}
	e.describe(&rec)
	return rec, res, nil
}

// UpsertSchedules upserts up to MaxUpsertBatch runtime schedules in one
// transaction, set-based (a statement per few thousand schedules), as
// UpsertSchedule does one. A key given twice, or any bad schedule, fails
// the call (a ValidationError naming the field, prefixed with the index)
// and nothing is written.
func (e *Engine) UpsertSchedules(ctx context.Context, ps []ScheduleParams) (UpsertResult, error) {
	return e.UpsertSchedulesTx(ctx, nil, ps)
}

// UpsertSchedulesTx is UpsertSchedules in the caller's transaction (nil:
// its own).
func (e *Engine) UpsertSchedulesTx(ctx context.Context, tx Tx, ps []ScheduleParams) (UpsertResult, error) {
	_, res, err := e.insertSchedules(ctx, tx, ps, true)
	if err != nil {
		return res, fmt.Errorf("upsert schedules: %w", err)
	}
	return res, nil
}

// insertSchedules validates ps, builds their records and stores them.
func (e *Engine) insertSchedules(ctx context.Context, tx Tx, ps []ScheduleParams, upsert bool) ([]ScheduleRecord, UpsertResult, error) {
	if len(ps) > MaxUpsertBatch {
		return nil, UpsertResult{}, invalid("schedules", "", "at most %d per call, got %d", MaxUpsertBatch, len(ps))
	}
	now, err := e.apiClock(ctx)
	if err != nil {
		return nil, UpsertResult{}, err
	}
	recs := make([]ScheduleRecord, len(ps))
	seen := make(map[string]bool, len(ps))
	for i := range ps {
		s, err := e.apiSchedule(&ps[i])
		if err == nil && seen[ps[i].Key] {
			err = invalid("key", CleanText(ps[i].Key), "given twice in one call")
		}
		if err != nil {
			if len(ps) > 1 {
				return nil, UpsertResult{}, fmt.Errorf("schedule %d: %w", i, err)
			}
			return nil, UpsertResult{}, err
		}
		seen[ps[i].Key] = true
		recs[i] = apiRecord(s, &ps[i], now)
	}
	res, err := e.cfg.Store.InsertSchedules(ctx, tx, InsertSchedulesParams{Now: now, Records: recs, Upsert: upsert})
	if err != nil {
		return nil, res, err
	}
	for i := range recs {
		e.describe(&recs[i])
		recs[i].CreatedAt, recs[i].UpdatedAt = now, now
	}
	return recs, res, nil
}

// UpdateSchedule changes the fields of u that are set on the stored
// schedule key, under its row lock. A spec change takes effect from the
// next slot, as with UpsertSchedule. A code schedule takes only Paused
// (anything else wraps ErrConflict: it is declared in code); an unknown key
// wraps ErrNotFound; bad input is a ValidationError and nothing is written.
func (e *Engine) UpdateSchedule(ctx context.Context, key string, u ScheduleUpdate) (ScheduleRecord, error) {
	return e.UpdateScheduleTx(ctx, nil, key, u)
}

// UpdateScheduleTx is UpdateSchedule in the caller's transaction (nil: its
// own).
func (e *Engine) UpdateScheduleTx(ctx context.Context, tx Tx, key string, u ScheduleUpdate) (ScheduleRecord, error) {
	if err := CheckText("key", key); err != nil {
		return ScheduleRecord{}, err
	}
	now, err := e.apiClock(ctx)
	if err != nil {
		return ScheduleRecord{}, err
	}
	rec, err := e.cfg.Store.UpdateSchedule(ctx, tx, UpdateScheduleParams{Now: now, Key: key, Apply: func(cur ScheduleRecord) (ScheduleRecord, error) {
		return e.applyUpdate(cur, u, now)
	}})
	if err != nil {
		return ScheduleRecord{}, fmt.Errorf("update schedule %q: %w", CleanText(key), err)
	}
	e.describe(&rec)
	return rec, nil
}

// applyUpdate merges u into the stored cur and returns the record to write.
func (e *Engine) applyUpdate(cur ScheduleRecord, u ScheduleUpdate, now time.Time) (ScheduleRecord, error) {
	if cur.Origin != OriginAPI {
		if !u.pausedOnly() {
			return cur, fmt.Errorf("schedule %q is declared in code: only paused may change through the API: %w", CleanText(cur.Name), ErrConflict)
		}
		if u.Paused != nil {
			cur.Paused = *u.Paused
		}
		cur.UpdatedAt = now
		return cur, nil
	}
	p := recordParams(&cur)
	if u.Every != nil || u.Cron != nil || u.Once != nil {
		p.Every, p.Cron, p.Once = 0, "", time.Time{}
	}
	assign(&p.Task, u.Task)
	assign(&p.DisplayName, u.DisplayName)
	assign(&p.Every, u.Every)
	assign(&p.Cron, u.Cron)
	assign(&p.Timezone, u.Timezone)
	assign(&p.Once, u.Once)
	assign(&p.RunOnStartup, u.RunOnStartup)
	assign(&p.Payload, u.Payload)
	assign(&p.Labels, u.Labels)
	assign(&p.Misfire, u.Misfire)
	assign(&p.Overlap, u.Overlap)
	assign(&p.MaxCatchup, u.MaxCatchup)
	assign(&p.Jitter, u.Jitter)
	assign(&p.StartAt, u.StartAt)
	assign(&p.EndAt, u.EndAt)
	assign(&p.MaxRuns, u.MaxRuns)
	assign(&p.Paused, u.Paused)
	if u.Retries != nil {
		p.Retries = u.Retries
	}
	if u.Delay != nil {
		p.Delay = u.Delay
	}
	if u.Backoff != nil {
		p.Backoff = u.Backoff
	}
	if u.Timeout != nil {
		p.Timeout = u.Timeout
	}
	s, err := e.apiSchedule(&p)
	if err != nil {
		return cur, err
	}
	next := apiRecord(s, &p, now)
	if next.SpecHash == cur.SpecHash { // the spec stands: keep its place
		next.Anchor, next.NextRun, next.CompletedAt = cur.Anchor, cur.NextRun, cur.CompletedAt
	}
	if u.MaxRuns == nil { // the count goes on
		next.MaxRuns, next.RemainingRuns = cur.MaxRuns, cur.RemainingRuns
	}
	next.CreatedAt, next.UpdatedAt = cur.CreatedAt, now
	return next, nil
}

// assign sets *dst to *src when src is not nil.
func assign[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// recordParams is the ScheduleParams a stored api record was built from;
// the policy overrides are the record's effective values.
func recordParams(r *ScheduleRecord) ScheduleParams {
	p := ScheduleParams{
		Key: r.Name, Task: r.Task, DisplayName: r.DisplayName, Timezone: r.Timezone,
		RunOnStartup: r.RunOnStartup, Payload: r.Payload, Labels: r.Labels, Misfire: r.Misfire,
		Overlap: r.Overlap, MaxCatchup: r.MaxCatchup, Jitter: seconds(r.JitterSeconds), Paused: r.Paused,
	}
	switch r.Kind {
	case KindEvery:
		p.Every = seconds(r.EverySeconds)
	case KindCron:
		p.Cron = r.Cron
	case KindOnce:
		if r.OnceAt != nil {
			p.Once = *r.OnceAt
		}
	}
	retries, delay, backoff, timeout := r.Retries, seconds(r.DelaySeconds), r.Backoff, seconds(r.TimeoutSeconds)
	p.Retries, p.Delay, p.Backoff, p.Timeout = &retries, &delay, &backoff, &timeout
	if r.StartAt != nil {
		p.StartAt = *r.StartAt
	}
	if r.EndAt != nil {
		p.EndAt = *r.EndAt
	}
	if r.MaxRuns != nil {
		p.MaxRuns = *r.MaxRuns
	}
	return p
}

// seconds converts stored seconds to a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// DeleteSchedule deletes the runtime schedule key: it never fires after the
// delete commits; its runs stay as history, and a pending or running run
// of it completes. A code schedule wraps ErrConflict (it is declared in
// code: remove it from the code); an unknown key wraps ErrNotFound.
func (e *Engine) DeleteSchedule(ctx context.Context, key string) error {
	return e.DeleteScheduleTx(ctx, nil, key)
}

// DeleteScheduleTx is DeleteSchedule in the caller's transaction (nil: its
// own).
func (e *Engine) DeleteScheduleTx(ctx context.Context, tx Tx, key string) error {
	if err := CheckText("key", key); err != nil {
		return err
	}
	if err := e.cfg.Store.DeleteSchedule(ctx, tx, DeleteScheduleParams{Key: key, Origin: OriginAPI}); err != nil {
		return fmt.Errorf("delete schedule %q: %w", CleanText(key), err)
	}
	return nil
}

// Validate checks f as ListSchedules does: valid text, a known origin, a
// limit in [0, MaxListLimit]. The error is a ValidationError naming the
// field.
func (f ScheduleFilter) Validate() error {
	for _, t := range []struct{ field, v string }{{"task", f.Task}, {"key_prefix", f.KeyPrefix}, {"after", f.After}} {
		if err := CheckText(t.field, t.v); err != nil {
			return err
		}
	}
	switch {
	case f.Origin != "" && f.Origin != OriginCode && f.Origin != OriginAPI:
		return invalid("origin", CleanText(f.Origin), "want code or api")
	case f.Limit < 0 || f.Limit > MaxListLimit:
		return invalid("limit", fmt.Sprint(f.Limit), "must be 0 (default %d) to %d", DefaultListLimit, MaxListLimit)
	}
	return CheckLabels("labels", f.Labels)
}

// ListSchedules returns one page of schedules matching f, by key (byte
// order), each with its description and latest run. Follow
// SchedulePage.Next (as f.After) for the next page.
func (e *Engine) ListSchedules(ctx context.Context, f ScheduleFilter) (SchedulePage, error) {
	if err := f.Validate(); err != nil {
		return SchedulePage{}, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultListLimit
	}
	page, err := e.cfg.Store.ListSchedulesPage(ctx, f)
	if err != nil {
		return SchedulePage{}, fmt.Errorf("list schedules: %w", err)
	}
	for i := range page.Schedules {
		e.describe(&page.Schedules[i])
	}
	return page, nil
}
