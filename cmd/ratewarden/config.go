package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/configfile"
	"github.com/ratewarden/ratewarden/core/rate"
)

// load reads the configuration at path ("" = the built-in defaults) and the RATELIMIT_*
// variables of e, exactly as the example apps do (configfile.Source): unknown variables
// are warned about on stderr, as the apps warn. On error it writes the problems to
// stderr, one a line, and returns false.
func (e *env) load(path string) (config.Config, bool) {
	src := configfile.Source{Path: path, Environ: e.environ, Warnf: e.warnf}
	cfg, err := src.Load()
	if err != nil {
		e.problems(err)
		return config.Config{}, false
	}
	return cfg, true
}

// warnf writes a warning line to stderr, as the example apps write configfile's warnings.
func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "warning: "+format+"\n", args...)
}

// problems writes the problems of a configuration error to stderr, one a line: each of a
// *config.ValidationError as "<key path>: <message naming the value>" (the lines the apps
// print under "ratewarden: invalid configuration:"), a TOML syntax error as
// "<path>:<line>:<column>: <message>", any other error as it is.
func (e *env) problems(err error) {
	var ve *config.ValidationError
	var fe *configfile.FileError
	switch {
	case errors.As(err, &ve):
		for _, p := range ve.Problems {
			fmt.Fprintln(e.stderr, p.String())
		}
	case errors.As(err, &fe):
		fmt.Fprintln(e.stderr, fe.Problem())
	default:
		fmt.Fprintln(e.stderr, err)
	}
}

// compile builds a Limiter of cfg that never reaches a backend: its store is st. It
// runs everything core.New checks beyond the loader (the JWT key is read, a JWKS
// fetched). With api_key enabled it is given lookup, or else one that knows no key: the
// CLI cannot see the application's customer database (see explain).
func compile(cfg config.Config, st rate.Store, lookup core.KeyLookup) (*core.Limiter, error) {
	if lookup == nil {
		lookup = noKeys
	}
	return core.New(cfg, core.WithStore(st), core.WithKeyLookup(lookup), core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
}

// nopStore is the store of a Limiter that only compiles a configuration: it admits
// nothing and keeps nothing.
type nopStore struct{}

func (nopStore) Take(context.Context, *rate.Request, *rate.Result) error {
	return errors.New("ratewarden: no store")
}
func (nopStore) Reset(context.Context, string, []time.Duration) error { return nil }
func (nopStore) Close() error                                         { return nil }
