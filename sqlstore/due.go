package sqlstore

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/tickflow/tickflow/core"
)

// dueAPIJSON is claim_due_select's api column: a runtime schedule's row as
// planning needs it (instants as unix microseconds; its keys are the
// column names).
type dueAPIJSON struct {
	Task           string          `json:"task"`
	DisplayName    string          `json:"display_name"`
	Kind           string          `json:"kind"`
	EverySeconds   float64         `json:"every_seconds"`
	Cron           string          `json:"cron"`
	Timezone       string          `json:"timezone"`
	OnceAt         *int64          `json:"once_at"`
	Anchor         *int64          `json:"anchor"`
	StartAt        *int64          `json:"start_at"`
	EndAt          *int64          `json:"end_at"`
	RemainingRuns  *int            `json:"remaining_runs"`
	Payload        json.RawMessage `json:"payload"`
	Misfire        string          `json:"misfire"`
	Overlap        string          `json:"overlap"`
	MaxCatchup     int             `json:"max_catchup"`
	JitterSeconds  float64         `json:"jitter_seconds"`
	Retries        int             `json:"retries"`
	DelaySeconds   float64         `json:"delay_seconds"`
	Backoff        float64         `json:"backoff"`
	TimeoutSeconds float64         `json:"timeout_seconds"`
}

// decodeDueAPI fills d, a due runtime schedule, from its api column.
func decodeDueAPI(b []byte, d *core.DueSchedule) error {
	var j dueAPIJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d.Origin = core.OriginAPI
	d.Task, d.DisplayName, d.Kind = j.Task, j.DisplayName, j.Kind
	d.EverySeconds, d.Cron, d.Timezone = j.EverySeconds, j.Cron, j.Timezone
	d.OnceAt, d.StartAt, d.EndAt = micros(j.OnceAt), micros(j.StartAt), micros(j.EndAt)
	if a := micros(j.Anchor); a != nil {
		d.Anchor = *a
	}
	d.RemainingRuns = j.RemainingRuns
	if len(j.Payload) > 0 && !bytes.Equal(j.Payload, []byte("null")) {
		d.Payload = j.Payload
	}
	d.Misfire, d.Overlap = core.MisfirePolicy(j.Misfire), core.OverlapPolicy(j.Overlap)
	d.MaxCatchup, d.Jitter = j.MaxCatchup, secondsDuration(j.JitterSeconds)
	d.Retries, d.Delay, d.Backoff = j.Retries, secondsDuration(j.DelaySeconds), j.Backoff
	d.Timeout = secondsDuration(j.TimeoutSeconds)
	return nil
}

// micros is an instant of unix microseconds (nil: nil), in UTC.
func micros(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := time.UnixMicro(*us).UTC()
	return &t
}

// secondsDuration is a stored number of seconds as a Duration.
func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
