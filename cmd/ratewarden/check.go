package main

import (
	"context"
	"fmt"
)

// runCheck is `ratewarden check`: it validates the configuration as an app does at start
// — the loader, then core.New's compilation (JWT keys read) — without a backend. It
// prints "<file>: valid …" and exits 0, or the problems on stderr and exits 1.
func runCheck(_ context.Context, e *env, args []string) int {
	fs := e.newFlagSet("check", "[-config f.toml]")
	path := fs.String("config", "", "TOML configuration file (default: the built-in defaults); RATELIMIT_* variables apply either way")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return e.usageError(fs, "unexpected argument %q", pos[0])
	}
	cfg, ok := e.load(*path)
	if !ok {
		return exitFailure
	}
	lim, err := compile(cfg, nopStore{}, nil)
	if err != nil {
		e.problems(err)
		return exitFailure
	}
	_ = lim.Close()
	name := *path
	if name == "" {
		name = "built-in defaults"
	}
	rules := "endpoint rules"
	if len(cfg.Endpoints) == 1 {
		rules = "endpoint rule"
	}
	fmt.Fprintf(e.stdout, "%s: valid (backend %s, algorithm %s, mode %s, %d %s)\n",
		name, cfg.Backend, cfg.Algorithm, cfg.Mode, len(cfg.Endpoints), rules)
	return exitOK
}
