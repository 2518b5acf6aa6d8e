package core

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/gorhill/cronexpr"
)

// CronSchedule is a parsed five-field cron expression in a time zone. Build
// one with ParseCron. It is immutable, so one value may be shared by any
// number of goroutines.
//
// Fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
// JAN-DEC) and day of week (0-7 or SUN-SAT, 0 and 7 both Sunday). Each field
// is a comma-separated list of *, a value, a range a-b, each optionally
// followed by /step (a/step means a through the field's maximum). When both
// day fields are restricted (neither is a bare *), a day matches if either
// field matches. The Quartz extensions L, W and #, a seconds field and a year
// field are not accepted.
//
// Wall times are read in the schedule's zone, and daylight-saving changes
// follow the rule of DESIGN.md (see Next).
type CronSchedule struct {
	expr string
	loc  *time.Location

	minutes uint64 // bit m: minute m matches
	hours   uint32 // bit h: hour h matches
	doms    uint32 // bit d (1-31): day of month d matches
	months  uint16 // bit m (1-12): month m matches
	dows    uint8  // bit w (0-6, Sunday 0): weekday w matches

	domStar, dowStar bool // the day field is unrestricted (a bare * or ?)

	// dowDays[w] holds the days of a month (bits 1-31) whose weekday is in
	// dows, for a month whose first day has weekday w.
	dowDays [7]uint32
}

const (
	allMinutes = uint64(1)<<60 - 1
	allHours   = uint32(1)<<24 - 1
	allMonths  = uint16(1)<<13 - 2 // bits 1-12

	// cronSearchYears bounds the search for the next matching wall time. A
	// validated expression matches at least once every 8 years (leap days
	// skip 2100), so hitting the bound means "never".
	cronSearchYears = 30

	// maxSpans bounds the zone spans one call to Next crosses: about four a
	// year (two offset changes, two year splits) over cronSearchYears.
	maxSpans = 4 * (cronSearchYears + 2)

	// zoneLookaround bounds how far (in seconds) one wall time can be from
	// the instants it names: zone offsets stay within ±16 hours, so walls of
	// periods further apart than this can never coincide.
	zoneLookaround = 48 * 3600

	minInstant = math.MinInt64
	maxInstant = math.MaxInt64
)

// cronAliases are the macros accepted in place of five fields.
var cronAliases = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// cronField describes one of the five fields for the parser.
type cronField struct {
	name     string
	min, max int // allowed values (day of week allows 7 for Sunday)
	starMax  int // last value * stands for (6 for day of week)
	stepMax  int // largest step accepted (cronexpr's limit)
	names    map[string]int
	question bool // ? is accepted as a synonym of *
}

var (
	cronMonthNames = map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
		"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
		"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	}
	cronDayNames = map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
		"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4,
		"friday": 5, "saturday": 6,
	}
	cronFields = [5]cronField{
		{name: "minute", min: 0, max: 59, starMax: 59, stepMax: 59},
		{name: "hour", min: 0, max: 23, starMax: 23, stepMax: 23},
		{name: "day-of-month", min: 1, max: 31, starMax: 31, stepMax: 31, question: true},
		{name: "month", min: 1, max: 12, starMax: 12, stepMax: 12, names: cronMonthNames},
		{name: "day-of-week", min: 0, max: 7, starMax: 6, stepMax: 6, names: cronDayNames, question: true},
	}
	cronMonthDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
)

// ParseCron parses a five-field cron expression (minute hour day-of-month
// month day-of-week) to be read in the IANA time zone tz ("" means UTC).
// The aliases @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly stand for their five-field forms.
//
// It returns a *ValidationError (wrapping ErrInvalid) with Field "cron" when
// the expression does not have exactly five fields, has a value out of range
// or a malformed item, uses an unsupported extension, or can never fire (such
// as "0 0 31 2 *"); and with Field "timezone" when tz is not a known zone.
func ParseCron(expr, tz string) (*CronSchedule, error) {
	fields := strings.Fields(expr)
	if len(fields) == 1 && strings.HasPrefix(fields[0], "@") {
		alias, ok := cronAliases[strings.ToLower(fields[0])]
		if !ok {
			return nil, invalid("cron", expr, "unknown macro %s (want five fields, or one of @yearly, @monthly, @weekly, @daily, @hourly)", fields[0])
		}
		fields = strings.Fields(alias)
	}
	switch {
	case len(fields) == 0:
		return nil, invalid("cron", expr, "empty expression (want five fields: minute hour day-of-month month day-of-week)")
	case len(fields) == 6 || len(fields) == 7:
		return nil, invalid("cron", expr, "got %d fields, want five (minute hour day-of-month month day-of-week); seconds and year fields are not supported", len(fields))
	case len(fields) != 5:
		return nil, invalid("cron", expr, "got %d fields, want five (minute hour day-of-month month day-of-week)", len(fields))
	}

	c := &CronSchedule{expr: expr}
	var sets [5]uint64
	var stars [5]bool
	for i, f := range cronFields {
		set, star, err := f.parse(fields[i])
		if err != nil {
			return nil, invalid("cron", expr, "%s field: %v", f.name, err)
		}
		sets[i], stars[i] = set, star
	}
	// gorhill/cronexpr is the reference parser: whatever it rejects is
	// rejected too. Matching uses the bit sets instead of cronexpr's Next,
	// which is wrong across DST, writes to the Expression on every call (a
	// data race on a shared schedule), reads a day-of-week range ending in 7
	// as empty, panics on a backwards range and gives up after 2099.
	if _, err := cronexpr.Parse(strings.Join(fields, " ")); err != nil {
		return nil, invalid("cron", expr, "%v", err)
	}
	c.minutes = sets[0]
	c.hours = uint32(sets[1])
	c.doms = uint32(sets[2])
	c.months = uint16(sets[3])
	dows := sets[4]
	if dows&(1<<7) != 0 { // 7 is Sunday
		dows = dows&^(1<<7) | 1
	}
	c.dows = uint8(dows)
	c.domStar, c.dowStar = stars[2], stars[4]
	for w := range 7 {
		for d := 1; d <= 31; d++ {
			if c.dows&(1<<((w+d-1)%7)) != 0 {
				c.dowDays[w] |= 1 << d
			}
		}
	}
	if !c.canFire() {
		return nil, invalid("cron", expr, "never fires: no selected month has the selected day of month")
	}

	loc, err := loadCronZone(tz)
	if err != nil {
		return nil, err
	}
	c.loc = loc
	return c, nil
}

func loadCronZone(tz string) (*time.Location, error) {
	switch tz {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, invalid("timezone", tz, "want an IANA zone name such as America/New_York, not the host's zone")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, invalid("timezone", tz, "unknown time zone (want an IANA name such as America/New_York)")
	}
	return loc, nil
}

// parse returns the set of values a field selects (bit v for value v) and
// whether the field is unrestricted (holds a bare * or ?).
func (f cronField) parse(s string) (set uint64, star bool, err error) {
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			return 0, false, fmt.Errorf("empty item in %q", s)
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			step, err = strconv.Atoi(stepText)
			if err != nil || step < 1 || step > f.stepMax {
				return 0, false, fmt.Errorf("invalid step %q in %q (want 1-%d)", stepText, item, f.stepMax)
			}
		}
		var lo, hi int
		switch {
		case rng == "*" || (rng == "?" && f.question):
			lo, hi = f.min, f.starMax
			if !hasStep {
				star = true
			}
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			if lo, err = f.value(a); err != nil {
				return 0, false, err
			}
			if hi, err = f.value(b); err != nil {
				return 0, false, err
			}
			if lo > hi {
				return 0, false, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			if lo, err = f.value(rng); err != nil {
				return 0, false, err
			}
			hi = lo
			if hasStep { // a/step: a through the field's maximum
				if lo > f.starMax { // 7/step in day-of-week: 7 is Sunday, 0
					lo = f.min
				}
				hi = f.starMax
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, star, nil
}

func (f cronField) value(s string) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	if s == "" {
		return 0, fmt.Errorf("missing value")
	}
	v, err := strconv.Atoi(s)
	if err != nil || s[0] == '+' || s[0] == '-' {
		if strings.ContainsAny(s, "LW#") {
			return 0, fmt.Errorf("invalid value %q (the L, W and # extensions are not supported)", s)
		}
		return 0, fmt.Errorf("invalid value %q", s)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("value %d out of range %d-%d", v, f.min, f.max)
	}
	return v, nil
}

// canFire reports whether some date matches the day and month fields. A
// restricted day of week matches in every month; otherwise a selected day of
// month must exist in a selected month (February counting its 29th).
func (c *CronSchedule) canFire() bool {
	if !c.dowStar || c.domStar {
		return true
	}
	for m := 1; m <= 12; m++ {
		if c.months&(1<<m) != 0 && c.doms&(uint32(1)<<(cronMonthDays[m]+1)-2) != 0 {
			return true
		}
	}
	return false
}

// String returns the expression as it was given to ParseCron.
func (c *CronSchedule) String() string { return c.expr }

// Location returns the zone the expression's wall times are read in.
func (c *CronSchedule) Location() *time.Location { return c.loc }

// zonePeriod is a span [start, end) of Unix seconds over which the zone's UTC
// offset (off, in seconds) is constant. start is minInstant and end is
// maxInstant when the span is unbounded.
type zonePeriod struct{ start, end, off int64 }

// periodAt returns a span holding instant t. Spans may be split where the
// offset does not change (Go ends the spans of rule-based years at UTC year
// boundaries); the walk in Next does not mind. It always returns
// start <= t < end, so walks forward and backward make progress.
func (c *CronSchedule) periodAt(t int64) zonePeriod {
	lt := time.Unix(t, 0).In(c.loc)
	_, off := lt.Zone()
	s, e := lt.ZoneBounds()
	p := zonePeriod{start: minInstant, end: maxInstant, off: int64(off)}
	if !s.IsZero() {
		p.start = min(s.Unix(), t)
	}
	if !e.IsZero() {
		p.end = e.Unix()
	}
	if p.end <= t {
		// Go bug golang/go#81583: in the last UTC day of a leap year served
		// by a zone's TZ rule, ZoneBounds ends the span 24 hours early, before
		// t. The offset holds at least until the next UTC midnight (the next
		// year's start), where Go's answers are right again.
		day := t / 86400
		if t%86400 < 0 {
			day-- // floor for instants before 1970
		}
		p.end = (day + 1) * 86400
	}
	return p
}

// walls returns the span of wall times (civil seconds) the period shows.
func (p zonePeriod) walls() (lo, hi int64) {
	return satAdd(p.start, p.off), satAdd(p.end, p.off)
}

func satAdd(t, d int64) int64 {
	switch t {
	case minInstant, maxInstant:
		return t
	}
	return t + d
}

// Next returns the first instant strictly after after at which the schedule
// fires, in UTC, or the zero time if it never fires again.
//
// Wall times are read in the schedule's zone. A wall time that does not exist
// (skipped by a spring-forward change) fires at that wall time read with the
// offset in force before the change: 02:30 in a one-hour gap fires at 03:30
// new time. A wall time that occurs twice (fall-back) fires on its first
// pass only, unless the hour field covers all 24 hours: then it fires on both
// passes. Wall times that name the same instant fire once.
func (c *CronSchedule) Next(after time.Time) time.Time {
	// Fire instants are whole seconds, so t > after iff t >= lo.
	lo := after.Unix() + 1
	m := cronMatcher{c: c}
	best := int64(maxInstant)

	// Walk the zone's periods from the one holding lo. A period's fires are
	// its real wall times, from lo on, plus the instants its starting gap
	// (if any) shifts skipped wall times to; all of them lie at or after the
	// period's start, so the walk stops at the first period starting at or
	// after the best instant found.
	for p, spans := c.periodAt(lo), 0; spans < maxSpans; p, spans = c.periodAt(p.end), spans+1 {
		prev := c.periodsBefore(p)
		wallLo, wallHi := p.walls()

		// Spring-forward gap at p.start: wall times [p.start+old, wallLo) do
		// not exist and fire at wall-old, which lies in [p.start, p.start+gap).
		if prev.n > 0 && prev.p[0].off < p.off && lo < p.start+(p.off-prev.p[0].off) {
			old := prev.p[0].off
			for w := m.next(max(p.start, lo) + old); w < wallLo; w = m.next(w + 60) {
				if prev.shows(w) || c.shownAfter(p, w) {
					continue // the wall time exists after all: not a gap fire
				}
				best = min(best, w-old)
				break
			}
		}

		// Real wall times of p, first passes only unless all hours match.
		w := m.next(max(lo, p.start) + p.off)
		if w == maxInstant {
			break // nothing matches for cronSearchYears: later spans cannot either
		}
		for w < wallHi {
			if c.hours != allHours {
				if until := prev.shownUntil(w); until > w {
					w = m.next(until) // second pass of a repeated wall time
					continue
				}
			}
			best = min(best, w-p.off)
			break
		}

		if p.end == maxInstant || p.end >= best {
			break
		}
	}
	if best == maxInstant {
		return time.Time{}
	}
	return time.Unix(best, 0).UTC()
}

// recentPeriods are the periods ending within zoneLookaround before a
// period's start, nearest first: the only ones whose wall times can repeat
// that period's.
type recentPeriods struct {
	p [4]zonePeriod
	n int
}

func (c *CronSchedule) periodsBefore(p zonePeriod) recentPeriods {
	var r recentPeriods
	for s := p.start; s != minInstant && s > p.start-zoneLookaround && r.n < len(r.p); {
		q := c.periodAt(s - 1)
		r.p[r.n] = q
		r.n++
		s = q.start
	}
	return r
}

// shows reports whether one of the periods shows wall time w.
func (r *recentPeriods) shows(w int64) bool {
	return r.shownUntil(w) > w
}

// shownUntil returns the end of the latest wall span among the periods that
// shows w, or w itself when none does.
func (r *recentPeriods) shownUntil(w int64) int64 {
	until := w
	for _, q := range r.p[:r.n] {
		if lo, hi := q.walls(); lo <= w && w < hi {
			until = max(until, hi)
		}
	}
	return until
}

// shownAfter reports whether a period after p (within zoneLookaround) shows
// wall time w. That happens only in zones that fall back soon after springing
// forward.
func (c *CronSchedule) shownAfter(p zonePeriod, w int64) bool {
	for q := p; q.end != maxInstant && q.end < p.start+zoneLookaround; {
		q = c.periodAt(q.end)
		if lo, hi := q.walls(); lo <= w && w < hi {
			return true
		}
	}
	return false
}

// cronMatcher finds matching wall times, remembering its last answer: the
// walk asks for the same one again from each period it crosses.
type cronMatcher struct {
	c          *CronSchedule
	from, wall int64
	ok         bool
}

func (m *cronMatcher) next(from int64) int64 {
	if m.ok && m.from <= from && from <= m.wall {
		return m.wall
	}
	m.from, m.wall, m.ok = from, m.c.nextWall(from), true
	return m.wall
}

// nextWall returns the first matching wall time at or after civil time from.
// Civil times are seconds since 1970-01-01 00:00 read as a wall clock with no
// zone. It returns maxInstant when nothing matches within cronSearchYears.
func (c *CronSchedule) nextWall(from int64) int64 {
	if r := from % 60; r > 0 {
		from += 60 - r
	} else if r < 0 {
		from -= r
	}
	t := time.Unix(from, 0).UTC()
	y, month, d := t.Date()
	h, mi, _ := t.Clock()
	mo := int(month)
	for limit := y + cronSearchYears; y <= limit; {
		if c.months&(1<<mo) == 0 {
			nm := nextBit(uint64(c.months), mo+1)
			if nm < 0 {
				y, nm = y+1, nextBit(uint64(c.months), 1)
			}
			mo, d, h, mi = nm, 1, 0, 0
			continue
		}
		nd := nextBit(uint64(c.dayMask(y, mo)), d)
		if nd < 0 {
			if mo++; mo > 12 {
				y, mo = y+1, 1
			}
			d, h, mi = 1, 0, 0
			continue
		}
		if nd != d {
			d, h, mi = nd, 0, 0
		}
		nh := nextBit(uint64(c.hours), h)
		if nh < 0 {
			d, h, mi = d+1, 0, 0
			continue
		}
		if nh != h {
			h, mi = nh, 0
		}
		nmi := nextBit(c.minutes, mi)
		if nmi < 0 {
			h, mi = h+1, 0
			continue
		}
		return time.Date(y, time.Month(mo), d, h, nmi, 0, 0, time.UTC).Unix()
	}
	return maxInstant
}

// dayMask returns the matching days (bits 1-31) of month mo of year y.
func (c *CronSchedule) dayMask(y, mo int) uint32 {
	n := cronMonthDays[mo]
	if mo == 2 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		n = 28
	}
	valid := uint32(1)<<(n+1) - 2
	first := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC).Weekday()
	switch {
	case c.domStar && c.dowStar:
		return valid
	case c.dowStar:
		return c.doms & valid
	case c.domStar:
		return c.dowDays[first] & valid
	default:
		return (c.doms | c.dowDays[first]) & valid
	}
}

// nextBit returns the lowest set bit of set at or above from, or -1.
func nextBit(set uint64, from int) int {
	if from >= 64 {
		return -1
	}
	if set >>= from; set == 0 {
		return -1
	}
	return from + bits.TrailingZeros64(set)
}

// Describe returns the schedule in words for people, such as "every 30
// minutes", "at minute 15 of every hour" or "at 09:00 every day,
// America/New_York". Expressions with no short wording come back as
// "cron <expr> (<zone>)". Wordings that depend on the zone name it.
func (c *CronSchedule) Describe() string {
	zone := c.loc.String()
	everyDay := c.domStar && c.dowStar && c.months == allMonths
	if everyDay && c.hours == allHours {
		if c.minutes == allMinutes {
			return "every minute"
		}
		if n := evenStep(c.minutes); n > 0 {
			return fmt.Sprintf("every %d minutes", n)
		}
		if mi, ok := single(c.minutes); ok {
			return fmt.Sprintf("at minute %d of every hour", mi)
		}
	}
	mi, okMinute := single(c.minutes)
	h, okHour := single(uint64(c.hours))
	if !okMinute || !okHour {
		return fmt.Sprintf("cron %s (%s)", c.expr, zone)
	}
	at := fmt.Sprintf("at %02d:%02d", h, mi)
	month, okMonth := single(uint64(c.months))
	dom, okDom := single(uint64(c.doms))
	dow, okDow := single(uint64(c.dows))
	switch {
	case everyDay:
		return fmt.Sprintf("%s every day, %s", at, zone)
	case c.months == allMonths && c.domStar && c.dows == 0b0111110:
		return fmt.Sprintf("%s every weekday (Monday to Friday), %s", at, zone)
	case c.months == allMonths && c.domStar && okDow:
		return fmt.Sprintf("%s every %s, %s", at, time.Weekday(dow), zone)
	case c.months == allMonths && c.dowStar && okDom:
		return fmt.Sprintf("%s on day %d of every month, %s", at, dom, zone)
	case okMonth && c.dowStar && okDom:
		return fmt.Sprintf("%s on %s %d every year, %s", at, time.Month(month), dom, zone)
	}
	return fmt.Sprintf("cron %s (%s)", c.expr, zone)
}

// single returns the only value in set, if it holds exactly one.
func single(set uint64) (int, bool) {
	if bits.OnesCount64(set) != 1 {
		return 0, false
	}
	return bits.TrailingZeros64(set), true
}

// evenStep returns n > 1 when the minutes are exactly 0, n, 2n, … and n
// divides 60 (so the schedule really fires every n minutes), else 0.
func evenStep(minutes uint64) int {
	if minutes&1 == 0 || bits.OnesCount64(minutes) < 2 {
		return 0
	}
	n := bits.TrailingZeros64(minutes &^ 1)
	if 60%n != 0 {
		return 0
	}
	var want uint64
	for v := 0; v < 60; v += n {
		want |= 1 << v
	}
	if minutes != want {
		return 0
	}
	return n
}

// DescribeEvery returns an interval in words for people: "every 5 minutes",
// "every 30 seconds", "every hour", "every 2 hours", and for other lengths
// the duration as Go prints it ("every 1h30m0s").
func DescribeEvery(d time.Duration) string {
	plural := func(n time.Duration, unit string) string {
		if n == 1 {
			return "every " + unit
		}
		return fmt.Sprintf("every %d %ss", n, unit)
	}
	switch {
	case d <= 0:
		return "every " + d.String()
	case d%time.Hour == 0:
		return plural(d/time.Hour, "hour")
	case d < time.Hour && d%time.Minute == 0:
		return plural(d/time.Minute, "minute")
	case d < time.Minute && d%time.Second == 0:
		return plural(d/time.Second, "second")
	}
	return "every " + d.String()
}
