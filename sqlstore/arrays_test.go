package sqlstore

import (
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
