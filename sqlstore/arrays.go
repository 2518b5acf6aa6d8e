package sqlstore

import (
	"strconv"
	"time"

	"github.com/lib/pq"
)

// PostgreSQL takes a batch as one typed array per column, which a statement
// reads with unnest(...): parsing an array is a fraction of the cost of
// parsing the same rows as JSON (a third of a 10,000-run FinishRuns was
// jsonb input). SQLite has no arrays and reads one JSON document instead.

// intArray is a bigint[] or integer[] parameter.
func intArray[T int | int64](v []T) string {
	b := make([]byte, 0, 2+len(v)*8)
	b = append(b, '{')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return string(append(b, '}'))
}

// timeArray is a timestamptz[] parameter; a zero instant is NULL. Each
// instant is written by hand as ISO 8601 in UTC to the microsecond
// (time.Format parses its layout on every call: it was most of the CPU
// spent building a batch of 10,000 runs).
func timeArray(v []time.Time) string {
	b := make([]byte, 0, 2+len(v)*28)
	b = append(b, '{')
	for i, t := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if t.IsZero() {
			b = append(b, "NULL"...)
			continue
		}
		b = appendInstant(b, t)
	}
	return string(append(b, '}'))
}

// appendInstant appends t as YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC, truncated to
// the microsecond); years outside 1-9999 fall back to time.Format, which
// PostgreSQL reads as well.
func appendInstant(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1 || year > 9999 {
		return t.Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends the non-negative n as exactly width decimal digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for range width {
		b = append(b, '0')
	}
	for i := len(b) - 1; i >= start && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// textArray is a text[] parameter.
func textArray(v []string) any { return pq.StringArray(v) }

// claimArrays are the array parameters of ClaimDue's insert-and-advance
// statement on PostgreSQL: one array per planned run field, then the
// advanced schedules' names and next runs.
func claimArrays(planned []plannedRunJSON, advance []advanceJSON) []any {
	n := len(planned)
	var (
		schedules, tasks, names, statuses, errs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		slots, runAt                            = make([]time.Time, n), make([]time.Time, n)
		covered, maxAttempts                    = make([]int, n), make([]int, n)
	)
	for i, r := range planned {
		schedules[i], tasks[i], names[i], statuses[i], errs[i] = r.Schedule, r.Task, r.DisplayName, r.Status, r.Error
		slots[i], runAt[i], covered[i], maxAttempts[i] = r.slot, r.runAt, r.SlotsCovered, r.MaxAttempts
	}
	advNames, advNext := make([]string, len(advance)), make([]time.Time, len(advance))
	for i, a := range advance {
		advNames[i], advNext[i] = a.Name, a.nextRun
	}
	return []any{textArray(schedules), textArray(tasks), textArray(names), timeArray(slots), intArray(covered),
		textArray(statuses), timeArray(runAt), intArray(maxAttempts), textArray(errs),
		textArray(advNames), timeArray(advNext)}
}
