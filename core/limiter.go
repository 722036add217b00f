package core

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/internal/pattern"
	"github.com/ratewarden/ratewarden/core/rate"
)

// Limiter decides, for each request, whether the client is within its limits. It is
// framework-free: the middleware in package httplimit and the gin, echo and chi adapters
// all call [Limiter.Gate] and answer from the [Decision].
//
// Create one with [New] or [MustNew]; the zero value is not usable. A Limiter is safe for
// concurrent use. Its configuration can be replaced at run time with [Limiter.Reload]; the
// request path never takes a lock.
type Limiter struct {
	snap     atomic.Pointer[snapshot]
	store    rate.Store
	ownStore bool // built from the configuration, so Close closes it
	now      func() time.Time
	clock    *CoarseClock // the default clock, stopped by Close; nil under WithClock
	logger   *slog.Logger
	observer Observer
	name     string // WithName; prefixes policy names

	keyLookup KeyLookup             // WithKeyLookup; nil when none
	keySecret *[32]byte             // keys the hash that names API keys in caches
	keyLog    *backend.ThrottledLog // failed key lookups, at most one record a second per kind
	ruleLog   *backend.ThrottledLog // Input.Rule names no rule: at most one record a minute

	reloadMu sync.Mutex // serializes Reload
}

// Input is the part of a request a decision depends on.
type Input struct {
	// Request is the HTTP request; its RemoteAddr, headers, method and path are read.
	Request *http.Request
	// Route is the router's template for the matched route ("/users/:id",
	// "/users/{id}"), or "" when there is none. Rules match the path or the template.
	Route string
	// RouteOf, when Route is "" and RouteOf is not nil, gives the route template of a
	// request instead. It is called at most once, and only when an endpoint rule for the
	// request's method does not match its path, so that a router whose template costs a
	// lookup (chi, whose middleware runs before routing) pays for it only then.
	RouteOf func(*http.Request) string
	// PathView is how the router reads the request's path to route it; rules match the
	// path as it does. The zero value is net/http's ServeMux's ([PathSegmentsUnescaped]).
	PathView PathView
	// Key, when not empty, replaces the client identity (scope "key"): it comes from a
	// custom key function (the adapters' WithKeyFunc), or from a handler deciding under a
	// key it computed (the username of a login form, see [GateRule]), and takes precedence
	// over API keys, tokens and the IP.
	//
	// A custom key is trusted as it is: nothing verifies it. A key function that returns a
	// header the client sends — an API key read raw — lets a client that rotates random
	// values get a fresh quota with each one, and puts the raw key in logs, metrics and
	// Redis keys. Return an id the application has verified, or use [WithKeyLookup], which
	// verifies API keys and gives them their tier.
	Key string
	// Rule, when not empty, names the rule to decide under — an endpoint's name, or
	// "default" — instead of the rule the request's method and path match; names are
	// compared exactly. A name no rule has (a typo, a rule a reload removed) is logged at
	// error, at most once a minute, and the request is matched by its path as usual.
	Rule string

	// identity is the middleware's decision when GateRule decides from a handler: its
	// client is kept when no key is given. nil when the middleware skipped the request.
	identity *Decision
	// fromHandler is set by GateRule: a count_statuses rule consumes at once.
	fromHandler bool
}

// PathView is how a router reads a request's path to route it, which rules follow so
// that a request counts under the rule of the route its router serves (docs/rules.md).
// The views differ only for a path sent with escapes of its own (url.URL.RawPath set).
type PathView uint8

// The path views of the routers ratewarden has adapters for.
const (
	// PathSegmentsUnescaped is net/http's ServeMux: the escaped path is split on "/" and
	// each segment is unescaped after, so "/users/m%65" is "/users/me" and "/users/a%2Fb"
	// is the one segment "a/b" after "users".
	PathSegmentsUnescaped PathView = iota
	// PathSegmentsRaw is chi and echo (and gin with UseRawPath or UseEscapedPath): the
	// escaped path's segments are compared as sent, undecoded, so "/users/m%65" is a
	// segment "m%65" that a static "me" does not match, and "%2F" stays inside its
	// segment.
	PathSegmentsRaw
	// PathDecoded is gin's default: the decoded path (url.URL.Path), so "/users/m%65" is
	// "/users/me" and "/users/a%2Fb" is "/users/a/b".
	PathDecoded
)

// New validates cfg and builds a Limiter. Its store is the [WithStore] option, or else
// the backend the configuration names, which must be registered (see backend.Register):
// importing backends/memorystore registers "memory", backends/redisstore "redis".
// An invalid configuration returns a *[config.ValidationError] listing every problem.
func New(cfg config.Config, opts ...Option) (*Limiter, error) {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.name != "" && !pattern.Name.MatchString(o.name) {
		return nil, fmt.Errorf("ratewarden: WithName: must match %s, got %q", pattern.Name, o.name)
	}
	l := &Limiter{store: o.store, now: o.now, logger: o.logger, observer: o.observer, name: o.name, keyLookup: o.keyLookup}
	if l.now == nil {
		l.clock = &CoarseClock{}
		l.now = l.clock.Now
	}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	if l.name != "" {
		l.logger = l.logger.With(slog.String("limiter", l.name))
	}
	if l.keyLookup != nil {
		l.keySecret = newKeySecret()
		l.keyLog = backend.NewThrottledLog(l.logger, slog.LevelError, time.Second, l.now)
	}
	l.ruleLog = backend.NewThrottledLog(l.logger, slog.LevelError, time.Minute, l.now)
	s, err := l.compile(cfg, nil)
	if err != nil {
		return nil, err
	}
	if l.store == nil {
		if l.store, err = backend.New(s.cfg, backend.Env{Logger: l.logger, Observer: l.observer, Now: l.now}); err != nil {
			return nil, err
		}
		l.ownStore = true
	}
	l.snap.Store(s)
	return l, nil
}

// Logger returns the logger l writes its records to: [WithLogger]'s, or slog.Default(),
// with the limiter's name when it has one ([WithName]). Code that logs alongside the
// Limiter, such as the admin endpoints of adapters/httplimit, writes there too.
func (l *Limiter) Logger() *slog.Logger { return l.logger }

// Config returns the configuration in force, with defaults applied. The settings the store
// was built from keep their values from [New] until a restart (see [Limiter.Reload]).
func (l *Limiter) Config() config.Config { return l.snap.Load().cfg }

// Reload validates cfg and, when it is valid, swaps it in atomically: requests already
// being decided finish under the old configuration, the next ones use the new one.
// Counters of rules that still exist (same name, or same pattern) are kept; the cached
// answers of the key lookup ([WithKeyLookup]) are not, so that keys revoked or changed
// since are looked up again. When cfg is invalid the old configuration stays in force and
// the *[config.ValidationError] is returned.
//
// The store is built once, from backend, redis.*, memory.*, key_prefix and whether
// fail_mode is "local" (the Redis store's in-process fallback): a change of those takes
// effect at the next start. Until then the configuration in force, as [Limiter.Config] and
// the logs report it, keeps their running values, and every reload whose cfg differs from
// them logs config_reload_needs_restart naming the keys.
func (l *Limiter) Reload(cfg config.Config) error {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()
	return l.reload(cfg)
}

// reload is Reload with l.reloadMu held.
func (l *Limiter) reload(cfg config.Config) error {
	old := l.snap.Load()
	s, err := l.compile(cfg, old)
	if err != nil {
		l.logReloadFailed(err)
		return err
	}
	pending := keepRestartOnly(&s.cfg, old.cfg)
	l.snap.Store(s)
	if old.verifier != nil {
		old.verifier.Close()
	}
	if r, ok := l.store.(backend.Reloader); ok {
		r.Reloaded()
	}
	if len(pending) > 0 {
		l.logger.Warn("config_reload_needs_restart", slog.Any("keys", pending))
	}
	l.logger.Info("config_reloaded", slog.Int("endpoints", len(s.endpoints)))
	return nil
}

// compile builds the snapshot of cfg (see compile) with the limiter's key resolver.
func (l *Limiter) compile(cfg config.Config, prev *snapshot) (*snapshot, error) {
	s, err := compile(cfg, prev, l.now, l.name)
	if err != nil {
		return nil, err
	}
	s.limiter = l
	if s.apiKeys, err = l.newKeyResolver(s.cfg.APIKey); err != nil {
		if s.verifier != nil {
			s.verifier.Close()
		}
		return nil, err
	}
	return s, nil
}

// Close releases the store (when the Limiter built it: a store passed with [WithStore]
// stays the caller's to close) and background work such as a JWKS refresh and the ticks
// of its [CoarseClock] (decisions after Close read time.Now). It returns
// the store's Close error. Call it once the server has stopped serving: a decision after
// Close gets what the store then answers (the memory store keeps deciding, the Redis
// store fails as an unreachable Redis would, under fail_mode).
func (l *Limiter) Close() error {
	if l.clock != nil {
		l.clock.Stop()
	}
	if s := l.snap.Load(); s.verifier != nil {
		s.verifier.Close()
	}
	if l.ownStore {
		return l.store.Close()
	}
	return nil
}

// Decide decides one request and fills d. It never panics on malformed input and never
// returns without an outcome: backend failures become [FailedOpen] or [Unavailable] as
// fail_mode says (fail_mode local is handled inside the store).
func (l *Limiter) Decide(in Input, d *Decision) {
	*d = Decision{}
	l.decide(context.WithoutCancel(in.Request.Context()), in, d, nil)
}

// ClientAddr returns the address the client of r is counted under, as every decision
// resolves it (SPEC section 2): from the peer address, or the forwarding headers of
// trusted proxies, as a prefix (/32 for IPv4, client_ip.ipv6_prefix for IPv6). ok is
// false when no address can be derived (a unix socket without a trusted proxy). The
// admin endpoints (adapters/httplimit) count failed attempts per ClientAddr.
func (l *Limiter) ClientAddr(r *http.Request) (addr netip.Prefix, ok bool) {
	s := l.snap.Load()
	ip, ok := s.resolver.ClientIP(r.RemoteAddr, r.Header)
	if !ok {
		return netip.Prefix{}, false
	}
	return s.resolver.Key(ip), true
}

// decide is Decide for a zero d, as [Limiter.Gate] allocates it. The counter key is
// appended to buf (nil: a new array), which the caller writes no more up to the key's end.
//
// The API-key lookup and the store decide under ctx: the request's values without its
// cancellation or deadline (context.WithoutCancel, or Gate's detachedContext), so that
// their own budgets (api_key.timeout, redis.timeout) alone bound a decision. A client
// chooses when its request's context ends — it half-closes its connection, or hangs up —
// and a decision that ended with it would fail, leaving fail_mode to admit the request
// uncounted, or "local" to count it apart from Redis (TestAClientCannotCancelItsDecision).
func (l *Limiter) decide(ctx context.Context, in Input, d *Decision, buf []byte) {
	s := l.snap.Load()
	r := in.Request
	d.snapshot, d.now = s, l.now()
	if !s.enabled {
		return
	}
	// Decided from a handler: the client is the one the middleware identified (custom key
	// and API key included), however many in-handler decisions came in between — unless
	// the handler names a key, or the middleware identified no one (the limiter was
	// disabled then).
	if o := in.identity.originDecision(); o != nil && o.clientScope != 0 {
		d.origin = o
	}
	if o := d.origin; o != nil && in.Key == "" {
		d.setClient(o.clientScope, o.clientID)
		d.ClientIP, d.Tier, d.apiKey = o.ClientIP, o.Tier, o.apiKey
	} else {
		s.identify(ctx, in, d)
	}
	var rl *rule
	if in.Rule != "" {
		if rl = s.named[in.Rule]; rl == nil {
			l.ruleLog.Log(r.Context(), "rate_limit_unknown_rule", "unknown_rule", slog.String("rule", in.Rule))
		}
	}
	if rl == nil {
		rl = s.resolve(r, &in)
	}
	d.rule = rl
	if s.exempt(d) {
		d.Outcome = Exempt
		l.observe(d)
		return
	}
	ls := rl.limitsFor(d.Tier)
	switch rl.Scope { // after the exemptions, which the identity decides
	case config.ScopeIP:
		d.scope = scopeIP
	case config.ScopeGlobal:
		d.scope, ls = scopeGlobal, &rl.own
	}
	d.limits = ls
	d.key = d.buildKey(buf, rl.counter)
	op := rate.OpTake
	if len(rl.CountStatuses) > 0 && !in.fromHandler { // counted after the handler, by Decision.Complete
		op, d.counting = rate.OpCheck, true
	}
	c := storeCalls.Get().(*storeCall)
	c.req = rate.Request{Key: d.key, Policy: ls.Policy, Cost: ls.Cost, Now: d.now, Op: op}
	err := l.store.Take(ctx, &c.req, &c.res)
	if err == nil {
		d.setResult(&c.res)
	}
	c.put()
	if err != nil {
		d.Err = err
		d.Outcome = FailedOpen
		if s.cfg.FailMode == config.FailClosed {
			d.Outcome = Unavailable
		}
		l.observe(d)
		return
	}
	switch {
	case d.denial == nil:
		d.Outcome = Allowed
	case s.shadow:
		d.Outcome = ShadowDenied
		l.logDenial(r, d)
	default:
		d.Outcome = Denied
		l.logDenial(r, d)
	}
	l.observe(d)
}

// storeCall holds the request and the answer of one call to the store. The store takes
// them by pointer through an interface, so they cannot live on the caller's stack; pooled,
// they cost no allocation and no bytes of the Decision, whose size is paid on every request
// (TestGateAllocationSize). A Store does not keep them past Take (see [rate.Store]).
type storeCall struct {
	req rate.Request
	res rate.Result
}

var storeCalls = sync.Pool{New: func() any { return new(storeCall) }}

// put returns c to the pool cleared: without the pointers of its request (the counter key
// is in the memory of the request's decision), which would keep a request's memory alive,
// and without its answer, so that the next Take starts from a zero Result as a fresh one
// would, whatever fields its store leaves alone.
func (c *storeCall) put() {
	*c = storeCall{}
	storeCalls.Put(c)
}

func (l *Limiter) observe(d *Decision) {
	if l.observer != nil {
		l.observer.ObserveDecision(d)
	}
}

// buildKey appends "<scope>:<id>:<counter>" to buf, which is written no more, and returns
// it as a string without copying. Stores copy it if they keep it (see [rate.Request.Key]).
func (d *Decision) buildKey(buf []byte, counter string) string {
	buf = append(buf, scopeNames[d.scope]...)
	buf = append(buf, ':')
	if d.scope == scopeIP {
		buf = clientip.AppendKey(buf, d.IPKey())
	} else {
		buf = appendID(buf, d.ID())
	}
	buf = append(buf, ':')
	buf = append(buf, counter...)
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// keepRestartOnly gives next the running values of the settings the store is built from,
// which a reload cannot change, and returns the keys whose value next had differed.
// fail_mode is one of them only to or from "local": open and closed are decided per
// request, the in-process fallback of "local" is built with the store.
func keepRestartOnly(next *config.Config, running config.Config) []string {
	var keys []string
	if next.Backend != running.Backend {
		keys = append(keys, "backend")
		next.Backend = running.Backend
	}
	if !reflect.DeepEqual(next.Redis, running.Redis) {
		keys = append(keys, "redis")
		next.Redis = running.Redis
	}
	if next.Memory != running.Memory {
		keys = append(keys, "memory")
		next.Memory = running.Memory
	}
	if next.KeyPrefix != running.KeyPrefix {
		keys = append(keys, "key_prefix")
		next.KeyPrefix = running.KeyPrefix
	}
	if (next.FailMode == config.FailLocal) != (running.FailMode == config.FailLocal) {
		keys = append(keys, "fail_mode")
		next.FailMode = running.FailMode
	}
	return keys
}
