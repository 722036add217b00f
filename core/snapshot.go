package core

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// snapshot is a configuration compiled for the request path (config.Compile) with what
// the Limiter adds: counter names kept across reloads and the JWT verifier. It is
// immutable; a reload builds a new one and swaps it in atomically.
type snapshot struct {
	cfg     config.Config // with defaults applied
	limiter *Limiter      // the Limiter it was compiled for

	enabled           bool
	shadow            bool
	xRateLimitHeaders bool
	ietfHeaders       bool
	problemFormat     bool
	documentationURL  string

	defaultRule *rule
	endpoints   []*rule          // in configuration order
	named       map[string]*rule // by configured name ("login", "default"), for Input.Rule

	tierNames   map[string]struct{} // every tier some rule configures
	resolver    *clientip.Resolver
	verifier    *jwtauth.Verifier // nil when jwt is off
	apiKeys     *keyResolver      // nil when api_key is off
	exemptIPs   clientip.PrefixSet
	exemptUsers map[string]struct{}
}

// rule is a compiled default or endpoint rule and the counter it counts under.
type rule struct {
	*config.Rule
	counter string // the rule's part of counter keys; kept across reloads (see assignCounters)
	own     limits
	tiers   map[string]*limits // the tier overrides of Rule.Tiers; nil when there are none
}

// limits are the limits a rule applies to one tier, with the header text of their policy.
type limits struct {
	config.RuleLimits
	text *policyText
}

// newRule compiles r for the request path: the header text of each policy is built once
// here rather than on every request.
func newRule(r *config.Rule, counter string) *rule {
	rl := &rule{Rule: r, counter: counter, own: limits{r.Own, newPolicyText(r.Own.Policy)}}
	if len(r.Tiers) > 0 {
		rl.tiers = make(map[string]*limits, len(r.Tiers))
		for tier, ls := range r.Tiers {
			rl.tiers[tier] = &limits{ls, newPolicyText(ls.Policy)}
		}
	}
	return rl
}

// compile validates and compiles cfg in one pass (config.Compile) and builds a snapshot.
// prev, when not nil, is the snapshot being replaced: rules that still exist keep their
// counters. now is the limiter's clock, which token expiry is checked against too. name,
// the limiter's [WithName], prefixes every rule name ("search.default"), and so its policy
// names, and its counters with a separator no rule name contains ("search/default"), so
// that they never meet another limiter's.
func compile(cfg config.Config, prev *snapshot, now func() time.Time, name string) (*snapshot, error) {
	c, err := config.Compile(cfg, name)
	if err != nil {
		return nil, err
	}
	cfg = c.Config
	counterPrefix := ""
	if name != "" {
		counterPrefix = name + "/"
	}
	s := &snapshot{
		cfg:               cfg,
		enabled:           config.On(cfg.Enabled),
		shadow:            cfg.Mode == config.ModeShadow,
		xRateLimitHeaders: config.On(cfg.Headers.XRateLimit),
		ietfHeaders:       config.On(cfg.Headers.IETF),
		problemFormat:     cfg.Response.Format == config.FormatProblem,
		documentationURL:  cfg.DocumentationURL,
		defaultRule:       newRule(c.Default, counterPrefix+"default"),
		tierNames:         c.Tiers,
		resolver:          c.Resolver,
		exemptIPs:         c.ExemptIPs,
		exemptUsers:       make(map[string]struct{}, len(cfg.Exemptions.Users)),
	}
	// Rules by configured name and by the name decisions report (Decision.Rule, which
	// carries the WithName prefix: "search.login"); a duplicate name is the first rule's.
	s.named = map[string]*rule{"default": s.defaultRule, s.defaultRule.Name: s.defaultRule}
	for i, r := range c.Endpoints {
		s.endpoints = append(s.endpoints, newRule(r, counterPrefix+cfg.Endpoints[i].RuleName()))
		for _, name := range []string{cfg.Endpoints[i].RuleName(), r.Name} {
			if _, dup := s.named[name]; !dup {
				s.named[name] = s.endpoints[i]
			}
		}
	}
	assignCounters(s.endpoints, prev, s.defaultRule.counter)
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

// assignCounters gives every endpoint rule of a new snapshot the counter name it continues
// (SPEC section 1.5), each old counter going to one new rule at most, in configuration
// order, by the first of these that finds one:
//
//  1. the old rule with the same name, pattern and methods;
//  2. an old rule with the same pattern and methods (a renamed rule);
//  3. the old rule with the same name (a rule whose pattern or methods changed);
//  4. an old rule with the same pattern and a method in common (renamed, methods changed).
//
// Two rules on one pattern for different methods (POST and GET /login) so never trade
// counters. A rule that continues none gets a counter no rule of either snapshot uses — its
// name, or its name with "~2", "~3", … — so two rules never share a counter, whatever
// sequence of reloads led here. prev is nil for a first configuration.
//
// Counter names are kept in process: after a restart every rule counts under its name
// again (docs/rules.md).
func assignCounters(rules []*rule, prev *snapshot, defaultCounter string) {
	var old []*rule
	used := map[string]bool{defaultCounter: true}
	own := make([]string, len(rules))
	for i, r := range rules {
		own[i] = r.counter
	}
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
	sameMethods := func(o, r *rule) bool { return sameSet(o.Methods, r.Methods) }
	continues(func(o, r *rule) bool {
		return o.Name == r.Name && o.Pattern.Raw() == r.Pattern.Raw() && sameMethods(o, r)
	})
	continues(func(o, r *rule) bool { return o.Pattern.Raw() == r.Pattern.Raw() && sameMethods(o, r) })
	continues(func(o, r *rule) bool { return o.Name == r.Name })
	continues(func(o, r *rule) bool { return o.Pattern.Raw() == r.Pattern.Raw() && o.sharesMethodWith(r) })
	for i, r := range rules {
		if r.counter != "" {
			continue
		}
		r.counter = own[i]
		for n := 2; used[r.counter]; n++ {
			r.counter = own[i] + "~" + strconv.Itoa(n)
		}
		used[r.counter] = true
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// sharesMethodWith reports whether some method is matched by both rules (no methods means
// every method).
func (r *rule) sharesMethodWith(o *rule) bool {
	if len(r.Methods) == 0 || len(o.Methods) == 0 {
		return true
	}
	return slices.ContainsFunc(r.Methods, func(m string) bool { return slices.Contains(o.Methods, m) })
}

// resolve returns the rule for the request r of in: the most specific endpoint rule whose
// pattern matches the path or the route template (in.Route, or else in.RouteOf's, asked
// only when a rule does not match the path) and whose methods include the method, else
// the default rule. Equally specific rules keep configuration order.
//
// The path is matched as in.PathView says the router reads it: a path sent with escapes
// of its own (RawPath set) is matched by its escaped segments, each unescaped
// (PathSegmentsUnescaped: "/users/a%2Fb" is "/users/{id}" to net/http's ServeMux) or as
// sent (PathSegmentsRaw: chi and echo serve "/users/m%65" with "/users/{id}", not
// "/users/me"), or decoded (PathDecoded, gin). A path escaped the default way has no
// RawPath and no "%2F": every view has the same segments, matched on the decoded path at
// no cost.
func (s *snapshot) resolve(r *http.Request, in *Input) *rule {
	method, path, route := r.Method, r.URL.Path, in.Route
	escaped := r.URL.RawPath != "" && in.PathView != PathDecoded
	if escaped {
		path = r.URL.EscapedPath() // RawPath when it encodes Path, else Path re-escaped
	}
	unescape := escaped && in.PathView == PathSegmentsUnescaped
	routed := route != "" || in.RouteOf == nil
	var best *rule
	for _, rl := range s.endpoints {
		if !rl.allowsMethod(method) {
			continue
		}
		var matched bool
		if unescape {
			matched = rl.Pattern.MatchEscaped(path)
		} else {
			matched = rl.Pattern.Match(path)
		}
		if !matched {
			if !routed {
				route, routed = in.RouteOf(r), true
			}
			// A route equal to the decoded path was just matched; an escaped path was not
			// (a router's template is written decoded).
			if route == "" || !escaped && route == path || !rl.Pattern.Match(route) {
				continue
			}
		}
		if best == nil || rl.Pattern.MoreSpecificThan(&best.Pattern) {
			best = rl
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
	if len(r.Methods) == 0 {
		return true
	}
	for _, m := range r.Methods {
		if m == method || m == http.MethodGet && method == http.MethodHead {
			return true
		}
	}
	return false
}

// limitsFor picks the limits of a tier (SPEC section 1, step 4): the rule's override for
// the tier, else the rule's own. For the default rule, the overrides are the [tiers] table.
func (r *rule) limitsFor(tier string) *limits {
	if ls, ok := r.tiers[tier]; ok {
		return ls
	}
	return &r.own
}
