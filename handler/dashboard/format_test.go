package dashboard

import (
	"testing"
	"time"
)

func TestDashboardFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 ms"},
		{300 * time.Microsecond, "<1 ms"},
		{850 * time.Millisecond, "850 ms"},
		{2500 * time.Millisecond, "2.5 s"},
		{5 * time.Second, "5 s"},
		{12*time.Second + 300*time.Millisecond, "12 s"},
		{time.Minute, "1m"},
		{4*time.Minute + 10*time.Second, "4m 10s"},
		{25*time.Minute + 10*time.Second, "25m"},
		{2*time.Hour + 5*time.Minute, "2h 5m"},
		{26 * time.Hour, "26h"},
		{76 * time.Hour, "3d 4h"},
		{-90 * time.Second, "-1m 30s"},
	} {
		if got := fmtDuration(tc.d); got != tc.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestDashboardFormatTimes(t *testing.T) {
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		got, want string
	}{
		{fmtAgo(now, now.Add(-200*time.Millisecond)), "just now"},
		{fmtAgo(now, now.Add(-90*time.Second)), "1m 30s ago"},
		{fmtAgo(now, now.Add(5*time.Minute)), "in 5m"},
		{fmtDue(now, now.Add(5*time.Minute)), "in 5m"},
		{fmtDue(now, now.Add(-3*time.Minute)), "due since 3m"},
		{fmtUTC(now.In(time.FixedZone("X", 3600))), "2026-03-08 14:00:00 UTC"},
		{fmtUTC(time.Time{}), "—"},
		// 2026-03-08 is the spring-forward day in New York: 14:00Z is 10:00 EDT.
		{fmtInZone(now, "America/New_York"), "2026-03-08 10:00:00 EDT (America/New_York)"},
		{fmtInZone(now.Add(-12*time.Hour), "America/New_York"), "2026-03-07 21:00:00 EST (America/New_York)"},
		{fmtInZone(now, ""), "2026-03-08 14:00:00 UTC"},
		{fmtInZone(now, "Not/AZone"), "2026-03-08 14:00:00 UTC"},
		{truncate("a  b\n c", 10), "a b c"},
		{truncate("abcdefghij", 5), "abcd…"},
		{prettyJSON([]byte(`{"a":[1,2]}`)), "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{prettyJSON([]byte(`null`)), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDashboardSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                          "/def",
		"/ui/runs?status=failed":    "/ui/runs?status=failed",
		"/ui/runs/12":               "/ui/runs/12",
		"//evil.example/x":          "/def",
		"/\\evil.example":           "/def",
		"https://evil.example/ui":   "/def",
		"ui/runs":                   "/def",
		"javascript:alert(1)":       "/def",
		"/ui/runs\r\nSet-Cookie: x": "/def",
	} {
		if got := safeNext(next, "/def"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
