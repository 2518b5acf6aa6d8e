package sqlstore

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// PostgreSQL takes a batch as one typed array per column, which a statement
// reads with unnest(...): parsing an array is a fraction of the cost of
// parsing the same rows as JSON (a third of a 10,000-run FinishRuns was
// jsonb input). SQLite has no arrays and reads one JSON document instead.

// The literals are built in one buffer sized up front and handed to the
// driver as a string without a copy (the buffer is never written again):
// a 5,000-run batch is ten arrays of up to 100 KB, built for every batch.

// intArray is a bigint[] or integer[] parameter.
func intArray[T int | int64](v []T) string {
	return intArrayOf(len(v), func(i int) int64 { return int64(v[i]) })
}

// intArrayOf is the bigint[] or integer[] parameter of at(0) … at(n-1).
func intArrayOf(n int, at func(int) int64) string {
	b := make([]byte, 0, 2+n*8)
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, at(i), 10)
	}
	return bytesString(append(b, '}'))
}

// microsArray is a bigint[] parameter of instants as unix microseconds; a
// zero instant is NULL. Statements turn them back into timestamptz with
//
//	timestamptz 'epoch' + us / 1000000 * interval '1 second' + us % 1000000 * interval '1 microsecond'
//
// (exact): PostgreSQL reads integers several times faster than timestamp
// text, and Go writes them faster too.
func microsArray(v []time.Time) string {
	return microsArrayOf(len(v), func(i int) time.Time { return v[i] })
}

// microsArrayOf is the microsArray of at(0) … at(n-1).
func microsArrayOf(n int, at func(int) time.Time) string {
	b := make([]byte, 0, 2+n*17)
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if t := at(i); t.IsZero() {
			b = append(b, "NULL"...)
		} else {
			b = strconv.AppendInt(b, t.UnixMicro(), 10)
		}
	}
	return bytesString(append(b, '}'))
}

// textArrayOf is the text[] parameter of at(0) … at(n-1), every element
// quoted (as lib/pq's StringArray writes them), " and \ escaped.
func textArrayOf(n int, at func(int) string) string {
	return nullTextArrayOf(n, func(i int) (string, bool) { return at(i), true })
}

// nullTextArrayOf is the text[] parameter of at(0) … at(n-1), where an
// element at reports not ok is NULL.
func nullTextArrayOf(n int, at func(int) (string, bool)) string {
	size := 2
	for i := range n {
		s, _ := at(i)
		size += len(s) + 5
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		s, ok := at(i)
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
	return bytesString(append(b, '}'))
}

// floatArrayOf is the float8[] parameter of at(0) … at(n-1), nil elements
// NULL.
func floatArrayOf(n int, at func(int) *float64) string {
	b := make([]byte, 0, 2+n*5)
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if f := at(i); f == nil {
			b = append(b, "NULL"...)
		} else {
			b = strconv.AppendFloat(b, *f, 'g', -1, 64)
		}
	}
	return bytesString(append(b, '}'))
}

// bytesString is b as a string, without a copy: b must not change again.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// claimArrays are the array parameters of ClaimDue's insert-and-advance
// statement on PostgreSQL: one array per planned run field, then the
// advanced schedules' names, next runs and remaining runs, then the runs'
// payloads and policy overrides. The last five are NULL (no array) when no
// element has a value, as for a batch of code schedules only: the
// statement's unnest pads them with NULLs, at no cost.
func claimArrays(planned []plannedRunJSON, advance []advanceJSON) []any {
	n := len(planned)
	args := []any{
		textArrayOf(n, func(i int) string { return planned[i].Schedule }),
		textArrayOf(n, func(i int) string { return planned[i].Task }),
		textArrayOf(n, func(i int) string { return planned[i].DisplayName }),
		microsArrayOf(n, func(i int) time.Time { return planned[i].slot }),
		intArrayOf(n, func(i int) int64 { return int64(planned[i].SlotsCovered) }),
		textArrayOf(n, func(i int) string { return planned[i].Status }),
		microsArrayOf(n, func(i int) time.Time { return planned[i].runAt }),
		intArrayOf(n, func(i int) int64 { return int64(planned[i].MaxAttempts) }),
		textArrayOf(n, func(i int) string { return planned[i].Error }),
		textArrayOf(len(advance), func(i int) string { return advance[i].Name }),
		microsArrayOf(len(advance), func(i int) time.Time { return advance[i].nextRun }),
		nil, nil, nil, nil, nil,
	}
	if slices.ContainsFunc(advance, func(a advanceJSON) bool { return a.RemainingRuns != nil }) {
		args[11] = nullTextArrayOf(len(advance), func(i int) (string, bool) {
			if r := advance[i].RemainingRuns; r != nil {
				return strconv.Itoa(*r), true
			}
			return "", false
		})
	}
	if slices.ContainsFunc(planned, func(pr plannedRunJSON) bool { return pr.Payload != nil }) {
		args[12] = nullTextArrayOf(n, func(i int) (string, bool) {
			return string(planned[i].Payload), planned[i].Payload != nil
		})
	}
	for k, field := range []func(*plannedRunJSON) *float64{
		func(pr *plannedRunJSON) *float64 { return pr.RetryDelaySeconds },
		func(pr *plannedRunJSON) *float64 { return pr.RetryBackoff },
		func(pr *plannedRunJSON) *float64 { return pr.TimeoutSeconds },
	} {
		if slices.IndexFunc(planned, func(pr plannedRunJSON) bool { return field(&pr) != nil }) >= 0 {
			args[13+k] = floatArrayOf(n, func(i int) *float64 { return field(&planned[i]) })
		}
	}
	return args
}
