package sqlstore

import (
	"bytes"
	"cmp"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/tickflow/tickflow/core"
)

// PostgreSQL takes a batch as one typed array per column, which a statement
// reads with unnest(...): parsing an array is a fraction of the cost of
// parsing the same rows as JSON (a third of a 10,000-run FinishRuns was
// jsonb input). SQLite has no arrays and reads one JSON document instead.

// The arrays of one statement (pgArray) are written, when the driver asks
// for them, to one buffer (a paramBuf), and handed to the driver without a
// copy: binary forms as []byte, literals as strings; the buffer is written
// again only once the statement has been sent. A 5,000-run batch is ten
// arrays of up to 100 KB: built in fresh memory for every batch, the first
// touch of their pages cost more than writing the digits.

// paramBuf is the buffer one statement's arrays are written to. Take one
// with getParamBuf and release it once the statement returned: the arrays
// written in it are invalid from then on.
type paramBuf struct{ b []byte }

// freeList keeps up to its capacity of released values for reuse. A
// channel, unlike a sync.Pool, keeps them across the collections of a big
// tick (a pooled buffer was dropped between two batches).
type freeList[T any] chan *T

// get returns a kept value, else a new one.
func (f freeList[T]) get() *T {
	select {
	case v := <-f:
		return v
	default:
		return new(T)
	}
}

// put keeps v, unless the list is full.
func (f freeList[T]) put(v *T) {
	select {
	case f <- v:
	default:
	}
}

// freeParamBufs keeps released buffers for the next statements: a tick's
// claim and its two flushers each use one at a time.
var freeParamBufs = make(freeList[paramBuf], 4)

func getParamBuf() *paramBuf { return freeParamBufs.get() }

// maxKeptParamBuf bounds the buffer kept for reuse (a batch far beyond
// the default sizes is not kept).
const maxKeptParamBuf = 8 << 20

func (p *paramBuf) release() {
	if cap(p.b) > maxKeptParamBuf {
		return
	}
	p.b = p.b[:0]
	freeParamBufs.put(p)
}

// start begins a literal of about size bytes; done returns it.
func (p *paramBuf) start(size int) int {
	p.b = slices.Grow(p.b, size)
	return len(p.b)
}

// done returns the literal begun at from as a string aliasing the buffer.
// Later appends may move the buffer, which leaves the literal in the old
// one, never written again.
func (p *paramBuf) done(from int) string { return bytesString(p.b[from:]) }

// pgArray is one array parameter, built in its statement's paramBuf when
// the driver asks for it, in the form the connection sends:
//
//   - with lib/pq's binary_parameters (the store turns them on, see
//     withBinaryParameters), BinaryValue: array_send's binary form, which
//     PostgreSQL's array_recv reads element by element without parsing
//     text, and which lib/pq sends as it is. As a text literal (a string),
//     the array was copied once more by lib/pq, and parsed digit by digit
//     by the server: about 1 ms of server time per 5,000-element array,
//     six such arrays in a 5,000-run held claim's commit and a
//     10,000-name task array in each claim;
//   - without them (a URL that sets binary_parameters=no, or the
//     application's own transaction on a database opened without them),
//     Value: the text literal.
//
// The element type must be the one the statement casts the parameter to
// ($1::bigint[] takes int8 elements, $1::integer[] int4): array_recv
// refuses another.
type pgArray struct {
	p    *paramBuf
	kind arrayKind
	n    int
	num  func(int) (int64, bool) // int8, int4 and bool elements; false: NULL
	flt  func(int) (float64, bool)
	str  func(int) (string, bool)
}

// arrayKind is a pgArray's element type.
type arrayKind uint8

const (
	arrayInt8 arrayKind = iota
	arrayInt4
	arrayText
	arrayFloat8
	arrayBool
)

// oid is the element type's oid, which array_recv checks, and size an
// estimate of an element's bytes in either form (a text element adds its
// length).
func (k arrayKind) oid() uint32 { return [...]uint32{20, 23, 25, 701, 16}[k] }
func (k arrayKind) size() int   { return [...]int{12, 8, 6, 12, 5}[k] }

// Value is the array's text literal (driver.Valuer): integers in decimal,
// floats as strconv's shortest form, texts quoted with " and \ escaped (as
// lib/pq's StringArray writes them), NULL elements unquoted NULL.
func (a pgArray) Value() (driver.Value, error) { return a.text(), nil }

// BinaryValue is the array in array_send's form, for lib/pq with
// binary_parameters: dimensions, a has-nulls flag, the element oid, then
// each element as a length (-1: NULL) and its typsend bytes (big-endian
// integers and IEEE floats, a text's UTF-8 bytes as they are).
func (a pgArray) BinaryValue() ([]byte, error) {
	p := a.p
	from := p.start(20 + a.n*a.kind.size() + a.textBytes())
	be32 := binary.BigEndian.AppendUint32
	b := p.b
	if a.n == 0 {
		b = be32(be32(be32(b, 0), 0), a.kind.oid())
		p.b = b
		return b[from:len(b):len(b)], nil
	}
	b = be32(b, 1)
	flags := len(b)
	b = be32(be32(be32(be32(b, 0), a.kind.oid()), uint32(a.n)), 1)
	nulls := false
	for i := range a.n {
		switch a.kind {
		case arrayInt8, arrayInt4, arrayBool:
			v, ok := a.num(i)
			switch {
			case !ok:
				b, nulls = be32(b, math.MaxUint32), true
			case a.kind == arrayInt8:
				b = binary.BigEndian.AppendUint64(be32(b, 8), uint64(v))
			case a.kind == arrayBool:
				b = append(be32(b, 1), byte(v))
			case v < math.MinInt32 || v > math.MaxInt32:
				return nil, fmt.Errorf("sqlstore: %d is out of range for an integer", v)
			default:
				b = be32(be32(b, 4), uint32(int32(v)))
			}
		case arrayFloat8:
			if f, ok := a.flt(i); ok {
				b = binary.BigEndian.AppendUint64(be32(b, 8), math.Float64bits(f))
			} else {
				b, nulls = be32(b, math.MaxUint32), true
			}
		case arrayText:
			if s, ok := a.str(i); ok {
				b = append(be32(b, uint32(len(s))), s...)
			} else {
				b, nulls = be32(b, math.MaxUint32), true
			}
		}
	}
	if nulls {
		binary.BigEndian.PutUint32(b[flags:], 1)
	}
	p.b = b
	return b[from:len(b):len(b)], nil
}

// textBytes is the length of a text array's elements (0 for other kinds).
func (a pgArray) textBytes() int {
	size := 0
	if a.kind == arrayText {
		for i := range a.n {
			s, _ := a.str(i)
			size += len(s)
		}
	}
	return size
}

// text is the array's text literal (see Value).
func (a pgArray) text() string {
	p := a.p
	from := p.start(2 + a.n*a.kind.size() + a.textBytes())
	b := append(p.b, '{')
	for i := range a.n {
		if i > 0 {
			b = append(b, ',')
		}
		switch a.kind {
		case arrayInt8, arrayInt4, arrayBool:
			v, ok := a.num(i)
			switch {
			case !ok:
				b = append(b, "NULL"...)
			case a.kind != arrayBool:
				b = strconv.AppendInt(b, v, 10)
			case v != 0:
				b = append(b, 't')
			default:
				b = append(b, 'f')
			}
		case arrayFloat8:
			if f, ok := a.flt(i); ok {
				b = strconv.AppendFloat(b, f, 'g', -1, 64)
			} else {
				b = append(b, "NULL"...)
			}
		case arrayText:
			s, ok := a.str(i)
			if !ok {
				b = append(b, "NULL"...)
				continue
			}
			b = append(b, '"')
			for len(s) > 0 {
				j := strings.IndexAny(s, `"\`)
				if j < 0 {
					b = append(b, s...)
					break
				}
				b = append(append(b, s[:j]...), '\\', s[j])
				s = s[j+1:]
			}
			b = append(b, '"')
		}
	}
	p.b = append(b, '}')
	return p.done(from)
}

// intArray is a bigint[] parameter.
func intArray[T int | int64](v []T) pgArray {
	return intArrayOf(len(v), func(i int) int64 { return int64(v[i]) })
}

// intArrayOf is the bigint[] parameter of at(0) … at(n-1).
func intArrayOf(n int, at func(int) int64) pgArray {
	return new(paramBuf).intArrayOf(n, at)
}

// intArrayOf is the bigint[] parameter of at(0) … at(n-1).
func (p *paramBuf) intArrayOf(n int, at func(int) int64) pgArray {
	return pgArray{p: p, kind: arrayInt8, n: n, num: func(i int) (int64, bool) { return at(i), true }}
}

// int4ArrayOf is the integer[] parameter of at(0) … at(n-1).
func (p *paramBuf) int4ArrayOf(n int, at func(int) int64) pgArray {
	return pgArray{p: p, kind: arrayInt4, n: n, num: func(i int) (int64, bool) { return at(i), true }}
}

// nullInt4ArrayOf is the integer[] parameter of at(0) … at(n-1), where an
// element at reports not ok is NULL.
func (p *paramBuf) nullInt4ArrayOf(n int, at func(int) (int64, bool)) pgArray {
	return pgArray{p: p, kind: arrayInt4, n: n, num: at}
}

// microsArray is a bigint[] parameter of instants as unix microseconds; a
// zero instant is NULL. Statements turn them back into timestamptz with
//
//	timestamptz 'epoch' + us * interval '1 microsecond'
//
// PostgreSQL reads integers several times faster than timestamp text, and
// Go writes them faster too. The product is one float8 multiplication,
// exact while |us| < 2^53 (instants before the year 2255; core keeps them
// before 2200); splitting us into seconds and microseconds, two
// multiplications and two additions, cost three times as much per instant
// (0.33 µs against 0.11 µs here, 5 to 6 instants per run of a tick).
func microsArray(v []time.Time) pgArray {
	return microsArrayOf(len(v), func(i int) time.Time { return v[i] })
}

// microsArrayOf is the microsArray of at(0) … at(n-1).
func microsArrayOf(n int, at func(int) time.Time) pgArray {
	return new(paramBuf).microsArrayOf(n, at)
}

// microsArrayOf is the microsArray of at(0) … at(n-1).
func (p *paramBuf) microsArrayOf(n int, at func(int) time.Time) pgArray {
	return pgArray{p: p, kind: arrayInt8, n: n, num: func(i int) (int64, bool) {
		t := at(i)
		return t.UnixMicro(), !t.IsZero()
	}}
}

// textArrayOf is the text[] parameter of at(0) … at(n-1).
func textArrayOf(n int, at func(int) string) pgArray {
	return new(paramBuf).textArrayOf(n, at)
}

// textArrayOf is the text[] parameter of at(0) … at(n-1).
func (p *paramBuf) textArrayOf(n int, at func(int) string) pgArray {
	return pgArray{p: p, kind: arrayText, n: n, str: func(i int) (string, bool) { return at(i), true }}
}

// nullTextArrayOf is the text[] parameter of at(0) … at(n-1), where an
// element at reports not ok is NULL.
func nullTextArrayOf(n int, at func(int) (string, bool)) pgArray {
	return new(paramBuf).nullTextArrayOf(n, at)
}

// nullTextArrayOf is the text[] parameter of at(0) … at(n-1), where an
// element at reports not ok is NULL.
func (p *paramBuf) nullTextArrayOf(n int, at func(int) (string, bool)) pgArray {
	return pgArray{p: p, kind: arrayText, n: n, str: at}
}

// stringArray is the text[] parameter of v.
func stringArray(v []string) pgArray {
	return textArrayOf(len(v), func(i int) string { return v[i] })
}

// floatArrayOf is the float8[] parameter of at(0) … at(n-1), nil elements
// NULL.
func floatArrayOf(n int, at func(int) *float64) pgArray {
	return new(paramBuf).floatArrayOf(n, at)
}

// floatArrayOf is the float8[] parameter of at(0) … at(n-1), nil elements
// NULL.
func (p *paramBuf) floatArrayOf(n int, at func(int) *float64) pgArray {
	return pgArray{p: p, kind: arrayFloat8, n: n, flt: func(i int) (float64, bool) {
		if f := at(i); f != nil {
			return *f, true
		}
		return 0, false
	}}
}

// boolArrayOf is the boolean[] parameter of at(0) … at(n-1).
func boolArrayOf(n int, at func(int) bool) pgArray {
	return pgArray{p: new(paramBuf), kind: arrayBool, n: n, num: func(i int) (int64, bool) {
		if at(i) {
			return 1, true
		}
		return 0, true
	}}
}

// nullIntArrayOf is the integer[] parameter of at(0) … at(n-1), nil
// elements NULL.
func nullIntArrayOf(n int, at func(int) *int) pgArray {
	return new(paramBuf).nullInt4ArrayOf(n, func(i int) (int64, bool) {
		if v := at(i); v != nil {
			return int64(*v), true
		}
		return 0, false
	})
}

// bytesString is b as a string, without a copy: b must not change again.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// claimArrays are the array parameters of ClaimDue's insert-and-advance
// statement on PostgreSQL: one array per planned run field, then the
// advanced schedules' names, next runs and remaining runs, then the runs'
// payloads and policy overrides.
//
// An array whose every element would be the column's common value is NULL
// (no array): the statement's unnest pads it with NULLs, which it reads as
// that value. A batch of code schedules that each plan one running run
// sends the schedule names, the slots and the next runs, nothing else: the
// task (NULL: the schedule's name), display name (NULL: the task's),
// slots covered (1), status (running), run at (only pending runs have
// one), max attempts (1), error (empty), advanced names (NULL: the runs'
// schedules, one run per schedule in the same order), remaining runs
// (unchanged), payloads and overrides (none). Each of those arrays was
// 5,000 elements for PostgreSQL to parse and lib/pq to copy (twice, into
// its message buffer as it grows).
func (p *paramBuf) claimArrays(planned []plannedRunJSON, advance []advanceJSON) []any {
	n := len(planned)
	textArrayOf, microsArrayOf := p.textArrayOf, p.microsArrayOf
	args := []any{
		textArrayOf(n, func(i int) string { return planned[i].Schedule }),
		nil, nil,
		microsArrayOf(n, func(i int) time.Time { return planned[i].slot }),
		nil, nil, nil, nil, nil,
		nil,
		microsArrayOf(len(advance), func(i int) time.Time { return advance[i].nextRun }),
		nil, nil, nil, nil, nil,
		nil, nil, nil, nil, nil, // a held claim's ids and outcomes (heldArrays)
	}
	// The scans below index the runs rather than range over copies: a
	// closure taking a copy's address moved every copy to the heap (a fifth
	// of a 10,000-run tick's allocated bytes).
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.Task != pr.Schedule }) {
		args[1] = p.nullTextArrayOf(n, func(i int) (string, bool) { return planned[i].Task, planned[i].Task != planned[i].Schedule })
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.DisplayName != pr.Task }) {
		args[2] = p.nullTextArrayOf(n, func(i int) (string, bool) {
			return planned[i].DisplayName, planned[i].DisplayName != planned[i].Task
		})
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.SlotsCovered != 1 }) {
		args[4] = p.int4ArrayOf(n, func(i int) int64 { return int64(planned[i].SlotsCovered) })
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.Status != string(core.StatusRunning) }) {
		args[5] = textArrayOf(n, func(i int) string { return planned[i].Status })
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.Status == string(core.StatusPending) }) {
		args[6] = microsArrayOf(n, func(i int) time.Time {
			if planned[i].Status != string(core.StatusPending) {
				return time.Time{} // the statement reads run_at of pending runs only
			}
			return planned[i].runAt
		})
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.MaxAttempts != 1 }) {
		args[7] = p.int4ArrayOf(n, func(i int) int64 { return int64(planned[i].MaxAttempts) })
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.Error != "" }) {
		args[8] = textArrayOf(n, func(i int) string { return planned[i].Error })
	}
	if !sameSchedules(planned, advance) {
		args[9] = textArrayOf(len(advance), func(i int) string { return advance[i].Name })
	}
	if slices.ContainsFunc(advance, func(a advanceJSON) bool { return a.RemainingRuns != nil }) {
		args[11] = p.nullInt4ArrayOf(len(advance), func(i int) (int64, bool) {
			if r := advance[i].RemainingRuns; r != nil {
				return int64(*r), true
			}
			return 0, false
		})
	}
	if anyOf(planned, func(pr *plannedRunJSON) bool { return pr.Payload != nil }) {
		args[12] = p.nullTextArrayOf(n, func(i int) (string, bool) {
			return string(planned[i].Payload), planned[i].Payload != nil
		})
	}
	for k, field := range []func(*plannedRunJSON) *float64{
		func(pr *plannedRunJSON) *float64 { return pr.RetryDelaySeconds },
		func(pr *plannedRunJSON) *float64 { return pr.RetryBackoff },
		func(pr *plannedRunJSON) *float64 { return pr.TimeoutSeconds },
	} {
		if anyOf(planned, func(pr *plannedRunJSON) bool { return field(pr) != nil }) {
			args[13+k] = p.floatArrayOf(n, func(i int) *float64 { return field(&planned[i]) })
		}
	}
	return args
}

// heldArrays fills a, claimArrays' result for a held claim's planned runs,
// with the runs' ids and what their outcomes changed (applied[i] is
// planned[i]'s outcome, nil for a run still to be recorded by FinishRuns).
// Each array is left NULL when no run departs from what the statement
// derives without it: the status (running, or success for a run with a
// finish), the attempt (1 for a running, successful or failed run, else 0),
// the error and stack (empty), run at (a pending run's only). The finish is
// sent for final outcomes only, so that a NULL status with a finish reads
// as success. A released outcome (the run never started) keeps the planned
// error, as FinishRuns keeps the stored one.
func (p *paramBuf) heldArrays(a []any, planned []plannedRunJSON, ids []int64, applied []*core.Outcome) {
	n := len(planned)
	status := func(i int) core.Status {
		if o := applied[i]; o != nil {
			return o.Status
		}
		return core.Status(planned[i].Status)
	}
	finished := func(i int) time.Time {
		if o := applied[i]; o != nil && o.Status.Final() {
			return o.FinishedAt
		}
		return time.Time{}
	}
	released := func(i int) bool { o := applied[i]; return o != nil && o.Attempt < o.ClaimedAttempt }
	errText := func(i int) string {
		if o := applied[i]; o != nil && !released(i) {
			return o.Error
		}
		return planned[i].Error
	}
	attempt := func(i int) int {
		if o := applied[i]; o != nil {
			return o.Attempt
		}
		if planned[i].Status == string(core.StatusRunning) {
			return 1
		}
		return 0
	}
	a[16] = p.intArrayOf(n, func(i int) int64 { return ids[i] })
	derived := func(i int) core.Status {
		if finished(i).IsZero() {
			return core.StatusRunning
		}
		return core.StatusSuccess
	}
	if anyIndex(n, func(i int) bool { return status(i) != derived(i) }) {
		a[5] = p.textArrayOf(n, func(i int) string { return string(status(i)) })
	}
	if anyIndex(n, func(i int) bool { return status(i) == core.StatusPending }) {
		a[6] = p.microsArrayOf(n, func(i int) time.Time {
			if status(i) != core.StatusPending {
				return time.Time{}
			}
			if o := applied[i]; o != nil {
				return o.RunAt
			}
			return planned[i].runAt
		})
	}
	if anyIndex(n, func(i int) bool { return errText(i) != "" }) {
		a[8] = p.textArrayOf(n, errText)
	}
	if anyIndex(n, func(i int) bool {
		return attempt(i) != derivedAttempt(status(i))
	}) {
		a[17] = p.int4ArrayOf(n, func(i int) int64 { return int64(attempt(i)) })
	}
	if slices.ContainsFunc(applied, func(o *core.Outcome) bool { return o != nil }) {
		a[18] = p.microsArrayOf(n, func(i int) time.Time {
			if o := applied[i]; o != nil && !released(i) {
				return o.StartedAt
			}
			return time.Time{} // running: now; otherwise none
		})
		a[19] = p.microsArrayOf(n, finished)
	}
	if slices.ContainsFunc(applied, func(o *core.Outcome) bool { return o != nil && o.Stack != "" && o.Attempt >= o.ClaimedAttempt }) {
		a[20] = p.textArrayOf(n, func(i int) string {
			if o := applied[i]; o != nil && !released(i) {
				return o.Stack
			}
			return ""
		})
	}
}

// derivedAttempt is the attempt claim_due_insert_runs stores for status
// when the attempt array is NULL.
func derivedAttempt(s core.Status) int {
	if s == core.StatusRunning || s == core.StatusSuccess || s == core.StatusFailed {
		return 1
	}
	return 0
}

// anyIndex reports whether f holds for one of 0 … n-1.
func anyIndex(n int, f func(int) bool) bool {
	for i := range n {
		if f(i) {
			return true
		}
	}
	return false
}

// sameSchedules reports whether the advanced schedules are the planned
// runs' schedules, one run each, in the same order.
func sameSchedules(planned []plannedRunJSON, advance []advanceJSON) bool {
	if len(planned) != len(advance) {
		return false
	}
	for i := range advance {
		if planned[i].Schedule != advance[i].Name {
			return false
		}
	}
	return true
}

// anyOf reports whether f holds for an element of v, without copying one
// (planned runs and outcomes are large structs).
func anyOf[T any](v []T, f func(*T) bool) bool {
	for i := range v {
		if f(&v[i]) {
			return true
		}
	}
	return false
}

// scheduleArrays are the array parameters of insert_schedules on
// PostgreSQL ($3 to $30), one per column of recs: PostgreSQL parses them
// several times faster than the same records as a jsonb_to_recordset
// document (which was 40-50 % of a 5,000-row insert). Misfire and overlap
// default to coalesce and skip when empty, as in scheduleJSON.
func scheduleArrays(recs []core.ScheduleRecord) ([]any, error) {
	n := len(recs)
	labels, payloads := make([]string, n), make([]string, n)
	for i := range recs {
		if p := recs[i].Payload; len(p) > 0 {
			js, err := compactJSON(p)
			if err != nil {
				return nil, fmt.Errorf("encode payload of %q: %w", recs[i].Name, err)
			}
			payloads[i] = js
		}
		if len(recs[i].Labels) == 0 {
			labels[i] = "{}"
			continue
		}
		b, err := json.Marshal(recs[i].Labels)
		if err != nil {
			return nil, fmt.Errorf("encode labels of %q: %w", recs[i].Name, err)
		}
		labels[i] = string(b)
	}
	text := func(f func(r *core.ScheduleRecord) string) pgArray {
		return textArrayOf(n, func(i int) string { return f(&recs[i]) })
	}
	float := func(f func(r *core.ScheduleRecord) *float64) pgArray {
		return floatArrayOf(n, func(i int) *float64 { return f(&recs[i]) })
	}
	micros := func(f func(r *core.ScheduleRecord) *time.Time) pgArray {
		return microsArrayOf(n, func(i int) time.Time {
			if t := f(&recs[i]); t != nil {
				return *t
			}
			return time.Time{}
		})
	}
	return []any{
		text(func(r *core.ScheduleRecord) string { return r.Name }),
		text(func(r *core.ScheduleRecord) string { return r.Task }),
		text(func(r *core.ScheduleRecord) string { return r.DisplayName }),
		text(func(r *core.ScheduleRecord) string { return r.Kind }),
		float(func(r *core.ScheduleRecord) *float64 { return &r.EverySeconds }),
		text(func(r *core.ScheduleRecord) string { return r.Cron }),
		text(func(r *core.ScheduleRecord) string { return r.Timezone }),
		text(func(r *core.ScheduleRecord) string { return r.SpecHash }),
		boolArrayOf(n, func(i int) bool { return recs[i].RunOnStartup }),
		text(func(r *core.ScheduleRecord) string { return cmp.Or(string(r.Misfire), string(core.MisfireCoalesce)) }),
		text(func(r *core.ScheduleRecord) string { return cmp.Or(string(r.Overlap), string(core.OverlapSkip)) }),
		new(paramBuf).int4ArrayOf(n, func(i int) int64 { return int64(recs[i].MaxCatchup) }),
		new(paramBuf).int4ArrayOf(n, func(i int) int64 { return int64(recs[i].Retries) }),
		float(func(r *core.ScheduleRecord) *float64 { return &r.DelaySeconds }),
		float(func(r *core.ScheduleRecord) *float64 { return &r.Backoff }),
		float(func(r *core.ScheduleRecord) *float64 { return &r.TimeoutSeconds }),
		float(func(r *core.ScheduleRecord) *float64 { return &r.JitterSeconds }),
		micros(func(r *core.ScheduleRecord) *time.Time { return &r.Anchor }),
		micros(func(r *core.ScheduleRecord) *time.Time { return &r.NextRun }),
		micros(func(r *core.ScheduleRecord) *time.Time { return r.OnceAt }),
		boolArrayOf(n, func(i int) bool { return recs[i].Paused }),
		nullTextArrayOf(n, func(i int) (string, bool) { return payloads[i], len(recs[i].Payload) > 0 }),
		textArrayOf(n, func(i int) string { return labels[i] }),
		micros(func(r *core.ScheduleRecord) *time.Time { return r.StartAt }),
		micros(func(r *core.ScheduleRecord) *time.Time { return r.EndAt }),
		nullIntArrayOf(n, func(i int) *int { return recs[i].MaxRuns }),
		nullIntArrayOf(n, func(i int) *int { return recs[i].RemainingRuns }),
		micros(func(r *core.ScheduleRecord) *time.Time { return r.CompletedAt }),
	}, nil
}

// compactJSON is the JSON document js as encoding/json writes a
// json.RawMessage (as the JSON batches do, and so as payloads were always
// stored): compact, with <, >, &, U+2028 and U+2029 escaped. A document
// with none of those nor whitespace is returned as it is, without a copy
// through the encoder.
func compactJSON(js []byte) (string, error) {
	if !bytes.ContainsAny(js, " \t\r\n<>&\u2028\u2029") {
		return string(js), nil
	}
	b, err := json.Marshal(json.RawMessage(js))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
