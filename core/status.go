package core

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// Errors of [Limiter.Status] and [Limiter.Reset] about their arguments (the admin
// endpoints answer them 400 and 404). A backend failure is none of these: it wraps
// [rate.ErrUnavailable].
var (
	// ErrInvalidClient is returned (wrapped) for a client that is not written as
	// decisions name clients ("ip:203.0.113.7", "user:alice", …), or that the rule asked
	// for does not count (see [Limiter.Status]).
	ErrInvalidClient = errors.New("ratewarden: invalid client")
	// ErrUnknownRule is returned (wrapped) for a rule name no rule of the configuration
	// in force has.
	ErrUnknownRule = errors.New("ratewarden: unknown rule")
)

// ClientStatus is what [Limiter.Status] answers for one client: the state of its counter
// under each rule asked for. Its JSON form is the body of GET /admin/limits (SPEC
// section 8).
type ClientStatus struct {
	// Client is the client in canonical form: "ip:203.0.113.7", "ip:2001:db8:1:2::/64",
	// "user:alice", "key:<id>" or "global", as the denial logs' client_id writes it.
	Client string `json:"client"`
	// Rules holds one entry per rule: the default rule first, then the endpoint rules in
	// configuration order.
	Rules []RuleStatus `json:"rules"`
}

// RuleStatus is the state of one client's counter under one rule.
type RuleStatus struct {
	// Rule is the rule's name as configured: "default", or an endpoint's name (without
	// the [WithName] prefix).
	Rule string `json:"rule"`
	// Windows holds one entry per window of the limits shown, in configuration order.
	Windows []WindowStatus `json:"windows"`
	// Penalty is the client's penalty under the rule; zero when penalties are off.
	Penalty PenaltyStatus `json:"penalty"`
}

// WindowStatus is the state of one window.
type WindowStatus struct {
	Limit     int64 `json:"limit"`     // units per window
	Window    int64 `json:"window"`    // the window's length in seconds
	Remaining int64 `json:"remaining"` // units a request could take now
	// Reset is the Unix time in whole seconds, rounded up, when the window is full again,
	// as the X-RateLimit-Reset header writes it (now, for a full window).
	Reset int64 `json:"reset"`
}

// PenaltyStatus is a client's penalty state under one rule.
type PenaltyStatus struct {
	// Cooldown is the cooldown left in whole seconds, rounded up as Retry-After is; 0
	// when none is in force.
	Cooldown int64 `json:"cooldown"`
	// Violations is the number of violations that count toward the penalty now.
	Violations int `json:"violations"`
}

// Status answers what a request of client would get under rule — "default", an
// endpoint's name (as configured, or as [Decision.Rule] names it, with the [WithName]
// prefix), or "" for every rule (the default rule first, then the endpoint rules in
// configuration order) — without consuming anything: no unit, no violation, no key
// written (rate.OpPeek). A client without state shows full windows.
//
// client is written as decisions name clients in the denial logs (client_id) and in
// [Decision.ClientID]: "ip:203.0.113.7", "ip:2001:db8:1:2::/64", "user:alice",
// "key:<id>" (a custom key, or an API key's user id) or "global". An IPv6 address given
// whole ("ip:2001:db8:1:2::7") is the prefix it is counted under
// (client_ip.ipv6_prefix), and an IPv4-mapped one is IPv4. A malformed client is
// [ErrInvalidClient], an unknown rule [ErrUnknownRule].
//
// tier picks the limits shown, as a request's tier picks them: the rule's override for
// the tier, else the rule's own limits — what "" and any tier the rule does not
// configure show. A client's id does not tell its tier (a token or an API key lookup
// does), so the caller names it; for an "ip:" client "" means [TierAnonymous], the tier of
// every request counted by its address (under a scope "ip" rule a verified user keeps
// its tier: name it). Tiers share the counter of a rule, window length by
// window length (SPEC section 1.5), so every tier reads the same state.
//
// Scopes: a rule with scope "global" counts every client as one, and shows that counter
// for any client. A rule with scope "ip" counts users and keys by their address, which
// their id does not tell: it is left out of the listing of every rule for a "user:" or
// "key:" client, and asking for it by name is [ErrInvalidClient]; the same holds for the
// client "global" under a rule whose scope is not "global". Exemptions are not applied:
// an exempted client's counter is shown (full, as exempted requests count nothing).
//
// A backend failure returns an error wrapping [rate.ErrUnavailable]. With fail_mode
// "local" the Redis store answers from its in-process fallback while Redis is down, as it
// decides requests.
func (l *Limiter) Status(ctx context.Context, client, rule, tier string) (ClientStatus, error) {
	s := l.snap.Load()
	c, rules, err := s.target(client, rule, false)
	if err != nil {
		return ClientStatus{}, err
	}
	st := ClientStatus{Client: c.ClientID(), Rules: make([]RuleStatus, 0, len(rules))}
	if tier == "" && c.d.scope == scopeIP {
		tier = TierAnonymous // a client counted by its address has no verified tier
	}
	now := l.now()
	for _, r := range rules {
		ls := r.limitsFor(tier)
		if r.Scope == config.ScopeGlobal {
			ls = &r.own
		}
		req := rate.Request{Key: c.keyFor(r), Policy: ls.Policy, Cost: ls.Cost, Now: now, Op: rate.OpPeek}
		var res rate.Result
		if err := l.store.Take(ctx, &req, &res); err != nil {
			return ClientStatus{}, backendError(err)
		}
		rs := RuleStatus{
			Rule:    r.name,
			Windows: make([]WindowStatus, len(ls.Policy.Windows)),
			Penalty: PenaltyStatus{Cooldown: ceilSeconds(res.Cooldown), Violations: res.Violations},
		}
		for i, w := range ls.Policy.Windows {
			wr := res.Windows[i]
			rs.Windows[i] = WindowStatus{Limit: w.Limit, Window: w.Seconds(), Remaining: wr.Remaining, Reset: unixCeilAfter(now, wr.ResetAfter)}
		}
		st.Rules = append(st.Rules, rs)
	}
	return st, nil
}

// Reset forgets the windows and the penalty of client under rule — "default", an
// endpoint's name, or "" for every rule — so that its next request is decided as a fresh
// client's: to clear a login counter after a successful login, or to unblock a customer.
// Every tier's windows are forgotten (the union of the window lengths of the rule's own
// limits and its tiers'). client is written as for [Limiter.Status], with the same
// errors.
//
// A rule with scope "global" has one counter for every client: only the client "global"
// resets it, so that resetting one client never hands everybody a fresh quota. Reset of
// every rule for another client leaves global rules alone, and naming a global rule for
// it is [ErrInvalidClient]. A rule with scope "ip" is reset for "ip:" clients only, as
// Status shows it.
//
// A backend failure returns an error wrapping [rate.ErrUnavailable], whatever fail_mode
// says: the state in the backend is still there. With several rules, those reset before
// the failure stay reset.
func (l *Limiter) Reset(ctx context.Context, client, rule string) error {
	s := l.snap.Load()
	c, rules, err := s.target(client, rule, true)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := l.store.Reset(ctx, c.keyFor(r), r.periods()); err != nil {
			return backendError(err)
		}
	}
	return nil
}

// namedRule is a rule with the name Status and Reset address it by.
type namedRule struct {
	*rule
	name string
}

// statusClient is a client as Status and Reset address it: a Decision holding the
// identity (an IP-scoped client's address is its prefix's), whose buildKey makes the
// counter keys exactly as decisions make them.
type statusClient struct {
	d Decision
	// digest is set when the client was given by the digest of its id, as logs write it
	// ("user:sha256:<64 hex>", see [Decision.CountedID]); d.ID() is then that digest,
	// counted as it is rather than digested again.
	digest bool
}

// ClientID is the client in canonical form.
func (c *statusClient) ClientID() string {
	if c.digest {
		return c.d.Scope() + ":" + c.d.ID()
	}
	return c.d.ClientID()
}

// keyFor returns the counter key of the client under r: the global counter for a rule
// with scope "global".
func (c *statusClient) keyFor(r namedRule) string {
	k := c.d
	if r.Scope == config.ScopeGlobal {
		k.scope = scopeGlobal
	} else if c.digest {
		return k.Scope() + ":" + k.ID() + ":" + r.counter
	}
	return k.buildKey(nil, r.counter) // a new array: keys of one client under several rules do not share one
}

// target parses client and selects the rules named by rule ("" for every rule) that
// count it: see Limiter.Status and Limiter.Reset (reset true) for which those are.
func (s *snapshot) target(client, rule string, reset bool) (*statusClient, []namedRule, error) {
	c, err := s.parseClient(client)
	if err != nil {
		return nil, nil, err
	}
	all := make([]namedRule, 0, 1+len(s.endpoints))
	all = append(all, namedRule{s.defaultRule, "default"})
	for i, r := range s.endpoints {
		all = append(all, namedRule{r, s.cfg.Endpoints[i].RuleName()})
	}
	if rule == "" {
		rules := slices.DeleteFunc(all, func(r namedRule) bool { return !c.countedBy(r, reset) })
		if len(rules) == 0 { // only "global", without a rule of scope "global"
			return nil, nil, fmt.Errorf("%w %q: no rule counts it (no rule has scope = \"global\")", ErrInvalidClient, client)
		}
		return c, rules, nil
	}
	i := slices.IndexFunc(all, func(r namedRule) bool { return r.name == rule || r.Name == rule })
	if i < 0 {
		names := make([]string, len(all))
		for j, r := range all {
			names[j] = r.name
		}
		return nil, nil, fmt.Errorf("%w %q: the rules are %s", ErrUnknownRule, rule, strings.Join(names, ", "))
	}
	if r := all[i]; !c.countedBy(r, reset) {
		return nil, nil, fmt.Errorf("%w %q for rule %q: its scope is %q, %s", ErrInvalidClient, client, rule, r.Scope, scopeHint(r.Scope, reset))
	}
	return c, all[i : i+1], nil
}

// countedBy reports whether Status (reset false) or Reset (reset true) addresses the
// client under r.
func (c *statusClient) countedBy(r namedRule, reset bool) bool {
	switch r.Scope {
	case config.ScopeGlobal:
		return !reset || c.d.scope == scopeGlobal
	case config.ScopeIP:
		return c.d.scope == scopeIP
	}
	return c.d.scope != scopeGlobal
}

// scopeHint says which clients a rule of scope s counts, for the error of a client it
// does not.
func scopeHint(s config.Scope, reset bool) string {
	switch {
	case s == config.ScopeIP:
		return "which counts every client by its address: ask for ip:<address>"
	case s == config.ScopeGlobal && reset:
		return `whose one counter is shared by every client: reset it as client "global"`
	}
	return "which counts clients one by one: ask for ip:, user: or key: clients"
}

// parseClient parses a client as the denial logs write it (see Limiter.Status).
func (s *snapshot) parseClient(client string) (*statusClient, error) {
	c := new(statusClient)
	c.d.snapshot = s
	if client == ScopeGlobal {
		c.d.scope = scopeGlobal
		return c, nil
	}
	scope, id, ok := strings.Cut(client, ":")
	switch {
	case !ok || id == "":
	case scope == ScopeUser || scope == ScopeKey:
		code := scopeUser
		if scope == ScopeKey {
			code = scopeKey
		}
		c.d.setClient(code, id)
		c.digest = isDigest(id)
		return c, nil
	case scope == ScopeIP:
		if p, ok := s.ipKey(id); ok {
			c.d.scope, c.d.ClientIP = scopeIP, p.Addr() // p is the address's key: see ipKey
			return c, nil
		}
		bits := s.resolver.Key(netip.IPv6Unspecified()).Bits() // client_ip.ipv6_prefix
		return nil, fmt.Errorf("%w %q: want an IP address (ip:203.0.113.7) or an IPv6 prefix of at least %d bits (ip:2001:db8:1:2::/%[3]d)", ErrInvalidClient, client, bits)
	}
	return nil, fmt.Errorf(`%w %q: want ip:<address>, user:<id>, key:<id> or global`, ErrInvalidClient, client)
}

// isDigest reports whether id is an id's digest as [Decision.CountedID] writes it:
// "sha256:" and 64 lowercase hex digits.
func isDigest(id string) bool {
	hexDigits, ok := strings.CutPrefix(id, "sha256:")
	if !ok || len(hexDigits) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(hexDigits); i++ {
		if c := hexDigits[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ipKey is the prefix decisions count the address or prefix id under: an address's
// (IPv4-mapped as IPv4, IPv6 masked to client_ip.ipv6_prefix), or a prefix's address's
// when the prefix is at least that long (a /128 of an address included).
func (s *snapshot) ipKey(id string) (netip.Prefix, bool) {
	if a, err := netip.ParseAddr(id); err == nil {
		return s.resolver.Key(a), true
	}
	p, err := netip.ParsePrefix(id)
	if err != nil || p.Addr().Is4In6() { // the bits of ::ffff:1.2.3.4/n are IPv6's
		return netip.Prefix{}, false
	}
	k := s.resolver.Key(p.Addr())
	return k, p.Bits() >= k.Bits()
}

// periods is the union of the window lengths of every policy of r: its own limits' and
// its tiers'.
func (r *rule) periods() []time.Duration {
	var ps []time.Duration
	add := func(ls config.RuleLimits) {
		for _, w := range ls.Policy.Windows {
			if !slices.Contains(ps, w.Period) {
				ps = append(ps, w.Period)
			}
		}
	}
	add(r.Own)
	for _, ls := range r.Tiers {
		add(ls)
	}
	slices.Sort(ps)
	return ps
}

// backendError is err of a store, wrapping rate.ErrUnavailable.
func backendError(err error) error {
	if errors.Is(err, rate.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", rate.ErrUnavailable, err)
}
