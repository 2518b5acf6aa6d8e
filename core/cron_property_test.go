package core_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// TestCronNextMatchesBruteForce checks Next against a reference that walks
// every UTC minute and applies DESIGN.md's DST rule directly, with its own
// field parser (no cron library). Expressions and start instants are random
// (fixed seed), biased towards DST transition windows.
func TestCronNextMatchesBruteForce(t *testing.T) {
	cases, horizon := 500, 62*24*time.Hour
	if testing.Short() {
		cases = 60
	}
	const results = 5
	r := rand.New(rand.NewPCG(20260308, 1))

	type zoneCase struct {
		name     string
		from, to int // years whose transitions start instants sit near
	}
	zones := []zoneCase{
		{"America/New_York", 2024, 2027},
		{"Europe/Berlin", 2024, 2027},
		{"Europe/London", 2024, 2027},
		{"Australia/Lord_Howe", 2024, 2027},
		{"Pacific/Chatham", 2024, 2027},
		{"America/Sao_Paulo", 2016, 2019}, // DST until 2019, gap at midnight
		{"Asia/Kolkata", 2024, 2027},
		{"UTC", 2024, 2027},
	}
	transitions := map[string][]time.Time{}
	for _, z := range zones {
		loc, err := time.LoadLocation(z.name)
		if err != nil {
			t.Fatal(err)
		}
		// Also years served by the zone's TZ rule rather than its explicit
		// transitions (past 2037), where Go's ZoneBounds has a leap-year bug.
		transitions[z.name] = append(cronTransitions(loc, z.from, z.to), cronTransitions(loc, 2040, 2041)...)
	}
	leapYearEnds := []time.Time{
		time.Date(2024, 12, 30, 12, 0, 0, 0, time.UTC),
		time.Date(2040, 12, 30, 12, 0, 0, 0, time.UTC),
		time.Date(2044, 12, 30, 12, 0, 0, 0, time.UTC),
	}

	checked, compared := 0, 0
	for checked < cases {
		z := zones[r.IntN(len(zones))]
		expr := cronRandExpr(r)
		loc, _ := time.LoadLocation(z.name)
		spec, err := cronRefParse(expr)
		if err != nil {
			t.Fatalf("reference cannot parse %q: %v", expr, err)
		}
		s, err := core.ParseCron(expr, z.name)
		if err != nil {
			if spec.canFire() {
				t.Errorf("ParseCron(%q) = %v, but the expression fires", expr, err)
			}
			continue
		}
		if !spec.canFire() {
			t.Errorf("ParseCron(%q) accepted an expression that never fires", expr)
			continue
		}
		checked++

		// Start near a transition (or anywhere, for zones without one), at a
		// random second, sometimes exactly on a minute.
		var after time.Time
		if tr := transitions[z.name]; r.IntN(8) == 0 {
			after = leapYearEnds[r.IntN(len(leapYearEnds))].Add(time.Duration(r.IntN(48*60)) * time.Minute)
		} else if len(tr) > 0 {
			after = tr[r.IntN(len(tr))].Add(-30*time.Hour + time.Duration(r.IntN(36*60))*time.Minute)
		} else {
			after = time.Date(z.from, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(4 * 365 * 24 * time.Hour))))
			after = after.Truncate(time.Minute)
		}
		after = after.UTC()
		switch r.IntN(3) {
		case 0:
			after = after.Add(time.Duration(r.Int64N(int64(time.Minute))))
		case 1:
			after = after.Add(time.Duration(r.IntN(60)) * time.Second)
		}

		want := cronRefFires(spec, loc, after, results, horizon)
		label := fmt.Sprintf("%q in %s after %s", expr, z.name, after.Format(time.RFC3339Nano))
		at := after
		for i := range results {
			got := s.Next(at)
			if !got.After(at) {
				t.Errorf("%s: Next #%d = %s, not after %s", label, i+1, got.Format(time.RFC3339), at.Format(time.RFC3339Nano))
				break
			}
			if i >= len(want) {
				// The reference stopped at its horizon: Next must lie beyond it.
				if end := after.Add(horizon); got.Before(end) {
					t.Errorf("%s: Next #%d = %s, reference found nothing before %s", label, i+1, got.Format(time.RFC3339), end.Format(time.RFC3339))
				}
				break
			}
			if !got.Equal(want[i]) {
				t.Errorf("%s: Next #%d = %s (%s), want %s (%s); reference %s", label, i+1,
					got.Format(time.RFC3339), got.In(loc).Format("2006-01-02 15:04 -07:00"),
					want[i].Format(time.RFC3339), want[i].In(loc).Format("2006-01-02 15:04 -07:00"), cronFormatTimes(want))
				break
			}
			compared++
			at = got
		}
	}
	t.Logf("%d expressions, %d instants compared", checked, compared)
}

// cronTransitions returns the instants the zone's offset changes in the years
// [from, to], found by reading the offset every 15 minutes (every test zone
// changes on a quarter hour).
func cronTransitions(loc *time.Location, from, to int) []time.Time {
	var out []time.Time
	t := time.Date(from, 1, 1, 0, 0, 0, 0, time.UTC)
	_, prev := t.In(loc).Zone()
	for end := time.Date(to+1, 1, 1, 0, 0, 0, 0, time.UTC); t.Before(end); t = t.Add(15 * time.Minute) {
		if _, off := t.In(loc).Zone(); off != prev {
			out, prev = append(out, t), off
		}
	}
	return out
}

// cronRandExpr returns a random five-field expression: mixes of *, values,
// ranges, steps and lists, with hours and minutes often around DST changes.
func cronRandExpr(r *rand.Rand) string {
	pick := func(options ...string) string { return options[r.IntN(len(options))] }
	minute := pick("*", "*", "0", "30", "15", "45", "0,15,30,45", "*/15", "*/30", "*/5", "*/7", "5/20",
		"0-30/10", "10-20", "59", strconv.Itoa(r.IntN(60)), fmt.Sprintf("%d,%d", r.IntN(30), 30+r.IntN(30)))
	hour := pick("*", "*", "*", "0", "1", "2", "3", "1,2,3", "1-3", "2-3", "0-23", "*/2", "*/3", "0-22",
		"1-23", "22,23,0,1", "23", strconv.Itoa(r.IntN(24)), "0-12/4")
	dom := pick("*", "*", "*", "*", "*", "?", "*/2", "1-15", "13", "1,15,28", "25-31", "29-31", "31", "30",
		strconv.Itoa(1+r.IntN(31)))
	month := pick("*", "*", "*", "*", "*", "*", "JAN-JUN", "3,10,11", "*/2", "mar", "OCT-DEC", "4,9", "2",
		"september,october", strconv.Itoa(1+r.IntN(12)))
	dow := pick("*", "*", "*", "*", "MON-FRI", "0", "7", "SUN", "6,0", "5-7", "1-5/2", "sat", "*/3", "?",
		strconv.Itoa(r.IntN(8)))
	return strings.Join([]string{minute, hour, dom, month, dow}, " ")
}

// cronRefSpec is the reference's own reading of an expression: the values
// each field selects, and whether the day fields are unrestricted.
type cronRefSpec struct {
	minute, hour, dom, month, dow [60]bool
	domStar, dowStar, allHours    bool
}

func cronRefParse(expr string) (cronRefSpec, error) {
	var spec cronRefSpec
	f := strings.Fields(expr)
	if len(f) != 5 {
		return spec, fmt.Errorf("want 5 fields")
	}
	months := map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7,
		"aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12, "september": 9, "october": 10}
	days := map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	var err error
	if _, err = cronRefField(f[0], 0, 59, nil, &spec.minute); err != nil {
		return spec, err
	}
	if _, err = cronRefField(f[1], 0, 23, nil, &spec.hour); err != nil {
		return spec, err
	}
	if spec.domStar, err = cronRefField(f[2], 1, 31, nil, &spec.dom); err != nil {
		return spec, err
	}
	if _, err = cronRefField(f[3], 1, 12, months, &spec.month); err != nil {
		return spec, err
	}
	if spec.dowStar, err = cronRefField(f[4], 0, 6, days, &spec.dow); err != nil {
		return spec, err
	}
	if spec.dow[7] {
		spec.dow[0] = true // 7 is Sunday
	}
	spec.allHours = true
	for h := range 24 {
		spec.allHours = spec.allHours && spec.hour[h]
	}
	return spec, nil
}

// cronRefField fills set from a field of comma-separated *, ?, n, a-b, each
// with an optional /step (n/step runs to max). It reports whether the field
// holds a bare * or ?.
func cronRefField(field string, lo, max int, names map[string]int, set *[60]bool) (star bool, err error) {
	num := func(s string) (int, error) {
		if v, ok := names[strings.ToLower(s)]; ok {
			return v, nil
		}
		return strconv.Atoi(s)
	}
	for _, item := range strings.Split(field, ",") {
		body, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			if step, err = strconv.Atoi(stepText); err != nil {
				return false, err
			}
		}
		a, b := lo, max
		switch {
		case body == "*" || body == "?":
			star = star || !hasStep
		case strings.Contains(body, "-"):
			x, y, _ := strings.Cut(body, "-")
			if a, err = num(x); err != nil {
				return false, err
			}
			if b, err = num(y); err != nil {
				return false, err
			}
		default:
			if a, err = num(body); err != nil {
				return false, err
			}
			if !hasStep {
				b = a
			}
		}
		for v := a; v <= b; v += step {
			set[v] = true
		}
	}
	return star, nil
}

// canFire reports whether some calendar date matches (February has a 29th).
func (s *cronRefSpec) canFire() bool {
	for m := 1; m <= 12; m++ {
		for d := 1; d <= time.Date(2028, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d++ {
			// 2028 is a leap year; weekdays are irrelevant, as every month
			// holds every weekday.
			if s.month[m] && (s.dayMatches(d, -1)) {
				return true
			}
		}
	}
	return false
}

// dayMatches applies the day rule; weekday -1 means "any weekday exists".
func (s *cronRefSpec) dayMatches(day, weekday int) bool {
	dowHit := false
	if weekday < 0 {
		for w := range 7 {
			dowHit = dowHit || s.dow[w]
		}
	} else {
		dowHit = s.dow[weekday]
	}
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.dowStar:
		return s.dom[day]
	case s.domStar:
		return dowHit
	default:
		return s.dom[day] || dowHit
	}
}

// matches reports whether wall time w (a UTC-located civil time) matches.
func (s *cronRefSpec) matches(w time.Time) bool {
	return s.minute[w.Minute()] && s.hour[w.Hour()] && s.month[int(w.Month())] &&
		s.dayMatches(w.Day(), int(w.Weekday()))
}

// cronRefFires walks every UTC minute from 48 hours before after (to learn
// which wall times were already shown) up to after+horizon and returns the
// first n fire instants strictly after after, by DESIGN.md's rule:
//   - instant t fires if its wall time matches and either no earlier instant
//     showed that wall time or the hour field covers all hours;
//   - in the gap after a spring-forward change by g at instant T, instant
//     t in [T, T+g) also fires if the skipped wall time t+oldOffset matches.
//
// All test zones change offset on whole minutes, so every fire instant is a
// whole UTC minute.
func cronRefFires(spec cronRefSpec, loc *time.Location, after time.Time, n int, horizon time.Duration) []time.Time {
	var out []time.Time
	start := after.UTC().Truncate(time.Minute).Add(-48 * time.Hour)
	end := after.Add(horizon)
	_, prevOff := start.Add(-time.Minute).In(loc).Zone()
	var highWater time.Time // latest wall time shown so far
	var gapUntil time.Time
	gapOff := 0
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		_, off := t.In(loc).Zone()
		if off > prevOff {
			gapUntil, gapOff = t.Add(time.Duration(off-prevOff)*time.Second), prevOff
		}
		prevOff = off
		wall := t.Add(time.Duration(off) * time.Second) // civil time, read as UTC
		fires := spec.matches(wall) && (spec.allHours || wall.After(highWater))
		if t.Before(gapUntil) && spec.matches(t.Add(time.Duration(gapOff)*time.Second)) {
			fires = true
		}
		if wall.After(highWater) {
			highWater = wall
		}
		if fires && t.After(after) {
			if out = append(out, t); len(out) == n {
				break
			}
		}
	}
	return out
}

func cronFormatTimes(ts []time.Time) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Format(time.RFC3339)
	}
	return "[" + strings.Join(s, " ") + "]"
}
