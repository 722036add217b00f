package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // an invalid configuration, or a command that failed
	exitUsage   = 2 // the command line is wrong
)

// usage is the text of `ratewarden -h`.
const usage = `usage: ratewarden <command> [flags] [arguments]

commands:
  check    validate a configuration as the apps load it: exit 0 valid, 1 invalid
  explain  show how one request would be identified and limited, without consuming anything
  status   show a client's counters in Redis (the JSON of GET /admin/limits with -json)
  reset    forget a client's counters in Redis (as DELETE /admin/limits)

Every command reads -config (TOML) and then the RATELIMIT_* environment variables, as the
example apps do. "ratewarden <command> -h" lists the command's flags; docs/cli.md shows each
command with its output.
`

// command is one subcommand: it parses its own flags from args and returns an exit status.
type command func(ctx context.Context, e *env, args []string) int

var commands = map[string]command{
	"check":   runCheck,
	"explain": runExplain,
	"status":  runStatus,
	"reset":   runReset,
}

// env is what a command runs with: the environment variables the configuration reads
// (RATELIMIT_*) and where it writes.
type env struct {
	environ        []string
	stdout, stderr io.Writer
}

// run is the whole program: args without the program name, environ as os.Environ gives
// it. It returns the exit status.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if environ == nil {
		environ = []string{} // configfile reads os.Environ for a nil one
	}
	e := &env{environ: environ, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ratewarden: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return cmd(ctx, e, args[1:])
}

// newFlagSet returns the flag set of a command, writing its errors and usage to stderr.
// synopsis is the command's arguments after its name.
func (e *env) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("ratewarden "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ratewarden %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args with fs, letting flags and positional arguments come in any order
// ("explain GET /x -config f.toml" as well as "explain -config f.toml GET /x"); after
// "--" everything is positional. It returns the positional arguments, and the exit
// status to return when parsing ended the command (-h: 0, an error: 2).
func parse(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		if err != nil {
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), 0, true
		}
		if len(rest) == 0 {
			return positional, 0, true
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}

// usageError writes a usage error of command name and returns exitUsage.
func (e *env) usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// headerFlags collects repeated -H 'Name: value' flags, as curl takes them.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }

func (h *headerFlags) Set(v string) error {
	name, _, ok := strings.Cut(v, ":")
	// A line break or NUL: no request a server reads carries one in a header.
	if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") || strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf(`want "Name: value", got %q`, v)
	}
	*h = append(*h, v)
	return nil
}
