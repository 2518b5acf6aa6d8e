// Package handler is tickflow's transport layer: the ways a tick is
// triggered and the engine is operated from outside.
//
//   - Handler.Lambda is the AWS Lambda function. It accepts every payload a
//     scheduled trigger sends (the EventBridge rule envelope, the EventBridge
//     Scheduler envelope, a Scheduler Input with a "tick" field, an empty
//     payload; see DecodeTrigger) and runs one tick under the invocation's
//     deadline; a Lambda Function URL request is served by the HTTP API
//     instead. Any other event (SQS, SNS, S3, an unknown object) is the
//     invocation's error, and no tick runs.
//   - Handler.ServeHTTP serves the HTTP API below and, when
//     Config.Dashboard is set, the dashboard at "/" (package
//     handler/dashboard, which imports this one, never the reverse).
//   - Handler.Tick runs a tick for any of these (and for cmd/local's
//     built-in timer). Metrics do not hook in here: they observe the engine
//     (core.Observer), so a tick is counted once whoever ran it.
//
// The handler reaches the store only through the Engine's methods, which
// read the engine's clock once per operation.
//
// # HTTP API
//
// JSON in and out. Routes marked * change state and require the token when
// Config.Token is set.
//
//	POST /tick *                         one tick; 200 with the core.Report, 500 with the partial report on an infrastructure failure
//	GET  /api/schedules                  {"schedules": [core.ScheduleRecord…], "next": …} by key, filtered (task, label, origin, paused, completed, prefix), paginated (after, limit)
//	GET  /api/schedules/{name}           one schedule
//	POST /api/schedules *                create a runtime schedule (ScheduleRequest): 201; 409 key taken
//	PUT  /api/schedules/{name} *         upsert a runtime schedule: 201 created, 200 changed or unchanged
//	PATCH /api/schedules/{name} *        change the fields given: 200; 404 unknown; 409 a code schedule's spec
//	DELETE /api/schedules/{name} *       delete a runtime schedule: 204; 404 unknown; 409 a code schedule
//	POST /api/schedules/{name}/pause *   200 with the schedule
//	POST /api/schedules/{name}/resume *  200 with the schedule
//	POST /api/schedules/{name}/trigger * a run of the schedule's task now, source manual: 201 with the core.Run
//	GET  /api/runs                       {"runs": [...], "next_cursor": "…"}, newest first; query status, source, task, schedule, cursor, limit (1-200, default 50)
//	POST /api/runs *                     add_task {"task", "payload", "idempotency_key", "run_at" | "delay_seconds"}: 201 created, 200 when the key existed
//	GET  /api/runs/{id}                  one run
//	POST /api/runs/{id}/cancel *         a pending run: 200 with the run, 409 otherwise
//	POST /api/runs/{id}/retry *          a failed run: 200 with the run (pending again), 409 otherwise
//	GET  /api/tasks                      {"tasks": [TaskInfo…]}
//	GET  /api/ticks?limit=               {"ticks": [core.TickRecord…]}, newest first (limit 1-200, default 20)
//	GET  /healthz                        Health: 200 while ticks arrive, 503 when stale (see Handler.Check)
//	GET  /metrics                        served by Config.Metrics when set (handler/prommetrics: Prometheus text format), else a JSON 404
//
// The web dashboard (at "/" and under "/ui/") is served only when
// Config.Dashboard is set (to dashboard.New's handler, or any
// http.Handler); otherwise every path outside the API is a JSON 404. The
// API's paths stay the API's either way. Metrics and the dashboard are
// opt-in values, in packages of their own, rather than flags so that a
// binary without them, the tick-only Lambda function, does not link the
// Prometheus client or html/template's execution. What the dashboard shares
// with the API (the error table, the token check, the runs query, the
// request log line, the serving Handler's Check) is exported in mount.go.
//
// An error is {"error": "message"} with a status from one table:
// core.ErrNotFound 404 (unknown task, run or schedule), core.ErrInvalid 400
// (malformed JSON, unknown fields, bad query values), core.ErrConflict and
// core.ErrDuplicate 409, a body over Config.MaxBodyBytes 413, a missing or
// wrong token 401, a JSON body not sent as application/json 415, a wrong
// method 405 (with Allow), anything else 500 with a
// generic message that names the request id (the full error is logged).
// Bad input is rejected before anything is written. Every response carries
// X-Request-Id (the client's, when well-formed), and each request is logged
// once: method, path, status, duration_ms, request_id.
//
// When Config.Token is set, reads (GET) stay open: bind the server to a
// trusted network or put it behind an authenticating proxy. Behind a
// Function URL with AuthType AWS_IAM the Authorization header carries the
// SigV4 signature, so leave Token empty there and let IAM authenticate.
//
// Before any route, ServeHTTP applies guard.go's rules against hostile
// browsers and clients: without a token, a Host other than a loopback name
// or Config.AllowedHosts is a 421 (DNS rebinding; a Function URL request is
// addressed to the function's own domain and passes); an unsafe method on
// the API from another site's page is a 403 (http.CrossOriginProtection;
// the dashboard guards its own forms); a client over its limit of failed
// authentications is a 429 with Retry-After (AuthLimiter, shared with the
// dashboard's sign-in through AuthFailed).
package handler
