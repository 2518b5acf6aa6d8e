package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tickflow/tickflow/core"
)

// maxNext bounds -n.
const maxNext = 10000

func runNext(_ context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("next", "next --cron EXPR | --every DURATION [--tz ZONE] [--after RFC3339] [-n N]",
		"Prints the next N fire times, one per line: the UTC instant in RFC 3339, a space,\n"+
			"then the same instant in the zone with its abbreviation. Cron expressions have\n"+
			"five fields and follow tickflow's daylight-saving rule; --every slots are\n"+
			"anchored at --after (after+every, after+2·every, …).")
	cron := fs.String("cron", "", "five-field cron expression, e.g. \"30 2 * * *\"")
	every := fs.Duration("every", 0, "interval, e.g. 5m or 300s")
	tz := fs.String("tz", "", "IANA time zone the cron expression is read in and times are shown in (default UTC)")
	after := fs.String("after", "", "RFC 3339 instant to start after (default now)")
	n := fs.Int("n", 5, "how many fire times to print")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > maxNext {
		return usagef("bad -n %d: must be 1 to %d", *n, maxNext)
	}
	start := time.Now().UTC()
	if *after != "" {
		t, err := time.Parse(time.RFC3339Nano, *after)
		if err != nil {
			return usagef("bad --after %q: want RFC 3339 such as 2026-03-07T17:00:00Z", *after)
		}
		if err := core.CheckTime("after", t); err != nil {
			return usagef("bad --after: %v", err)
		}
		start = t.UTC()
	}

	var next func(time.Time) time.Time
	var loc *time.Location
	switch {
	case *cron != "" && *every != 0:
		return usagef("give exactly one of --cron or --every, not both")
	case *cron != "":
		cs, err := core.ParseCron(*cron, *tz)
		if err != nil {
			return usageError{err: err}
		}
		next, loc = cs.Next, cs.Location()
	case *every > 0:
		l, err := loadZone(*tz)
		if err != nil {
			return err
		}
		next, loc = func(t time.Time) time.Time { return t.Add(*every) }, l
	case *every < 0:
		return usagef("bad --every %s: must be greater than zero", *every)
	default:
		return usagef("give one of --cron or --every")
	}
	return printFireTimes(c.stdout, next, loc, start, *n)
}

// printFireTimes prints up to n instants of next after start; a zero instant
// means the schedule never fires again, and so does one at or after
// core.MaxTime (the end of the range the engine works in).
func printFireTimes(w io.Writer, next func(time.Time) time.Time, loc *time.Location, start time.Time, n int) error {
	t := start
	for range n {
		t = next(t)
		if t.IsZero() || !t.Before(core.MaxTime) {
			return nil
		}
		local := t.In(loc)
		if _, err := fmt.Fprintf(w, "%s %s %s\n", t.UTC().Format(time.RFC3339Nano), local.Format(time.RFC3339Nano), local.Format("MST")); err != nil {
			return err
		}
	}
	return nil
}

// loadZone loads a zone for --every by the rule cron zones follow (see
// core.ParseCron): "" is UTC, and "Local" (the host's zone) is refused for
// both, so the same --tz works or fails with either flag.
func loadZone(tz string) (*time.Location, error) {
	if _, err := core.ParseCron("* * * * *", tz); err != nil {
		return nil, usagef("bad --tz: %v", err)
	}
	if tz == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(tz)
}
