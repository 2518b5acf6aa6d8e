package sqlstore

import (
	"testing"
	"time"
)

// TestTimeArrayMatchesFormat checks the hand-written instants against
// time.Format, across years, months, sub-microsecond parts and zones.
func TestTimeArrayMatchesFormat(t *testing.T) {
	zone := time.FixedZone("x", -7*3600-1800)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 28, 20, 19, 25, 123456789, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 23, 30, 0, 0, zone),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := "{" + tm.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z07:00") + ",NULL}"
		if got := timeArray([]time.Time{tm, {}}); got != want && tm.Year() <= 9999 {
			t.Errorf("timeArray(%v) = %s; want %s", tm, got, want)
		}
		if got := timeArray([]time.Time{tm}); tm.Year() > 9999 && got != "{"+tm.Format("2006-01-02T15:04:05.999999Z07:00")+"}" {
			t.Errorf("timeArray(%v) = %s; want time.Format's text", tm, got)
		}
	}
	if got := intArray([]int64{-1, 0, 42}); got != "{-1,0,42}" {
		t.Errorf("intArray = %s", got)
	}
}
