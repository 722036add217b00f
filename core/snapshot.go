package core

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/internal/pattern"
	"github.com/ratewarden/ratewarden/core/jwtauth"
	"github.com/ratewarden/ratewarden/core/rate"
)

// snapshot is a validated configuration compiled for the request path. It is immutable;
// a reload builds a new one and swaps it in atomically.
type snapshot struct {
	cfg config.Config // with defaults applied

	enabled           bool
	shadow            bool
	xRateLimitHeaders bool
	ietfHeaders       bool
	problemFormat     bool
	documentationURL  string

	defaultRule *rule
	endpoints   []*rule // in configuration order

	tierNames   map[string]struct{} // every tier some rule configures
	resolver    *clientip.Resolver
	verifier    *jwtauth.Verifier // nil when jwt is off
	exemptIPs   clientip.PrefixSet
	exemptUsers map[string]struct{}
}

// rule is a compiled default or endpoint rule.
type rule struct {
	name    string // policy name in headers, metrics and logs
	counter string // the rule's part of counter keys; kept across reloads (see inheritCounter)
	pattern pattern.Pattern
	methods []string // empty = every method
	own     limitSet
	tiers   map[string]limitSet
}

// limitSet is the policy and cost a rule applies to one tier.
type limitSet struct {
	policy *rate.Policy
	cost   int64
}

// compile validates cfg and builds a snapshot. prev, when not nil, is the snapshot being
// replaced: rules that still exist keep their counters. now is the limiter's clock, which
// token expiry is checked against too. name, the limiter's [WithName], prefixes every
// rule name ("search.default"), and so its policy names and counters.
func compile(cfg config.Config, prev *snapshot, now func() time.Time, name string) (*snapshot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	s := &snapshot{
		cfg:               cfg,
		enabled:           config.On(cfg.Enabled),
		shadow:            cfg.Mode == config.ModeShadow,
		xRateLimitHeaders: config.On(cfg.Headers.XRateLimit),
		ietfHeaders:       config.On(cfg.Headers.IETF),
		problemFormat:     cfg.Response.Format == config.FormatProblem,
		documentationURL:  cfg.DocumentationURL,
		exemptUsers:       make(map[string]struct{}, len(cfg.Exemptions.Users)),
		tierNames:         map[string]struct{}{TierAnonymous: {}, TierNone: {}},
	}
	alg, _ := rate.ParseAlgorithm(cfg.Algorithm) // validated
	var penalty *rate.PenaltyPolicy
	if p := cfg.Penalty; p.Enabled {
		penalty = &rate.PenaltyPolicy{Threshold: p.Threshold, Period: p.Period, BaseCooldown: p.BaseCooldown, Multiplier: p.Multiplier, MaxCooldown: p.MaxCooldown}
	}
	build := func(name string, own config.Limits, tiers map[string]config.Limits) (*rule, error) {
		r := &rule{name: name, counter: name, tiers: make(map[string]limitSet, len(tiers))}
		var err error
		if r.own, err = newLimitSet(alg, name, own, 0, penalty); err != nil {
			return nil, err
		}
		for tier, l := range tiers {
			s.tierNames[tier] = struct{}{}
			if r.tiers[tier], err = newLimitSet(alg, name, l, r.own.cost, penalty); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
	var err error
	prefix := ""
	if name != "" {
		prefix = name + "."
	}
	if s.defaultRule, err = build(prefix+"default", cfg.Default, cfg.Tiers); err != nil {
		return nil, err
	}
	for _, e := range cfg.Endpoints {
		r, err := build(prefix+e.RuleName(), e.Limits, e.Tiers)
		if err != nil {
			return nil, err
		}
		r.pattern, _ = pattern.Parse(e.Pattern) // validated
		for _, m := range e.Methods {
			r.methods = append(r.methods, strings.ToUpper(m))
		}
		s.endpoints = append(s.endpoints, r)
	}
	assignCounters(s.endpoints, prev)
	if s.resolver, err = clientip.New(cfg.ClientIP); err != nil {
		return nil, err
	}
	if s.exemptIPs, err = clientip.ParsePrefixSet("exemptions.ips", cfg.Exemptions.IPs); err != nil {
		return nil, err
	}
	for _, u := range cfg.Exemptions.Users {
		s.exemptUsers[u] = struct{}{}
	}
	if cfg.JWT.Enabled {
		if s.verifier, err = jwtauth.New(cfg.JWT, jwtauth.WithClock(now)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// windowsOf returns the windows of l: its list, or its single limit and window.
func windowsOf(l config.Limits) []config.WindowConfig {
	if len(l.Windows) > 0 {
		return l.Windows
	}
	return []config.WindowConfig{{Limit: l.Limit, Window: l.Window}}
}

// newLimitSet builds the policy of one rule and tier. A zero cost inherits inheritCost,
// and then defaults to 1.
func newLimitSet(alg rate.Algorithm, name string, l config.Limits, inheritCost int64, penalty *rate.PenaltyPolicy) (limitSet, error) {
	configured := windowsOf(l)
	windows := make([]rate.Window, len(configured))
	for i, w := range configured {
		windows[i] = rate.Window{Limit: w.Limit, Period: w.Window, Name: name}
		if i > 0 {
			windows[i].Name = name + "-" + strconv.FormatInt(int64(w.Window.Seconds()), 10)
		}
	}
	p, err := rate.NewPolicy(alg, windows, penalty)
	if err != nil {
		return limitSet{}, err
	}
	cost := l.Cost
	if cost == 0 {
		cost = max(inheritCost, 1)
	}
	return limitSet{policy: p, cost: cost}, nil
}

// assignCounters gives every endpoint rule of a new snapshot the counter name it continues
// (SPEC section 1.5): the counter of the old rule with the same name and pattern, else of
// an old rule with the same pattern (a renamed rule), else of the old rule with the same
// name (a rule whose pattern changed), each old counter going to one new rule at most, in
// configuration order. A rule that continues none gets a counter no rule of either
// snapshot uses — its name, or its name with "~2", "~3", … — so two rules never share a
// counter, whatever sequence of reloads led here. prev is nil for a first configuration.
//
// Counter names are kept in process: after a restart every rule counts under its name
// again (docs/rules.md).
func assignCounters(rules []*rule, prev *snapshot) {
	var old []*rule
	used := map[string]bool{"default": true}
	if prev != nil {
		old = prev.endpoints
		for _, o := range old {
			used[o.counter] = true
		}
	}
	taken := make([]bool, len(old))
	continues := func(same func(o, r *rule) bool) {
		for _, r := range rules {
			if r.counter != "" {
				continue
			}
			for j, o := range old {
				if !taken[j] && same(o, r) {
					taken[j], r.counter = true, o.counter
					break
				}
			}
		}
	}
	for _, r := range rules {
		r.counter = ""
	}
	continues(func(o, r *rule) bool { return o.name == r.name && o.pattern.Raw() == r.pattern.Raw() })
	continues(func(o, r *rule) bool { return o.pattern.Raw() == r.pattern.Raw() })
	continues(func(o, r *rule) bool { return o.name == r.name })
	for _, r := range rules {
		if r.counter != "" {
			continue
		}
		r.counter = r.name
		for n := 2; used[r.counter]; n++ {
			r.counter = r.name + "~" + strconv.Itoa(n)
		}
		used[r.counter] = true
	}
}

// resolve returns the rule for a request: the most specific endpoint rule whose pattern
// matches the path or the route template and whose methods include method, else the
// default rule. Equally specific rules keep configuration order.
func (s *snapshot) resolve(method, path, route string) *rule {
	var best *rule
	for _, r := range s.endpoints {
		if !r.allowsMethod(method) || !r.matches(path, route) {
			continue
		}
		if best == nil || r.pattern.MoreSpecificThan(&best.pattern) {
			best = r
		}
	}
	if best == nil {
		return s.defaultRule
	}
	return best
}

// allowsMethod reports whether the rule applies to method. A HEAD request matches a rule
// that lists GET, as routers serve HEAD with the GET handler (SPEC section 1.2).
func (r *rule) allowsMethod(method string) bool {
	if len(r.methods) == 0 {
		return true
	}
	for _, m := range r.methods {
		if m == method || m == http.MethodGet && method == http.MethodHead {
			return true
		}
	}
	return false
}

func (r *rule) matches(path, route string) bool {
	return r.pattern.Match(path) || route != "" && route != path && r.pattern.Match(route)
}

// limitsFor picks the limits of a tier (SPEC section 1, step 4): the rule's override for
// the tier, else the rule's own. For the default rule, the overrides are the [tiers] table.
func (r *rule) limitsFor(tier string) limitSet {
	if ls, ok := r.tiers[tier]; ok {
		return ls
	}
	return r.own
}
