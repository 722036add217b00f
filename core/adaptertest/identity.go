package adaptertest

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// The API keys of the cases: what the lookup of [lookupKey] answers for each.
const (
	premiumKey = "sk_adaptertest_premium" // customer cust-1, tier premium
	unknownKey = "sk_adaptertest_unknown" // not found
	slowKey    = "sk_adaptertest_slow"    // no answer before the lookup's deadline
)

// keyTimeout is api_key.timeout in the cases; it passes in synctest's fake time.
const keyTimeout = 50 * time.Millisecond

// lookupKey is the application's key lookup of the cases.
func lookupKey(ctx context.Context, key string) (core.Identity, error) {
	switch key {
	case premiumKey:
		return core.Identity{User: "cust-1", Tier: "premium"}, nil
	case slowKey:
		<-ctx.Done()
		return core.Identity{}, ctx.Err()
	}
	return core.Identity{}, core.ErrKeyNotFound
}

// identityCases are the cases of SPEC section 2's API keys and rule scope.
func identityCases() []testCase {
	return []testCase{
		{
			name: "API keys: a premium key gets the tier's limits; unknown and timed-out keys are the IP's",
			config: config.Config{
				APIKey:  config.APIKeyConfig{Enabled: true, Timeout: keyTimeout},
				Default: perMinute(3),
				Tiers:   map[string]config.Limits{"premium": perMinute(10)},
				Endpoints: []config.Endpoint{{
					Name: "compute", Pattern: "/api/v1/compute", Limits: perMinute(2),
					Tiers: map[string]config.Limits{"premium": perMinute(5)},
				}},
			},
			options: []core.Option{core.WithKeyLookup(lookupKey)},
			run: func(t *testing.T, s *server) {
				premium := want{limit: 10, remaining: 9, resetIn: 6, name: "default", policy: `"default";q=10;w=60`}
				rec := s.allow(t, 1, request{apiKey: premiumKey})
				premium.check(t, s, rec)
				assert.Equal(t, Reply{Status: "ok", Decided: true, Outcome: "allowed", Rule: "default", Client: "key:cust-1", Tier: "premium"}, reply(t, rec))
				// The key's counter follows the key, not the address.
				rec = s.allow(t, 1, request{apiKey: premiumKey, remote: "198.51.100.30:1"})
				premium.remaining, premium.resetIn = 8, 12
				premium.check(t, s, rec)
				rec = s.allow(t, 1, request{apiKey: premiumKey, path: "/api/v1/compute"})
				want{limit: 5, remaining: 4, resetIn: 12, name: "compute", policy: `"compute";q=5;w=60`}.check(t, s, rec)

				// An unknown key is the client's address, anonymous.
				rec = s.allow(t, 1, request{apiKey: unknownKey})
				want{limit: 3, remaining: 2, resetIn: 20, name: "default", policy: `"default";q=3;w=60`}.check(t, s, rec)
				assert.Equal(t, Reply{Status: "ok", Decided: true, Outcome: "allowed", Rule: "default", Client: "ip:203.0.113.7", Tier: "anonymous"}, reply(t, rec))

				// A lookup without an answer holds the request for api_key.timeout, no longer,
				// and leaves it the address's too: the same counter.
				synctest.Test(t, func(t *testing.T) {
					start := time.Now()
					rec := s.allow(t, 1, request{apiKey: slowKey})
					assert.Equal(t, keyTimeout, time.Since(start))
					want{limit: 3, remaining: 1, resetIn: 40, name: "default", policy: `"default";q=3;w=60`}.check(t, s, rec)
					assert.Equal(t, "ip:203.0.113.7", reply(t, rec).Client)
					synctest.Wait() // the lookup has given up
				})

				// Rotating keys earns nothing: they all spend the address's counter.
				s.allow(t, 1, request{apiKey: "sk_adaptertest_random_1"})
				rec = s.deny(t, request{apiKey: "sk_adaptertest_random_2"})
				assert.Contains(t, rec.Body.String(), `"scope":"ip"`)
				for _, key := range []string{premiumKey, unknownKey, slowKey, "sk_adaptertest_random_2"} {
					for name, values := range rec.Header() {
						assert.NotContainsf(t, values, key, "header %s", name)
					}
					assert.NotContains(t, rec.Body.String(), key)
				}
				// The premium key is untouched by all that.
				s.allow(t, 1, request{apiKey: premiumKey})
			},
		},
		{
			name: "rule scope: ip counts the address even for users, global one counter for every client",
			config: jwtConfig(config.Config{
				Exemptions: config.ExemptionsConfig{IPs: []string{"198.51.100.0/24"}},
				Endpoints: []config.Endpoint{
					{Name: "compute", Pattern: "/api/v1/compute", Scope: config.ScopeGlobal, Limits: perMinute(2)},
					{
						Name: "users", Pattern: "/api/v1/users/{id}", Scope: config.ScopeIP, Limits: perMinute(2),
						Tiers: map[string]config.Limits{"premium": perMinute(5)},
					},
				},
			}),
			run: func(t *testing.T, s *server) {
				alice := token(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium"})
				bob := token(t, jwtSecret, jwt.MapClaims{"sub": "bob", "tier": "premium"})

				// ip: two users behind one address share its counter, with their tier's limits.
				rec := s.allow(t, 1, request{path: "/api/v1/users/1", token: alice, remote: "203.0.113.20:1"})
				want{limit: 5, remaining: 4, resetIn: 12, name: "users", policy: `"users";q=5;w=60`}.check(t, s, rec)
				assert.Equal(t, Reply{Status: "ok", Decided: true, Outcome: "allowed", Rule: "users", Client: "ip:203.0.113.20", Tier: "premium"}, reply(t, rec))
				rec = s.allow(t, 1, request{path: "/api/v1/users/2", token: bob, remote: "203.0.113.20:2"})
				assert.EqualValues(t, 3, remaining(t, rec))
				// Another address of alice's has a counter of its own.
				rec = s.allow(t, 1, request{path: "/api/v1/users/1", token: alice, remote: "203.0.113.21:1"})
				assert.EqualValues(t, 4, remaining(t, rec))

				// global: every client spends the one counter, whatever its tier.
				rec = s.allow(t, 1, request{path: "/api/v1/compute", token: alice})
				want{limit: 2, remaining: 1, resetIn: 30, name: "compute", policy: `"compute";q=2;w=60`}.check(t, s, rec)
				assert.Equal(t, Reply{Status: "ok", Decided: true, Outcome: "allowed", Rule: "compute", Client: "global", Tier: "premium"}, reply(t, rec))
				s.allow(t, 1, request{path: "/api/v1/compute", remote: "203.0.113.30:1"})
				rec = s.deny(t, request{method: http.MethodPost, path: "/api/v1/compute", remote: "203.0.113.31:1"})
				want{limit: 2, remaining: 0, resetIn: 60, name: "compute", policy: `"compute";q=2;w=60`, retryAfter: 30}.check(t, s, rec)
				assert.Contains(t, rec.Body.String(), `"scope":"global"`)
				// Exemptions still apply.
				rec = s.allow(t, 1, request{path: "/api/v1/compute", remote: "198.51.100.1:1"})
				noHeaders(t, rec)
				require.Equal(t, "exempt", reply(t, rec).Outcome)
			},
		},
	}
}
