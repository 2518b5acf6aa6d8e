package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// testRecorder returns a started recorder over f for tick "tick_1" with the
// given flush size and idle period.
func testRecorder(f *fakeStore, flushSize int, idle time.Duration) (*recorder, *logBuffer) {
	log, buf := testLogger()
	r := newRecorder(f, "tick_1", log, &tally{}, flushSize, 4)
	r.idle = idle
	r.start(context.Background())
	return r, buf
}

// runningOutcomes stores n runs running under tick_1 at attempt 1 and
// returns a success outcome for each.
func runningOutcomes(f *fakeStore, n int) []Outcome {
	out := make([]Outcome, n)
	for i := range out {
		id := f.addRun(Run{Task: "t", Status: StatusRunning, Attempt: 1, MaxAttempts: 1, TickID: "tick_1"})
		out[i] = Outcome{RunID: id, ClaimedAttempt: 1, Attempt: 1, Status: StatusSuccess, StartedAt: tickT0, FinishedAt: tickT0}
	}
	return out
}

func TestRecorderFlushesAtFlushSize(t *testing.T) {
	f := newFakeStore()
	r, logs := testRecorder(f, 2, time.Hour)
	for _, o := range runningOutcomes(f, 5) {
		r.record(o)
	}
	r.close()
	sizes := f.batchSizes()
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{1, 2, 2}) {
		t.Errorf("batch sizes %v, want 2, 2 and the last 1", sizes)
	}
	for id := int64(1); id <= 5; id++ {
		if s := f.run(id).Status; s != StatusSuccess {
			t.Errorf("run %d is %s, want success", id, s)
		}
	}
	if rep, err := r.tally.result(); rep.Succeeded != 5 || err != nil {
		t.Errorf("succeeded %d err %v, want 5 nil", rep.Succeeded, err)
	}
	if logs.String() != "" {
		t.Errorf("logged %q", logs.String())
	}
}

func TestRecorderIdleFlush(t *testing.T) {
	f := newFakeStore()
	flushed := make(chan struct{}, 1)
	f.hook = func(method string, _ int) error {
		if method == "FinishRuns" {
			flushed <- struct{}{}
		}
		return nil
	}
	r, _ := testRecorder(f, 100, 10*time.Millisecond)
	defer r.close()
	r.record(runningOutcomes(f, 1)[0])
	select {
	case <-flushed:
	case <-time.After(5 * time.Second):
		t.Fatal("a partial batch was not recorded while the recorder sat idle")
	}
	// The hook runs as FinishRuns begins: wait for the flush to apply.
	for deadline := time.Now().Add(5 * time.Second); f.run(1).Status != StatusSuccess; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("run is %s after the idle flush, want success", f.run(1).Status)
		}
	}
}

func TestRecorderCounts(t *testing.T) {
	f := newFakeStore()
	r, _ := testRecorder(f, 100, time.Hour)
	outs := runningOutcomes(f, 6)
	outs[1].Status, outs[1].Error = StatusFailed, "x"
	outs[2].Status = StatusPending // a retry at RunAt
	outs[3].Status, outs[3].Attempt, outs[3].ClaimedAttempt = StatusPending, 2, 1
	outs[4].Status, outs[4].Attempt = StatusPending, 0 // released unstarted
	outs[5].Status, outs[5].Attempt, outs[5].ClaimedAttempt = StatusSuccess, 3, 1
	for _, o := range outs {
		r.record(o)
	}
	r.close()
	rep, err := r.tally.result()
	if err != nil || rep.Succeeded != 2 || rep.Failed != 1 || rep.Retried != 2 || rep.Released != 1 {
		t.Errorf("succeeded %d failed %d retried %d released %d err %v; want 2 1 2 1 nil",
			rep.Succeeded, rep.Failed, rep.Retried, rep.Released, err)
	}
	if got := f.run(5); got.Status != StatusPending || got.Attempt != 0 {
		t.Errorf("released run %+v, want pending with attempt 0", got)
	}
}

func TestRecorderFencing(t *testing.T) {
	f := newFakeStore()
	r, logs := testRecorder(f, 100, time.Hour)
	outs := runningOutcomes(f, 3)
	outs[2].ClaimedAttempt = 2 // another tick took the run over meanwhile
	for _, o := range outs {
		r.record(o)
	}
	r.close()
	want := `level=WARN msg="some outcomes were not recorded: their lease was taken over" runs=3 recorded=2`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log %q, want %q", logs.String(), want)
	}
	if _, err := r.tally.result(); err != nil {
		t.Errorf("a fenced outcome is no tick error: %v", err)
	}
	if f.run(3).Status != StatusRunning {
		t.Errorf("the fenced run changed: %+v", f.run(3))
	}
}

func TestRecorderFinishRunsError(t *testing.T) {
	f := newFakeStore()
	f.hook = failOn("FinishRuns", 1)
	r, logs := testRecorder(f, 2, time.Hour)
	for _, o := range runningOutcomes(f, 4) {
		r.record(o)
	}
	r.close()
	_, err := r.tally.result()
	if err == nil || err.Error() != "record outcomes: boom" || !errors.Is(err, errBoom) {
		t.Errorf("tick error %v, want record outcomes: boom", err)
	}
	want := `level=ERROR msg="record outcomes failed; the runs stay leased and are retried after the lease expires" runs=2 error=boom`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log %q, want %q", logs.String(), want)
	}
	if f.count("FinishRuns") != 2 {
		t.Errorf("FinishRuns calls %d, want 2 (the other batch is still recorded)", f.count("FinishRuns"))
	}
}

func TestRecorderRecordsAfterCancel(t *testing.T) {
	f := newFakeStore()
	log, _ := testLogger()
	ctx, cancel := context.WithCancel(context.Background())
	r := newRecorder(f, "tick_1", log, &tally{}, 10, 1)
	r.start(ctx)
	cancel()
	r.record(runningOutcomes(f, 1)[0])
	r.close()
	if _, err := r.tally.result(); err != nil || f.run(1).Status != StatusSuccess {
		t.Errorf("err %v, run %+v: the work happened and must be recorded", err, f.run(1))
	}
}
