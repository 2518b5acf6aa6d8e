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
//	                  (sqlite:/tmp/… works but is per instance and lost: a warning is logged)
//	TICKFLOW_MIGRATE  apply the schema at cold start (default true; safe when cold starts race)
//	TICKFLOW_TOKEN    bearer token for POST /tick and mutating API routes via the Function URL
//	TICKFLOW_MAX_CONNS  connection pool size kept across invocations (default 2)
//	TICKFLOW_TICK_PERIOD  the trigger's period, for /healthz (default 1m)
//	LOG_LEVEL         debug, info (default), warn or error; logs are JSON lines
//
// main.go is the file to copy into your own module: replace demo.Register in
// register with the registrations of your tasks.
package main
