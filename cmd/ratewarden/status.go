package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	_ "github.com/ratewarden/ratewarden/backends/redisstore" // backend = "redis"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// clientFlags are the flags status and reset share.
type clientFlags struct {
	config, client, rule *string
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		config: fs.String("config", "", "TOML configuration file (default: the built-in defaults); RATELIMIT_* variables apply either way"),
		client: fs.String("client", "", "the `client` as logs and GET /admin/limits name it: ip:203.0.113.7, ip:2001:db8:1:2::/64, user:alice, key:<id> or global (required)"),
		rule:   fs.String("rule", "", "one `rule`: default or an endpoint's name (default: every rule)"),
	}
}

// runStatus is `ratewarden status`: a client's counters, read from Redis without
// consuming anything (core.Limiter.Status). -json prints the body of GET /admin/limits.
func runStatus(ctx context.Context, e *env, args []string) int {
	fs := e.newFlagSet("status", "-config f.toml -client ip:203.0.113.7 [-rule compute] [-tier premium] [-json]")
	f := addClientFlags(fs)
	tier := fs.String("tier", "", "the `tier` whose limits to show: the rule's override for it (default: the rule's own limits)")
	asJSON := fs.Bool("json", false, "print the JSON of GET /admin/limits")
	lim, code := e.backendLimiter(fs, f, args)
	if lim == nil {
		return code
	}
	defer func() { _ = lim.Close() }()
	st, err := lim.Status(ctx, *f.client, *f.rule, *tier)
	if err != nil {
		return e.limiterError(fs, err)
	}
	if *tier != "" && !configuresTier(lim.Config(), *tier) {
		// As for a request whose token names that tier: not an error, but likely a typo.
		fmt.Fprintf(e.stderr, "ratewarden status: note: no rule configures tier %q (tier names are case-sensitive): the rules' own limits are shown, as a request with that tier gets them\n", *tier)
	}
	if *asJSON {
		_ = json.NewEncoder(e.stdout).Encode(st) // as the admin endpoint encodes it
		return exitOK
	}
	printStatus(e.stdout, st)
	return exitOK
}

// configuresTier reports whether cfg has limits of its own for tier: [tiers.<tier>] or an
// endpoint's.
func configuresTier(cfg config.Config, tier string) bool {
	if _, ok := cfg.Tiers[tier]; ok {
		return true
	}
	for _, ep := range cfg.Endpoints {
		if _, ok := ep.Tiers[tier]; ok {
			return true
		}
	}
	return false
}

// runReset is `ratewarden reset`: forgets a client's counters and penalty in Redis
// (core.Limiter.Reset), for one rule or every rule.
func runReset(ctx context.Context, e *env, args []string) int {
	fs := e.newFlagSet("reset", "-config f.toml -client ip:203.0.113.7 [-rule compute]")
	f := addClientFlags(fs)
	lim, code := e.backendLimiter(fs, f, args)
	if lim == nil {
		return code
	}
	defer func() { _ = lim.Close() }()
	if err := lim.Reset(ctx, *f.client, *f.rule); err != nil {
		return e.limiterError(fs, err)
	}
	which := "every rule that counts it"
	if *f.rule != "" {
		which = "rule " + *f.rule
	}
	fmt.Fprintf(e.stdout, "reset %s under %s\n", *f.client, which)
	return exitOK
}

// backendLimiter parses the flags of status and reset and builds a Limiter over the
// Redis backend the configuration names. It returns nil and the exit status when the
// command ends here.
func (e *env) backendLimiter(fs *flag.FlagSet, f clientFlags, args []string) (*core.Limiter, int) {
	pos, code, ok := parse(fs, args)
	switch {
	case !ok:
		return nil, code
	case len(pos) > 0:
		return nil, e.usageError(fs, "unexpected argument %q", pos[0])
	case *f.client == "":
		return nil, e.usageError(fs, "-client is required (ip:203.0.113.7, user:alice, key:<id> or global)")
	}
	cfg, ok := e.load(*f.config)
	if !ok {
		return nil, exitFailure
	}
	if cfg.Backend != config.BackendRedis {
		fmt.Fprintf(e.stderr, "%s: backend is %q: its counters live inside each app process, out of this command's reach; ask the app (GET or DELETE /admin/limits), or use backend = \"redis\"\n", fs.Name(), cfg.Backend)
		return nil, exitFailure
	}
	// Always Redis itself: with fail_mode "local" the store would answer from an empty
	// in-process fallback while Redis is down, a status that looks real and is not.
	cfg.FailMode = config.FailClosed
	// redis.timeout is a request's budget (100 ms by default); an operator's one-off
	// command, which also dials and loads the script first, may wait longer.
	cfg.Redis.Timeout = max(cfg.Redis.Timeout, operatorTimeout)
	// Backend errors are the command's error: the store's logs of them would say it twice.
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	lim, err := core.New(cfg, core.WithLogger(logger), core.WithKeyLookup(noKeys))
	if err != nil {
		e.problems(err)
		return nil, exitFailure
	}
	return lim, 0
}

// noKeys is a key lookup that knows no key: the CLI's, wherever it decides no request
// (core.New requires one with api_key enabled).
func noKeys(context.Context, string) (core.Identity, error) {
	return core.Identity{}, core.ErrKeyNotFound
}

// limiterError writes an error of Status or Reset: a malformed client or an unknown rule
// is a usage error (2), a backend failure a failure (1).
func (e *env) limiterError(fs *flag.FlagSet, err error) int {
	fmt.Fprintf(e.stderr, "%s: %s\n", fs.Name(), strings.TrimPrefix(err.Error(), "ratewarden: "))
	if errors.Is(err, core.ErrInvalidClient) || errors.Is(err, core.ErrUnknownRule) {
		return exitUsage
	}
	return exitFailure
}

// printStatus writes st for a reader: one line per window, then the penalty if any.
func printStatus(w io.Writer, st core.ClientStatus) {
	fmt.Fprintf(w, "client %s\n", st.Client)
	for _, r := range st.Rules {
		fmt.Fprintf(w, "rule %s\n", r.Rule)
		for _, win := range r.Windows {
			fmt.Fprintf(w, "  %d per %ds: %d remaining", win.Limit, win.Window, win.Remaining)
			if win.Remaining < win.Limit {
				fmt.Fprintf(w, ", full again at %s", time.Unix(win.Reset, 0).UTC().Format(time.RFC3339))
			}
			fmt.Fprintln(w)
		}
		if p := r.Penalty; p.Violations > 0 || p.Cooldown > 0 {
			var parts []string
			if p.Cooldown > 0 {
				parts = append(parts, fmt.Sprintf("cooldown %ds left", p.Cooldown))
			}
			parts = append(parts, fmt.Sprintf("%d violation%s", p.Violations, plural(p.Violations)))
			fmt.Fprintf(w, "  penalty: %s\n", strings.Join(parts, ", "))
		}
	}
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// operatorTimeout is the least time status and reset give Redis.
const operatorTimeout = 5 * time.Second
