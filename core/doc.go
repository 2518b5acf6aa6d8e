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
// core imports no storage driver, transport or SDK; see package sqlstore for
// the PostgreSQL and SQLite stores and package handler for Lambda and HTTP.
// Package core/storetest is the conformance suite every Store implementation
// runs, in whatever package it lives.
package core
