package sqlstore

import (
	"bytes"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/core"
)

// dueAPI is claim_due_select's runtime-schedule columns: a runtime
// schedule's row as planning needs it, each column NULL for a code schedule
// (planned from the code). They are plain columns, not one JSON object:
// PostgreSQL's json_build_object took about 5 µs of server time per row
// (it classifies every argument's type per call), 0.5 s of a tick over
// 100,000 runtime schedules, and the client then parsed the JSON again.
type dueAPI struct {
	task, displayName, kind, cron, timezone, misfire, overlap sql.RawBytes
	payload                                                   sql.RawBytes
	everySeconds, jitterSeconds, delaySeconds                 optFloat
	backoff, timeoutSeconds                                   optFloat
	maxCatchup, retries, remainingRuns                        optInt
	onceAt, anchor, startAt, endAt                            sendTime
}

// dest is the scan destinations, in the statement's column order after
// name, spec_hash, next_run and active.
func (a *dueAPI) dest() []any {
	return []any{
		&a.task, &a.displayName, &a.kind, &a.everySeconds, &a.cron, &a.timezone,
		&a.onceAt, &a.anchor, &a.startAt, &a.endAt, &a.remainingRuns, &a.payload,
		&a.misfire, &a.overlap, &a.maxCatchup, &a.jitterSeconds, &a.retries,
		&a.delaySeconds, &a.backoff, &a.timeoutSeconds,
	}
}

// decode fills d, a due schedule, from the columns of its row: a runtime
// schedule when task is set, else d is left a code schedule. in keeps the
// batch's repeated strings.
func (a *dueAPI) decode(d *core.DueSchedule, in interner) error {
	if a.task == nil {
		return nil
	}
	if !a.anchor.Valid {
		return fmt.Errorf("runtime schedule without an anchor")
	}
	d.Origin = core.OriginAPI
	d.Task, d.DisplayName, d.Kind = in.str(a.task), in.str(a.displayName), in.str(a.kind)
	d.EverySeconds, d.Cron, d.Timezone = a.everySeconds.v, in.str(a.cron), in.str(a.timezone)
	d.OnceAt, d.StartAt, d.EndAt = a.onceAt.ptr(), a.startAt.ptr(), a.endAt.ptr()
	d.Anchor = a.anchor.Time
	if a.remainingRuns.ok {
		n := int(a.remainingRuns.v)
		d.RemainingRuns = &n
	}
	if len(a.payload) > 0 && !bytes.Equal(a.payload, []byte("null")) {
		d.Payload = bytes.Clone(a.payload) // a.payload is the driver's buffer
	}
	d.Misfire, d.Overlap = core.MisfirePolicy(in.str(a.misfire)), core.OverlapPolicy(in.str(a.overlap))
	d.MaxCatchup, d.Jitter = int(a.maxCatchup.v), secondsDuration(a.jitterSeconds.v)
	d.Retries, d.Delay, d.Backoff = int(a.retries.v), secondsDuration(a.delaySeconds.v), a.backoff.v
	d.Timeout = secondsDuration(a.timeoutSeconds.v)
	return nil
}

// secondsDuration is a stored number of seconds as a Duration.
func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// interner hands out one string per distinct value: the few task names,
// kinds, zones and policies of a batch are not allocated once per row.
type interner map[string]string

func (in interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v, ok := in[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(in) < 1024 {
		in[v] = v
	}
	return v
}

// optNum scans a nullable number column as the drivers hand it over
// (int64 or float64, or text), without database/sql's reflection.
type optNum[T int64 | float64] struct {
	v  T
	ok bool
}

// optFloat and optInt are the columns' two kinds of number.
type (
	optFloat = optNum[float64]
	optInt   = optNum[int64]
)

// Scan implements sql.Scanner.
func (n *optNum[T]) Scan(src any) error {
	n.ok, n.v = src != nil, 0
	switch v := src.(type) {
	case nil:
	case int64:
		n.v = T(v)
	case float64:
		if n.v = T(v); float64(n.v) != v {
			return fmt.Errorf("scan %T: %v is out of its range", n.v, v)
		}
	case []byte:
		return n.parse(bytesString(v))
	case string:
		return n.parse(v)
	default:
		return fmt.Errorf("scan %T: unsupported type %T", n.v, src)
	}
	return nil
}

func (n *optNum[T]) parse(s string) error {
	var err error
	switch p := any(&n.v).(type) {
	case *int64:
		*p, err = strconv.ParseInt(s, 10, 64)
	case *float64:
		*p, err = strconv.ParseFloat(s, 64)
	}
	if err != nil {
		return fmt.Errorf("scan %T: %w", n.v, err)
	}
	return nil
}
