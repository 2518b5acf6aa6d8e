package core_test

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zone files

	"github.com/tickflow/tickflow/core"
)

// Every expected instant below was worked out by hand from the zone rules of
// 2026 (and 2018-2019 for São Paulo), not by running the code:
//
//	America/New_York   EST -05:00, EDT -04:00. 2026-03-08 02:00 EST -> 03:00 EDT
//	                   (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).
//	Europe/Berlin      CET +01:00, CEST +02:00. 2026-03-29 02:00 -> 03:00 (01:00Z);
//	                   2026-10-25 03:00 -> 02:00 (01:00Z).
//	Australia/Lord_Howe +10:30 / +11:00. 2026-04-05 02:00 -> 01:30 (2026-04-04
//	                   15:00Z); 2026-10-04 02:00 -> 02:30 (2026-10-03 15:30Z).
//	Pacific/Chatham    +12:45 / +13:45. 2026-04-05 03:45 -> 02:45 (2026-04-04
//	                   14:00Z); 2026-09-27 02:45 -> 03:45 (2026-09-26 14:00Z).
//	America/Sao_Paulo  -03:00 / -02:00. 2018-11-04 00:00 -> 01:00 (03:00Z);
//	                   2019-02-17 00:00 -> 2019-02-16 23:00 (02:00Z).
//	2026-01-01 is a Thursday, 2026-03-01 a Sunday, 2026-04-01 a Wednesday.
var cronNextCases = []struct {
	name string
	expr string
	tz   string
	from string
	want []string
}{
	// DESIGN.md, verbatim.
	{"design spring gap", "30 2 * * *", "America/New_York", "2026-03-07T17:00:00Z",
		[]string{"2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}},
	{"design fall overlap restricted hour", "30 1 * * *", "America/New_York", "2026-10-31T17:00:00Z",
		[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
	{"design fall overlap every hour", "*/30 * * * *", "America/New_York", "2026-11-01T04:50:00Z",
		[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:00:00Z"}},

	// America/New_York.
	{"NY spring every 30 minutes collapses gap onto real times", "*/30 * * * *", "America/New_York", "2026-03-08T06:10:00Z",
		// 01:30 EST; 02:00 (gap, -> 03:00 EDT) = 03:00 EDT; 02:30 = 03:30 EDT; 04:00 EDT.
		[]string{"2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z", "2026-03-08T08:00:00Z"}},
	{"NY spring two wall times in the gap", "0,30 2 * * *", "America/New_York", "2026-03-08T06:00:00Z",
		[]string{"2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:30:00Z"}},
	{"NY spring from inside the gap", "30 2 * * *", "America/New_York", "2026-03-08T07:10:00Z",
		[]string{"2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}},
	{"NY spring from the gap fire itself", "30 2 * * *", "America/New_York", "2026-03-08T07:30:00Z",
		[]string{"2026-03-09T06:30:00Z"}},
	{"NY fall star hour fires both passes", "15 * * * *", "America/New_York", "2026-11-01T04:00:00Z",
		// 00:15 EDT, 01:15 EDT, 01:15 EST, 02:15 EST.
		[]string{"2026-11-01T04:15:00Z", "2026-11-01T05:15:00Z", "2026-11-01T06:15:00Z", "2026-11-01T07:15:00Z"}},
	{"NY fall hour range 0-23 covers all hours", "0 0-23 * * *", "America/New_York", "2026-11-01T04:30:00Z",
		[]string{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
	{"NY fall restricted hours skip the second pass", "0 1-2 * * *", "America/New_York", "2026-11-01T04:00:00Z",
		// 01:00 EDT; 01:00 EST skipped; 02:00 EST; next day 01:00 EST.
		[]string{"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-02T06:00:00Z"}},
	{"NY fall 23 hours is not all hours", "*/20 0-22 * * *", "America/New_York", "2026-11-01T05:30:00Z",
		// 01:40 EDT; 01:00-01:40 EST are second passes; 02:00 EST, 02:20 EST.
		[]string{"2026-11-01T05:40:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:20:00Z"}},
	{"NY alias daily", "@daily", "America/New_York", "2026-03-07T17:00:00Z",
		[]string{"2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"}},

	// Europe/Berlin.
	{"Berlin spring gap", "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
		[]string{"2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"}},
	{"Berlin fall restricted hour first pass only", "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z",
		[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
	{"Berlin fall star hour both passes", "45 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z",
		[]string{"2026-10-25T00:45:00Z", "2026-10-25T01:45:00Z", "2026-10-25T02:45:00Z"}},

	// Australia/Lord_Howe: 30-minute shifts.
	{"Lord_Howe spring 30-minute gap", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
		// 02:15 does not exist on 10-04: read at +10:30 it is 02:45 new time.
		[]string{"2026-10-03T15:45:00Z", "2026-10-04T15:15:00Z"}},
	{"Lord_Howe spring every 15 minutes", "*/15 * * * *", "Australia/Lord_Howe", "2026-10-03T15:10:00Z",
		// 01:45; 02:00 and 02:15 (gap) = 02:30 and 02:45 new time; 03:00.
		[]string{"2026-10-03T15:15:00Z", "2026-10-03T15:30:00Z", "2026-10-03T15:45:00Z", "2026-10-03T16:00:00Z"}},
	{"Lord_Howe fall restricted hour", "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z",
		[]string{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}},
	{"Lord_Howe fall star hour", "45 * * * *", "Australia/Lord_Howe", "2026-04-04T13:00:00Z",
		// 00:45 +11, 01:45 +11, 01:45 +10:30, 02:45 +10:30.
		[]string{"2026-04-04T13:45:00Z", "2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z", "2026-04-04T16:15:00Z"}},
	{"Lord_Howe wall time just outside the overlap", "15 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z",
		// Only 01:30-01:59 repeat; 01:15 occurs once, at +11.
		[]string{"2026-04-04T14:15:00Z", "2026-04-05T14:45:00Z"}},

	// Pacific/Chatham: +12:45 / +13:45.
	{"Chatham spring gap", "0 3 * * *", "Pacific/Chatham", "2026-09-26T00:00:00Z",
		[]string{"2026-09-26T14:15:00Z", "2026-09-27T13:15:00Z"}},
	{"Chatham fall restricted hour", "0 3 * * *", "Pacific/Chatham", "2026-04-04T00:00:00Z",
		[]string{"2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z"}},
	{"Chatham fall star hour", "0 * * * *", "Pacific/Chatham", "2026-04-04T12:00:00Z",
		[]string{"2026-04-04T12:15:00Z", "2026-04-04T13:15:00Z", "2026-04-04T14:15:00Z", "2026-04-04T15:15:00Z"}},

	// America/Sao_Paulo (historical): the gap swallowed midnight.
	{"Sao_Paulo midnight in the gap", "0 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00Z",
		[]string{"2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"}},
	{"Sao_Paulo fall overlap before midnight", "30 23 * * *", "America/Sao_Paulo", "2019-02-16T12:00:00Z",
		[]string{"2019-02-17T01:30:00Z", "2019-02-18T02:30:00Z"}},

	// Go's ZoneBounds ends a span 24 hours early in the last UTC day of a
	// leap year past a zone's explicit transitions (golang/go#81583); Next
	// must neither loop nor skip there.
	{"leap year end NY", "*/5 * * * *", "America/New_York", "2040-12-30T23:50:00Z",
		[]string{"2040-12-30T23:55:00Z", "2040-12-31T00:00:00Z", "2040-12-31T00:05:00Z"}},
	{"leap year end Lord_Howe in DST", "0 0 * * *", "Australia/Lord_Howe", "2040-12-30T00:00:00Z",
		[]string{"2040-12-30T13:00:00Z", "2040-12-31T13:00:00Z", "2041-01-01T13:00:00Z"}},
	{"leap year end Berlin", "0 * * * *", "Europe/Berlin", "2044-12-30T23:30:00Z",
		[]string{"2044-12-31T00:00:00Z", "2044-12-31T01:00:00Z", "2044-12-31T02:00:00Z"}},

	// Zones without DST.
	{"Tokyo strictly after a fire instant", "0 9 * * *", "Asia/Tokyo", "2026-03-08T00:00:00Z",
		[]string{"2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z"}},
	{"UTC sub-second after", "0 0 * * *", "", "2026-03-08T00:00:00.5Z",
		[]string{"2026-03-09T00:00:00Z"}},
	{"UTC just before", "0 0 * * *", "UTC", "2026-03-08T23:59:59.999999999Z",
		[]string{"2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z"}},

	// Calendar.
	{"leap day", "0 0 29 2 *", "", "2026-01-01T00:00:00Z",
		[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
	{"leap day skips 2100", "0 0 29 2 *", "", "2096-03-01T00:00:00Z",
		[]string{"2104-02-29T00:00:00Z"}},
	{"month ends skip short months", "0 0 31 * *", "", "2026-01-31T00:00:00Z",
		[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z"}},
	{"day of month or day of week", "0 0 13 * 5", "", "2026-04-01T00:00:00Z",
		// Fridays 3, 10, 17, 24 and May 1, plus Monday the 13th.
		[]string{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z", "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z"}},
	{"names", "0 9 * JAN MON-FRI", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z"}},
	{"names wrap to next year", "0 9 * jan mon-fri", "", "2026-01-30T12:00:00Z",
		[]string{"2027-01-01T09:00:00Z"}},
	{"7 is Sunday", "0 12 * * 7", "", "2026-03-02T00:00:00Z",
		[]string{"2026-03-08T12:00:00Z", "2026-03-15T12:00:00Z"}},
	{"range ending at 7", "0 12 * * 5-7", "", "2026-03-02T00:00:00Z",
		[]string{"2026-03-06T12:00:00Z", "2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z", "2026-03-13T12:00:00Z"}},
	{"SUN and full month names", "0 0 * january sun", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
	{"alias hourly", "@hourly", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"}},
}

func TestCronNext(t *testing.T) {
	for _, tc := range cronNextCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := core.ParseCron(tc.expr, tc.tz)
			if err != nil {
				t.Fatalf("ParseCron(%q, %q): %v", tc.expr, tc.tz, err)
			}
			at := cronMustTime(t, tc.from)
			for i, w := range tc.want {
				got := s.Next(at)
				if want := cronMustTime(t, w); !got.Equal(want) {
					t.Fatalf("Next #%d after %s = %s, want %s", i+1, at.Format(time.RFC3339Nano), got.Format(time.RFC3339), want.Format(time.RFC3339))
				}
				if got.Location() != time.UTC {
					t.Errorf("Next #%d: location %s, want UTC", i+1, got.Location())
				}
				at = got
			}
		})
	}
}

func TestCronParseErrors(t *testing.T) {
	cases := []struct {
		expr, tz, field string
	}{
		{"", "", "cron"},
		{"   ", "", "cron"},
		{"* * * *", "", "cron"},
		{"* * * * * *", "", "cron"},
		{"0 * * * * * 2026", "", "cron"},
		{"60 * * * *", "", "cron"},
		{"* 24 * * *", "", "cron"},
		{"0 0 0 * *", "", "cron"},
		{"0 0 32 * *", "", "cron"},
		{"0 0 * 0 *", "", "cron"},
		{"0 0 * 13 *", "", "cron"},
		{"0 0 * * 8", "", "cron"},
		{"0 0 31 2 *", "", "cron"},
		{"0 0 30 2 *", "", "cron"},
		{"0 0 31 4,6,9,11 *", "", "cron"},
		{"5-2 * * * *", "", "cron"},
		{"*/0 * * * *", "", "cron"},
		{"*/60 * * * *", "", "cron"},
		{"1,,2 * * * *", "", "cron"},
		{"1- * * * *", "", "cron"},
		{"a * * * *", "", "cron"},
		{"0 0 L * *", "", "cron"},
		{"0 0 15W * *", "", "cron"},
		{"0 0 * * 5#3", "", "cron"},
		{"0 0 * * 5L", "", "cron"},
		{"0 0 * FOO *", "", "cron"},
		{"@reboot", "", "cron"},
		{"@every 5m", "", "cron"},
		{"0 9 * * *", "Mars/Olympus", "timezone"},
		{"0 9 * * *", "Local", "timezone"},
		{"0 9 * * *", "../etc/passwd", "timezone"},
	}
	for _, tc := range cases {
		s, err := core.ParseCron(tc.expr, tc.tz)
		var ve *core.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("ParseCron(%q, %q) = %v, %v; want a *ValidationError", tc.expr, tc.tz, s, err)
			continue
		}
		if !errors.Is(err, core.ErrInvalid) {
			t.Errorf("ParseCron(%q, %q): %v does not wrap ErrInvalid", tc.expr, tc.tz, err)
		}
		if ve.Field != tc.field || ve.Reason == "" {
			t.Errorf("ParseCron(%q, %q): field %q reason %q, want field %q", tc.expr, tc.tz, ve.Field, ve.Reason, tc.field)
		}
	}
}

func TestCronParseAccepts(t *testing.T) {
	for _, expr := range []string{
		"* * * * *", "0 0 29 2 *", "0 0 30 1-3 *", "*/5 * * * *", "5/15 * * * *", "0-30/10 1,2,3 * * *",
		"0 9 * * mon-fri", "0 9 * * MONDAY", "0 0 1 jan,JUL *", "0 0 * * 0-7", "0 0 ? * 1", "0 0 1 * ?",
		"00 09 01 01 *", "  0\t9 * * *  ", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@HOURLY",
	} {
		s, err := core.ParseCron(expr, "Europe/Berlin")
		if err != nil {
			t.Errorf("ParseCron(%q): %v", expr, err)
			continue
		}
		if s.String() != expr {
			t.Errorf("String() = %q, want %q", s.String(), expr)
		}
		if s.Location().String() != "Europe/Berlin" {
			t.Errorf("Location() = %s", s.Location())
		}
	}
	s, err := core.ParseCron("* * * * *", "")
	if err != nil || s.Location() != time.UTC {
		t.Errorf(`ParseCron(..., "") = %v, %v; want location UTC`, s, err)
	}
}

func TestCronDescribe(t *testing.T) {
	cases := []struct{ expr, tz, want string }{
		{"* * * * *", "", "every minute"},
		{"*/30 * * * *", "", "every 30 minutes"},
		{"0,15,30,45 * * * *", "Asia/Kolkata", "every 15 minutes"},
		{"15 * * * *", "", "at minute 15 of every hour"},
		{"@hourly", "", "at minute 0 of every hour"},
		{"0 9 * * *", "America/New_York", "at 09:00 every day, America/New_York"},
		{"@daily", "", "at 00:00 every day, UTC"},
		{"0 9 * * MON-FRI", "Europe/Berlin", "at 09:00 every weekday (Monday to Friday), Europe/Berlin"},
		{"30 8 * * 1", "", "at 08:30 every Monday, UTC"},
		{"0 18 * * 7", "", "at 18:00 every Sunday, UTC"},
		{"0 0 1 * *", "", "at 00:00 on day 1 of every month, UTC"},
		{"0 12 25 DEC *", "Europe/Berlin", "at 12:00 on December 25 every year, Europe/Berlin"},
		{"*/7 * * * *", "", "cron */7 * * * * (UTC)"},
		{"0 */2 * * *", "Asia/Tokyo", "cron 0 */2 * * * (Asia/Tokyo)"},
		{"0 0 13 * 5", "", "cron 0 0 13 * 5 (UTC)"},
	}
	for _, tc := range cases {
		s, err := core.ParseCron(tc.expr, tc.tz)
		if err != nil {
			t.Errorf("ParseCron(%q): %v", tc.expr, err)
			continue
		}
		if got := s.Describe(); got != tc.want {
			t.Errorf("Describe(%q, %q) = %q, want %q", tc.expr, tc.tz, got, tc.want)
		}
	}
}

func TestDescribeEvery(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Minute, "every 5 minutes"},
		{time.Minute, "every minute"},
		{30 * time.Second, "every 30 seconds"},
		{time.Second, "every second"},
		{time.Hour, "every hour"},
		{2 * time.Hour, "every 2 hours"},
		{24 * time.Hour, "every 24 hours"},
		{90 * time.Minute, "every 1h30m0s"},
		{1500 * time.Millisecond, "every 1.5s"},
		{0, "every 0s"},
	}
	for _, tc := range cases {
		if got := core.DescribeEvery(tc.d); got != tc.want {
			t.Errorf("DescribeEvery(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func BenchmarkCronNext(b *testing.B) {
	for _, bc := range []struct{ expr, tz string }{
		{"*/5 * * * *", "America/New_York"},
		{"30 2 * * *", "Europe/Berlin"},
		{"0 9 * * MON-FRI", "UTC"},
		{"0 0 29 2 *", "Australia/Lord_Howe"},
	} {
		b.Run(bc.expr+" "+bc.tz, func(b *testing.B) {
			s, err := core.ParseCron(bc.expr, bc.tz)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			t := start
			for b.Loop() {
				if t = s.Next(t); t.Year() > 2035 {
					t = start
				}
			}
		})
	}
}

func cronMustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
