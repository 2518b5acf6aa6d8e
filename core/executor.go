package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Execute runs the attempts of r, a run a tick claimed (Status running,
// leased to r.TickID with r.Attempt), exactly as a tick's worker does, so
// claimed runs can be executed outside the tick that claimed them. Attempts
// run under ctx's deadline (else MaxTickDuration from the call) less
// DeadlineMargin and the task's Timeout; a panic fails the attempt with its
// stack; a retry that fits is made inline, else the outcome is pending at
// its RunAt. now is the clock reading the outcome's times start from (they
// are now plus the time elapsed since the call). Observers see the outcome;
// Execute does not record it: pass it to Store.FinishRuns with r.TickID.
func (e *Engine) Execute(ctx context.Context, r Run, now time.Time) Outcome {
	tt := e.tickTime(ctx, now.UTC(), time.Now())
	actx, cancel := context.WithDeadline(ctx, tt.attemptDeadline())
	defer cancel()
	x := e.newExecutor(e.log.With("tick_id", r.TickID), tt)
	o := x.executeWait(ctx, actx, r)
	e.observeRun(ctx, r, o)
	return o
}

// executor is a tick's executing part: it runs one claimed run's attempts
// and decides its outcome.
type executor struct {
	reg  *Registry
	log  *slog.Logger
	time tickTime
	// maxInlineWait and abandonGrace are Config.MaxInlineRetryWait and
	// Config.AbandonGrace.
	maxInlineWait time.Duration
	abandonGrace  time.Duration
}

func (e *Engine) newExecutor(log *slog.Logger, tt tickTime) *executor {
	return &executor{
		reg: e.cfg.Registry, log: log, time: tt,
		maxInlineWait: e.cfg.MaxInlineRetryWait, abandonGrace: e.cfg.AbandonGrace,
	}
}

// An execution is one run's attempts, made by the goroutine that calls
// executor.run, in the task's own call: no goroutine is started and no
// channel crossed per attempt. (Handing each attempt to a runner goroutine
// and back took 1.1 µs per attempt in BenchmarkAttempt, two workers on two
// cores; a whole run takes 0.2 µs this way.)
//
// A task that has not returned abandonGrace after its attempt's context
// ended is abandoned: its goroutine stays in the task until it returns,
// then stops, and the execution goes on without it on a new goroutine,
// started by the attempt's watch (see attemptWatch): that goroutine
// records the attempt as timed out, makes the retries that are left, hands
// the outcome to then and calls next (a pool worker's: serve on in the
// stuck goroutine's place). The seat the execution belongs to moves with
// it.
type execution struct {
	x         *executor
	seat      *seat
	ctx, actx context.Context
	r         Run
	task      *Task
	info      RunInfo
	retry     RetryPolicy
	timeout   time.Duration
	o         Outcome
	then      func(Run, Outcome)
}

// A seat is one worker's place: the execution its runs reuse and the
// watch of its attempts. One goroutine at a time serves it; an abandoned
// attempt moves it from the goroutine stuck in the task to the one that
// goes on with the run, which then serves it on (next).
type seat struct {
	e    execution
	next func()
	// inflight is the attempt running under the tick's attempt context
	// without a timeout of its own; watched is the attempt context whose
	// end fires it (registered once per seat and context, not per
	// attempt: registering on the tick's one context from every attempt
	// serialised the workers on its lock).
	inflight atomic.Pointer[attemptWatch]
	watched  context.Context
}

// watch makes the end of actx fire the seat's attempt in flight.
func (s *seat) watch(actx context.Context) {
	if s.watched == actx {
		return
	}
	s.watched = actx
	context.AfterFunc(actx, func() {
		if w := s.inflight.Load(); w != nil {
			w.fire()
		}
	})
}

// executeWait runs r's attempts and returns its outcome, also when an
// attempt is abandoned (the outcome then comes from another goroutine).
func (x *executor) executeWait(ctx, actx context.Context, r Run) Outcome {
	out := make(chan Outcome, 1)
	go x.run(ctx, actx, r, func(_ Run, o Outcome) { out <- o }, new(seat))
	return <-out
}

// run executes r on seat s in the calling goroutine, hands its outcome to
// then and reports true; actx is the tick's attempt context (ctx cut at the
// deadline less the margin). A run whose task is not registered here, or
// that cannot start in time, is released: pending again, its attempt given
// back. It reports false when an attempt was abandoned: the rest of the
// execution, then and s.next went to another goroutine, with s, and the
// caller must stop.
func (x *executor) run(ctx, actx context.Context, r Run, then func(Run, Outcome), s *seat) bool {
	o := Outcome{RunID: r.ID, ClaimedAttempt: r.Attempt, Attempt: r.Attempt}
	task, ok := r.task, r.task != nil
	if !ok {
		task, ok = x.reg.Task(r.Task)
	}
	if !ok || !x.time.enough() || ctx.Err() != nil {
		// Not started: give the attempt back.
		o.Status, o.Attempt, o.RunAt = StatusPending, r.Attempt-1, x.time.at()
		o.StartedAt, o.FinishedAt = o.RunAt, o.RunAt
		then(r, o)
		return true
	}
	s.watch(actx)
	s.e = execution{x: x, seat: s, ctx: ctx, actx: actx, r: r, task: task, info: runInfo(r),
		retry: r.retry(task), timeout: r.timeout(task), o: o, then: then}
	s.e.o.StartedAt = x.time.at()
	return s.e.attempts(r.Attempt)
}

// attempts makes attempts from attempt on until the run has an outcome.
// false: an attempt was abandoned (see execution).
func (e *execution) attempts(attempt int) bool {
	for ; ; attempt++ {
		e.info.Attempt, e.o.Attempt = attempt, attempt
		res, kept := e.attempt(attempt)
		if !kept {
			return false
		}
		if e.decide(attempt, res) {
			return true
		}
	}
}

// resume goes on with an execution whose attempt was abandoned, on the
// goroutine the attempt's watch started.
func (e *execution) resume(attempt int, res attemptResult) {
	if !e.decide(attempt, res) && !e.attempts(attempt+1) {
		return // abandoned again: yet another goroutine goes on
	}
	if next := e.seat.next; next != nil {
		next()
	}
}

// decide records the result of attempt and reports whether the run has an
// outcome, handed to then: success, failed after its last attempt, or
// pending for a retry that does not fit in this tick. false: the retry is
// made inline, after its wait.
func (e *execution) decide(attempt int, res attemptResult) bool {
	x, r, o := e.x, &e.r, &e.o
	o.FinishedAt = x.time.at()
	switch {
	case res.err == nil:
		o.Status, o.Error, o.Stack = StatusSuccess, "", ""
	default:
		o.Error, o.Stack = res.err.Error(), res.stack
		x.log.Warn("task attempt failed", "run_id", r.ID, "task", r.Task, "schedule", r.Schedule,
			"attempt", attempt, "max_attempts", r.MaxAttempts, "error", res.err)
		if attempt >= r.MaxAttempts {
			o.Status = StatusFailed
			break
		}
		wait := e.retry.Wait(attempt)
		if x.retryInline(e.ctx, wait) {
			return false
		}
		o.Status, o.RunAt = StatusPending, o.FinishedAt.Add(wait)
	}
	e.then(e.r, e.o)
	return true
}

// retryInline decides whether the next attempt runs within this tick: when
// the retry's wait is at most maxInlineWait and leaves more than the margin
// before the deadline. It waits out the wait and reports whether the attempt
// may start; false leaves the retry to a later tick.
func (x *executor) retryInline(ctx context.Context, wait time.Duration) bool {
	if wait > x.maxInlineWait || time.Until(x.time.deadline)-wait <= x.time.margin || ctx.Err() != nil {
		return false
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return ctx.Err() == nil && x.time.enough()
}

// runInfo is what the task function gets to know about r.
func runInfo(r Run) RunInfo {
	info := RunInfo{ID: r.ID, Task: r.Task, Schedule: r.Schedule, Source: r.Source, MaxAttempts: r.MaxAttempts, TickID: r.TickID, Payload: r.Payload}
	if r.Slot != nil {
		info.Slot = r.Slot.UTC()
	}
	return info
}

// An attemptWatch is one attempt's race between its task returning and
// its abandonment, abandonGrace after its context ended.
type attemptWatch struct {
	state   atomic.Int32 // attemptRunning, then attemptReturned or attemptAbandoned
	e       *execution
	attempt int
	actx    context.Context
	grace   time.Duration
	timeout time.Duration
	fired   atomic.Bool
}

// Attempt states: the task is running, it returned, or its attempt was
// abandoned (the watch won the race against the return).
const (
	attemptRunning int32 = iota
	attemptReturned
	attemptAbandoned
)

// fire starts the grace period of an attempt whose context ended (once).
func (w *attemptWatch) fire() {
	if w.state.Load() != attemptRunning || w.fired.Swap(true) {
		return
	}
	time.AfterFunc(w.grace, w.abandon)
}

// abandon gives up on the attempt unless its task returned, and goes on
// with the execution on a new goroutine. It reads the execution only once
// it has won the race: until then the attempt's goroutine may go on to
// reuse it for its next run.
func (w *attemptWatch) abandon() {
	if !w.state.CompareAndSwap(attemptRunning, attemptAbandoned) {
		return
	}
	err := timeoutErr(w.timeout, w.actx, errors.New("the task did not return after its context ended; abandoned"))
	go w.e.resume(w.attempt, attemptResult{err: err})
}

// attempt runs the task once in the calling goroutine, under the tick's
// attempt context and the run's timeout (its schedule's override, else the
// task's; 0: none), turning a panic into an error with its stack. It
// reports kept false when the attempt was abandoned, once the task
// returned (see execution).
func (e *execution) attempt(attempt int) (res attemptResult, kept bool) {
	// Everything the attempt reads of e is read before the watch starts:
	// once it may abandon the attempt, e belongs to whoever goes on.
	w := &attemptWatch{e: e, attempt: attempt, actx: e.actx, grace: e.x.abandonGrace, timeout: e.timeout}
	seat := e.seat
	if w.timeout > 0 {
		var cancel context.CancelFunc
		w.actx, cancel = context.WithTimeout(w.actx, w.timeout)
		defer cancel()
	}
	fn, info := e.task.Fn, e.info
	if w.timeout > 0 {
		defer context.AfterFunc(w.actx, w.fire)()
	} else {
		seat.inflight.Store(w)
		if w.actx.Err() != nil { // ended before the seat's watch saw w
			w.fire()
		}
	}
	res = runAttempt(w.actx, fn, info)
	if !w.state.CompareAndSwap(attemptRunning, attemptReturned) {
		return res, false // the execution went on without this goroutine
	}
	if w.timeout <= 0 {
		seat.inflight.Store(nil)
	}
	if res.err != nil && w.actx.Err() != nil {
		res.err = timeoutErr(w.timeout, w.actx, res.err)
	}
	return res, true
}

type attemptResult struct {
	err   error
	stack string
}

// runAttempt runs one attempt, turning a panic into an error with its stack.
func runAttempt(ctx context.Context, fn TaskFunc, info RunInfo) (res attemptResult) {
	defer func() {
		if p := recover(); p != nil {
			res = attemptResult{fmt.Errorf("panic: %v", p), string(debug.Stack())}
		}
	}()
	return attemptResult{err: fn(ctx, info)}
}

// timeoutErr says why actx ended: a timeout (the task's or the tick's) or a
// cancellation, wrapping cause.
func timeoutErr(timeout time.Duration, actx context.Context, cause error) error {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		if timeout > 0 {
			return fmt.Errorf("timeout: attempt exceeded its %s timeout or the tick deadline: %w", timeout, cause)
		}
		return fmt.Errorf("timeout: attempt cut at the tick deadline: %w", cause)
	}
	return fmt.Errorf("cancelled: %w", cause)
}

// pool is a tick's bounded set of workers: each runs fn on the runs
// submitted to it, one at a time.
type pool struct {
	work chan Run
	wg   sync.WaitGroup
	// fn runs r on s's worker and reports true, or false when the
	// worker's goroutine must stop: s moved to another goroutine (an
	// abandoned attempt, see execution), which serves it on.
	fn      func(s *seat, r Run) bool
	max     int
	started int // workers started so far (only submit touches it)
}

// startPool returns a pool of at most n workers running fn; none is started
// before there is a run for it.
func startPool(n int, fn func(s *seat, r Run) bool) *pool {
	return &pool{work: make(chan Run), max: n, fn: fn}
}

// submit hands r to a free worker. Workers start on demand, one per run
// that finds none free, up to max: a tick with three runs starts three
// goroutines, not Config.Workers. Only the claimer calls submit.
func (p *pool) submit(r Run) {
	select {
	case p.work <- r:
		return
	default:
	}
	if p.started < p.max {
		p.started++
		p.startWorker(r)
		return
	}
	p.work <- r
}

// startWorker starts a worker that runs first, then the runs it receives.
// (A function of its own: a goroutine closure over submit's r would move
// every submitted run to the heap, not only the first of each worker.)
func (p *pool) startWorker(first Run) {
	s := new(seat)
	s.next = func() { p.serve(s) }
	p.wg.Add(1)
	go func() {
		if p.fn(s, first) {
			p.serve(s)
		}
	}()
}

// serve runs the submitted runs on s until the pool is closed, then frees
// the seat. It returns early, the seat still taken, when fn reports that
// another goroutine serves s on.
func (p *pool) serve(s *seat) {
	for r := range p.work {
		if !p.fn(s, r) {
			return
		}
	}
	p.wg.Done()
}

// wait closes the pool to new runs and waits for the workers to finish.
func (p *pool) wait() {
	close(p.work)
	p.wg.Wait()
}
