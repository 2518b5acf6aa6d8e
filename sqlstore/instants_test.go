package sqlstore_test

import (
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// TestInstantsRoundTrip checks both conversions the PostgreSQL statements
// make, to the microsecond, over the whole range core allows: unix
// microseconds into timestamptz ('epoch' + us * interval '1 microsecond',
// one float8 product) and timestamptz out in its binary form
// (timestamptz_send, scanned by sendTime).
func TestInstantsRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		if st.Dialect() != "postgres" {
			t.Skip("the conversions are PostgreSQL's; SQLite stores unix microseconds")
		}
		instants := []time.Time{
			core.MinTime,
			core.MaxTime.Add(-time.Microsecond),
			time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(2026, 12, 2, 3, 4, 5, 123456000, time.UTC),
			time.Date(2199, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(2038, 1, 19, 3, 14, 7, 1000, time.UTC),
		}
		for _, want := range instants {
			var got time.Time
			if err := st.DB().QueryRow(`SELECT timestamptz 'epoch' + $1::bigint * interval '1 microsecond'`, want.UnixMicro()).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Errorf("µs %d into timestamptz = %v, want %v", want.UnixMicro(), got.UTC(), want)
			}
			var raw []byte
			if err := st.DB().QueryRow(`SELECT timestamptz_send($1::timestamptz)`, want).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			back, ok, err := sqlstore.ScanSendTime(raw)
			if err != nil || !ok || !back.Equal(want) || back.Location() != time.UTC {
				t.Errorf("timestamptz_send(%v) scanned = %v, %v, %v", want, back, ok, err)
			}
		}
		var raw []byte
		if err := st.DB().QueryRow(`SELECT timestamptz_send('-infinity'::timestamptz)`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := sqlstore.ScanSendTime(raw); ok || err != nil {
			t.Errorf("-infinity scanned as valid (%v, %v)", ok, err)
		}
		if _, ok, err := sqlstore.ScanSendTime(nil); ok || err != nil {
			t.Errorf("NULL scanned as valid (%v, %v)", ok, err)
		}
		if _, _, err := sqlstore.ScanSendTime([]byte{1, 2, 3}); err == nil {
			t.Error("3 bytes scanned without error")
		}
		if got, ok, err := sqlstore.ScanSendTime(int64(1_764_644_645_123_456)); err != nil || !ok || got.UnixMicro() != 1_764_644_645_123_456 {
			t.Errorf("unix µs scanned = %v, %v, %v", got, ok, err)
		}
	})
}
