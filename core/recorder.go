package core

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// recorder is a tick's recording part. It counts outcomes in the tally and
// hands full batches to two flushers, so workers keep running while a batch
// is written and the last batches of a big tick are written side by side; a
// partial batch is also written after an idle period (a second) without new
// outcomes, so that slow runs show up finished before the tick ends. Each
// batch is one fenced Store.FinishRuns.
type recorder struct {
	store  Store
	tickID string
	log    *slog.Logger
	tally  *tally
	// flushSize is Config.FlushSize; idle is the idle flush period.
	flushSize int
	idle      time.Duration
	// alerts: FinishRuns also writes run_failed alerts (Config.Alerts on).
	alerts bool

	outcomes chan Outcome
	batches  chan []Outcome
	// free holds written batches' buffers for reuse: at most one being
	// filled, one queued and two being written exist at once.
	free chan []Outcome
	done chan struct{}
}

// newRecorder returns a recorder for tick tickID whose outcome queue holds
// buffer outcomes (one per worker). Start it before recording.
func newRecorder(store Store, tickID string, log *slog.Logger, tl *tally, flushSize, buffer int) *recorder {
	return &recorder{
		store: store, tickID: tickID, log: log, tally: tl, flushSize: flushSize, idle: time.Second,
		outcomes: make(chan Outcome, buffer), batches: make(chan []Outcome, 1), done: make(chan struct{}),
		free: make(chan []Outcome, 4),
	}
}

// start starts the batching loop and the two flushers.
func (r *recorder) start(ctx context.Context) {
	var flushers sync.WaitGroup
	for range 2 {
		flushers.Go(func() {
			for buf := range r.batches {
				r.flush(ctx, buf)
				clear(buf) // drop the error and stack strings
				select {
				case r.free <- buf[:0]:
				default:
				}
			}
		})
	}
	go func() {
		defer close(r.done)
		r.batch()
		close(r.batches)
		flushers.Wait()
	}()
}

// record queues one outcome; it blocks while the queue is full.
func (r *recorder) record(o Outcome) { r.outcomes <- o }

// close records the queued outcomes and returns when every batch is written.
func (r *recorder) close() {
	close(r.outcomes)
	<-r.done
}

// batch counts the outcomes and cuts them into batches until the outcome
// queue is closed.
func (r *recorder) batch() {
	buf := make([]Outcome, 0, r.flushSize)
	idle := time.NewTicker(r.idle)
	defer idle.Stop()
	fresh := false
	for {
		select {
		case o, ok := <-r.outcomes:
			if !ok {
				r.send(buf)
				return
			}
			r.tally.outcome(o)
			buf, fresh = append(buf, o), true
			if len(buf) >= r.flushSize {
				buf = r.send(buf)
			}
		case <-idle.C:
			if !fresh {
				buf = r.send(buf)
			}
			fresh = false
		}
	}
}

// send hands a non-empty buf to the flushers and returns the next buffer.
func (r *recorder) send(buf []Outcome) []Outcome {
	if len(buf) == 0 {
		return buf
	}
	r.batches <- buf
	select {
	case b := <-r.free:
		return b
	default:
		return make([]Outcome, 0, r.flushSize)
	}
}

// flush records one batch. A store error is the tick's error (the runs stay
// leased, and a later tick retries them once the lease expires); fewer rows
// than outcomes means another tick took over some leases.
func (r *recorder) flush(ctx context.Context, buf []Outcome) {
	// Record even when ctx is done: the work happened.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	n, err := r.store.FinishRuns(fctx, FinishRunsParams{TickID: r.tickID, Outcomes: buf, Alerts: r.alerts})
	cancel()
	if err != nil {
		r.log.Error("record outcomes failed; the runs stay leased and are retried after the lease expires", "runs", len(buf), "error", err)
		r.tally.fail("record outcomes", err)
	} else if n != len(buf) {
		r.log.Warn("some outcomes were not recorded: their lease was taken over", "runs", len(buf), "recorded", n)
	}
}
