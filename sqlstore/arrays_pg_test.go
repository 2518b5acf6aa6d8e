package sqlstore

import (
	"bytes"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

// TestArrayParametersReachPostgreSQL sends every kind of array parameter
// to PostgreSQL in both of lib/pq's modes: with binary_parameters (the
// store's, BinaryValue) and without (Value, the text literal). In each,
// the server must read the elements given (read back through lib/pq's own
// array parsing), NULLs in place, and re-send the array exactly as
// BinaryValue wrote it (array_send); an integer out of range fails in
// both, with sqlstore's error in binary mode, which proves that mode sent
// the binary form.
func TestArrayParametersReachPostgreSQL(t *testing.T) {
	seven := 7
	us := time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC)
	texts := []string{"", "plain", `say "hi"`, `back\slash`, "NULL", "a,b{c}", "é ü 日本", " {x} "}
	floats := []float64{0.1, -2.5e-300, 1e300, math.MaxFloat64, -0.0, 3}
	cases := []struct {
		name, cast string
		arg        func() pgArray
		want       any // the elements read back: a slice of sql.Null*
	}{
		{"bigint", "bigint[]", func() pgArray { return intArray([]int64{math.MinInt64, -1, 0, 42, math.MaxInt64}) },
			[]sql.NullInt64{{Int64: math.MinInt64, Valid: true}, {Int64: -1, Valid: true}, {Valid: true}, {Int64: 42, Valid: true}, {Int64: math.MaxInt64, Valid: true}}},
		{"micros with NULL", "bigint[]", func() pgArray { return microsArray([]time.Time{us, {}}) },
			[]sql.NullInt64{{Int64: us.UnixMicro(), Valid: true}, {}}},
		{"integer", "integer[]", func() pgArray {
			v := []int64{math.MinInt32, 0, math.MaxInt32}
			return new(paramBuf).int4ArrayOf(len(v), func(i int) int64 { return v[i] })
		}, []sql.NullInt64{{Int64: math.MinInt32, Valid: true}, {Valid: true}, {Int64: math.MaxInt32, Valid: true}}},
		{"integer with NULL", "integer[]", func() pgArray {
			v := []*int{&seven, nil}
			return nullIntArrayOf(len(v), func(i int) *int { return v[i] })
		}, []sql.NullInt64{{Int64: 7, Valid: true}, {}}},
		{"text", "text[]", func() pgArray { return stringArray(texts) }, func() []sql.NullString {
			var w []sql.NullString
			for _, s := range texts {
				w = append(w, sql.NullString{String: s, Valid: true})
			}
			return w
		}()},
		{"text with NULL", "text[]", func() pgArray {
			return nullTextArrayOf(3, func(i int) (string, bool) { return "x", i != 1 })
		}, []sql.NullString{{String: "x", Valid: true}, {}, {String: "x", Valid: true}}},
		{"float8 with NULL", "float8[]", func() pgArray {
			return floatArrayOf(len(floats)+1, func(i int) *float64 {
				if i == len(floats) {
					return nil
				}
				return &floats[i]
			})
		}, func() []sql.NullFloat64 {
			var w []sql.NullFloat64
			for _, f := range floats {
				w = append(w, sql.NullFloat64{Float64: f, Valid: true})
			}
			return append(w, sql.NullFloat64{})
		}()},
		{"boolean", "boolean[]", func() pgArray {
			return boolArrayOf(3, func(i int) bool { return i != 1 })
		}, []sql.NullBool{{Bool: true, Valid: true}, {Valid: true}, {Bool: true, Valid: true}}},
		{"empty", "bigint[]", func() pgArray { return intArray([]int64{}) }, []sql.NullInt64(nil)},
		{"empty text", "text[]", func() pgArray { return stringArray(nil) }, []sql.NullString(nil)},
	}
	for _, mode := range []string{"yes", "no"} {
		db := openBinaryParameters(t, mode)
		for _, tc := range cases {
			bin, err := tc.arg().BinaryValue()
			if err != nil {
				t.Fatalf("%s: BinaryValue: %v", tc.name, err)
			}
			var sent []byte
			got := readBackFor(tc.want)
			err = db.QueryRow("SELECT array_send($1::"+tc.cast+"), $1::"+tc.cast, tc.arg()).Scan(&sent, pq.Array(got.ptr))
			if err != nil {
				t.Errorf("binary_parameters=%s, %s: %v", mode, tc.name, err)
				continue
			}
			if !bytes.Equal(sent, bin) {
				t.Errorf("binary_parameters=%s, %s: the server re-sends\n%x\nBinaryValue wrote\n%x", mode, tc.name, sent, bin)
			}
			if !got.equal(tc.want) {
				t.Errorf("binary_parameters=%s, %s: read back %v; want %v", mode, tc.name, got.value(), tc.want)
			}
		}
		huge := new(paramBuf).int4ArrayOf(1, func(int) int64 { return 1 << 40 })
		_, err := db.Exec("SELECT $1::integer[]", huge)
		switch {
		case err == nil:
			t.Errorf("binary_parameters=%s: an integer element of 2^40 was accepted", mode)
		case mode == "yes" && !strings.Contains(err.Error(), "sqlstore:"):
			t.Errorf("binary_parameters=yes: out of range: %v; want sqlstore's error (the binary form)", err)
		case mode == "no" && !strings.Contains(err.Error(), "out of range"):
			t.Errorf("binary_parameters=no: out of range: %v; want PostgreSQL's", err)
		}
		for _, bad := range []string{"nul\x00byte", "bad \xff utf-8"} {
			if _, err := db.Exec("SELECT $1::text[]", stringArray([]string{bad})); err == nil {
				t.Errorf("binary_parameters=%s: text element %q accepted", mode, bad)
			}
		}
	}
}

// readBack is a scan destination for one of the test's element slices.
type readBack struct {
	ptr   any
	value func() any
}

func readBackFor(want any) readBack {
	switch want.(type) {
	case []sql.NullInt64:
		var v []sql.NullInt64
		return readBack{&v, func() any { return v }}
	case []sql.NullString:
		var v []sql.NullString
		return readBack{&v, func() any { return v }}
	case []sql.NullFloat64:
		var v []sql.NullFloat64
		return readBack{&v, func() any { return v }}
	default:
		var v []sql.NullBool
		return readBack{&v, func() any { return v }}
	}
}

func (r readBack) equal(want any) bool {
	switch w := want.(type) {
	case []sql.NullInt64:
		return slices.Equal(r.value().([]sql.NullInt64), w)
	case []sql.NullString:
		return slices.Equal(r.value().([]sql.NullString), w)
	case []sql.NullFloat64:
		got := r.value().([]sql.NullFloat64)
		return slices.EqualFunc(got, w, func(a, b sql.NullFloat64) bool {
			return a.Valid == b.Valid && math.Float64bits(a.Float64) == math.Float64bits(b.Float64)
		})
	default:
		return slices.Equal(r.value().([]sql.NullBool), want.([]sql.NullBool))
	}
}

// BenchmarkArrayParameterForms times one statement reading four 5,000-
// element arrays (ids, names, two instants, as a held claim's commit
// sends them) on a connection with binary_parameters, sent as pgArray
// sends them (binary) and as their text literals:
//
//	TEST_DATABASE_URL=postgres://… go test ./sqlstore -run '^$' -bench ArrayParameterForms
func BenchmarkArrayParameterForms(b *testing.B) {
	db := openBinaryParameters(b, "yes")
	db.SetMaxOpenConns(1)
	const n = 5000
	ids, names, now := make([]int64, n), make([]string, n), time.Now()
	for i := range ids {
		ids[i], names[i] = int64(1_000_000+i), fmt.Sprintf("schedule-%05d", i)
	}
	for _, form := range []string{"binary", "text"} {
		send := func(a pgArray) any {
			if form == "text" {
				return a.text()
			}
			return a
		}
		b.Run(form, func(b *testing.B) {
			for b.Loop() {
				p := getParamBuf()
				_, err := db.Exec("SELECT count(*) FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])",
					send(p.intArrayOf(n, func(i int) int64 { return ids[i] })),
					send(p.textArrayOf(n, func(i int) string { return names[i] })),
					send(p.microsArrayOf(n, func(int) time.Time { return now })),
					send(p.microsArrayOf(n, func(int) time.Time { return now })))
				p.release()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openBinaryParameters opens TEST_DATABASE_URL with lib/pq's
// binary_parameters set to mode (yes or no), closed when tb ends. Without
// the variable tb is skipped, or fails under CI. (sqlstoretest opens
// stores, not a bare connection with a chosen mode, and imports this
// package.)
func openBinaryParameters(tb testing.TB, mode string) *sql.DB {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("TEST_DATABASE_URL is not set; CI must run the PostgreSQL tests")
		}
		tb.Skip("TEST_DATABASE_URL is not set; skipping a PostgreSQL test")
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("binary_parameters", mode)
	u.RawQuery = q.Encode()
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
