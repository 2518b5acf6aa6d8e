// Package core is tickflow's domain: the task registry, schedule specs and
// their validation, next-run math (anchored intervals, five-field cron with a
// DST rule), the retry policy, run records, the Store interface the adapters
// implement, the injectable Clock, and the tick engine.
//
// Nothing runs in a loop. An external trigger (EventBridge, an HTTP call,
// cron) calls Engine.Tick, which reads the database clock once, claims the due
// schedule rows in the store (the claim is the lock), records one run per
// slot, runs the task functions on a bounded pool with retries, and advances
// the schedules. Ticks may run concurrently, late or twice: each slot is
// recorded once (unique (schedule, slot)) and each recorded run executes once
// per attempt (claims are row locks with leases).
//
// The Engine is also the service layer: every operation an adapter needs
// (list and pause schedules, trigger, add_task, get, list, cancel and retry
// runs, list ticks, stats, Health) is an Engine method that reads the
// engine's clock once and passes it to every store call; adapters never hold
// the Store. Observers (Engine.AddObserver) see every tick and every
// executed run, whatever invoked the tick: metrics and the Lambda EMF line
// hook in there.
//
// A tick is three parts, each with its own tests against an in-memory store:
// the claimer claims due schedules (planning their slots inside the claim)
// and runnable runs in batches while the tick has time; the executor runs
// one claimed run's attempts under the tick's deadline and the task's
// timeout, captures panics and decides whether a retry runs inline or in a
// later tick; the recorder counts the outcomes and records them in batches,
// fenced by tick and attempt. Engine.Execute exposes the executor, so a
// claimed run can be executed outside the tick that claimed it.
//
// Runtime schedules: besides the code's schedules (origin code, written by
// sync), the Engine creates, upserts, updates, deletes and lists schedules
// at runtime (origin api; CreateSchedule, UpsertSchedule(s),
// UpdateSchedule, DeleteSchedule, ListSchedules), each also in the
// caller's own transaction (the ...Tx variants take a Tx: *sql.Tx or
// *sqlx.Tx). Sync never touches api schedules; the API may only pause a
// code schedule. An upsert with an unchanged spec keeps the schedule's next
// slot; a changed spec takes effect from the next slot of the new spec.
// Deleting a schedule stops its future slots; its runs stay. Params are
// validated here (a ValidationError naming the field) and built into a
// Schedule by the path Registry.Schedule takes, so both origins compute
// spec hash, anchor and first slot alike.
//
// In a tick, a due runtime schedule (claimed only by a process that
// registers its task) is planned from its row (DueSchedule), not from the
// Registry: its spec, policies and bounds. Its payload is copied into each
// run (RunInfo.Payload); its retries set the runs' MaxAttempts and its retry
// delay, backoff and timeout are stored on each run (RunOverrides) and used
// by the executor on every attempt, retries claimed later included (nil on
// other runs: the task's). No slot is planned before StartAt or after EndAt,
// nor more runs that are not skipped than RemainingRuns, which the claim
// decrements; when no slot is left (a once fired, EndAt passed, no run
// remaining) next_run becomes NULL and completed_at the tick's now.
//
// core imports no storage driver, transport or SDK; see package sqlstore for
// the PostgreSQL and SQLite stores and package handler for Lambda and HTTP.
// Package core/storetest is the conformance suite every Store implementation
// runs, in whatever package it lives.
package core
