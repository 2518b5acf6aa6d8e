package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// The runtime schedule subcommands: tickflow schedules create | update |
// delete | list. Their flags are converted to a handler.ScheduleRequest,
// the REST API's body, so the CLI checks input as the API does; bad input
// is exit 2 with nothing written.

// scheduleSubcommands are the subcommands of "schedules".
var scheduleSubcommands = map[string]func(ctx context.Context, c *cli, args []string) error{
	"create": runScheduleCreate,
	"update": runScheduleUpdate,
	"delete": runScheduleDelete,
	"list":   runScheduleList,
}

// repeated is a flag that may be given many times (--label k=v).
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// scheduleFlags are the flags of create and update, one per
// ScheduleRequest field.
type scheduleFlags struct {
	key, task, name, cron, timezone, onceAt, payload string
	startAt, endAt, misfire, overlap                 string
	every, delay, timeout, jitter                    time.Duration
	maxRuns, retries, maxCatchup                     int
	backoff                                          float64
	runOnStartup, paused                             bool
	labels                                           repeated
}

func addScheduleFlags(fs *flag.FlagSet, update bool) *scheduleFlags {
	f := &scheduleFlags{}
	fs.StringVar(&f.key, "key", "", "the schedule's key (required)")
	fs.StringVar(&f.task, "task", "", "the registered task it runs")
	fs.StringVar(&f.name, "name", "", "display name (default: the task's)")
	fs.DurationVar(&f.every, "every", 0, "run every this long (5m, 1h)")
	fs.StringVar(&f.cron, "cron", "", "run on this five-field cron expression")
	fs.StringVar(&f.timezone, "timezone", "", "IANA zone of --cron (default UTC)")
	fs.StringVar(&f.onceAt, "once-at", "", "run once at this RFC 3339 instant")
	fs.StringVar(&f.payload, "payload", "", "JSON handed to each run")
	fs.Var(&f.labels, "label", "label key=value, repeatable")
	fs.StringVar(&f.startAt, "start-at", "", "no slot before this RFC 3339 instant")
	fs.StringVar(&f.endAt, "end-at", "", "no slot after this RFC 3339 instant")
	fs.IntVar(&f.maxRuns, "max-runs", 0, "complete after this many runs (0: unlimited)")
	fs.IntVar(&f.retries, "retries", 0, "retries of a failed run (default: the task's)")
	fs.DurationVar(&f.delay, "delay", 0, "wait before the first retry (default: the task's)")
	fs.Float64Var(&f.backoff, "backoff", 0, "retry delay multiplier, >= 1 (default: the task's)")
	fs.DurationVar(&f.timeout, "timeout", 0, "limit of one attempt (default: the task's)")
	fs.DurationVar(&f.jitter, "jitter", 0, "random delay of each run, up to this")
	fs.StringVar(&f.misfire, "misfire", "", "coalesce (default), catchup or skip")
	fs.StringVar(&f.overlap, "overlap", "", "skip (default) or allow")
	fs.IntVar(&f.maxCatchup, "max-catchup", 0, "most missed slots run with --misfire catchup")
	fs.BoolVar(&f.runOnStartup, "run-on-startup", false, "first slot at the first tick")
	fs.BoolVar(&f.paused, "paused", false, "stored paused (update: --paused=false resumes)")
	if update {
		fs.Lookup("label").Usage = "label key=value, repeatable: replaces all the labels"
		fs.Lookup("payload").Usage = "JSON handed to each run (null removes it)"
		fs.Lookup("start-at").Usage = `no slot before this RFC 3339 instant ("" removes the bound)`
		fs.Lookup("end-at").Usage = `no slot after this RFC 3339 instant ("" removes the bound)`
	}
	return f
}

// request converts the flags given on the command line (set) to the API's
// body; flags not given are absent.
func (f *scheduleFlags) request(set map[string]bool) (handler.ScheduleRequest, error) {
	var req handler.ScheduleRequest
	str := func(name, v string) *string {
		if !set[name] {
			return nil
		}
		return &v
	}
	secs := func(name string, d time.Duration) *float64 {
		if !set[name] {
			return nil
		}
		s := d.Seconds()
		return &s
	}
	num := func(name string, v int) *int {
		if !set[name] {
			return nil
		}
		return &v
	}
	flagOf := func(name string, v bool) *bool {
		if !set[name] {
			return nil
		}
		return &v
	}
	req.Key, req.Task, req.Name = str("key", f.key), str("task", f.task), str("name", f.name)
	req.Every, req.Cron, req.Timezone, req.OnceAt = secs("every", f.every), str("cron", f.cron), str("timezone", f.timezone), str("once-at", f.onceAt)
	req.StartAt, req.EndAt, req.Misfire, req.Overlap = str("start-at", f.startAt), str("end-at", f.endAt), str("misfire", f.misfire), str("overlap", f.overlap)
	req.JitterSeconds, req.DelaySeconds, req.TimeoutSeconds = secs("jitter", f.jitter), secs("delay", f.delay), secs("timeout", f.timeout)
	req.MaxRuns, req.Retries, req.MaxCatchup = num("max-runs", f.maxRuns), num("retries", f.retries), num("max-catchup", f.maxCatchup)
	req.RunOnStartup, req.Paused = flagOf("run-on-startup", f.runOnStartup), flagOf("paused", f.paused)
	if set["backoff"] {
		req.Backoff = &f.backoff
	}
	if set["payload"] {
		if !json.Valid([]byte(f.payload)) {
			return req, usagef("bad --payload: not valid JSON")
		}
		req.Payload = json.RawMessage(f.payload)
	}
	if set["label"] {
		labels, err := handler.ParseLabels("label", f.labels)
		if err != nil {
			return req, usagef("bad --label: %v", err)
		}
		if labels == nil {
			labels = map[string]string{}
		}
		req.Labels = &labels
	}
	if err := core.CheckText("key", f.key); err != nil || f.key == "" {
		return req, usagef("bad --key: want the schedule's key (1-%d bytes of text)", core.MaxScheduleKeyBytes)
	}
	return req, nil
}

// flagsSet lists the flags given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// scheduleError is err of an Engine schedule method as the CLI reports it:
// bad input, an unknown key, a duplicate or a code schedule is exit 2.
func scheduleError(err error, a *app) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrInvalid):
		var ve *core.ValidationError
		if errors.As(err, &ve) && ve.Field == "task" {
			return usagef("%v (registered tasks: %s)", err, strings.Join(a.engine.Registry().TaskNames(), ", "))
		}
		return usageError{err: err}
	case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrDuplicate), errors.Is(err, core.ErrConflict):
		return usageError{err: err}
	}
	return err
}

// badField reports a transport check's error as the flag it came from.
func badField(err error) error {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		return usagef("bad --%s: %v", flagName(ve.Field), err)
	}
	return usageError{err: err}
}

// flagName maps an API field name to its flag.
func flagName(field string) string {
	switch field {
	case "jitter_seconds":
		return "jitter"
	case "delay_seconds":
		return "delay"
	case "timeout_seconds":
		return "timeout"
	}
	return strings.ReplaceAll(field, "_", "-")
}

func runScheduleCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("schedules create", "schedules create --key KEY --task TASK (--every D | --cron EXPR [--timezone TZ] | --once-at TIME) [flags]",
		"Creates a runtime schedule (origin api) and prints it as JSON. A key that\n"+
			"exists is refused (exit 2); so is bad input, with nothing written.")
	sf := c.addStoreFlags(fs, "warn")
	f := addScheduleFlags(fs, false)
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	req, err := f.request(flagsSet(fs))
	if err != nil {
		return err
	}
	p, err := req.Params()
	if err != nil {
		return badField(err)
	}
	a, err := c.open(ctx, sf, core.Config{})
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.engine.CreateSchedule(ctx, p)
	if err != nil {
		return scheduleError(err, a)
	}
	return writeJSON(c.stdout, rec)
}

func runScheduleUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("schedules update", "schedules update --key KEY [flags]",
		"Changes the given fields of a runtime schedule and prints it as JSON; the\n"+
			"others stay. A changed spec takes effect from the next slot. Of a schedule\n"+
			"declared in code only --paused may change. An unknown key or bad input is\n"+
			"exit 2, with nothing written.")
	sf := c.addStoreFlags(fs, "warn")
	f := addScheduleFlags(fs, true)
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	req, err := f.request(flagsSet(fs))
	if err != nil {
		return err
	}
	req.Key = nil
	u, err := req.Update()
	if err != nil {
		return badField(err)
	}
	a, err := c.open(ctx, sf, core.Config{})
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.engine.UpdateSchedule(ctx, f.key, u)
	if err != nil {
		return scheduleError(err, a)
	}
	return writeJSON(c.stdout, rec)
}

func runScheduleDelete(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("schedules delete", "schedules delete --key KEY [flags]",
		"Deletes a runtime schedule: it never fires again; its runs stay, and a run\n"+
			"in progress completes. A schedule declared in code or an unknown key is\n"+
			"exit 2.")
	sf := c.addStoreFlags(fs, "warn")
	key := fs.String("key", "", "the schedule's key (required)")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := core.CheckText("key", *key); err != nil || *key == "" {
		return usagef("bad --key: want the schedule's key")
	}
	a, err := c.open(ctx, sf, core.Config{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.engine.DeleteSchedule(ctx, *key); err != nil {
		return scheduleError(err, a)
	}
	fmt.Fprintf(c.stdout, "deleted schedule %s\n", *key)
	return nil
}

func runScheduleList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("schedules list", "schedules list [--task T] [--label k=v]... [--origin code|api] [--prefix P] [--after KEY] [--limit N] [--json] [flags]",
		"Lists stored schedules by key, filtered, one page at a time (without\n"+
			"syncing the code's schedules). When more match, the key to pass as --after\n"+
			"for the next page is printed on stderr (in \"next\" with --json).")
	sf := c.addStoreFlags(fs, "warn")
	var labels repeated
	fs.Var(&labels, "label", "only schedules with label key=value, repeatable (all must match)")
	q := url.Values{}
	for _, p := range []struct{ name, usage string }{
		{"task", "only schedules of this task"},
		{"origin", "only code or api schedules"},
		{"prefix", "only keys starting with this"},
		{"after", "keys after this one (the previous page's next)"},
		{"paused", "true or false: only paused or active schedules"},
		{"completed", "true or false: only completed or live schedules"},
	} {
		fs.Func(p.name, p.usage, func(v string) error { q.Set(p.name, v); return nil })
	}
	limit := fs.Int("limit", core.DefaultListLimit, fmt.Sprintf("page size, 1 to %d", core.MaxListLimit))
	asJSON := fs.Bool("json", false, "print the page as JSON")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	q["label"] = labels
	q.Set("limit", strconv.Itoa(*limit))
	filter, err := handler.ParseScheduleFilter(q)
	if err != nil {
		return badField(err)
	}
	a, err := c.open(ctx, sf, core.Config{})
	if err != nil {
		return err
	}
	defer a.Close()
	page, err := a.engine.ListSchedules(ctx, filter)
	if err != nil {
		return scheduleError(err, a)
	}
	if *asJSON {
		if page.Schedules == nil {
			page.Schedules = []core.ScheduleRecord{}
		}
		return writeJSON(c.stdout, page)
	}
	if err := c.printSchedules(page.Schedules); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(c.stderr, "more schedules match: next page with --after %q\n", page.Next)
	}
	return nil
}
