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

// timeArray is a timestamptz[] parameter; a zero instant is NULL.
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
		b = t.UTC().Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.999999Z")
	}
	return string(append(b, '}'))
}

// textArray is a text[] parameter.
func textArray(v []string) any { return pq.StringArray(v) }
