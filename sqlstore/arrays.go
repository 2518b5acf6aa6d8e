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

// microsArray is a bigint[] parameter of instants as unix microseconds; a
// zero instant is NULL. Statements turn them back into timestamptz with
//
//	timestamptz 'epoch' + us / 1000000 * interval '1 second' + us % 1000000 * interval '1 microsecond'
//
// (exact): PostgreSQL reads integers several times faster than timestamp
// text, and Go writes them faster too.
func microsArray(v []time.Time) string {
	b := make([]byte, 0, 2+len(v)*17)
	b = append(b, '{')
	for i, t := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if t.IsZero() {
			b = append(b, "NULL"...)
			continue
		}
		b = strconv.AppendInt(b, t.UnixMicro(), 10)
	}
	return string(append(b, '}'))
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
	return []any{textArray(schedules), textArray(tasks), textArray(names), microsArray(slots), intArray(covered),
		textArray(statuses), microsArray(runAt), intArray(maxAttempts), textArray(errs),
		textArray(advNames), microsArray(advNext)}
}
