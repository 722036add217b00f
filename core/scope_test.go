package core_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// scopeConfig has a rule per scope, each 2 a minute, with tokens and API keys on.
func scopeConfig() config.Config {
	rule := func(name, pattern string, scope config.Scope) config.Endpoint {
		e := endpoint(name, pattern, 2)
		e.Scope = scope
		return e
	}
	cfg := apiKeyConfig()
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	cfg.Exemptions.IPs = []string{"198.51.100.0/24"}
	cfg.Endpoints = []config.Endpoint{
		rule("compute", "/api/v1/compute", ""),
		rule("login", "/login", config.ScopeIP),
		rule("report", "/report", config.ScopeGlobal),
	}
	cfg.Endpoints[0].Tiers = map[string]config.Limits{"premium": {Limit: 20, Window: time.Minute}}
	cfg.Endpoints[1].Tiers = map[string]config.Limits{"premium": {Limit: 20, Window: time.Minute}}
	return cfg
}

func TestRuleScope(t *testing.T) {
	t.Parallel()
	store := &keyStore{}
	h := newHarness(t, scopeConfig(), core.WithKeyLookup(newKeyDB().lookup), core.WithStore(store))
	store.Store = h.store
	alice := http.Header{"Authorization": {signHS256(t, testSecret, jwt.MapClaims{"sub": "alice", "tier": "premium", "exp": h.clock.Now().Add(time.Hour).Unix()})}}

	t.Run("client: the identified client, with its tier", func(t *testing.T) {
		d := h.decide(request{path: "/api/v1/compute", header: alice})
		assert.Equal(t, "user:alice", d.ClientID())
		assert.EqualValues(t, 20, d.Limit())
	})

	t.Run("ip: the client address even for verified users and keys, with their tier", func(t *testing.T) {
		const remote = "203.0.113.50:1"
		d := h.decide(request{path: "/login", remote: remote, header: alice})
		assert.Equal(t, core.ScopeIP, d.Scope())
		assert.Equal(t, "ip:203.0.113.50", d.ClientID())
		assert.Equal(t, "premium", d.Tier)
		assert.EqualValues(t, 20, d.Limit())
		assert.EqualValues(t, 19, d.Remaining())
		d = h.decide(request{path: "/login", remote: remote, header: withKey(premiumKey)})
		assert.Equal(t, "ip:203.0.113.50", d.ClientID())
		assert.EqualValues(t, 18, d.Remaining(), "the user and the key share the address's counter")
		d = h.decide(request{path: "/login", remote: remote})
		assert.EqualValues(t, 2, d.Limit(), "an anonymous client of that address has the rule's own limit")
		assert.Equal(t, core.Denied, d.Outcome, "…and the counter the others spent")
		assert.Contains(t, store.keys, "ip:203.0.113.50:login")
	})

	t.Run("global: one counter for every client, the rule's own limits", func(t *testing.T) {
		clients := []request{
			{path: "/report", remote: "203.0.113.60:1"},
			{path: "/report", remote: "203.0.113.61:1", header: alice},
		}
		for i, r := range clients {
			d := h.decide(r)
			require.Equal(t, core.Allowed, d.Outcome)
			assert.Equal(t, core.ScopeGlobal, d.Scope())
			assert.Equal(t, core.GlobalID, d.ID())
			assert.Equal(t, "global", d.ClientID())
			assert.EqualValues(t, 2, d.Limit(), "tiers do not apply")
			assert.EqualValues(t, 1-i, d.Remaining())
		}
		d := h.decide(request{path: "/report", remote: "203.0.113.62:1", header: withKey(premiumKey)})
		assert.Equal(t, core.Denied, d.Outcome, "a third client meets the spent counter")
		assert.Contains(t, store.keys, "global:*:report")
		assert.Contains(t, h.log.String(), `"client_id":"global","scope":"global"`)

		rec := httptest.NewRecorder()
		d.WriteResponse(rec)
		assert.Contains(t, rec.Body.String(), `"scope":"global"`)

		d = h.decide(request{path: "/report", remote: "198.51.100.9:1"})
		assert.Equal(t, core.Exempt, d.Outcome, "exemptions still apply")
	})
}

// TestAGlobalRuleTakesNoPenalty: a rule with scope = "global" counts every client as one,
// so a penalty on it would let one client's flood lock every client out for up to
// max_cooldown (an hour by default) after the window has room again; it takes none, while
// the other rules of the configuration keep theirs (found by an attacker review).
func TestAGlobalRuleTakesNoPenalty(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Endpoints: []config.Endpoint{
		{Name: "reports", Pattern: "/reports", Scope: config.ScopeGlobal, Limits: config.Limits{Limit: 5, Window: time.Minute}},
		endpoint("compute", "/compute", 5),
	}}
	cfg.Penalty = config.PenaltyConfig{Enabled: true, Threshold: 3, Period: 10 * time.Minute, BaseCooldown: time.Minute, Multiplier: 2, MaxCooldown: time.Hour}
	h := newHarness(t, cfg)

	for range 600 { // one client floods both rules for ten minutes, a request a second
		for _, path := range []string{"/reports", "/compute"} {
			h.decide(request{path: path, remote: "192.0.2.66:1"})
		}
		h.clock.Advance(time.Second)
	}
	d := h.decide(request{path: "/compute", remote: "192.0.2.66:1"})
	assert.Positive(t, d.Cooldown(), "a client rule keeps the penalty")

	h.clock.Advance(61 * time.Second) // the global window has room again
	d = h.decide(request{path: "/reports", remote: "203.0.113.9:1"})
	assert.Equal(t, core.Allowed, d.Outcome, "another client of the global rule")
	assert.Zero(t, d.Cooldown())
	assert.Nil(t, d.Policy().Penalty)
}
