// Command lambda is tickflow's AWS Lambda function: build it as bootstrap for
// the provided.al2023 runtime and trigger it every minute with EventBridge
// Scheduler (template.yaml at the repository root does both).
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o bootstrap ./cmd/lambda
//
// Each invocation by a scheduled trigger (an EventBridge rule, an EventBridge
// Scheduler schedule with or without Input, an empty payload) runs one tick
// under the invocation's deadline and returns the tick report; a Lambda
// Function URL request is served by the REST API instead.
//
// Configuration, from the environment:
//
//	DATABASE_URL      required: postgres://user:pass@host:5432/db?sslmode=require
//	                  (SQLite is not linked into this binary: an instance's /tmp dies with it)
//	TICKFLOW_MIGRATE  apply the schema at cold start (default true; safe when cold starts race)
//	TICKFLOW_TOKEN    bearer token for POST /tick and mutating API routes via the Function URL
//	TICKFLOW_DASHBOARD  serve the dashboard through the Function URL (default true;
//	                  false when built with -tags tickflow.nodashboard)
//	TICKFLOW_MAX_CONNS  connection pool size kept across invocations (default 2)
//	TICKFLOW_TICK_PERIOD  the trigger's period, for /healthz (default 1m)
//	TICKFLOW_CLAIM_HOLD  keep a claim open up to this long while its runs execute, so
//	                  that each run is written once, finished (default 1s, at most 1m;
//	                  off: never); see the README's "How a tick works"
//	TICKFLOW_RETAIN_RUNS  ticks delete successful, cancelled and skipped runs
//	                  finished longer ago (default 30d; 36h, 14d or forever)
//	TICKFLOW_RETAIN_FAILED_RUNS  the same for failed runs (default 90d)
//	TICKFLOW_RETAIN_TICKS  ticks delete tick reports older than this (default 7d)
//	TICKFLOW_ALERT_WEBHOOK_URL  POST failure alerts to this http(s) URL (default none:
//	                  alerts off); see the README's Alerts section
//	TICKFLOW_ALERT_WEBHOOK_SECRET  sign them with HMAC-SHA256 (at least 16 bytes)
//	TICKFLOW_ALERT_TICKS_STOPPED_AFTER  alert when no tick finished for this long
//	                  (default 3 × TICKFLOW_TICK_PERIOD, at least 5m)
//	LOG_LEVEL         debug, info (default), warn or error; logs are JSON lines
//
// # Metrics
//
// The function does not serve GET /metrics (it answers a JSON 404) and does
// not link the Prometheus client: behind Lambda's scale-out each request may
// reach a different, short-lived instance, so a per-instance scrape endpoint
// would report a random fraction of the ticks. Metrics in Lambda belong to
// CloudWatch:
//
//   - each tick writes one stdout line in CloudWatch Embedded Metric Format
//     (emf.go): CloudWatch Logs extracts the metrics claimed, succeeded,
//     failed, retried, skipped, pruned_runs, tick_errors and duration_ms in namespace
//     "tickflow", dimension function (AWS_LAMBDA_FUNCTION_NAME);
//   - each tick is also logged as JSON ("lambda tick done" with tick_id and
//     aws_request_id) for CloudWatch Logs Insights and metric filters;
//   - GET /healthz and GET /api/ticks still work through the Function URL.
//
// The dashboard is linked and served through the Function URL (issue 5 wants
// it there). It is the largest piece of the binary after the runtime:
// executing html/template makes the linker keep the exported methods of every
// reachable type (about 1.8 MB). With it, bootstrap is about 10.0 MB on arm64
// and 10.7 MB on amd64 with the build line above. A function that only ticks
// (no Function URL, or the REST API without the dashboard) can leave it out:
//
//	go build -tags lambda.norpc,tickflow.nodashboard -trimpath -ldflags "-s -w" -o bootstrap ./cmd/lambda
//
// which gives about 9.0 MB on amd64; BENCHMARKS.md measures both builds.
//
// main.go is the file to copy into your own module: replace demo.Register in
// register with the registrations of your tasks.
package main
