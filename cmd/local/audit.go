package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tickflow/tickflow/core"
)

// windowFlags are the flags of audit and backfill: the window and the
// clock override.
type windowFlags struct {
	from, to, now string
}

func addWindowFlags(fs *flag.FlagSet) *windowFlags {
	f := &windowFlags{}
	fs.StringVar(&f.from, "from", "", "start of the window, inclusive (RFC 3339, required)")
	fs.StringVar(&f.to, "to", "", "end of the window, exclusive (RFC 3339, required)")
	fs.StringVar(&f.now, "now", "", "for tests and simulations only: judge and write at this RFC 3339 instant instead of the database's clock")
	return f
}

// instant parses one RFC 3339 flag value in the engine's time range.
func instant(name, v string, required bool) (time.Time, error) {
	if v == "" {
		if required {
			return time.Time{}, usagef("--%s is required (an RFC 3339 instant such as 2026-03-02T10:00:00Z)", name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, usagef("bad --%s %q: want an RFC 3339 instant such as 2026-03-02T10:00:00Z", name, v)
	}
	if err := core.CheckTime(name, t); err != nil {
		return t, usagef("bad --%s: %v", name, err)
	}
	return t, nil
}

// window checks the flags before anything is opened: exit 2 on bad input.
func (f *windowFlags) window(key string) (from, to time.Time, cfg core.Config, err error) {
	if err = core.CheckText("schedule", key); err != nil {
		return from, to, cfg, usageError{err: err}
	}
	if from, err = instant("from", f.from, true); err != nil {
		return
	}
	if to, err = instant("to", f.to, true); err != nil {
		return
	}
	if !to.After(from) {
		return from, to, cfg, usagef("bad window: --to %s must be after --from %s", f.to, f.from)
	}
	now, err := instant("now", f.now, false)
	if err == nil && !now.IsZero() {
		cfg.Clock = core.NewStubClock(now)
	}
	return from, to, cfg, err
}

// windowCmd is what audit and backfill share: the store and window flags
// and one schedule KEY, all checked before the store is opened.
type windowCmd struct {
	store  *storeFlags
	window *windowFlags
}

func (c *cli) addWindowCmd(fs *flag.FlagSet) windowCmd {
	return windowCmd{store: c.addStoreFlags(fs, "warn"), window: addWindowFlags(fs)}
}

// open parses args (exactly one KEY), checks KEY and the window (exit 2),
// then opens the store.
func (w windowCmd) open(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) (key string, from, to time.Time, a *app, err error) {
	pos, err := c.parse(fs, args)
	if err != nil {
		return "", from, to, nil, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", from, to, nil, usagef("want exactly one schedule KEY, got %d arguments", len(pos))
	}
	from, to, cfg, err := w.window.window(pos[0])
	if err != nil {
		return "", from, to, nil, err
	}
	a, err = c.open(ctx, w.store, cfg)
	return pos[0], from, to, a, err
}

// engineInputError turns the engine's refusal of the input (a bad window,
// an unknown schedule, a paused one) into exit 2.
func engineInputError(err error) error {
	if errors.Is(err, core.ErrInvalid) || errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict) {
		return usageError{err: err}
	}
	return err
}

func runAudit(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("audit", "audit KEY --from TIME --to TIME [--json] [flags]",
		"Lists every expected slot of the stored schedule KEY in [--from, --to) with what\n"+
			"became of it: success, failed, running, pending, skipped (with the reason),\n"+
			"coalesced (folded into a later run), missed (no run, and the schedule has\n"+
			"moved past it), due, paused or not_yet_due. Exits 1 when a slot was missed\n"+
			"(for scripts and cron monitoring), 2 on bad input. A window is at most 366\n"+
			"days and 100,000 slots.")
	wc := c.addWindowCmd(fs)
	asJSON := fs.Bool("json", false, "print the audit as JSON instead of a table")
	key, from, to, a, err := wc.open(ctx, c, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.engine.AuditSlots(ctx, core.AuditParams{Schedule: key, From: from, To: to})
	if err != nil {
		return engineInputError(err)
	}
	if *asJSON {
		err = writeJSON(c.stdout, res)
	} else {
		err = c.printSlots(res.Slots, res.Counts)
	}
	if err != nil {
		return err
	}
	if n := res.Missed(); n > 0 {
		return fmt.Errorf("%d of %d slots missed", n, len(res.Slots))
	}
	return nil
}

// printSlots prints slots as a table, then the counts per outcome.
func (c *cli) printSlots(slots []core.SlotAudit, counts map[core.SlotOutcome]int) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT (UTC)\tOUTCOME\tRUN\tREASON")
	for _, s := range slots {
		run := "-"
		if s.RunID != 0 {
			run = fmt.Sprint(s.RunID)
			if s.Covered {
				run += " (covers)"
			}
		}
		reason, _, _ := strings.Cut(s.Reason, "\n")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Slot.UTC().Format(time.RFC3339), s.Outcome, run, core.CleanText(reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, o := range []core.SlotOutcome{core.SlotSuccess, core.SlotFailed, core.SlotRunning, core.SlotPending,
		core.SlotInterrupted, core.SlotCancelled, core.SlotSkipped, core.SlotCoalesced, core.SlotMissed,
		core.SlotDue, core.SlotPaused, core.SlotNotYetDue} {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	_, err := fmt.Fprintf(c.stdout, "%d slots: %s\n", len(slots), strings.Join(parts, ", "))
	return err
}

func runBackfill(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("backfill", "backfill KEY --from TIME --to TIME [--dry-run] [flags]",
		"Creates a pending run, runnable at once, for each slot of the stored schedule\n"+
			"KEY in [--from, --to) that the schedule has passed without a run of its own\n"+
			"(missed slots and slots folded into a coalesced or skipped record), and prints\n"+
			"them. Ticks run them like any pending run. Repeatable: a slot that has a run\n"+
			"is never filled twice. At most 10,000 slots per call. Exits 2 on bad input,\n"+
			"an unknown schedule or a paused one.")
	wc := c.addWindowCmd(fs)
	dry := fs.Bool("dry-run", false, "list the slots that would be filled; write nothing")
	key, from, to, a, err := wc.open(ctx, c, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.engine.Backfill(ctx, core.BackfillParams{Schedule: key, From: from, To: to, DryRun: *dry})
	if err != nil {
		return engineInputError(err)
	}
	if err := c.printSlots(res.Slots, map[core.SlotOutcome]int{core.SlotPending: len(res.Slots)}); err != nil {
		return err
	}
	verb := "created"
	if res.DryRun {
		verb = "would be created (dry run: nothing written)"
	}
	_, err = fmt.Fprintf(c.stdout, "%d runs %s\n", res.Created, verb)
	return err
}
