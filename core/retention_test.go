package core

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRetentionConfig: zero fields take the exported defaults, negative ones
// and a budget over the bound are errors, RetainForever is accepted.
func TestRetentionConfig(t *testing.T) {
	c := Config{Store: nilStore{}, Registry: NewRegistry()}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	want := Retention{Runs: DefaultRetainRuns, FailedRuns: DefaultRetainFailedRuns, Ticks: DefaultRetainTicks, Budget: DefaultPruneBudget}
	if c.Retention != want {
		t.Errorf("defaults %+v, want %+v", c.Retention, want)
	}
	if DefaultRetainRuns != 30*24*time.Hour || DefaultRetainFailedRuns != 90*24*time.Hour || DefaultRetainTicks != 7*24*time.Hour {
		t.Errorf("default ages %s, %s, %s; the issue says 30, 90 and 7 days", DefaultRetainRuns, DefaultRetainFailedRuns, DefaultRetainTicks)
	}
	for name, r := range map[string]Retention{
		"negative runs":        {Runs: -time.Hour},
		"negative failed runs": {FailedRuns: -1},
		"negative ticks":       {Ticks: -time.Second},
		"negative budget":      {Budget: -1},
		"budget over the max":  {Budget: MaxPruneBudget + 1},
	} {
		c := Config{Store: nilStore{}, Registry: NewRegistry(), Retention: r}
		if err := c.validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, r)
		}
	}
	forever := Retention{Runs: RetainForever, FailedRuns: RetainForever, Ticks: RetainForever, Budget: 1}
	c = Config{Store: nilStore{}, Registry: NewRegistry(), Retention: forever}
	if err := c.validate(); err != nil || c.Retention != forever {
		t.Errorf("RetainForever: %+v, %v", c.Retention, err)
	}
}

// TestTickPrunesRuns: a tick that did work prunes once, after recording its
// outcomes, with the cut-offs from its clock and the budget, and reports the
// count; an empty tick prunes only one time in PruneEmptyOneIn (else it is
// BeginTick and EndTick alone); RetainForever prunes nothing.
func TestTickPrunesRuns(t *testing.T) {
	f := newFakeStore()
	f.pruned = 3
	e, clock, obs, _ := testEngine(t, f)
	e.cfg.Retention = Retention{Runs: time.Hour, FailedRuns: 2 * time.Hour, Ticks: 24 * time.Hour, Budget: 5}

	rep, err := e.Tick(context.Background()) // the startup slot: work
	if err != nil {
		t.Fatal(err)
	}
	want := PruneRunsParams{Now: tickT0, FinishedBefore: tickT0.Add(-time.Hour), FailedBefore: tickT0.Add(-2 * time.Hour), Limit: 5}
	if len(f.prunes) != 1 || f.prunes[0] != want {
		t.Fatalf("PruneRuns calls %+v, want one with %+v", f.prunes, want)
	}
	if rep.PrunedRuns != 3 || obs.ticks[0].PrunedRuns != 3 || f.endTicks[0].Report.PrunedRuns != 3 {
		t.Errorf("pruned runs: report %d, observed %d, recorded %d; want 3", rep.PrunedRuns, obs.ticks[0].PrunedRuns, f.endTicks[0].Report.PrunedRuns)
	}
	if got := f.endTicks[0].TicksBefore; !got.Equal(tickT0.Add(-24 * time.Hour)) {
		t.Errorf("EndTick's TicksBefore %v, want a day before the tick", got)
	}
	if len(f.finished) == 0 {
		t.Error("no outcomes recorded before the prune")
	}

	// Empty ticks (the clock stays: nothing is due): BeginTick and EndTick
	// only, but for one in PruneEmptyOneIn.
	for i := 2; i <= PruneEmptyOneIn; i++ {
		beginBefore, endBefore, prunesBefore := f.count("BeginTick"), f.count("EndTick"), len(f.prunes)
		rep, err := e.Tick(context.Background())
		if err != nil || rep.Claimed != 0 {
			t.Fatalf("tick %d: %+v, %v; want an empty tick", i, rep, err)
		}
		pruned := len(f.prunes) - prunesBefore
		if wantPrune := i%PruneEmptyOneIn == 0; (pruned == 1) != wantPrune || pruned > 1 {
			t.Fatalf("empty tick %d pruned %d times, want prune %v", i, pruned, wantPrune)
		}
		if f.count("BeginTick")-beginBefore != 1 || f.count("EndTick")-endBefore != 1 {
			t.Fatalf("empty tick %d: not one BeginTick and one EndTick", i)
		}
	}

	// A tick that wrote more runs than the budget may prune twice as many:
	// pruning keeps up with the schedules' load.
	e.cfg.Retention.Budget = 1
	clock.Set(tickT0.Add(time.Minute))
	if rep, err := e.Tick(context.Background()); err != nil || rep.Claimed+rep.Skipped != 1 {
		t.Fatalf("tick at +1m: %+v, %v; want one run written", rep, err)
	}
	if got := f.prunes[len(f.prunes)-1].Limit; got != PruneWritesFactor {
		t.Errorf("prune limit after writing 1 run with budget 1: %d, want %d", got, PruneWritesFactor)
	}
	// That prune deleted its whole limit (the fake deletes 3): a backlog, so
	// the next may delete twice the limit; one that finds fewer resets it.
	for i, want := range []int{4, 2} {
		clock.Set(tickT0.Add(time.Duration(2+i) * time.Minute))
		if _, err := e.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := f.prunes[len(f.prunes)-1].Limit; got != want {
			t.Errorf("prune limit of tick %d after the backlog: %d, want %d", i, got, want)
		}
	}

	// RetainForever: nothing to prune, no statement even on a work tick.
	e.cfg.Retention = Retention{Runs: RetainForever, FailedRuns: RetainForever, Ticks: RetainForever, Budget: 5}
	n := len(f.prunes)
	clock.Set(tickT0.Add(4 * time.Minute))
	rep, err = e.Tick(context.Background())
	if err != nil || rep.Claimed != 1 || rep.PrunedRuns != 0 || len(f.prunes) != n {
		t.Errorf("tick with RetainForever: %+v, %v, prune calls %d; want a run and no prune", rep, err, len(f.prunes)-n)
	}
	if last := f.endTicks[len(f.endTicks)-1]; !last.TicksBefore.IsZero() {
		t.Errorf("RetainForever ticks: TicksBefore %v, want zero (keep)", last.TicksBefore)
	}
}

// TestTickPruneFailure: a failed prune is logged, not the tick's error, and
// a tick that failed does not prune.
func TestTickPruneFailure(t *testing.T) {
	f := newFakeStore()
	f.hook = failOn("PruneRuns", 1)
	e, clock, _, _ := testEngine(t, f)
	rep, err := e.Tick(context.Background())
	if err != nil || rep.Error != "" || rep.Claimed != 1 || f.count("PruneRuns") != 1 {
		t.Fatalf("tick with a failing prune: %+v, %v; want a clean report", rep, err)
	}
	f.hook = failOn("FinishRuns", 2) // the second tick's
	clock.Set(tickT0.Add(time.Minute))
	if _, err := e.Tick(context.Background()); err == nil || f.count("PruneRuns") != 1 {
		t.Errorf("failed tick: %v, prune calls %d; want the error and no prune", err, f.count("PruneRuns"))
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "0d": 0, "30d": 30 * 24 * time.Hour, "36h": 36 * time.Hour, " 90m ": 90 * time.Minute,
		"forever": RetainForever,
	} {
		if got, err := ParseRetention(in); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1h", "-3d", "3.5d", "xd", "soon", "36501d", "1w"} {
		if got, err := ParseRetention(in); err == nil {
			t.Errorf("ParseRetention(%q) = %v, want an error", in, got)
		}
	}
	for _, d := range []time.Duration{DefaultRetainRuns, DefaultRetainFailedRuns, DefaultRetainTicks, 36 * time.Hour, RetainForever} {
		if got, err := ParseRetention(FormatRetention(d)); err != nil || got != d {
			t.Errorf("round trip of %v via %q: %v, %v", d, FormatRetention(d), got, err)
		}
	}
}

// TestREADMERetention: the README's Retention table states core's defaults.
func TestREADMERetention(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for field, def := range map[string]string{
		"Runs":       FormatRetention(DefaultRetainRuns),
		"FailedRuns": FormatRetention(DefaultRetainFailedRuns),
		"Ticks":      FormatRetention(DefaultRetainTicks),
		"Budget":     fmt.Sprint(DefaultPruneBudget),
	} {
		_, row, ok := strings.Cut(string(b), "\n| `"+field+"` |")
		row, _, _ = strings.Cut(row, "\n")
		if !ok || !strings.Contains(row, "| `"+def+"` |") {
			t.Errorf("README's Retention row of %s does not say the default %s: %q", field, def, row)
		}
	}
}
