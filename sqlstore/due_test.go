package sqlstore

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

// packAPI writes claim_due_select's packed api column as PostgreSQL does,
// for j's fields (nil instants and counts as NULL).
func packAPI(j dueAPI) []byte {
	var b []byte
	text := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	f8 := func(f float64) { b = binary.BigEndian.AppendUint64(b, math.Float64bits(f)) }
	i4 := func(n int) { b = binary.BigEndian.AppendUint32(b, uint32(int32(n))) }
	inst := func(us *int64) {
		v := int64(math.MinInt64)
		if us != nil {
			v = *us - pgEpoch.UnixMicro()
		}
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	text(j.Task)
	text(j.DisplayName)
	text(j.Kind)
	f8(j.EverySeconds)
	text(j.Cron)
	text(j.Timezone)
	inst(j.OnceAt)
	inst(j.Anchor)
	inst(j.StartAt)
	inst(j.EndAt)
	if j.RemainingRuns != nil {
		i4(*j.RemainingRuns)
	} else {
		i4(-1)
	}
	if j.Payload != nil {
		text(string(j.Payload))
	} else {
		i4(-1)
	}
	text(j.Misfire)
	text(j.Overlap)
	i4(j.MaxCatchup)
	f8(j.JitterSeconds)
	i4(j.Retries)
	f8(j.DelaySeconds)
	f8(j.Backoff)
	f8(j.TimeoutSeconds)
	return b
}

// TestDecodePackedAPI reads back what packAPI writes, NULLs included, and
// refuses every truncation, trailing bytes and a bad length.
func TestDecodePackedAPI(t *testing.T) {
	anchor, end, remaining := int64(1795897165123456), int64(-1500000), 3
	full := dueAPI{
		Task: "report", DisplayName: "Nightly ∑", Kind: "cron", Cron: "0 9 * * *", Timezone: "Europe/Paris",
		Anchor: &anchor, EndAt: &end, RemainingRuns: &remaining, Payload: []byte(`{"a": [1, "x"]}`),
		Misfire: "catchup", Overlap: "allow", MaxCatchup: 10, JitterSeconds: 0.5, Retries: 2,
		DelaySeconds: 1e6, Backoff: 2, TimeoutSeconds: 30, EverySeconds: 0,
	}
	bare := dueAPI{Task: "t", Kind: "every", EverySeconds: 60, Anchor: &anchor, Misfire: "coalesce", Overlap: "skip", Backoff: 1}
	for _, want := range []dueAPI{full, bare} {
		b := packAPI(want)
		var got dueAPI
		if err := decodePackedAPI(b, &got, interner{}); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodePackedAPI = %+v, %v; want %+v", got, err, want)
		}
		for n := range len(b) {
			if err := decodePackedAPI(b[:n], &dueAPI{}, interner{}); err == nil {
				t.Errorf("decodePackedAPI of the first %d of %d bytes: no error", n, len(b))
			}
		}
		if err := decodePackedAPI(append(b, 0), &dueAPI{}, interner{}); err == nil {
			t.Error("decodePackedAPI with a trailing byte: no error")
		}
	}
	b := packAPI(bare)
	binary.BigEndian.PutUint32(b, math.MaxUint32-1) // task's length -2
	if err := decodePackedAPI(b, &dueAPI{}, interner{}); err == nil {
		t.Error("decodePackedAPI with a negative text length: no error")
	}
	binary.BigEndian.PutUint32(b, math.MaxUint32) // task NULL
	if err := decodePackedAPI(b, &dueAPI{}, interner{}); err == nil {
		t.Error("decodePackedAPI with a NULL task: no error")
	}
}
