package core

import (
	"context"
	"sync"
	"time"
)

// Clock supplies "now" for a tick. In production the tick uses the database
// clock (Store.BeginTick reads it); tests inject a Clock to stub time. A tick
// reads its clock once and passes that instant to every statement.
type Clock interface {
	Now(ctx context.Context) (time.Time, error)
}

// StubClock is a settable Clock for tests and simulations. Safe for
// concurrent use.
type StubClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewStubClock returns a StubClock set to t.
func NewStubClock(t time.Time) *StubClock { return &StubClock{t: t.UTC()} }

// Now returns the stubbed time.
func (c *StubClock) Now(context.Context) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t, nil
}

// Set moves the clock to t.
func (c *StubClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

// Advance moves the clock forward by d and returns the new time.
func (c *StubClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// The range of instants the Engine works in: a Clock reading (or a CLI's
// --now) outside [MinTime, MaxTime) is refused before anything touches the
// store. Far-future clocks would record slots and next runs that no database
// round-trips (PostgreSQL timestamptz ends in year 294276, SQLite's unix
// microseconds overflow around 294247, RFC 3339 in 9999), and a zero or
// ancient reading is a bug, not a time.
var (
	// MinTime is 2000-01-01T00:00:00Z, inclusive.
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	// MaxTime is 2200-01-01T00:00:00Z, exclusive.
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckTime returns nil when t is in [MinTime, MaxTime), else a
// ValidationError naming field.
func CheckTime(field string, t time.Time) error {
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return invalid(field, t.UTC().Format(time.RFC3339Nano), "must be from %s to before %s",
			MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
	}
	return nil
}
