package core

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// svcStore is a Store for service-method tests: Stats answers from its
// fields at the given now, SetSchedulePaused and BeginTick record their
// parameters, and err, when set, fails them.
type svcStore struct {
	Store
	mu       sync.Mutex
	lastTick *time.Time
	err      error
	paused   []SetSchedulePausedParams
}

func (s *svcStore) Stats(_ context.Context, now time.Time) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return Stats{}, s.err
	}
	return Stats{Now: now, LastTickAt: s.lastTick}, nil
}

func (s *svcStore) SetSchedulePaused(_ context.Context, p SetSchedulePausedParams) (ScheduleRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = append(s.paused, p)
	return ScheduleRecord{Name: p.Name, Paused: p.Paused, UpdatedAt: p.Now}, nil
}

func (s *svcStore) BeginTick(context.Context, BeginTickParams) (TickStart, error) {
	return TickStart{}, s.err
}

var svcT0 = time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)

func newSvcEngine(t *testing.T, st *svcStore, clock Clock) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Store: st, Registry: NewRegistry(), Clock: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEngineHealth checks the staleness rule on the engine's clock: starting
// then no_ticks without a tick (counted from the engine's creation), ok up to
// the threshold, stale past it, error when the store fails.
func TestEngineHealth(t *testing.T) {
	st := &svcStore{}
	clock := NewStubClock(svcT0)
	e := newSvcEngine(t, st, clock)
	p := HealthParams{Threshold: 3 * time.Minute}
	check := func(want HealthStatus, healthy bool) Health {
		t.Helper()
		h, err := e.Health(t.Context(), p)
		if err != nil || h.Status != want || h.Healthy() != healthy || h.Threshold != p.Threshold {
			t.Fatalf("Health = %+v, %v; want status %s, healthy %t", h, err, want, healthy)
		}
		now, _ := clock.Now(t.Context())
		if !h.Now.Equal(now) {
			t.Fatalf("Health read the clock as %v, want %v", h.Now, now)
		}
		return h
	}

	check(HealthStarting, true)
	clock.Advance(3 * time.Minute)
	check(HealthStarting, true)
	clock.Advance(time.Second)
	check(HealthNoTicks, false)

	last := clock.Advance(time.Minute)
	st.lastTick = &last
	if h := check(HealthOK, true); h.Age != 0 || h.LastTickAt == nil {
		t.Fatalf("just after a tick: %+v", h)
	}
	clock.Advance(3 * time.Minute)
	check(HealthOK, true)
	clock.Advance(time.Second)
	if h := check(HealthStale, false); h.Age != 3*time.Minute+time.Second {
		t.Fatalf("stale age = %v", h.Age)
	}

	st.err = errors.New("down")
	h, err := e.Health(t.Context(), p)
	if !errors.Is(err, st.err) || h.Status != HealthError || h.Healthy() || h.Error != "store unavailable" {
		t.Fatalf("store down: %+v, %v", h, err)
	}
	if _, err := e.Health(t.Context(), HealthParams{Threshold: -time.Second}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative threshold: %v, want ErrInvalid", err)
	}
}

// TestSetSchedulePausedNow checks that a pause carries the engine's clock
// to the store (the one-clock rule), and zero (the database clock) without
// a Clock.
func TestSetSchedulePausedNow(t *testing.T) {
	st := &svcStore{}
	e := newSvcEngine(t, st, NewStubClock(svcT0))
	if rec, err := e.SetSchedulePaused(t.Context(), "a", true); err != nil || !rec.UpdatedAt.Equal(svcT0) {
		t.Fatalf("pause = %+v, %v; want updated_at %v", rec, err, svcT0)
	}
	e = newSvcEngine(t, st, nil)
	if _, err := e.SetSchedulePaused(t.Context(), "a", false); err != nil {
		t.Fatal(err)
	}
	if len(st.paused) != 2 || !st.paused[1].Now.IsZero() || st.paused[1].Paused {
		t.Fatalf("store saw %+v; want the second call with a zero Now", st.paused)
	}
}

// countObserver counts observed ticks and their errors.
type countObserver struct {
	mu           sync.Mutex
	ticks, fails int
}

func (o *countObserver) ObserveTick(_ context.Context, _ Report, err error, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ticks++
	if err != nil {
		o.fails++
	}
}

func (o *countObserver) ObserveRun(context.Context, Run, Outcome) {}

// TestObserveFailedStart checks that a tick that fails to start is observed
// too, with its error.
func TestObserveFailedStart(t *testing.T) {
	st := &svcStore{err: errors.New("connection refused")}
	e := newSvcEngine(t, st, nil)
	o := &countObserver{}
	e.AddObserver(o)
	if _, err := e.Tick(t.Context()); !errors.Is(err, st.err) {
		t.Fatalf("tick error %v, want the store's", err)
	}
	if o.ticks != 1 || o.fails != 1 {
		t.Fatalf("observed %d ticks, %d failed; want 1 and 1", o.ticks, o.fails)
	}
}
