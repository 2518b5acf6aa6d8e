package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
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
	defer x.stop()
	o := x.execute(ctx, actx, r)
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

	// mu guards idle, the runners not running an attempt.
	mu   sync.Mutex
	idle []*runner
}

func (e *Engine) newExecutor(log *slog.Logger, tt tickTime) *executor {
	return &executor{
		reg: e.cfg.Registry, log: log, time: tt,
		maxInlineWait: e.cfg.MaxInlineRetryWait, abandonGrace: e.cfg.AbandonGrace,
	}
}

// execute runs one claimed run's attempts and returns its outcome; actx is
// the tick's attempt context (ctx cut at the deadline less the margin). A
// run whose task is not registered here, or that cannot start in time, is
// released: pending again, its attempt given back.
func (x *executor) execute(ctx, actx context.Context, r Run) Outcome {
	o := Outcome{RunID: r.ID, ClaimedAttempt: r.Attempt, Attempt: r.Attempt}
	task, ok := x.reg.Task(r.Task)
	if !ok || !x.time.enough() || ctx.Err() != nil {
		// Not started: give the attempt back.
		o.Status, o.Attempt, o.RunAt = StatusPending, r.Attempt-1, x.time.at()
		o.StartedAt, o.FinishedAt = o.RunAt, o.RunAt
		return o
	}
	info := runInfo(r)
	retry, timeout := r.retry(task), r.timeout(task)
	o.StartedAt = x.time.at()
	for attempt := r.Attempt; ; attempt++ {
		info.Attempt = attempt
		o.Attempt = attempt
		err, stack := x.attempt(actx, task, timeout, info)
		o.FinishedAt = x.time.at()
		if err == nil {
			o.Status, o.Error, o.Stack = StatusSuccess, "", ""
			return o
		}
		o.Error, o.Stack = err.Error(), stack
		x.log.Warn("task attempt failed", "run_id", r.ID, "task", r.Task, "schedule", r.Schedule,
			"attempt", attempt, "max_attempts", r.MaxAttempts, "error", err)
		if attempt >= r.MaxAttempts {
			o.Status = StatusFailed
			return o
		}
		wait := retry.Wait(attempt)
		if !x.retryInline(ctx, wait) {
			o.Status, o.RunAt = StatusPending, o.FinishedAt.Add(wait)
			return o
		}
	}
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

// attempt runs the task once under actx (the tick's attempt context) and
// timeout (the run's: its schedule's override, else the task's; 0: none),
// turning a panic into an error with its stack. A task that has not
// returned abandonGrace after its context ended is abandoned: it keeps its
// runner goroutine, which exits once the task returns.
func (x *executor) attempt(actx context.Context, task *Task, timeout time.Duration, info RunInfo) (err error, stack string) {
	if timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(actx, timeout)
		defer cancel()
	}
	rn := x.runner()
	rn.jobs <- attemptJob{ctx: actx, fn: task.Fn, info: info}
	var res attemptResult
	select {
	case res = <-rn.done:
	case <-actx.Done():
		t := time.NewTimer(x.abandonGrace)
		select {
		case res = <-rn.done:
			t.Stop()
		case <-t.C:
			close(rn.jobs) // the runner exits once the task returns
			return timeoutErr(timeout, actx, errors.New("the task did not return after its context ended; abandoned")), ""
		}
	}
	x.release(rn)
	if res.err != nil && actx.Err() != nil {
		return timeoutErr(timeout, actx, res.err), res.stack
	}
	return res.err, res.stack
}

// A runner is a goroutine that runs attempts, one at a time, so that an
// attempt can be abandoned (left running while its worker moves on) without
// a goroutine started for every attempt: a worker takes an idle runner,
// hands it the attempt and gives it back when the attempt returns. An
// abandoned attempt's runner is not given back; its jobs are closed, so it
// exits when the task returns.
type runner struct {
	jobs chan attemptJob
	done chan attemptResult
}

type attemptJob struct {
	ctx  context.Context
	fn   TaskFunc
	info RunInfo
}

type attemptResult struct {
	err   error
	stack string
}

// runner returns an idle runner, started if there is none.
func (x *executor) runner() *runner {
	x.mu.Lock()
	if n := len(x.idle); n > 0 {
		rn := x.idle[n-1]
		x.idle = x.idle[:n-1]
		x.mu.Unlock()
		return rn
	}
	x.mu.Unlock()
	rn := &runner{jobs: make(chan attemptJob, 1), done: make(chan attemptResult, 1)}
	go rn.run()
	return rn
}

// release gives back a runner whose attempt returned.
func (x *executor) release(rn *runner) {
	x.mu.Lock()
	x.idle = append(x.idle, rn)
	x.mu.Unlock()
}

// stop ends the idle runners; the executor must not run attempts after.
func (x *executor) stop() {
	x.mu.Lock()
	for _, rn := range x.idle {
		close(rn.jobs)
	}
	x.idle = nil
	x.mu.Unlock()
}

func (rn *runner) run() {
	for j := range rn.jobs {
		rn.done <- runAttempt(j)
	}
}

// runAttempt runs one attempt, turning a panic into an error with its stack.
func runAttempt(j attemptJob) (res attemptResult) {
	defer func() {
		if p := recover(); p != nil {
			res = attemptResult{fmt.Errorf("panic: %v", p), string(debug.Stack())}
		}
	}()
	return attemptResult{err: j.fn(j.ctx, j.info)}
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
	work    chan Run
	wg      sync.WaitGroup
	fn      func(Run)
	max     int
	started int // workers started so far (only submit touches it)
}

// startPool returns a pool of at most n workers running fn; none is started
// before there is a run for it.
func startPool(n int, fn func(Run)) *pool {
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
	p.wg.Go(func() {
		p.fn(first)
		for r := range p.work {
			p.fn(r)
		}
	})
}

// wait closes the pool to new runs and waits for the workers to finish.
func (p *pool) wait() {
	close(p.work)
	p.wg.Wait()
}
