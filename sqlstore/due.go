package sqlstore

import (
	"bytes"
	"encoding/json"
	"strconv"
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

// decodeDueAPI fills d, a due runtime schedule, from its api column; in
// keeps the batch's repeated strings.
func decodeDueAPI(b []byte, d *core.DueSchedule, in interner) error {
	var j dueAPIJSON
	if !scanDueAPI(b, &j, in) {
		j = dueAPIJSON{}
		if err := json.Unmarshal(b, &j); err != nil {
			return err
		}
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

// scanDueAPI decodes the api column as the statements write it (a flat
// object of the dueAPIJSON keys, strings without escapes, integers where
// the field is one) without reflection, taking repeated strings from in.
// It reports false for anything else, which encoding/json then decodes:
// json.Unmarshal of 5,000 such objects was a third of a tick's CPU.
func scanDueAPI(b []byte, j *dueAPIJSON, in interner) bool {
	s := jsonScan{b: b}
	if !s.lit('{') {
		return false
	}
	if s.lit('}') {
		return s.end()
	}
	for {
		key, ok := s.str()
		if !ok || !s.lit(':') {
			return false
		}
		if !s.field(bytesString(key), j, in) {
			return false
		}
		if s.lit('}') {
			return s.end()
		}
		if !s.lit(',') {
			return false
		}
	}
}

// field scans the value of key into j.
func (s *jsonScan) field(key string, j *dueAPIJSON, in interner) bool {
	switch key {
	case "task":
		return s.text(&j.Task, in)
	case "display_name":
		return s.text(&j.DisplayName, in)
	case "kind":
		return s.text(&j.Kind, in)
	case "cron":
		return s.text(&j.Cron, in)
	case "timezone":
		return s.text(&j.Timezone, in)
	case "misfire":
		return s.text(&j.Misfire, in)
	case "overlap":
		return s.text(&j.Overlap, in)
	case "every_seconds":
		return s.float(&j.EverySeconds)
	case "jitter_seconds":
		return s.float(&j.JitterSeconds)
	case "delay_seconds":
		return s.float(&j.DelaySeconds)
	case "backoff":
		return s.float(&j.Backoff)
	case "timeout_seconds":
		return s.float(&j.TimeoutSeconds)
	case "once_at":
		return s.nullInt64(&j.OnceAt)
	case "anchor":
		return s.nullInt64(&j.Anchor)
	case "start_at":
		return s.nullInt64(&j.StartAt)
	case "end_at":
		return s.nullInt64(&j.EndAt)
	case "remaining_runs":
		var v *int64
		if !s.nullInt64(&v) {
			return false
		}
		if v != nil {
			n := int(*v)
			j.RemainingRuns = &n
		}
		return true
	case "max_catchup":
		return s.int(&j.MaxCatchup)
	case "retries":
		return s.int(&j.Retries)
	case "payload":
		if s.null() {
			return true
		}
		from := s.ws()
		if !s.skip() {
			return false
		}
		j.Payload = bytes.Clone(bytes.TrimRight(s.b[from:s.i], " \t\n\r"))
		return true
	}
	return false
}

// interner hands out one string per distinct value: the few task names,
// kinds, zones and policies of a batch are not allocated once per row.
type interner map[string]string

func (in interner) str(b []byte) string {
	if v, ok := in[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(in) < 1024 {
		in[v] = v
	}
	return v
}

// jsonScan is a position in a JSON text.
type jsonScan struct {
	b []byte
	i int
}

// ws skips white space and returns the position.
func (s *jsonScan) ws() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

// lit consumes c, after white space, if it is next.
func (s *jsonScan) lit(c byte) bool {
	if s.ws() < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *jsonScan) end() bool { return s.ws() == len(s.b) }

// null consumes null if it is next.
func (s *jsonScan) null() bool {
	if s.ws()+4 <= len(s.b) && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str scans a string without escapes or control characters and returns
// its contents.
func (s *jsonScan) str() ([]byte, bool) {
	if !s.lit('"') {
		return nil, false
	}
	from := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[from : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// text scans a string or null (which leaves *v alone, as json.Unmarshal).
func (s *jsonScan) text(v *string, in interner) bool {
	if s.null() {
		return true
	}
	b, ok := s.str()
	if ok {
		*v = in.str(b)
	}
	return ok
}

// number returns the bytes of the number that is next.
func (s *jsonScan) number() []byte {
	from := s.ws()
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.i++
		default:
			return s.b[from:s.i]
		}
	}
	return s.b[from:s.i]
}

// float scans a number or null.
func (s *jsonScan) float(v *float64) bool {
	if s.null() {
		return true
	}
	f, err := strconv.ParseFloat(bytesString(s.number()), 64)
	if err != nil {
		return false
	}
	*v = f
	return true
}

// int scans an integer or null.
func (s *jsonScan) int(v *int) bool {
	var p *int64
	if !s.nullInt64(&p) {
		return false
	}
	if p != nil {
		*v = int(*p)
	}
	return true
}

// nullInt64 scans an integer (a fresh *v) or null (*v nil).
func (s *jsonScan) nullInt64(v **int64) bool {
	if s.null() {
		*v = nil
		return true
	}
	n, err := strconv.ParseInt(bytesString(s.number()), 10, 64)
	if err != nil {
		return false
	}
	*v = &n
	return true
}

// skip scans over one value of any kind (the payload, stored as valid
// JSON by the database).
func (s *jsonScan) skip() bool {
	if s.ws() == len(s.b) {
		return false
	}
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			s.i++
			for s.i < len(s.b) && s.b[s.i] != '"' {
				if s.b[s.i] == '\\' {
					s.i++
				}
				s.i++
			}
			if s.i >= len(s.b) {
				return false
			}
			s.i++
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return true
			}
			depth--
			s.i++
		case ',':
			if depth == 0 {
				return true
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 && s.i > 0 && (s.b[s.i-1] == '"' || s.b[s.i-1] == '}' || s.b[s.i-1] == ']') {
			return true
		}
	}
	return depth == 0
}
