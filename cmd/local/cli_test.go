package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/core"
)

// runCLI runs the CLI in process with env and returns the exit code and outputs.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"127.0.0.2:0", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"[::]:8080", "", false},
		{"192.168.1.10:8080", "", false},
		{"example.com:8080", "", false},
		{"0.0.0.0:8080", "s3cret", true},
		{":8080", "s3cret", true},
		{"no-port", "s3cret", false},
		{"127.0.0.1:99999", "", false},
		{"127.0.0.1:-1", "", false},
		{"127.0.0.1:", "", true}, // any free port, as :0
	}
	for _, tt := range tests {
		err := checkListen(tt.addr, tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("checkListen(%q, token=%t) = %v, want ok=%t", tt.addr, tt.token != "", err, tt.ok)
		}
	}
}

func TestParseAllowsFlagsAfterArguments(t *testing.T) {
	c := &cli{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	payload := fs.String("payload", "", "")
	pos, err := c.parse(fs, []string{"send_email", "--payload", `{"a":1}`, "extra", "--", "-literal"})
	if err != nil {
		t.Fatal(err)
	}
	if *payload != `{"a":1}` || !slices.Equal(pos, []string{"send_email", "extra", "-literal"}) {
		t.Errorf("payload=%q positionals=%q", *payload, pos)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad flag", nil, []string{"tick", "--nope"}, "flag provided but not defined: -nope"},
		{"extra argument", nil, []string{"migrate", "now"}, "unexpected arguments: now"},
		{"enqueue without task", nil, []string{"enqueue"}, "want exactly one TASK"},
		{"enqueue bad payload", nil, []string{"enqueue", "send_email", "--payload", "{"}, "not valid JSON"},
		{"bad log level", nil, []string{"tick", "--log-level", "loud", "--database-url", "sqlite::memory:"}, "bad --log-level"},
		{"bad log format from env", map[string]string{"LOG_FORMAT": "xml"}, []string{"migrate", "--database-url", "sqlite::memory:"}, "bad --log-format"},
		{"bad --now", nil, []string{"tick", "--now", "yesterday"}, "bad --now"},
		{"public address without token", nil, []string{"serve", "--addr", "0.0.0.0:0"}, "refusing to listen on 0.0.0.0:0 without a token"},
		{"negative interval", nil, []string{"serve", "--interval", "-1s"}, "bad --interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tt.wantErr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "-h")
	if code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	for _, cmd := range commands {
		if !strings.Contains(stdout, "  "+cmd.name+" ") {
			t.Errorf("help does not list %s:\n%s", cmd.name, stdout)
		}
	}
	for _, cmd := range commands {
		code, stdout, stderr := runCLI(t, map[string]string{"DATABASE_URL": "postgres://from-env/db"}, cmd.name, "-h")
		if code != 0 || !strings.Contains(stdout, "Usage: tickflow "+cmd.name) || stderr != "" {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q", cmd.name, code, stdout, stderr)
		}
		if cmd.name != "next" && !strings.Contains(stdout, "postgres://from-env/db") {
			t.Errorf("%s -h does not show the DATABASE_URL default", cmd.name)
		}
	}
}

// TestTickHelpShowsEngineDefaults: the defaults the tick help prints are the
// engine's (core.Default…), not a copy that can drift.
func TestTickHelpShowsEngineDefaults(t *testing.T) {
	code, help, stderr := runCLI(t, nil, "tick", "-h")
	if code != 0 {
		t.Fatalf("tick -h exited %d: %s", code, stderr)
	}
	for flag, def := range map[string]string{
		"-batch-size":         fmt.Sprint(core.DefaultBatchSize),
		"-workers":            fmt.Sprint(core.DefaultWorkers),
		"-timeout":            core.DefaultMaxTickDuration.String(),
		"-retain-runs":        core.FormatRetention(core.DefaultRetainRuns),
		"-retain-failed-runs": core.FormatRetention(core.DefaultRetainFailedRuns),
		"-retain-ticks":       core.FormatRetention(core.DefaultRetainTicks),
		"-claim-hold":         core.DefaultClaimHold.String(),
	} {
		_, rest, ok := strings.Cut(help, "  "+flag+" ")
		line, _, _ := strings.Cut(rest, "\n  -")
		if !ok || !strings.Contains(line, "(default "+def+")") {
			t.Errorf("tick -h describes %s as %q, want (default %s)", flag, line, def)
		}
	}
}
