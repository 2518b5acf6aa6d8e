package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "time/tzdata" // zones must not depend on the host's files
)

// progName is how the usage texts name the binary (go build -o tickflow ./cmd/local).
const progName = "tickflow"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is the process environment as the commands see it (os.Getenv in main,
// a map in tests). Environment variables are read nowhere else.
type env func(string) string

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands lists the subcommands in the order the help shows them.
var commands = []command{
	{"serve", "serve the HTTP API and dashboard, and tick every --interval (default command)", runServe},
	{"tick", "run one tick and print its JSON report (for system cron and scripts)", runTick},
	{"next", "print the next fire times of a cron expression or interval", runNext},
	{"migrate", "apply the schema and sync the code's schedules", runMigrate},
	{"schedules", "sync the code's schedules and print them; create, update, delete or list runtime ones", runSchedules},
	{"enqueue", "enqueue a manual run of a task and print it as JSON", runEnqueue},
}

// cli carries what every command needs: the environment and the output streams.
type cli struct {
	getenv env
	stdout io.Writer
	stderr io.Writer
}

// usageError is bad usage or bad input: exit code 2. reported is true when
// the flag package has printed the message already.
type usageError struct {
	err      error
	reported bool
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{err: fmt.Errorf(format, args...)}
}

// run runs the CLI with args (without the program name) and returns the
// process exit code.
func run(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) int {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help" || a == "help":
			c.usage(stdout)
			return 0
		case !strings.HasPrefix(a, "-"):
			name, args = a, args[1:]
		}
	}
	for _, cmd := range commands {
		if cmd.name != name {
			continue
		}
		err := cmd.run(ctx, c, args)
		var uerr usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &uerr):
			if !uerr.reported {
				fmt.Fprintf(stderr, "%s %s: %v\n", progName, name, err)
			}
			return 2
		default:
			fmt.Fprintf(stderr, "%s %s: %v\n", progName, name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", progName, name)
	c.usage(stderr)
	return 2
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [command] [flags]\n\n", progName)
	fmt.Fprintf(w, "tickflow runs Go task functions on schedules from a stateless tick.\n\nCommands:\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND -h' for a command's flags.\n", progName)
	fmt.Fprintf(w, "\nEnvironment:\n"+
		"  DATABASE_URL    store URL (default %s): postgres://…, sqlite:PATH or file:PATH\n"+
		"  TICKFLOW_TOKEN  bearer token required by POST /tick and mutating API routes\n"+
		"  LOG_LEVEL       debug, info, warn or error\n"+
		"  LOG_FORMAT      text (default) or json\n", defaultDatabaseURL)
}
