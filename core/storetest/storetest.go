package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Run runs every conformance subtest. open is called once per subtest and
// must return a fresh, migrated store over its own isolated tables, released
// by t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) core.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"ConcurrentTicks", testConcurrentTicks},
		{"ClaimDue", testClaimDue},
		{"Misfire", testMisfire},
		{"Overlap", testOverlap},
		{"LeaseExpiry", testLeaseExpiry},
		{"StoreFaults", testStoreFaults},
		{"RetryBackoff", testRetryBackoff},
		{"InlineRetry", testInlineRetry},
		{"PanicFailsOnlyItsRun", testPanic},
		{"RunOnStartup", testRunOnStartup},
		{"AddTaskAndTrigger", testAddTask},
		{"DelayedRun", testDelayedRun},
		{"BadText", testBadText},
		{"ScheduleLock", testScheduleLock},
		{"Sessions", testSessions},
		{"PauseResume", testPauseResume},
		{"CancelAndRetryRun", testCancelAndRetry},
		{"ListRuns", testListRuns},
		{"Jitter", testJitter},
		{"OrphanedSchedules", testOrphans},
		{"SharedStore", testSharedStore},
		{"Once", testOnce},
		{"Timeout", testTimeout},
		{"Retention", testRetention},
		{"ScheduleCRUD", testScheduleCRUD},
		{"ScheduleBatch", testScheduleBatch},
		{"ScheduleBatchMixed", testScheduleBatchMixed},
		{"ScheduleList", testScheduleList},
		{"ScheduleInCallerTx", testScheduleTx},
		{"SyncLeavesRuntimeSchedules", testSyncLeavesAPIRows},
		{"AuditBackfill", testAuditBackfill},
		{"Outage", testOutage},
		{"RuntimeScheduleTick", testRuntimeTick},
		{"RuntimeScheduleRaces", testRuntimeRaces},
		{"AlertRunFailed", testAlertRunFailed},
		{"AlertRetry", testAlertRetry},
		{"AlertRace", testAlertRace},
		{"AlertSlotsMissed", testAlertSlotsMissed},
		{"AlertTicksStopped", testAlertTicksStopped},
		{"AlertOutage", testAlertOutage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := open(t)
			tt.fn(t, &harness{t: t, store: store, clock: core.NewStubClock(t0)})
		})
	}
}

// t0 is where every subtest's stub clock starts: a Monday, on the minute,
// far from any daylight-saving change of the zones used.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// discard drops the engines' logs: the suite checks the store, not the logs.
var discard = slog.New(slog.DiscardHandler)

// harness is one subtest's store and stub clock.
type harness struct {
	t     *testing.T
	store core.Store
	clock *core.StubClock
}

// engine returns a new engine (a new "process") over the harness's store and
// clock; opts adjust its config.
func (h *harness) engine(reg *core.Registry, opts ...func(*core.Config)) *core.Engine {
	h.t.Helper()
	return h.engineOn(h.store, reg, opts...)
}

// engineOn is engine over another store (a wrapper of the harness's).
func (h *harness) engineOn(store core.Store, reg *core.Registry, opts ...func(*core.Config)) *core.Engine {
	h.t.Helper()
	cfg := core.Config{Store: store, Registry: reg, Clock: h.clock, Logger: discard}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := core.NewEngine(cfg)
	if err != nil {
		h.t.Fatalf("new engine: %v", err)
	}
	return e
}

// set moves the stub clock to t0+d.
func (h *harness) set(d time.Duration) { h.clock.Set(at(d)) }

// now reads the stub clock.
func (h *harness) now() time.Time {
	t, _ := h.clock.Now(context.Background())
	return t
}

// tick runs one tick that must not fail.
func (h *harness) tick(e *core.Engine) core.Report {
	h.t.Helper()
	rep, err := e.Tick(h.t.Context())
	if err != nil {
		h.t.Fatalf("tick at %v: %v", h.now(), err)
	}
	if !rep.Now.Equal(h.now()) {
		h.t.Fatalf("tick read %v, want the stub clock's %v", rep.Now, h.now())
	}
	return rep
}

// runs returns every run matching p, newest first, following the cursor.
func (h *harness) runs(p core.ListRunsParams) []core.Run {
	h.t.Helper()
	p.Limit = 500
	var out []core.Run
	for {
		page, err := h.store.ListRuns(h.t.Context(), p)
		if err != nil {
			h.t.Fatalf("list runs %+v: %v", p, err)
		}
		out = append(out, page...)
		if len(page) < p.Limit {
			return out
		}
		p.BeforeID = page[len(page)-1].ID
	}
}

// scheduleRuns returns a schedule's runs oldest first.
func (h *harness) scheduleRuns(name string) []core.Run {
	h.t.Helper()
	rs := h.runs(core.ListRunsParams{Schedule: name})
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// run returns one run by id.
func (h *harness) run(id int64) core.Run {
	h.t.Helper()
	r, err := h.store.GetRun(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("get run %d: %v", id, err)
	}
	return r
}

// schedule returns one stored schedule.
func (h *harness) schedule(name string) core.ScheduleRecord {
	h.t.Helper()
	s, err := h.store.GetSchedule(h.t.Context(), name)
	if err != nil {
		h.t.Fatalf("get schedule %q: %v", name, err)
	}
	return s
}

// wantNextRun checks a stored schedule's next_run.
func (h *harness) wantNextRun(name string, want time.Time) {
	h.t.Helper()
	if got := h.schedule(name).NextRun; !got.Equal(want) {
		h.t.Errorf("schedule %s: next_run %v, want %v", name, got, want)
	}
}

// wantRuns checks a schedule's runs, oldest first, against want.
func (h *harness) wantRuns(name string, want ...runWant) []core.Run {
	h.t.Helper()
	got := h.scheduleRuns(name)
	if len(got) != len(want) {
		h.t.Errorf("schedule %s: %d runs, want %d:\n%s", name, len(got), len(want), describeRuns(got))
		return got
	}
	for i, w := range want {
		if msg := w.mismatch(got[i]); msg != "" {
			h.t.Errorf("schedule %s run %d: %s\n%s", name, i, msg, describeRuns(got))
		}
	}
	return got
}

// runWant is what wantRuns checks of one scheduled run.
type runWant struct {
	slot    time.Time
	covered int
	status  core.Status
	attempt int
}

func (w runWant) mismatch(r core.Run) string {
	switch {
	case r.Slot == nil || !r.Slot.Equal(w.slot):
		return fmt.Sprintf("slot %v, want %v", r.Slot, w.slot)
	case r.SlotsCovered != w.covered:
		return fmt.Sprintf("slots_covered %d, want %d", r.SlotsCovered, w.covered)
	case r.Status != w.status:
		return fmt.Sprintf("status %s, want %s (error %q)", r.Status, w.status, r.Error)
	case r.Attempt != w.attempt:
		return fmt.Sprintf("attempt %d, want %d", r.Attempt, w.attempt)
	case r.Source != core.SourceScheduled:
		return fmt.Sprintf("source %s, want scheduled", r.Source)
	case w.status == core.StatusSkipped && r.Error == "":
		return "skipped run without a reason"
	}
	return ""
}

func describeRuns(rs []core.Run) string {
	s := ""
	for _, r := range rs {
		slot := "-"
		if r.Slot != nil {
			slot = r.Slot.UTC().Format(time.TimeOnly)
		}
		s += fmt.Sprintf("  id %d %s slot %s covered %d status %s attempt %d/%d error %q\n",
			r.ID, r.Schedule, slot, r.SlotsCovered, r.Status, r.Attempt, r.MaxAttempts, r.Error)
	}
	return s
}

// execs counts task executions per run and per (schedule, slot), safely
// from concurrent workers, and remembers the last RunInfo of each run.
type execs struct {
	byRun  sync.Map // int64 -> *atomic.Int64
	bySlot sync.Map // slotKey -> *atomic.Int64
	total  atomic.Int64
	mu     sync.Mutex
	infos  map[int64]core.RunInfo
}

type slotKey struct {
	schedule string
	slot     int64 // UnixNano
}

func newExecs() *execs { return &execs{infos: map[int64]core.RunInfo{}} }

func bump(m *sync.Map, k any) {
	c, _ := m.LoadOrStore(k, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

func load(m *sync.Map, k any) int {
	if c, ok := m.Load(k); ok {
		return int(c.(*atomic.Int64).Load())
	}
	return 0
}

// add records one execution.
func (x *execs) add(info core.RunInfo) {
	x.total.Add(1)
	bump(&x.byRun, info.ID)
	if !info.Slot.IsZero() {
		bump(&x.bySlot, slotKey{info.Schedule, info.Slot.UnixNano()})
	}
	x.mu.Lock()
	x.infos[info.ID] = info
	x.mu.Unlock()
}

// run counts executions of run id.
func (x *execs) run(id int64) int { return load(&x.byRun, id) }

// slot counts executions of a schedule's slot.
func (x *execs) slot(schedule string, slot time.Time) int {
	return load(&x.bySlot, slotKey{schedule, slot.UnixNano()})
}

// info returns the last RunInfo run id executed with.
func (x *execs) info(id int64) (core.RunInfo, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i, ok := x.infos[id]
	return i, ok
}

// task returns a task function that records its executions and then returns
// fn's result (nil when fn is nil).
func (x *execs) task(fn func(ctx context.Context, info core.RunInfo) error) core.TaskFunc {
	return func(ctx context.Context, info core.RunInfo) error {
		x.add(info)
		if fn == nil {
			return nil
		}
		return fn(ctx, info)
	}
}

// mustSchedule registers a schedule or fails the test.
func mustSchedule(t *testing.T, reg *core.Registry, name string, fn core.TaskFunc, opts ...core.Option) {
	t.Helper()
	if err := reg.Schedule(name, fn, opts...); err != nil {
		t.Fatalf("schedule %s: %v", name, err)
	}
}

// mustRegister registers a manual task or fails the test.
func mustRegister(t *testing.T, reg *core.Registry, name string, fn core.TaskFunc, opts ...core.Option) {
	t.Helper()
	if err := reg.Register(name, fn, opts...); err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
}

// addTask enqueues a manual run that must be created.
func addTask(t *testing.T, e *core.Engine, p core.AddTaskParams) core.Run {
	t.Helper()
	r, created, err := e.AddTask(t.Context(), p)
	if err != nil {
		t.Fatalf("add task %s: %v", p.Task, err)
	}
	if !created {
		t.Fatalf("add task %s: run %d already existed", p.Task, r.ID)
	}
	return r
}

// wantErrIs checks errors.Is(err, target).
func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

// within checks lo <= got <= hi.
func within(t *testing.T, what string, got, lo, hi time.Time) {
	t.Helper()
	if got.Before(lo) || got.After(hi) {
		t.Errorf("%s = %v, want within [%v, %v]", what, got, lo, hi)
	}
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// hold makes tasks hang, as in a process that died mid-run, until released.
// Its tasks call block; start runs a tick in the background and returns once
// n tasks are blocked; release lets them return and waits for that tick.
type hold struct {
	started chan core.RunInfo
	gate    chan struct{}
	once    sync.Once
	done    chan struct{}
	rep     core.Report
	err     error
}

func newHold() *hold {
	return &hold{started: make(chan core.RunInfo, 64), gate: make(chan struct{}), done: make(chan struct{})}
}

// block is called by a task: it signals the start and waits for release.
func (b *hold) block(info core.RunInfo) {
	b.started <- info
	<-b.gate
}

// start runs e.Tick in the background until n tasks block in it. The test's
// cleanup releases them and waits for the tick.
func (b *hold) start(t *testing.T, e *core.Engine, n int) []core.RunInfo {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	go func() {
		defer close(b.done)
		b.rep, b.err = e.Tick(ctx)
	}()
	t.Cleanup(func() { b.release() })
	return receive(t, "blocked tasks", b.started, n)
}

// release unblocks the tasks and returns the background tick's result.
func (b *hold) release() (core.Report, error) {
	b.once.Do(func() { close(b.gate) })
	<-b.done
	return b.rep, b.err
}

// receive waits for n values from ch, failing the test after a generous
// real-time bound (a hung tick would otherwise hang the suite).
func receive[T any](t *testing.T, what string, ch <-chan T, n int) []T {
	t.Helper()
	out := make([]T, 0, n)
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case v := <-ch:
			out = append(out, v)
		case <-timeout.C:
			t.Fatalf("%s: got %d of %d after 30s", what, len(out), n)
		}
	}
	return out
}
