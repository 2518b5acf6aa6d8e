package core

import (
	"time"
)

// Spec is a schedule's kind: the rule that says when its slots fall. Each
// kind is one type (*Interval for Every, *CronSchedule for Cron); a schedule
// holds one and asks it for slots, never which kind it is. A new kind (a
// one-off instant, say) is a new type implementing Spec, plus the case that
// reads it back from a stored record.
//
// Implementations are immutable and pure: the same arguments give the same
// answer, whatever the clock says, and one value may be shared by any number
// of goroutines. Slots are whole seconds in UTC; the zero time means "never
// again".
type Spec interface {
	// Kind names the kind as it is stored ("every", "cron"). It is part of
	// the schedule's SpecHash, so it never changes for a kind.
	Kind() string
	// First returns the first slot of a schedule anchored at anchor (the
	// time its spec was first stored, truncated to the second): the first
	// slot strictly after anchor, or zero if there is none.
	First(anchor time.Time) time.Time
	// Next returns the slot after slot (strictly later), or zero if the
	// schedule never fires again. It derives from the previous slot, never
	// from "now", so slots do not drift.
	Next(slot time.Time) time.Time
	// Describe says when the kind fires, in words for people ("every 5
	// minutes", "at 09:00 every day, America/New_York").
	Describe() string
	// Location is the zone the kind's wall times are read in, and slots are
	// best shown in (UTC for kinds without wall times).
	Location() *time.Location
}

// The stored names of the kinds (Spec.Kind, ScheduleRecord.Kind).
const (
	KindEvery = "every"
	KindCron  = "cron"
	KindOnce  = "once"
)

var (
	_ Spec = (*Interval)(nil)
	_ Spec = (*CronSchedule)(nil)
	_ Spec = (*OnceSpec)(nil)
)

// OnceSpec is the kind of Once: one slot at an instant, then never again.
// Build one with NewOnce.
type OnceSpec struct {
	at time.Time
}

// NewOnce returns the once kind for at, truncated to the second, in UTC. It
// returns a *ValidationError with Field "once" when at is outside
// [MinTime, MaxTime).
func NewOnce(at time.Time) (*OnceSpec, error) {
	if err := CheckTime("once", at); err != nil {
		return nil, err
	}
	return &OnceSpec{at: at.UTC().Truncate(time.Second)}, nil
}

// At returns the instant of the one slot.
func (o *OnceSpec) At() time.Time { return o.at }

// Kind returns "once".
func (o *OnceSpec) Kind() string { return KindOnce }

// First returns the instant, even when it is not after anchor (unlike the
// other kinds): a once whose instant has passed when it is first stored is
// due at once, and the misfire policy decides (skip records it as skipped
// when it is later than Config.MisfireGrace).
func (o *OnceSpec) First(time.Time) time.Time { return o.at }

// Next returns zero: a once never fires again.
func (o *OnceSpec) Next(time.Time) time.Time { return time.Time{} }

// Describe returns "once at" the instant in RFC 3339.
func (o *OnceSpec) Describe() string { return "once at " + o.at.Format(time.RFC3339) }

// Location returns UTC.
func (o *OnceSpec) Location() *time.Location { return time.UTC }

// slotCounter is implemented by kinds that can count the slots in a range
// without walking them one by one: dueSlots uses it, so an interval schedule
// that missed a million slots costs no more to plan than one that missed one.
type slotCounter interface {
	// dueSlots has the contract of the package function dueSlots, for a
	// first slot that is not after now.
	dueSlots(first, now time.Time, keep int) (n int, tail []time.Time, next time.Time)
}

// Interval is the kind of Every: anchored slots, slot k = anchor + k·every,
// each slot its predecessor plus the interval (never re-based on "now", so
// no drift). Build one with NewInterval.
type Interval struct {
	every time.Duration
}

// NewInterval returns the interval kind for every. It returns a
// *ValidationError with Field "every" when every is not positive, or is
// shorter than a second (slots are whole seconds).
func NewInterval(every time.Duration) (*Interval, error) {
	if every <= 0 {
		return nil, invalid("every", every.String(), "must be greater than zero")
	}
	if every%time.Second != 0 && every < time.Second {
		return nil, invalid("every", every.String(), "must be at least one second")
	}
	return &Interval{every: every}, nil
}

// Every returns the interval between slots.
func (i *Interval) Every() time.Duration { return i.every }

// Kind returns "every".
func (i *Interval) Kind() string { return KindEvery }

// First returns anchor + every: the anchor is slot 0, which has passed.
func (i *Interval) First(anchor time.Time) time.Time { return i.Next(anchor) }

// Next returns slot + every, in UTC.
func (i *Interval) Next(slot time.Time) time.Time { return slot.Add(i.every).UTC() }

// Describe returns the interval in words (see DescribeEvery).
func (i *Interval) Describe() string { return DescribeEvery(i.every) }

// Location returns UTC: an interval has no wall times.
func (i *Interval) Location() *time.Location { return time.UTC }

// dueSlots counts the slots from first to now by arithmetic: they are
// evenly spaced.
func (i *Interval) dueSlots(first, now time.Time, keep int) (n int, tail []time.Time, next time.Time) {
	n = int(now.Sub(first)/i.every) + 1
	last := first.Add(time.Duration(n-1) * i.every)
	k := min(keep, n)
	tail = make([]time.Time, k)
	for j := 0; j < k; j++ {
		tail[j] = last.Add(-time.Duration(k-1-j) * i.every).UTC()
	}
	return n, tail, last.Add(i.every).UTC()
}

// Kind returns "cron".
func (c *CronSchedule) Kind() string { return KindCron }

// First returns the first instant strictly after anchor at which the
// expression fires (see Next).
func (c *CronSchedule) First(anchor time.Time) time.Time { return c.Next(anchor) }

// recordSpec rebuilds the Spec a stored schedule record names, from its
// Kind, EverySeconds, Cron and Timezone.
func recordSpec(rec *ScheduleRecord) (Spec, error) {
	return storedSpec(rec.Kind, rec.EverySeconds, rec.Cron, rec.Timezone, rec.OnceAt, ParseCron)
}

// storedSpec builds the Spec of a stored kind and its fields, parsing a cron
// expression with parseCron (ParseCron, or a cache of it).
func storedSpec(kind string, everySeconds float64, cron, tz string, onceAt *time.Time, parseCron func(expr, tz string) (*CronSchedule, error)) (Spec, error) {
	switch kind {
	case KindEvery:
		return NewInterval(time.Duration(everySeconds * float64(time.Second)))
	case KindCron:
		return parseCron(cron, tz)
	case KindOnce:
		if onceAt == nil {
			return nil, invalid("once_at", "", "is required for kind once")
		}
		return NewOnce(*onceAt)
	}
	return nil, invalid("kind", kind, "unknown schedule kind (want every, cron or once)")
}
