package core

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdingStore is the fake store with HoldDue: the claim is the fake's
// ClaimDue (its runs stored running), and Commit applies the outcomes it is
// given as FinishRuns would, remembering them; commitErr fails every Commit.
type holdingStore struct {
	*fakeStore
	commitErr error

	mu        sync.Mutex
	holds     int
	committed [][]Outcome
}

func (h *holdingStore) HoldDue(ctx context.Context, p ClaimDueParams) (ClaimDueResult, HeldClaim, error) {
	res, err := h.ClaimDue(ctx, p)
	if err != nil {
		return res, nil, err
	}
	h.mu.Lock()
	h.holds++
	h.mu.Unlock()
	return res, &fakeHeld{h: h, tickID: p.TickID}, nil
}

type fakeHeld struct {
	h      *holdingStore
	tickID string
}

func (c *fakeHeld) Commit(ctx context.Context, outcomes []Outcome) error {
	if c.h.commitErr != nil {
		return c.h.commitErr
	}
	c.h.mu.Lock()
	c.h.committed = append(c.h.committed, slices.Clone(outcomes))
	c.h.mu.Unlock()
	f := c.h.fakeStore
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range outcomes {
		r := f.runs[o.RunID-1]
		r.Status, r.Attempt, r.Error, r.LeaseUntil = o.Status, o.Attempt, o.Error, nil
	}
	return nil
}

func (c *fakeHeld) Rollback() {}

// committedIDs are the run ids whose outcomes Commit took, sorted.
func (h *holdingStore) committedIDs() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return outcomeIDs(h.committed)
}

// finishedIDs are the run ids FinishRuns was given, sorted.
func (f *fakeStore) finishedIDs() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return outcomeIDs(f.finished)
}

// outcomeIDs are the run ids of batches' outcomes, sorted.
func outcomeIDs(batches [][]Outcome) []int64 {
	var ids []int64
	for _, b := range batches {
		for _, o := range b {
			ids = append(ids, o.RunID)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestHeldClaimTakesTheOutcomesWithinTheHold: the outcomes of the runs that
// finish within Config.ClaimHold go to the held claim's Commit; a run still
// going when the hold ends is stored running by the commit and its outcome
// goes to FinishRuns after it.
func TestHeldClaimTakesTheOutcomesWithinTheHold(t *testing.T) {
	release := make(chan struct{})
	quick := func(context.Context, RunInfo) error { return nil }
	reg := NewRegistry()
	reg.MustSchedule("quick1", quick, Every(time.Minute), RunOnStartup())
	reg.MustSchedule("quick2", quick, Every(time.Minute), RunOnStartup())
	reg.MustSchedule("slow", func(ctx context.Context, _ RunInfo) error { <-release; return nil }, Every(time.Minute), RunOnStartup())
	h := &holdingStore{fakeStore: newFakeStore()}
	e := newHoldEngine(t, h, reg, 50*time.Millisecond)
	go func() {
		// Release the slow run once the hold has ended and the claim is
		// committed with it running.
		for {
			h.mu.Lock()
			n := len(h.committed)
			h.mu.Unlock()
			if n > 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		close(release)
	}()
	rep, err := e.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Claimed != 3 || rep.Succeeded != 3 {
		t.Errorf("report %+v; want 3 claimed and succeeded", rep)
	}
	if h.holds != 1 {
		t.Errorf("%d held claims, want 1", h.holds)
	}
	slow := slices.IndexFunc(h.runs, func(r *Run) bool { return r.Task == "slow" })
	slowID := int64(slow + 1)
	var quickIDs []int64
	for i, r := range h.runs {
		if strings.HasPrefix(r.Task, "quick") {
			quickIDs = append(quickIDs, int64(i+1))
		}
	}
	if got := h.committedIDs(); len(got) != 2 || !slices.Equal(got, quickIDs) {
		t.Errorf("commit took the outcomes of %v, want the quick runs %v", got, quickIDs)
	}
	if got := h.finishedIDs(); !slices.Equal(got, []int64{slowID}) {
		t.Errorf("FinishRuns took %v, want the slow run %d", got, slowID)
	}
	for i, r := range h.runs {
		if r.Status != StatusSuccess {
			t.Errorf("run %d (%s) is %s, want success", i+1, r.Task, r.Status)
		}
	}
}

// TestHeldClaimFailedCommit: a commit that fails is the tick's error, and
// no outcome of its runs goes to FinishRuns (their rows were not written).
func TestHeldClaimFailedCommit(t *testing.T) {
	reg := NewRegistry()
	reg.MustSchedule("quick", func(context.Context, RunInfo) error { return nil }, Every(time.Minute), RunOnStartup())
	h := &holdingStore{fakeStore: newFakeStore(), commitErr: errors.New("connection reset")}
	e := newHoldEngine(t, h, reg, time.Second)
	_, err := e.Tick(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("tick error %v, want the commit's", err)
	}
	if got := h.finishedIDs(); len(got) != 0 {
		t.Errorf("FinishRuns took %v after a failed commit", got)
	}
}

// TestClaimHoldNegativeNeverHolds: ClaimHold < 0 claims with ClaimDue.
func TestClaimHoldNegativeNeverHolds(t *testing.T) {
	reg := NewRegistry()
	reg.MustSchedule("quick", func(context.Context, RunInfo) error { return nil }, Every(time.Minute), RunOnStartup())
	h := &holdingStore{fakeStore: newFakeStore()}
	e := newHoldEngine(t, h, reg, -1)
	if rep, err := e.Tick(context.Background()); err != nil || rep.Succeeded != 1 {
		t.Fatalf("tick: %+v, %v", rep, err)
	}
	if h.holds != 0 || len(h.finishedIDs()) != 1 {
		t.Errorf("%d holds, FinishRuns took %v; want no hold and one finished run", h.holds, h.finishedIDs())
	}
}

func newHoldEngine(t *testing.T, h *holdingStore, reg *Registry, hold time.Duration) *Engine {
	t.Helper()
	log, _ := testLogger()
	e, err := NewEngine(Config{Store: h, Registry: reg, Clock: NewStubClock(tickT0), Logger: log, ClaimHold: hold})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestParseClaimHold: the commands' ClaimHold setting.
func TestParseClaimHold(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "off": -1, " 1s ": time.Second, "1ms": time.Millisecond, "1m": time.Minute} {
		if got, err := ParseClaimHold(in); err != nil || got != want {
			t.Errorf("ParseClaimHold(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "0s", "-1s", "999us", "61s", "1h", "never", "1s\x00", "9223372036854775807ns0"} {
		if got, err := ParseClaimHold(in); err == nil {
			t.Errorf("ParseClaimHold(%q) = %v; want an error", in, got)
		}
	}
}

// hidingHold is a holdingStore whose held claims keep their pending runs
// out of ClaimRuns until Commit, as PostgreSQL's uncommitted rows are.
type hidingHold struct{ holdingStore }

const hiddenStatus Status = "hidden"

func (h *hidingHold) HoldDue(ctx context.Context, p ClaimDueParams) (ClaimDueResult, HeldClaim, error) {
	res, _, err := h.holdingStore.HoldDue(ctx, p)
	if err != nil {
		return res, nil, err
	}
	var hidden []int64
	h.fakeStore.mu.Lock()
	for _, r := range res.Runs {
		if r.Status == StatusPending {
			h.runs[r.ID-1].Status = hiddenStatus
			hidden = append(hidden, r.ID)
		}
	}
	h.fakeStore.mu.Unlock()
	return res, &revealOnCommit{h: h, ids: hidden}, nil
}

type revealOnCommit struct {
	h   *hidingHold
	ids []int64
}

func (c *revealOnCommit) Commit(ctx context.Context, outcomes []Outcome) error {
	c.h.fakeStore.mu.Lock()
	for _, id := range c.ids {
		c.h.runs[id-1].Status = StatusPending
	}
	c.h.fakeStore.mu.Unlock()
	return (&fakeHeld{h: &c.h.holdingStore}).Commit(ctx, outcomes)
}

func (c *revealOnCommit) Rollback() {}

// TestClaimerWaitsForHoldsBeforeDeferredRuns: a deferred run already
// runnable, planned in a held claim, is run in the same tick: ClaimRuns
// waits for the held claims to commit it.
func TestClaimerWaitsForHoldsBeforeDeferredRuns(t *testing.T) {
	h := &hidingHold{holdingStore{fakeStore: newFakeStore()}}
	h.addSchedule("a", "t", "h", tickT0)
	h.addSchedule("jitter", "t", "h", tickT0)
	c, started, log := testClaimer(t, h.fakeStore, 10)
	c.store = h
	actx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.holds = newHolds(h, 50*time.Millisecond, actx, func(Outcome) {}, slog.New(slog.NewTextHandler(log, nil)), c.tally)
	c.claim(context.Background(), TickStart{Now: tickT0, DueSchedules: 2}, false)
	c.holds.wait()
	var got []string
	for _, r := range *started {
		got = append(got, r.Schedule)
	}
	if !slices.Equal(got, []string{"a", "jitter"}) {
		t.Errorf("started %v; want a, then the deferred jitter run once its claim committed", got)
	}
}
