package core

import (
	"context"
	"time"
)

// Observer sees every tick an Engine runs, whatever invoked it (the CLI, the
// HTTP endpoint, cmd/local's timer or Lambda), and every run outcome a tick
// records: the one place metrics, the Lambda EMF line and logs hook in.
// Observers are called synchronously from the tick's goroutines, possibly
// from several at once: they must be quick and safe for concurrent use.
type Observer interface {
	// ObserveTick is called once per tick after its report was recorded,
	// or after it failed to start (its clock or BeginTick failed): err is
	// the tick's infrastructure error (nil when the tick ran, even if tasks
	// failed; the report is partial otherwise), elapsed its wall time. ctx
	// is the tick's context (it carries the request ids).
	ObserveTick(ctx context.Context, rep Report, err error, elapsed time.Duration)
	// ObserveRun is called once per executed run with its outcome (success,
	// failed, or pending for a retry or a release), before it is recorded.
	ObserveRun(ctx context.Context, run Run, o Outcome)
}

// AddObserver adds o to the engine's observers. Call it before the first
// tick (adapters do so when they are built); it is safe for concurrent use.
func (e *Engine) AddObserver(o Observer) {
	e.obsMu.Lock()
	defer e.obsMu.Unlock()
	e.observers = append(e.observers[:len(e.observers):len(e.observers)], o)
}

func (e *Engine) observerList() []Observer {
	e.obsMu.Lock()
	defer e.obsMu.Unlock()
	return e.observers
}

func (e *Engine) observeTick(ctx context.Context, rep Report, err error, elapsed time.Duration) {
	for _, o := range e.observerList() {
		o.ObserveTick(ctx, rep, err, elapsed)
	}
}

func (e *Engine) observeRun(ctx context.Context, r Run, o Outcome) {
	for _, ob := range e.observerList() {
		ob.ObserveRun(ctx, r, o)
	}
}
