package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// benchPair times the floor and tickflow at n due schedules alternately in
// one process, pairs times each: a pair is one floor tick and one tickflow
// tick back to back, the order swapped every pair. The 1.5× target is judged
// on the median of the per-pair ratios: on a shared machine whose speed
// drifts over minutes, the separate floor and tickflow rows are measured
// minutes apart, and their ratio carries that drift. With load > 0, that
// many `yes > /dev/null` processes keep the CPUs busy while the pairs run
// (after the setup): the same comparison on a loaded machine.
func benchPair(ctx context.Context, n, pairs, load int) (Result, error) {
	res := Result{Name: fmt.Sprintf("pair-%d", n), Group: "pair", N: n,
		Title: fmt.Sprintf("floor and tickflow alternating, %s due schedules", thousands(n))}
	if load > 0 {
		res.Name += "-loaded"
		res.Title += fmt.Sprintf(", machine loaded by %d × `yes > /dev/null`", load)
	}
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
	stop, err := loadMachine(ctx, load)
	if err != nil {
		return res, err
	}
	defer stop()
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

// loadMachine starts n `yes > /dev/null` processes and returns the function
// that stops them.
func loadMachine(ctx context.Context, n int) (stop func(), err error) {
	var hogs []*exec.Cmd
	stop = func() {
		for _, c := range hogs {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	for range n {
		c := exec.CommandContext(ctx, "sh", "-c", "exec yes > /dev/null")
		if err := c.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("load the machine: %w", err)
		}
		hogs = append(hogs, c)
	}
	return stop, nil
}
