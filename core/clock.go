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
