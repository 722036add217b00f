package core_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestGate: Gate sets exactly the headers WriteHeaders sets, for every outcome, and the
// returned request carries the decision.
func TestGate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a-very-long-rule-name", 3) // the values outgrow Gate's buffer
	tests := []struct {
		name     string
		cfg      config.Config
		requests int // decided before the one checked
		down     bool
		key      string // Input.Key
		outcome  core.Outcome
		headers  bool
	}{
		{name: "allowed", outcome: core.Allowed, headers: true},
		{name: "denied", cfg: config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}}, requests: 1, outcome: core.Denied, headers: true},
		{name: "shadow denied", cfg: config.Config{Mode: config.ModeShadow, Default: config.Limits{Limit: 1, Window: time.Minute}}, requests: 1, outcome: core.ShadowDenied, headers: true},
		{name: "unavailable", cfg: config.Config{FailMode: config.FailClosed}, down: true, outcome: core.Unavailable, headers: true},
		{name: "failed open", down: true, outcome: core.FailedOpen},
		{name: "exempt", cfg: config.Config{Exemptions: config.ExemptionsConfig{IPs: []string{"203.0.113.0/24"}}}, outcome: core.Exempt},
		{name: "disabled", cfg: config.Config{Enabled: config.Bool(false)}, outcome: core.Disabled},
		{
			name: "long policy",
			cfg: config.Config{Endpoints: []config.Endpoint{{Name: long, Pattern: "/api/*", Limits: config.Limits{Windows: []config.WindowConfig{
				{Limit: 10, Window: time.Second}, {Limit: 100, Window: time.Minute}, {Limit: 1000, Window: time.Hour},
			}}}}},
			outcome: core.Allowed, headers: true,
		},
		// The counter key and the values share Gate's buffer; a long key leaves it to them.
		{name: "long key", key: strings.Repeat("k", 100), outcome: core.Allowed, headers: true},
		{name: "key filling the buffer", key: strings.Repeat("k", 70), outcome: core.Allowed, headers: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.cfg)
			h.decideN(tt.requests, request{path: "/api/x"})
			if tt.down {
				h.store.Fail(errBackendDown)
			}
			req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
			req.RemoteAddr = "203.0.113.7:41000"
			got := http.Header{}
			r, d := h.lim.Gate(core.Input{Request: req, Key: tt.key}, got)

			assert.Equal(t, tt.outcome, d.Outcome)
			want := http.Header{}
			d.WriteHeaders(want)
			assert.Equal(t, want, got)
			assert.Equal(t, tt.headers, len(got) > 0)

			fromCtx, ok := core.FromContext(r.Context())
			require.True(t, ok)
			assert.Same(t, d, fromCtx)
			assert.NotSame(t, req, r)
			_, ok = core.FromContext(req.Context())
			assert.False(t, ok, "the caller's request is not changed")
		})
	}
}

// TestGateContext: the context Gate derives keeps the parent's values and cancellation.
func TestGateContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	h := newHarness(t, config.Config{})
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	req := httptest.NewRequestWithContext(parent, http.MethodGet, "/", nil)
	r, _ := h.lim.Gate(core.Input{Request: req}, http.Header{})

	ctx := r.Context()
	assert.Equal(t, "v", ctx.Value(key{}))
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-child.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	_, ok := core.FromContext(context.Background())
	assert.False(t, ok)
}

func TestMustNew(t *testing.T) {
	t.Parallel()
	lim := core.MustNew(config.Config{}, core.WithStore(adaptertest.NewStore()))
	assert.NotNil(t, lim)
	assert.PanicsWithError(t, func() string {
		_, err := core.New(config.Config{Mode: "loud"}, core.WithStore(adaptertest.NewStore()))
		return err.Error()
	}(), func() { core.MustNew(config.Config{Mode: "loud"}, core.WithStore(adaptertest.NewStore())) })
}

// GateRule needs the limiter of a middleware that decided the request: without one the
// handler would be unlimited, a wiring mistake it reports loudly.
func TestGateRuleWithoutAMiddlewarePanics(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	assert.PanicsWithValue(t, "ratewarden: GateRule: no ratewarden middleware ran before this handler; add the adapter's middleware before the handler",
		func() { core.GateRule(r, http.Header{}, "login", "alice") })
}

// A skipper skips the middleware's rule, not the handler's explicit check: GateRule on a
// request the middleware let through decides under the named rule, the client identified
// as the middleware would have, consuming at once under count_statuses; FromContext still
// reports no decision for the skipped middleware (a new-user review saw a 500 instead).
func TestGateRuleDecidesARequestASkipperLetThrough(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		{Name: "login", Pattern: "/never", Limits: config.Limits{Limit: 2, Window: time.Minute}, CountStatuses: []int{http.StatusUnauthorized}},
	}})
	for i := range 3 {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = "10.0.0.7:41000"
		r = h.lim.Skipped(r)
		_, ok := core.FromContext(r.Context())
		assert.False(t, ok, "the skipped middleware decided nothing")
		header := http.Header{}
		r2, d := core.GateRule(r, header, "login", "")
		assert.Equal(t, "login", d.Rule())
		assert.Equal(t, "ip:10.0.0.7", d.ClientID())
		assert.Equal(t, i < 2, d.Proceed(), "request %d: consumed at once, as GateRule does", i+1)
		assert.Equal(t, `"login";q=2;w=60`, header.Get("RateLimit-Policy"))
		got, ok := core.FromContext(r2.Context())
		assert.True(t, ok)
		assert.Same(t, d, got, "the returned request carries the handler's decision")
	}
}

// With stacked limiters the innermost middleware's Limiter decides: when it skipped the
// request, GateRule decides with it, identifying the client afresh rather than taking an
// outer limiter's identity.
func TestGateRuleDecidesWithTheInnermostMiddlewaresLimiter(t *testing.T) {
	t.Parallel()
	outer := newHarness(t, config.Config{})
	inner := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		{Name: "login", Pattern: "/never", Limits: config.Limits{Limit: 1, Window: time.Minute}},
	}})
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "203.0.113.7:41000"
	r, _ = outer.lim.Gate(core.Input{Request: r, Key: "tenant-1"}, http.Header{})
	r = inner.lim.Skipped(r)
	for i := range 2 {
		_, d := core.GateRule(r, http.Header{}, "login", "")
		assert.Equal(t, "login", d.Rule(), "the inner limiter has the rule")
		assert.Equal(t, "ip:203.0.113.7", d.ClientID())
		assert.Equal(t, i == 0, d.Proceed())
	}
	assert.Equal(t, 1, outer.store.Len(), "the outer limiter decided once, before: %v", outer.store.Keys())
}

// A rule name no rule has is decided by the path, and logged: a typo in a handler's
// Allow would otherwise apply another limit silently (a new-user review).
func TestGateRuleWithAnUnknownNameIsLogged(t *testing.T) {
	h := newHarness(t, config.Config{})
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "203.0.113.7:41000"
	r, _ = h.lim.Gate(core.Input{Request: r}, http.Header{})
	for range 3 {
		_, d := core.GateRule(r, http.Header{}, "Login-Per-User", "bob")
		assert.Equal(t, "default", d.Rule())
	}
	assert.Equal(t, 1, strings.Count(h.log.String(), `"msg":"rate_limit_unknown_rule"`), h.log.String())
	assert.Contains(t, h.log.String(), `"rule":"Login-Per-User"`)
}

// GateRule with no key keeps the identity the middleware gave the client — a custom key
// (or a verified API key) — instead of falling back to its address (an attack review
// rotated addresses past a per-tenant rule that way).
func TestGateRuleWithNoKeyKeepsTheMiddlewaresIdentity(t *testing.T) {
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		{Name: "per-tenant", Pattern: "/never", Limits: config.Limits{Limit: 2, Window: time.Minute}},
	}})
	for i := range 4 {
		r := httptest.NewRequest(http.MethodPost, "/upload", nil)
		r.RemoteAddr = fmt.Sprintf("203.0.113.%d:41000", i+1) // a new address each time
		r, _ = h.lim.Gate(core.Input{Request: r, Key: "tenant-1"}, http.Header{})
		_, d := core.GateRule(r, http.Header{}, "per-tenant", "")
		assert.Equal(t, "key:tenant-1", d.ClientID())
		assert.Equal(t, i < 2, d.Proceed(), "request %d", i+1)
	}
}

// Under WithName, the rule name a decision reports ("search.login") names the rule too.
func TestGateRuleTakesTheNameDecisionsReport(t *testing.T) {
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		{Name: "login", Pattern: "/never", Limits: config.Limits{Limit: 2, Window: time.Minute}},
	}}, core.WithName("search"))
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "203.0.113.7:41000"
	r, _ = h.lim.Gate(core.Input{Request: r}, http.Header{})
	for _, name := range []string{"search.login", "login"} {
		_, d := core.GateRule(r, http.Header{}, name, "bob")
		assert.Equal(t, "search.login", d.Rule(), name)
	}
	_, d := core.GateRule(r, http.Header{}, "search.login", "bob")
	assert.False(t, d.Proceed(), "both names count on one rule")
}

// A second in-handler decision with no key counts under the middleware's client, not
// under the key of the first in-handler decision (a review rotated usernames past a
// per-client rule that way on gin and echo, whose Allow passes the new request on).
func TestGateRuleChainsKeepTheMiddlewaresClient(t *testing.T) {
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		{Name: "per-user", Pattern: "/never-user", Limits: config.Limits{Limit: 100, Window: time.Minute}},
		{Name: "per-client", Pattern: "/never-client", Limits: config.Limits{Limit: 3, Window: time.Minute}},
	}})
	for i := range 5 {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = "203.0.113.7:41000"
		r, _ = h.lim.Gate(core.Input{Request: r}, http.Header{})
		r, _ = core.GateRule(r, http.Header{}, "per-user", fmt.Sprintf("login:user%d", i))
		_, d := core.GateRule(r, http.Header{}, "per-client", "")
		assert.Equal(t, "ip:203.0.113.7", d.ClientID())
		assert.Equal(t, i < 3, d.Proceed(), "request %d", i+1)
	}
}

// A GateRule after a reload enabled a limiter whose middleware saw it disabled
// identifies the client itself instead of counting everyone under no identity.
func TestGateRuleAfterTheLimiterWasEnabled(t *testing.T) {
	h := newHarness(t, config.Config{Enabled: config.Bool(false)})
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "203.0.113.7:41000"
	r, _ = h.lim.Gate(core.Input{Request: r}, http.Header{})
	require.NoError(t, h.lim.Reload(config.Config{}))
	_, d := core.GateRule(r, http.Header{}, "default", "")
	assert.Equal(t, "ip:203.0.113.7", d.ClientID())
}

// TestRouteOfIsAskedOnlyWhenARuleNeedsIt: a route template that costs a lookup (chi's) is
// asked for only when an endpoint rule for the method does not match the path, once.
func TestRouteOfIsAskedOnlyWhenARuleNeedsIt(t *testing.T) {
	t.Parallel()
	endpoints := []config.Endpoint{
		{Name: "users", Pattern: "/api/v1/users/{id}", Limits: config.Limits{Limit: 5, Window: time.Minute}},
		{Name: "posts", Pattern: "/api/v1/posts/*", Methods: []string{"POST"}, Limits: config.Limits{Limit: 5, Window: time.Minute}},
	}
	for _, tt := range []struct {
		name      string
		endpoints []config.Endpoint
		method    string
		path      string
		route     string // what RouteOf answers
		rule      string
		asked     int
	}{
		{"only the default rule", nil, http.MethodGet, "/api/v1/users/42", "/api/v1/users/{id}", "default", 0},
		{"a rule matches the path", endpoints[:1], http.MethodGet, "/api/v1/users/42", "/api/v1/users/{id}", "users", 0},
		{"a rule for another method", endpoints[1:], http.MethodGet, "/x/y", "/api/v1/posts/{id}", "default", 0},
		{"a rule matches the template only", endpoints, http.MethodPost, "/x/y", "/api/v1/posts/{id}", "posts", 1},
		{"no rule matches either", endpoints, http.MethodPost, "/x/y", "/z", "default", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, config.Config{Endpoints: tt.endpoints})
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.RemoteAddr = "203.0.113.7:41000"
			asked := 0
			_, d := h.lim.Gate(core.Input{Request: req, RouteOf: func(r *http.Request) string {
				asked++
				assert.Equal(t, tt.path, r.URL.Path)
				return tt.route
			}}, http.Header{})
			assert.Equal(t, tt.rule, d.Rule())
			assert.Equal(t, tt.asked, asked)
		})
	}
}
