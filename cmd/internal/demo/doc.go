// Package demo registers the example tasks both binaries ship with, so a
// newcomer sees real runs the moment cmd/local starts: the two schedules of
// fastapi-taskflow's documentation (cleanup_expired_sessions and
// morning_report) and one manual-only task (send_email).
//
// The tasks only log; they are deterministic and never fail. Replace the call
// to Register in your copy of cmd/lambda/main.go with your own registrations.
package demo
