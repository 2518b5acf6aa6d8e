package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	_ "modernc.org/sqlite" // links the embedded SQLite driver: sqlite:PATH is the local default
	"strings"

	"github.com/tickflow/tickflow/cmd/internal/demo"
	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
	"github.com/tickflow/tickflow/sqlstore"
)

// defaultDatabaseURL is the embedded SQLite file in the working directory.
const defaultDatabaseURL = sqlstore.DefaultURL

// storeFlags are the flags of every command that opens the store.
type storeFlags struct {
	databaseURL string
	logLevel    string
	logFormat   string
}

// newFlagSet returns a FlagSet for a command whose help prints synopsis, a
// description and the flags, to the command's stderr (or stdout for -h).
func (c *cli) newFlagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s %s\n\n%s\n\nFlags:\n", progName, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// addStoreFlags registers --database-url, --log-level and --log-format with
// their defaults from DATABASE_URL, LOG_LEVEL and LOG_FORMAT.
func (c *cli) addStoreFlags(fs *flag.FlagSet, defaultLevel string) *storeFlags {
	f := &storeFlags{}
	fs.StringVar(&f.databaseURL, "database-url", orDefault(c.getenv("DATABASE_URL"), defaultDatabaseURL),
		"store URL: postgres://…, sqlite:PATH or file:PATH (env DATABASE_URL)")
	fs.StringVar(&f.logLevel, "log-level", orDefault(c.getenv("LOG_LEVEL"), defaultLevel),
		"log level: debug, info, warn or error (env LOG_LEVEL)")
	fs.StringVar(&f.logFormat, "log-format", orDefault(c.getenv("LOG_FORMAT"), "text"),
		"log format on stderr: text or json (env LOG_FORMAT)")
	return f
}

// parse parses args, allowing flags after positional arguments, and returns
// the positionals. -h prints the help to stdout and returns flag.ErrHelp; a
// bad flag is a usageError (the flag package has printed the usage already).
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// The flag package prints the usage (and the error) itself: to stdout
		// for -h, to stderr for a bad flag.
		var out bytes.Buffer
		fs.SetOutput(&out)
		err := fs.Parse(args)
		fs.SetOutput(c.stderr)
		if err == flag.ErrHelp {
			_, _ = c.stdout.Write(out.Bytes())
			return nil, flag.ErrHelp
		}
		if err != nil {
			_, _ = c.stderr.Write(out.Bytes())
			return nil, usageError{err: err, reported: true}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// parseNoArgs is parse for commands that take no positional arguments.
func (c *cli) parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(pos, " "))
	}
	return nil
}

// logger builds the command's logger on stderr and makes it the default
// (the demo tasks log through slog.Default()).
func (c *cli) logger(f *storeFlags) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usagef("bad --log-level %q: want debug, info, warn or error", f.logLevel)
	}
	var asJSON bool
	switch strings.ToLower(f.logFormat) {
	case "text", "":
	case "json":
		asJSON = true
	default:
		return nil, usagef("bad --log-format %q: want text or json", f.logFormat)
	}
	l := handler.NewLogger(c.stderr, asJSON, level)
	slog.SetDefault(l)
	return l, nil
}

// app is an opened, migrated store and an engine with the demo tasks.
type app struct {
	url    string // the store URL, for messages (redact it)
	store  *sqlstore.Store
	engine *core.Engine
	log    *slog.Logger
}

// Close closes the store.
func (a *app) Close() error { return a.store.Close() }

// open opens the store named by f, applies the schema and builds an engine
// over it with the demo tasks. cfg's Store, Registry and Logger are set here.
func (c *cli) open(ctx context.Context, f *storeFlags, cfg core.Config) (*app, error) {
	log, err := c.logger(f)
	if err != nil {
		return nil, err
	}
	reg := core.NewRegistry()
	if err := demo.Register(reg); err != nil {
		return nil, fmt.Errorf("register tasks: %w", err)
	}
	store, err := sqlstore.Open(ctx, f.databaseURL, sqlstore.WithLogger(log))
	if errors.Is(err, core.ErrInvalid) {
		return nil, usageError{err: fmt.Errorf("bad --database-url: %w", err)}
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redact(f.databaseURL), err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate store %s: %w", redact(f.databaseURL), err)
	}
	cfg.Store, cfg.Registry, cfg.Logger = store, reg, log
	engine, err := core.NewEngine(cfg)
	if err != nil {
		store.Close()
		return nil, usageError{err: err}
	}
	return &app{url: f.databaseURL, store: store, engine: engine, log: log}, nil
}

// redact hides the secrets of a database URL for logs and messages.
func redact(raw string) string { return sqlstore.RedactURL(raw) }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
