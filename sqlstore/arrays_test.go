package sqlstore

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestArrayParameters checks the array literals the PostgreSQL batch
// statements read, instants included (unix microseconds, truncated, NULL
// for the zero instant, before 1970 too).
func TestArrayParameters(t *testing.T) {
	zone := time.FixedZone("x", -7*3600-1800)
	instants := []time.Time{
		time.Date(2026, 11, 28, 20, 19, 25, 123456789, time.UTC),
		{},
		time.Date(2024, 2, 29, 23, 30, 0, 0, zone),
		time.Date(1969, 12, 31, 23, 59, 58, 500000000, time.UTC),
	}
	if got, want := microsArray(instants), "{1795897165123456,NULL,1709276400000000,-1500000}"; got != want {
		t.Errorf("microsArray = %s; want %s", got, want)
	}
	if got := intArray([]int64{-1, 0, 42}); got != "{-1,0,42}" {
		t.Errorf("intArray = %s", got)
	}
	text := []string{"", "plain", `say "hi"`, `back\slash`, "NULL", "a,b{c}"}
	want := `{"","plain","say \"hi\"","back\\slash","NULL","a,b{c}"}`
	if got := textArrayOf(len(text), func(i int) string { return text[i] }); got != want {
		t.Errorf("textArrayOf = %s; want %s", got, want)
	}
}

// TestScheduleArrayHelpers checks the boolean[] and nullable integer[]
// literals of insert_schedules.
func TestScheduleArrayHelpers(t *testing.T) {
	bools := []bool{true, false, true}
	if got, want := boolArrayOf(len(bools), func(i int) bool { return bools[i] }), "{t,f,t}"; got != want {
		t.Errorf("boolArrayOf = %s; want %s", got, want)
	}
	seven := 7
	ints := []*int{&seven, nil}
	if got, want := nullIntArrayOf(len(ints), func(i int) *int { return ints[i] }), `{"7",NULL}`; got != want {
		t.Errorf("nullIntArrayOf = %s; want %s", got, want)
	}
}

// TestCompactJSON: a payload goes into the arrays exactly as the JSON
// batches wrote it (json.Marshal of a json.RawMessage), so a payload
// stored before compares equal to the same payload sent again.
func TestCompactJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":1}`,
		`{ "a" : [1, 2] }`,
		"{\n\t\"a\":\r\n\"x y\"}",
		`{"html":"<b>&</b>"}`,
		`{"sep":"  "}`,
		`"é"`,
		`[]`,
	} {
		want, err := json.Marshal(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := compactJSON([]byte(in))
		if err != nil || got != string(want) {
			t.Errorf("compactJSON(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := compactJSON([]byte(`{"a": }`)); err == nil {
		t.Error("compactJSON of invalid JSON with spaces: no error")
	}
}

func TestDecodePackedTimes(t *testing.T) {
	pack := func(us ...int64) []byte {
		var b []byte
		for _, u := range us {
			b = binary.BigEndian.AppendUint64(b, uint64(u))
		}
		return b
	}
	// 2026-01-01T00:01:00.000001Z is 820,540,860,000,001 µs after 2000.
	slot, started, finished, err := decodePackedTimes(pack(820_540_860_000_001, math.MinInt64, 820_540_861_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 1, 0, 1, 0, 1000, time.UTC); !slot.Equal(want) || slot.Location() != time.UTC {
		t.Errorf("slot = %v, want %v", slot, want)
	}
	if !started.IsZero() {
		t.Errorf("started = %v, want zero (NULL)", started)
	}
	if want := time.Date(2026, 1, 1, 0, 1, 1, 0, time.UTC); !finished.Equal(want) {
		t.Errorf("finished = %v, want %v", finished, want)
	}
	for _, b := range [][]byte{nil, pack(1, 2), pack(1, 2, 3, 4), pack(math.MinInt64, 1, 2)} {
		if _, _, _, err := decodePackedTimes(b); err == nil {
			t.Errorf("decodePackedTimes(%x): no error", b)
		}
	}
}
