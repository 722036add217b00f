package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// runExplain is `ratewarden explain`: how the request METHOD PATH, with the headers and
// peer address given, would be identified and limited. The request is decided by
// core.Limiter.Decide — the path every middleware takes — over a store of its own, in
// memory, that records what the Limiter asks it: nothing is consumed anywhere, and no
// backend is contacted.
func runExplain(ctx context.Context, e *env, args []string) int {
	fs := e.newFlagSet("explain", "[-config f.toml] [-H 'Name: value']... [-remote ADDR] [-route TEMPLATE] [-json] METHOD PATH")
	path := fs.String("config", "", "TOML configuration file (default: the built-in defaults); RATELIMIT_* variables apply either way")
	var headers headerFlags
	fs.Var(&headers, "H", "a request header, `Name: value` (repeatable): Authorization: Bearer <token>, X-API-Key, X-Forwarded-For…")
	remote := fs.String("remote", "127.0.0.1", "the TCP peer `address` of the request (the proxy's, when one is in front)")
	route := fs.String("route", "", "the router's route `template` (\"/users/:id\"), as an adapter passes it")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return e.usageError(fs, "want METHOD and PATH, got %d arguments", len(pos))
	}
	req, err := newRequest(ctx, pos[0], pos[1], *remote, headers)
	if err != nil {
		return e.usageError(fs, "%v", err)
	}
	cfg, ok := e.load(*path)
	if !ok {
		return exitFailure
	}
	st := &recorder{Store: memorystore.New(cfg.Memory)}
	var askedKey atomic.Bool
	lim, err := compile(cfg, st, func(context.Context, string) (core.Identity, error) {
		askedKey.Store(true)
		return core.Identity{}, core.ErrKeyNotFound
	})
	if err != nil {
		e.problems(err)
		_ = st.Close()
		return exitFailure
	}
	defer func() { _ = lim.Close(); _ = st.Close() }()
	var d core.Decision
	lim.Decide(core.Input{Request: req, Route: *route}, &d)
	x := explainDecision(cfg, req, &d, st.last, askedKey.Load())
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(x)
	} else {
		x.print(e)
	}
	return exitOK
}

// newRequest builds the request to explain. remote is an address, with or without a port.
func newRequest(ctx context.Context, method, target, remote string, headers []string) (*http.Request, error) {
	if method == "" { // net/http would read it as GET
		return nil, errors.New("METHOD must not be empty")
	}
	if !strings.HasPrefix(target, "/") {
		return nil, fmt.Errorf("PATH must start with /, got %q", target)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://explain.invalid"+target, nil)
	if err != nil {
		return nil, err
	}
	req.RequestURI = target
	if a, err := netip.ParseAddr(remote); err == nil {
		req.RemoteAddr = netip.AddrPortFrom(a, 0).String()
	} else if _, err := netip.ParseAddrPort(remote); err == nil {
		req.RemoteAddr = remote
	} else {
		return nil, fmt.Errorf("-remote: want an IP address (10.0.0.1) or address:port, got %q", remote)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	return req, nil
}

// recorder is the store of explain's Limiter: it answers from an in-memory store of its
// own (a fresh client's state) and keeps the last request the Limiter made of it, whose
// key is the counter key every backend is handed.
type recorder struct {
	rate.Store
	last *rate.Request
}

func (r *recorder) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	c := *req
	c.Key = strings.Clone(req.Key) // the Limiter reuses the buffer behind req.Key
	r.last = &c
	return r.Store.Take(ctx, req, res)
}

// explanation is what explain prints; its JSON form is the output of -json.
type explanation struct {
	Request  string `json:"request"`   // "GET /api/v1/compute"
	ClientIP string `json:"client_ip"` // as derived from -remote and trusted forwarding headers
	// Outcome is "limited" (counted under Rule), "exempt" (no counter, no headers),
	// "disabled" (enabled = false) or "error" (the store refused it, see Notes).
	Outcome string `json:"outcome"`
	// Client is the counted identity as logs and GET /admin/limits write it
	// ("user:alice", "ip:203.0.113.7", "global"); Identity says where it came from.
	Client string `json:"client,omitempty"`
	Scope  string `json:"scope,omitempty"`
	ID     string `json:"id,omitempty"`
	Tier   string `json:"tier"`
	// Identity is what identified the client: "jwt" (a verified token), "api_key" (a
	// key the lookup verified), "ip", or "global" (a rule with scope = "global").
	Identity string           `json:"identity"`
	Rule     *ruleExplanation `json:"rule,omitempty"`
	Notes    []string         `json:"notes,omitempty"`
}

// ruleExplanation is the rule of a counted request, and its limits for the client's tier.
type ruleExplanation struct {
	Name          string   `json:"name"`
	Pattern       string   `json:"pattern,omitempty"` // "" for the default rule
	Methods       []string `json:"methods,omitempty"`
	Scope         string   `json:"scope"`  // client | ip | global
	Limits        string   `json:"limits"` // which limits apply: "the rule's own", "tier premium"
	Algorithm     string   `json:"algorithm"`
	Cost          int64    `json:"cost"`
	CountStatuses []int    `json:"count_statuses,omitempty"`
	Backend       string   `json:"backend"`
	// Counter is the key the Limiter hands the store: "<scope>:<id>:<rule>".
	Counter string              `json:"counter"`
	Windows []windowExplanation `json:"windows"`
	// PenaltyKey is the Redis key of the client's violations and cooldown; "" when
	// penalties are off.
	PenaltyKey string `json:"penalty_key,omitempty"`
}

// windowExplanation is one window of the limits.
type windowExplanation struct {
	Limit  int64  `json:"limit"`
	Window int64  `json:"window"` // seconds
	Policy string `json:"policy"` // its name in RateLimit-Policy and 429 bodies
	// Key is the window's Redis key, "<key_prefix>:{<counter>}:<window seconds>"
	// (docs/redis.md), the key the Redis backend reads and writes.
	Key string `json:"key"`
}

// explainDecision describes the decision d of req under cfg; last is the request the
// Limiter made of its store (nil when it made none), askedKey whether it asked the API
// key lookup.
func explainDecision(cfg config.Config, req *http.Request, d *core.Decision, last *rate.Request, askedKey bool) explanation {
	x := explanation{
		Request:  req.Method + " " + req.RequestURI,
		ClientIP: d.ClientIP.String(),
		Client:   d.ClientID(),
		Scope:    d.Scope(),
		ID:       d.ID(),
		Tier:     d.Tier,
	}
	if !d.ClientIP.IsValid() {
		x.ClientIP = ""
	}
	switch d.Scope() {
	case core.ScopeUser:
		x.Identity = "jwt"
	case core.ScopeKey:
		x.Identity = "api_key"
	case core.ScopeGlobal:
		x.Identity = "global"
	case core.ScopeIP:
		x.Identity = "ip"
	}
	x.Notes = identityNotes(cfg, req, d, askedKey)
	switch d.Outcome {
	case core.Disabled:
		x.Outcome, x.Identity, x.Tier = "disabled", "", ""
		x.Notes = append(x.Notes, "enabled = false: the middleware lets every request through, with no counter and no headers")
		return x
	case core.Exempt:
		x.Outcome = "exempt"
		x.Notes = append(x.Notes, "exempted by [exemptions]: the request passes untouched, with no counter and no headers")
		return x
	}
	if d.Err != nil { // the in-memory store refuses only a cost no window admits (rate.ErrCost)
		x.Outcome = "error"
		x.Notes = append(x.Notes, "the store refused the request: "+d.Err.Error())
		return x
	}
	x.Outcome = "limited"
	x.Rule = explainRule(cfg, d, last)
	if d.Scope() == core.ScopeIP && d.Tier != core.TierAnonymous {
		x.Notes = append(x.Notes, "the rule's scope is ip: the verified client (tier "+d.Tier+") is counted by its address")
	}
	if cfg.Mode == config.ModeShadow {
		x.Notes = append(x.Notes, "mode = shadow: a denial would only be logged and counted, never answered 429")
	}
	return x
}

// identityText says in words what identified a client, for each Identity.
var identityText = map[string]string{
	"jwt":     "from a verified JWT",
	"api_key": "from a verified API key",
	"ip":      "by the client IP",
	"global":  "the rule's one counter for every client",
}

// identityNotes explains the credentials of req that did not make the identity.
func identityNotes(cfg config.Config, req *http.Request, d *core.Decision, askedKey bool) []string {
	var notes []string
	if cfg.APIKey.Enabled && req.Header.Get(cfg.APIKey.Header) != "" && askedKey {
		notes = append(notes, fmt.Sprintf("the request carries an API key (%s), but this command cannot look keys up (the application does, with core.WithKeyLookup): it is shown as an unknown key, which is identified as if it were absent. A key the application knows is counted as key:<its user id>, with its tier.", cfg.APIKey.Header))
	}
	if req.Header.Get("Authorization") != "" && d.Scope() != core.ScopeUser && d.Scope() != core.ScopeKey {
		switch {
		case !cfg.JWT.Enabled:
			notes = append(notes, "jwt.enabled is false: the Authorization header is ignored")
		case d.Tier == core.TierAnonymous:
			notes = append(notes, "the Authorization header holds no token the limiter accepts (missing Bearer, malformed, expired or not yet valid, badly signed, an algorithm not in jwt.algorithms, or the wrong iss or aud): the request is identified by IP as anonymous")
		}
	}
	return notes
}

// explainRule describes the rule and limits of the counted decision d, whose store
// request was last.
func explainRule(cfg config.Config, d *core.Decision, last *rate.Request) *ruleExplanation {
	r := &ruleExplanation{
		Name:      d.Rule(),
		Scope:     string(config.ScopeClient),
		Limits:    "the rule's own",
		Algorithm: d.Policy().Algorithm.String(),
		Cost:      d.Cost(),
		Backend:   string(cfg.Backend),
		Counter:   last.Key,
	}
	tiers := cfg.Tiers
	if i := slices.IndexFunc(cfg.Endpoints, func(ep config.Endpoint) bool { return ep.RuleName() == d.Rule() }); i >= 0 {
		ep := cfg.Endpoints[i]
		r.Pattern, r.Methods, r.CountStatuses, tiers = ep.Pattern, ep.Methods, ep.CountStatuses, ep.Tiers
		if ep.Scope != "" {
			r.Scope = string(ep.Scope)
		}
	}
	if _, ok := tiers[d.Tier]; ok && d.Scope() != core.ScopeGlobal {
		r.Limits = "tier " + d.Tier
	}
	for _, w := range d.Policy().Windows {
		r.Windows = append(r.Windows, windowExplanation{
			Limit: w.Limit, Window: w.Seconds(), Policy: w.Name,
			Key: redisKey(cfg.KeyPrefix, last.Key, strconv.FormatInt(w.Seconds(), 10)),
		})
	}
	if d.Policy().Penalty != nil {
		r.PenaltyKey = redisKey(cfg.KeyPrefix, last.Key, "penalty")
	}
	return r
}

// redisKey is the Redis key of a counter's window or penalty (docs/redis.md, SPEC
// section 5): "<key_prefix>:{<counter>}:<suffix>", the braces a Cluster hash tag.
func redisKey(prefix, counter, suffix string) string {
	return prefix + ":{" + counter + "}:" + suffix
}

// print writes x for a reader.
func (x *explanation) print(e *env) {
	w := e.stdout
	fmt.Fprintf(w, "request    %s from %s\n", x.Request, orNone(x.ClientIP))
	fmt.Fprintf(w, "outcome    %s\n", x.Outcome)
	if x.Outcome != "disabled" {
		fmt.Fprintf(w, "client     %s, tier %s, %s\n", x.Client, x.Tier, identityText[x.Identity])
	}
	if r := x.Rule; r != nil {
		where := "no endpoint rule matches"
		if r.Pattern != "" {
			where = "pattern " + r.Pattern
			if len(r.Methods) > 0 {
				where += " " + strings.Join(r.Methods, ",")
			}
		}
		fmt.Fprintf(w, "rule       %s (%s), scope %s\n", r.Name, where, r.Scope)
		fmt.Fprintf(w, "limits     %s: %s, cost %d", r.Limits, r.Algorithm, r.Cost)
		if len(r.CountStatuses) > 0 {
			fmt.Fprintf(w, ", counting only responses %s", strings.Trim(fmt.Sprint(r.CountStatuses), "[]"))
		}
		fmt.Fprintln(w)
		for _, win := range r.Windows {
			fmt.Fprintf(w, "window     %d per %ds, policy %q, key %s\n", win.Limit, win.Window, win.Policy, win.Key)
		}
		if r.PenaltyKey != "" {
			fmt.Fprintf(w, "penalty    key %s\n", r.PenaltyKey)
		}
		fmt.Fprintf(w, "backend    %s", r.Backend)
		if r.Backend == string(config.BackendMemory) {
			fmt.Fprintf(w, " (counter %s in each app process; the keys above are the Redis backend's)", r.Counter)
		}
		fmt.Fprintln(w)
	}
	for _, n := range x.Notes {
		fmt.Fprintf(w, "note       %s\n", n)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(no address)"
	}
	return s
}
