package main

import (
	"context"
	"fmt"
	"time"
)

// benchPair times the floor and tickflow at n due schedules alternately in
// one process, pairs times each: a pair is one floor tick and one tickflow
// tick back to back, the order swapped every pair. The 2× target is judged
// on the median of the per-pair ratios: on a shared machine whose speed
// drifts over minutes, the separate floor and tickflow rows are measured
// minutes apart, and their ratio carries that drift.
func benchPair(ctx context.Context, n, pairs int) (Result, error) {
	res := Result{Name: fmt.Sprintf("pair-%d", n), Group: "pair", N: n,
		Title: fmt.Sprintf("floor and tickflow alternating, %s due schedules", thousands(n))}
	f, err := newFloorEnv(ctx, "pair-floor", n, n)
	if err != nil {
		return res, err
	}
	defer f.close(ctx)
	h, err := newTickflowHarness(ctx, tickflowCase{name: "pair-tickflow", n: n, engines: 1, due: true})
	if err != nil {
		return res, err
	}
	defer h.close(ctx)
	figs := &PairFigures{}
	res.Pairs = figs
	for i := 0; i < pairs; i++ {
		var (
			floorTime, tfTime time.Duration
			floorDone, tfDone int
			tfCounts          Counts
		)
		floor := func() (err error) {
			floorTime, _, floorDone, err = f.timedTick(ctx)
			return err
		}
		tickflow := func() error {
			elapsed, counts, rep, _, err := h.timedTick(ctx, h.env)
			tfTime, tfCounts, tfDone = elapsed, counts, rep.Succeeded
			return err
		}
		first, second := floor, tickflow
		if i%2 == 1 {
			first, second = tickflow, floor
		}
		if err := first(); err != nil {
			return res, err
		}
		if err := second(); err != nil {
			return res, err
		}
		if floorDone != n {
			return res, fmt.Errorf("pair %d: floor fired %d of %d schedules", i, floorDone, n)
		}
		res.addRun(tfTime, tfCounts, tfDone)
		figs.Floor = append(figs.Floor, floorTime.Seconds())
		figs.Ratios = append(figs.Ratios, tfTime.Seconds()/floorTime.Seconds())
	}
	res.Notes = append(res.Notes, fmt.Sprintf("pair: the floor and a tickflow tick (default Config) at %s due schedules, each in its own schema, timed alternately in one process (%d pairs, the order swapped every pair); × floor is the median of the per-pair ratios.", thousands(n), pairs))
	return res, nil
}
