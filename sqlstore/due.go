package sqlstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/tickflow/tickflow/core"
)

// dueAPI is claim_due_select's api column decoded: a runtime schedule's row
// as planning needs it (instants as unix microseconds, NULL as nil). On
// SQLite the column is a JSON object of these keys (the column names).
type dueAPI struct {
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

// decodeDueAPI fills d, a due runtime schedule, from its api column b
// (packed: PostgreSQL's binary form, else SQLite's JSON); in keeps the
// batch's repeated strings.
func decodeDueAPI(b []byte, packed bool, d *core.DueSchedule, in interner) error {
	var j dueAPI
	if packed {
		if err := decodePackedAPI(b, &j, in); err != nil {
			return err
		}
	} else if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Anchor == nil {
		return errors.New("runtime schedule without an anchor")
	}
	d.Origin = core.OriginAPI
	d.Task, d.DisplayName, d.Kind = j.Task, j.DisplayName, j.Kind
	d.EverySeconds, d.Cron, d.Timezone = j.EverySeconds, j.Cron, j.Timezone
	d.OnceAt, d.StartAt, d.EndAt = micros(j.OnceAt), micros(j.StartAt), micros(j.EndAt)
	d.Anchor = *micros(j.Anchor)
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

// errPackedAPI: the api column is not what claim_due_select packs.
var errPackedAPI = errors.New("malformed packed api column")

// decodePackedAPI reads claim_due_select's PostgreSQL api column into j, in
// the statement's order. Texts are a 4-byte length and their bytes (a
// length of -1 is NULL, for the payload), numbers and instants what int4send,
// float8send and timestamptz_send write (an instant of the int64 minimum, a
// count of -1 is NULL). Strings come from in; the payload is copied out of b
// (the driver's buffer).
func decodePackedAPI(b []byte, j *dueAPI, in interner) error {
	p := packedReader{b: b}
	j.Task, j.DisplayName, j.Kind = p.text(in), p.text(in), p.text(in)
	j.EverySeconds = p.float()
	j.Cron, j.Timezone = p.text(in), p.text(in)
	j.OnceAt, j.Anchor, j.StartAt, j.EndAt = p.instant(), p.instant(), p.instant(), p.instant()
	if n := p.int32(); n >= 0 {
		v := int(n)
		j.RemainingRuns = &v
	}
	if payload, ok := p.bytes(); ok {
		j.Payload = bytes.Clone(payload)
	}
	j.Misfire, j.Overlap = p.text(in), p.text(in)
	j.MaxCatchup = int(p.int32())
	j.JitterSeconds = p.float()
	j.Retries = int(p.int32())
	j.DelaySeconds, j.Backoff, j.TimeoutSeconds = p.float(), p.float(), p.float()
	if p.bad || len(p.b) != 0 {
		return errPackedAPI
	}
	return nil
}

// packedReader reads big-endian binary values off b; past its end (or on a
// negative length other than -1) it sets bad and returns zeros.
type packedReader struct {
	b   []byte
	bad bool
}

func (p *packedReader) take(n int) []byte {
	if p.bad || n > len(p.b) {
		p.bad = true
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

func (p *packedReader) int32() int32 {
	if v := p.take(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}

func (p *packedReader) float() float64 {
	if v := p.take(8); v != nil {
		return math.Float64frombits(binary.BigEndian.Uint64(v))
	}
	return 0
}

// instant is a timestamptz_send value as unix microseconds (nil: NULL).
func (p *packedReader) instant() *int64 {
	v := p.take(8)
	if v == nil {
		return nil
	}
	at := pgBinaryTime(v)
	if at.IsZero() {
		return nil
	}
	us := at.UnixMicro()
	return &us
}

// bytes is a length-prefixed value; false for NULL.
func (p *packedReader) bytes() ([]byte, bool) {
	n := p.int32()
	if n == -1 || p.bad {
		return nil, false
	}
	if n < 0 {
		p.bad = true
		return nil, false
	}
	return p.take(int(n)), !p.bad
}

// text is a length-prefixed text, never NULL.
func (p *packedReader) text(in interner) string {
	v, ok := p.bytes()
	if !ok {
		p.bad = true
		return ""
	}
	return in.str(v)
}

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
