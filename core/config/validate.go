package config

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/internal/pattern"
	"github.com/ratewarden/ratewarden/core/internal/problem"
	"github.com/ratewarden/ratewarden/core/rate"
)

// ValidationError lists every problem of a configuration. Problems are in key-path order of
// the file: top-level settings, [default], [tiers.*], [[endpoints]], then the other sections
// in the order of docs/configuration.md.
type ValidationError struct{ Problems []Problem }

// Problem is one invalid setting: Key is the key path ("endpoints[2].window"), Message says
// what is wrong and quotes the bad value. Its String method returns "key: message".
type Problem = problem.Problem

// Error returns every problem, one per line:
//
//	ratewarden: invalid configuration:
//	  endpoints[2].window: must be > 0, got "0s"
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("ratewarden: invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// promNameRE is the form of a Prometheus metric name prefix.
var promNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate checks c with its defaults applied (zero fields are fine: they mean defaults)
// and returns nil or a *[ValidationError] listing every problem at once. It does not touch
// the network; a jwt.public_key_file is read.
func (c Config) Validate() error {
	_, err := c.compile(nil, "")
	return err
}

// ValidateLoaded is Validate for a configuration read from a file and the environment
// (package configfile): loaded holds the keys they set, so that a limit or window they
// left out is reported as missing, and one they set to 0 as out of range. Validate, for a
// Config built in code whose zero fields cannot tell the two apart, reports both as out
// of range. It returns nil or a *[ValidationError] listing every problem.
func (c Config) ValidateLoaded(loaded map[string]bool) error {
	_, err := c.compile(loaded, "")
	return err
}

// Compile validates c, as [Config.Validate] does, and compiles it for the request path in
// the same pass: the defaults applied, every rule's policies built, the client-address
// resolver and the exempted addresses parsed. Package core runs the result. name, when not
// empty, prefixes every rule name ("search.default"), as core.WithName says. An invalid c
// returns a *[ValidationError] listing every problem, and a nil Compiled.
func Compile(c Config, name string) (*Compiled, error) { return c.compile(nil, name) }

// Compiled is a valid configuration compiled by [Compile]. It is immutable.
type Compiled struct {
	Config    Config              // with defaults applied
	Default   *Rule               // the default rule and the [tiers] overrides
	Endpoints []*Rule             // in configuration order
	Tiers     map[string]struct{} // every tier some rule configures (as a tier override)
	Resolver  *clientip.Resolver
	ExemptIPs clientip.PrefixSet
}

// Rule is a compiled default or endpoint rule.
type Rule struct {
	Name    string          // the policy name in headers, metrics and logs
	Pattern pattern.Pattern // the zero Pattern for the default rule
	Methods []string        // upper-cased; empty = every method
	Scope   Scope           // ScopeClient, ScopeIP or ScopeGlobal; ScopeClient for the default rule
	Own     RuleLimits      // the rule's own limits
	Tiers   map[string]RuleLimits
	// CountStatuses are the response statuses whose requests consume the rule's cost,
	// sorted; empty when every admitted request does (Endpoint.CountStatuses).
	CountStatuses []int
}

// RuleLimits are the policy and cost a rule applies to one tier.
type RuleLimits struct {
	Policy *rate.Policy
	Cost   int64
}

// compile is Compile, reporting limits and windows left out of a file when present is not
// nil (see ValidateLoaded).
func (c Config) compile(present map[string]bool, name string) (*Compiled, error) {
	c = c.WithDefaults()
	v := validator{present: present, prefix: name}
	if name != "" {
		v.prefix = name + "."
	}
	out := &Compiled{Config: c, Tiers: map[string]struct{}{}}
	v.tierNames = out.Tiers
	v.general(&c)
	out.Default = v.rules(&c)
	out.Endpoints = v.endpoints(c.Endpoints)
	v.apiKey(c.APIKey)
	var err error
	out.Resolver, err = clientip.New(c.ClientIP)
	v.AddAll("client_ip", err)
	if c.JWT.Enabled {
		v.AddAll("jwt", c.JWT.Validate())
	}
	out.ExemptIPs = v.exemptions(c.Exemptions)
	v.penalty(c.Penalty)
	v.response(c.Response)
	if c.Backend == BackendRedis {
		v.redis(c.Redis)
	}
	v.memory(c.Memory)
	v.metrics(c.Metrics)
	if len(v.List) > 0 {
		return nil, &ValidationError{Problems: v.List}
	}
	v.build(penaltyOf(c.Penalty))
	return out, nil
}

// penaltyOf is the penalty policy of a valid penalty section; nil when penalties are off.
func penaltyOf(p PenaltyConfig) *rate.PenaltyPolicy {
	if !p.Enabled {
		return nil
	}
	return &rate.PenaltyPolicy{Threshold: p.Threshold, Period: p.Period, BaseCooldown: p.BaseCooldown, Multiplier: p.Multiplier, MaxCooldown: p.MaxCooldown}
}

// pending is the limits of one rule and tier, checked and waiting for build.
type pending struct {
	set     func(RuleLimits)
	name    string
	windows []rate.Window
	cost    int64
	// global: the rule counts every client as one (scope "global"), so it takes no
	// penalty: one client's violations would lock every client out for up to
	// max_cooldown, where the rule alone denies them only until its window has room.
	global bool
}

// build makes the policies of a valid configuration: the first window of a rule is named
// after the rule, the others "<rule>-<seconds>".
func (v *validator) build(penalty *rate.PenaltyPolicy) {
	for _, p := range v.pending {
		for i := range p.windows {
			p.windows[i].Name = p.name
			if i > 0 {
				p.windows[i].Name = p.name + "-" + strconv.FormatInt(p.windows[i].Seconds(), 10)
			}
		}
		pen := penalty
		if p.global {
			pen = nil
		}
		policy, err := rate.NewPolicy(v.alg, p.windows, pen)
		if err != nil { // every bound NewPolicy enforces has been checked, with its key
			panic(err)
		}
		p.set(RuleLimits{Policy: policy, Cost: p.cost})
	}
}

// validator holds the problems found so far and the algorithm the rules are checked
// against (algOK is false when the algorithm itself is invalid).
type validator struct {
	problem.List
	alg     rate.Algorithm
	algOK   bool
	present map[string]bool // see Config.ValidateLoaded

	prefix    string              // of rule names: the limiter's name and "."
	tierNames map[string]struct{} // every tier some rule configures
	pending   []pending           // the limits to build once the whole configuration is valid
}

// missing reports whether key was left out of a configuration read from a file.
func (v *validator) missing(key string) bool { return v.present != nil && !v.present[key] }

func (v *validator) general(c *Config) {
	v.run("mode", c.Mode)
	var err error
	v.alg, err = c.Algorithm.Rate()
	v.AddAll("algorithm", c.Algorithm.check())
	v.algOK = err == nil
	v.run("backend", c.Backend)
	v.run("fail_mode", c.FailMode)
	if strings.ContainsFunc(c.KeyPrefix, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '{' || r == '}'
	}) {
		v.Add("key_prefix", "must not contain spaces, control characters, \"{\" or \"}\", got %q", c.KeyPrefix)
	}
	if c.DocumentationURL != "" {
		u, err := url.Parse(c.DocumentationURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.Add("documentation_url", "must be an absolute http or https URL, got %q", c.DocumentationURL)
		}
	}
}

// rules checks the default rule and its tier overrides.
func (v *validator) rules(c *Config) *Rule {
	r := &Rule{Name: v.prefix + "default", Scope: ScopeClient}
	cost := v.limits(r, func(ls RuleLimits) { r.Own = ls }, "default", c.Default, 1, "")
	v.tiers(r, "tiers", c.Tiers, cost, "default.cost")
	return r
}

// tiers checks the tier overrides of rule r, whose own cost is cost (set at costKey).
func (v *validator) tiers(r *Rule, key string, tiers map[string]Limits, cost int64, costKey string) {
	r.Tiers = make(map[string]RuleLimits, len(tiers))
	names := make([]string, 0, len(tiers))
	for name := range tiers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		tk := problem.JoinKey(key, name)
		if !pattern.Name.MatchString(name) {
			v.Add(tk, "tier name must match %s, got %q", pattern.Name, name)
		}
		v.tierNames[name] = struct{}{}
		v.limits(r, func(ls RuleLimits) { r.Tiers[name] = ls }, tk, tiers[name], cost, costKey)
	}
}

// limits checks the windows and cost of one rule or tier override at key, and has set
// called with them once the whole configuration is valid. A zero cost inherits inherited
// (the rule's cost, set at inheritedKey; "" for a rule's own limits). It returns the
// effective cost, for the tier overrides to inherit.
func (v *validator) limits(r *Rule, set func(RuleLimits), key string, l Limits, inherited int64, inheritedKey string) int64 {
	windows, ok := v.windows(key, l)
	costKey := key + ".cost"
	cost := l.Cost
	switch {
	case cost < 0:
		v.Add(costKey, "must be ≥ 1, got %d", cost)
		return 1
	case cost == 0:
		cost = inherited
	}
	if !ok {
		return cost
	}
	smallest := windows[0].Limit
	for _, w := range windows[1:] {
		smallest = min(smallest, w.Limit)
	}
	if cost > smallest {
		if l.Cost != 0 {
			v.Add(costKey, "must be ≤ the smallest limit of the rule (%d), got %d", smallest, cost)
		} else {
			v.Add(key, "inherits cost %d from %s, more than its smallest limit %d: no request could ever pass; set its own cost", cost, inheritedKey, smallest)
		}
	}
	v.pending = append(v.pending, pending{set: set, name: r.Name, windows: windows, cost: cost, global: r.Scope == ScopeGlobal})
	return cost
}

// windows checks the limit/window pair or the windows list of a rule and returns its
// windows; ok is false when any of them is invalid.
func (v *validator) windows(key string, l Limits) (ws []rate.Window, ok bool) {
	if len(l.Windows) == 0 {
		if l.Limit == 0 && l.Window == 0 && !v.present[key+".limit"] && !v.present[key+".window"] {
			v.Add(key, "%s", problem.NoLimits)
			return nil, false
		}
		ok = v.window(key, l.Limit, l.Window)
		return []rate.Window{{Limit: l.Limit, Period: l.Window}}, ok
	}
	ok = true
	if l.Limit != 0 || l.Window != 0 {
		v.Add(key+".windows", "set either limit/window or windows, not both")
		ok = false
	}
	if len(l.Windows) > rate.MaxWindows {
		v.Add(key+".windows", "at most %d windows, got %d", rate.MaxWindows, len(l.Windows))
		ok = false
	}
	for i, w := range l.Windows {
		wk := fmt.Sprintf("%s.windows[%d]", key, i)
		if !v.window(wk, w.Limit, w.Window) {
			ok = false
			continue
		}
		for j, prev := range l.Windows[:i] {
			if prev.Window == w.Window {
				v.Add(wk+".window", "same period as %s.windows[%d], got %q", key, j, w.Window.String())
				ok = false
				break
			}
		}
		ws = append(ws, rate.Window{Limit: w.Limit, Period: w.Window})
	}
	return ws, ok
}

// window checks one limit and window at key.limit and key.window, including the bounds of
// the configured algorithm (as NewPolicy enforces them).
func (v *validator) window(key string, limit int64, period time.Duration) bool {
	ok := true
	switch {
	case limit == 0 && v.missing(key+".limit"):
		v.Add(key+".limit", "missing: a rule needs both limit and window, e.g. limit = 100")
		ok = false
	case limit < 1:
		v.Add(key+".limit", "must be ≥ 1, got %d", limit)
		ok = false
	}
	limitOK := ok
	switch {
	case period == 0 && v.missing(key+".window"):
		v.Add(key+".window", "missing: a rule needs both limit and window, e.g. window = \"1m\"")
		ok = false
	case period <= 0:
		v.Add(key+".window", "must be > 0, got %q", period.String())
		ok = false
	case period < time.Second || period%time.Second != 0:
		v.Add(key+".window", "must be whole seconds ≥ 1s, got %q", period.String())
		ok = false
	case period > rate.MaxWindow:
		v.Add(key+".window", "must be at most %q (ten years), got %q", rate.MaxWindow.String(), period.String())
		ok = false
	}
	// The algorithm's bound on the limit. Every problem is reported at once (SPEC section
	// 4): with a window that is itself wrong, the bounds that do not depend on the window
	// (fixed_window's and sliding_window's) are still checked, on a valid window of 1s; a
	// token bucket's, GCRA's and sliding_window_counter's depend on it and wait for a valid
	// one.
	checkAt := period
	if !ok && limitOK && (v.alg == rate.FixedWindow || v.alg == rate.SlidingWindow) {
		checkAt = time.Second
	} else if !ok {
		return false
	}
	if v.algOK {
		if _, err := rate.NewPolicy(v.alg, []rate.Window{{Limit: limit, Period: checkAt}}, nil); err != nil {
			v.Add(key+".limit", "%s", strings.TrimPrefix(err.Error(), "ratewarden: "))
			ok = false
		}
	}
	return ok
}

// endpoints checks and compiles the endpoint rules: patterns, names, methods, limits and
// tiers.
func (v *validator) endpoints(eps []Endpoint) []*Rule {
	rules := make([]*Rule, 0, len(eps))
	type named struct {
		index    int
		explicit bool
	}
	names := map[string]named{}
	routes := map[string]int{} // canonical pattern and method set → first index
	for i, e := range eps {
		key := fmt.Sprintf("endpoints[%d]", i)
		var pat pattern.Pattern
		patOK := false
		if e.Pattern == "" {
			v.Add(key+".pattern", "required, e.g. \"/api/v1/compute\"")
		} else if p, err := pattern.Parse(e.Pattern); err != nil {
			v.Add(key+".pattern", "%v, got %q", err, e.Pattern)
		} else {
			pat, patOK = p, true
		}

		name, explicit := e.Name, e.Name != ""
		if !explicit && patOK {
			name = pattern.Slug(e.Pattern)
		}
		if name != "" {
			origin := ""
			if !explicit {
				origin = " (the default name, a slug of the pattern)"
			}
			prev, dup := names[name]
			switch {
			case !pattern.Name.MatchString(name):
				v.Add(key+".name", "must match %s, got %q", pattern.Name, name)
			case name == "default":
				v.Add(key+".name", "%q%s is reserved for the default rule; set another name", name, origin)
			case dup:
				hint := ""
				if !explicit || !prev.explicit {
					hint = "; set name to tell them apart"
				}
				v.Add(key+".name", "%q%s is also the name of endpoints[%d]%s", name, origin, prev.index, hint)
			default:
				names[name] = named{i, explicit}
			}
		}

		methods, methodsOK := v.methods(key, e.Methods)
		if patOK && methodsOK {
			route := pat.Canonical() + " " + strings.Join(methods, ",")
			if j, dup := routes[route]; dup {
				v.Add(key+".pattern", "same pattern and methods as endpoints[%d], so this rule would never match, got %q", j, e.Pattern)
			} else {
				routes[route] = i
			}
		}

		scope := cmp.Or(e.Scope, ScopeClient)
		v.runAt("endpoints[<i>].scope", key+".scope", e.Scope)
		if scope == ScopeGlobal && len(e.Tiers) > 0 {
			v.Add(key+".tiers", "tiers do not apply to scope %q (one counter for every client, with the rule's own limits); remove them or choose another scope", ScopeGlobal)
		}

		r := &Rule{Name: v.prefix + name, Pattern: pat, Methods: methods, Scope: scope, CountStatuses: v.statuses(key, e.CountStatuses)}
		cost := v.limits(r, func(ls RuleLimits) { r.Own = ls }, key, e.Limits, 1, "")
		v.tiers(r, key+".tiers", e.Tiers, cost, key+".cost")
		rules = append(rules, r)
	}
	return rules
}

// statuses checks the count_statuses of an endpoint and returns them sorted, without
// duplicates.
func (v *validator) statuses(key string, statuses []int) []int {
	var set []int
	for j, st := range statuses {
		if st < 100 || st > 599 {
			v.Add(fmt.Sprintf("%s.count_statuses[%d]", key, j), "must be an HTTP status from 100 to 599, got %d", st)
			continue
		}
		if !slices.Contains(set, st) {
			set = append(set, st)
		}
	}
	slices.Sort(set)
	return set
}

// methods checks the methods of an endpoint and returns them upper-cased and sorted.
// Methods are matched case-insensitively ("get" is GET), as the limiter upper-cases them.
func (v *validator) methods(key string, methods []string) ([]string, bool) {
	ok := true
	var set []string
	for j, m := range methods {
		mk := fmt.Sprintf("%s.methods[%d]", key, j)
		up := strings.ToUpper(m)
		switch {
		case !isToken(m):
			v.Add(mk, "must be an HTTP method such as \"GET\", got %q", m)
			ok = false
		case slices.Contains(set, up):
			v.Add(mk, "duplicate method, got %q", m)
		default:
			set = append(set, up)
		}
	}
	slices.Sort(set)
	return set, ok
}

// isToken reports whether s is an RFC 9110 token, the syntax of a method.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// apiKey checks the api_key section; its durations and header are checked even while it
// is disabled, so that enabling it later by an environment variable finds them valid.
func (v *validator) apiKey(a APIKeyConfig) {
	if !isToken(a.Header) {
		v.Add("api_key.header", "must be an HTTP header name such as %q, got %q", DefaultAPIKeyHeader, a.Header)
	}
	v.run("api_key.cache_ttl", a.CacheTTL)
	v.run("api_key.timeout", a.Timeout)
}

func (v *validator) exemptions(e ExemptionsConfig) clientip.PrefixSet {
	ips, err := clientip.ParsePrefixSet("exemptions.ips", e.IPs)
	v.AddAll("", err)
	for i, u := range e.Users {
		if strings.TrimSpace(u) == "" {
			v.Add(fmt.Sprintf("exemptions.users[%d]", i), "must not be empty, got %q", u)
		}
	}
	return ips
}

func (v *validator) penalty(p PenaltyConfig) {
	if p.Enabled {
		v.AddAll("penalty", penaltyOf(p).Validate())
	}
}

func (v *validator) response(r ResponseConfig) {
	v.run("response.format", r.Format)
}

// redis checks the redis section; it is only read with backend = "redis".
func (v *validator) redis(r RedisConfig) {
	v.run("redis.mode", r.Mode)
	for i, a := range r.Addrs {
		host, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			v.Add(fmt.Sprintf("redis.addrs[%d]", i), "must be host:port, got %q", redactedAddr(a))
		}
	}
	if r.Mode == RedisSentinel && r.MasterName == "" {
		v.Add("redis.master_name", "required in sentinel mode")
	}
	switch {
	case r.DB < 0:
		v.Add("redis.db", "must be ≥ 0, got %d", r.DB)
	case r.DB != 0 && r.Mode == RedisCluster:
		v.Add("redis.db", "must be 0 in cluster mode (Redis Cluster has only database 0), got %d", r.DB)
	}
	v.run("redis.pool_size", r.PoolSize)
	v.run("redis.dial_timeout", r.DialTimeout)
	v.run("redis.timeout", r.Timeout)
	v.run("redis.max_retries", r.MaxRetries)
	v.run("redis.circuit_breaker.failure_threshold", r.CircuitBreaker.FailureThreshold)
	v.run("redis.circuit_breaker.open_timeout", r.CircuitBreaker.OpenTimeout)
}

// redactedAddr is a for a problem, which a 422 answer and the logs repeat: a URL's password
// ("redis://user:secret@host:6379", a common mistake for host:port) shown as "xxxxx",
// and anything before an "@" that is no URL's user information dropped.
func redactedAddr(a string) string {
	if u, err := url.Parse(a); err == nil && u.User != nil {
		return u.Redacted()
	}
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return "…" + a[i:]
	}
	return a
}

// memory checks the memory section, also read by fail_mode = "local".
func (v *validator) memory(m MemoryConfig) {
	v.run("memory.max_keys", m.MaxKeys)
	v.run("memory.sweep_interval", m.SweepInterval)
}

func (v *validator) metrics(m MetricsConfig) {
	if !promNameRE.MatchString(m.Namespace) {
		v.Add("metrics.namespace", "must be a Prometheus name matching %s, got %q", promNameRE, m.Namespace)
	}
	v.run("metrics.top_clients", m.TopClients)
}
