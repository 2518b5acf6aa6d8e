package core

import "sync"

// Runtime schedules (origin api) are planned from their rows, not from the
// Registry: the claim returns each due api row's spec and policies
// (DueSchedule), and rowSchedule builds the *Schedule plan reads from it,
// with the same kinds and validation as Registry.Schedule. The task itself
// must be registered here (the claim only takes rows of registered tasks).

// rowSchedules is the storage rowSchedule builds a Schedule in: one per
// batch, reused row after row (a fresh Schedule and Task per row were a
// tenth of a runtime-schedule tick's allocated bytes). plan keeps nothing
// of the Schedule it is given.
type rowSchedules struct {
	s    Schedule
	task Task
	// registered is the Registry's task of the last row built.
	registered *Task
}

// rowSchedule builds, in buf, the Schedule a due runtime schedule row
// describes: the registered task with the row's display name and policy
// overrides, and the row's spec (parsed cron specs come from e.specs). The
// Schedule is valid until the next call with buf.
func (e *Engine) rowSchedule(d *DueSchedule, buf *rowSchedules) (*Schedule, error) {
	registered, ok := e.cfg.Registry.Task(d.Task)
	if !ok {
		return nil, invalid("task", d.Task, "is not registered in this process")
	}
	buf.task, buf.registered = *registered, registered
	task := &buf.task
	if d.DisplayName != "" {
		task.DisplayName = d.DisplayName
	}
	task.Retry.Retries = max(d.Retries, 0)
	task.Retry.Delay, task.Retry.Backoff, task.Timeout = d.Delay, d.Backoff, d.Timeout
	spec, err := e.specs.spec(d)
	if err != nil {
		return nil, err
	}
	buf.s = Schedule{
		Name: d.Name, Task: task, Misfire: d.Misfire, Overlap: d.Overlap,
		MaxCatchup: d.MaxCatchup, Jitter: d.Jitter, spec: spec,
	}
	s := &buf.s
	if err := s.checkPolicies(); err != nil {
		return nil, err
	}
	return s, nil
}

// overrides are the policies a runtime schedule's runs carry: its row's
// retry delay, backoff and timeout (its retries are the runs' MaxAttempts).
// One set of pointers per schedule, shared by its runs.
func (d *DueSchedule) overrides() RunOverrides {
	delay, backoff, timeout := d.Delay.Seconds(), d.Backoff, d.Timeout.Seconds()
	return RunOverrides{RetryDelaySeconds: &delay, RetryBackoff: &backoff, TimeoutSeconds: &timeout}
}

// specCacheSize bounds the parsed cron specs an engine keeps: past it an
// arbitrary entry is dropped for each new one.
const specCacheSize = 4096

// specCache keeps the cron specs of runtime schedules parsed, keyed by
// expression and zone: many schedules share a few specs ("0 9 * * *" in a
// tenant's zone), and parsing one costs more than planning it. Interval and
// once specs are built afresh: they cost nothing to build.
type specCache struct {
	mu   sync.Mutex
	cron map[cronKey]*CronSchedule
}

type cronKey struct{ expr, zone string }

// spec returns the Spec of d's row: the same kinds, and the same validation,
// as a stored record (recordSpec).
func (c *specCache) spec(d *DueSchedule) (Spec, error) {
	return storedSpec(d.Kind, d.EverySeconds, d.Cron, d.Timezone, d.OnceAt, c.parseCron)
}

// parseCron is ParseCron, cached.
func (c *specCache) parseCron(expr, tz string) (*CronSchedule, error) {
	k := cronKey{expr, tz}
	c.mu.Lock()
	cs, ok := c.cron[k]
	c.mu.Unlock()
	if ok {
		return cs, nil
	}
	cs, err := ParseCron(expr, tz)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cron == nil {
		c.cron = make(map[cronKey]*CronSchedule)
	}
	if len(c.cron) >= specCacheSize {
		for old := range c.cron {
			delete(c.cron, old)
			break
		}
	}
	c.cron[k] = cs
	return cs, nil
}
