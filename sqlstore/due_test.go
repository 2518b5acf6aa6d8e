package sqlstore

import "testing"

// TestOptNum: the claim's number columns as either driver hands them over,
// and what they must refuse rather than read wrong.
func TestOptNum(t *testing.T) {
	var f optFloat
	for _, c := range []struct {
		src  any
		want float64
	}{{float64(2.5), 2.5}, {int64(60), 60}, {[]byte("1e+06"), 1e6}, {"0.125", 0.125}} {
		if src, want := c.src, c.want; f.Scan(src) != nil || !f.ok || f.v != want {
			t.Errorf("optFloat.Scan(%v) = %v %v; want %v", src, f.v, f.ok, want)
		}
	}
	var n optInt
	for _, c := range []struct {
		src  any
		want int64
	}{{int64(-7), -7}, {float64(3), 3}, {[]byte("11"), 11}, {"0", 0}} {
		if src, want := c.src, c.want; n.Scan(src) != nil || !n.ok || n.v != want {
			t.Errorf("optInt.Scan(%v) = %v %v; want %v", src, n.v, n.ok, want)
		}
	}
	if err := n.Scan(nil); err != nil || n.ok || n.v != 0 {
		t.Errorf("optInt.Scan(nil) = %v %v, %v; want NULL", n.v, n.ok, err)
	}
	for _, src := range []any{float64(1.5), []byte("1.5"), "x", []byte(""), true} {
		if err := n.Scan(src); err == nil {
			t.Errorf("optInt.Scan(%#v) = %v; want an error", src, n.v)
		}
	}
	for _, src := range []any{[]byte("six"), "", true} {
		if err := f.Scan(src); err == nil {
			t.Errorf("optFloat.Scan(%#v) = %v; want an error", src, f.v)
		}
	}
}
