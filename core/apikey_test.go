package core_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// keyDB is a key lookup over a map that counts its calls.
type keyDB struct {
	keys  map[string]core.Identity
	calls atomic.Int64
}

func (db *keyDB) lookup(_ context.Context, key string) (core.Identity, error) {
	db.calls.Add(1)
	if id, ok := db.keys[key]; ok {
		return id, nil
	}
	return core.Identity{}, core.ErrKeyNotFound
}

// The raw keys of the tests: none of them may ever reach a log, a counter key or a header.
const (
	premiumKey = "sk_live_premium_0123456789"
	plainKey   = "sk_live_plain_0123456789"
	unknownKey = "sk_live_unknown_0123456789"
)

func newKeyDB() *keyDB {
	return &keyDB{keys: map[string]core.Identity{
		premiumKey: {User: "cust-1", Tier: "premium"},
		plainKey:   {User: "cust-2"},
	}}
}

// apiKeyConfig enables API keys over a default of 5 a minute, premium 50, and a compute
// rule of 2 a minute, premium 20.
func apiKeyConfig() config.Config {
	return config.Config{
		// A lookup answers at once here; a budget far above the default 100 ms keeps a
		// loaded machine (-race, every package at once) from turning an answer into a
		// timeout. The tests of the timeout set their own, in synctest bubbles.
		APIKey:  config.APIKeyConfig{Enabled: true, Timeout: 10 * time.Second},
		Default: config.Limits{Limit: 5, Window: time.Minute},
		Tiers:   map[string]config.Limits{"premium": {Limit: 50, Window: time.Minute}},
		Endpoints: []config.Endpoint{{
			Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Limit: 2, Window: time.Minute},
			Tiers: map[string]config.Limits{"premium": {Limit: 20, Window: time.Minute}},
		}},
	}
}

func withKey(key string) http.Header { return http.Header{"X-Api-Key": {key}} }

// keyStore records the counter keys of a store's requests.
type keyStore struct {
	rate.Store
	mu   sync.Mutex
	keys []string
}

func (s *keyStore) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	s.mu.Lock()
	s.keys = append(s.keys, strings.Clone(req.Key))
	s.mu.Unlock()
	return s.Store.Take(ctx, req, res)
}

func TestAPIKeysIdentifyClientsWithTheirLookedUpTier(t *testing.T) {
	t.Parallel()
	db := newKeyDB()
	h := newHarness(t, apiKeyConfig(), core.WithKeyLookup(db.lookup))
	tests := []struct {
		name, key, client, tier string
		limit, computeLimit     int64
	}{
		{"premium key", premiumKey, "key:cust-1", "premium", 50, 20},
		{"key without a tier", plainKey, "key:cust-2", core.TierNone, 5, 2},
		{"unknown key", unknownKey, "ip:203.0.113.7", core.TierAnonymous, 5, 2},
		{"no key", "", "ip:203.0.113.7", core.TierAnonymous, 5, 2},
	}
	for _, tt := range tests {
		var header http.Header
		if tt.key != "" {
			header = withKey(tt.key)
		}
		d := h.decide(request{path: "/api/v1/test", header: header})
		assert.Equal(t, tt.client, d.ClientID(), tt.name)
		assert.Equal(t, tt.tier, d.Tier, tt.name)
		assert.Equal(t, tt.limit, d.Limit(), tt.name)
		d = h.decide(request{path: "/api/v1/compute", header: header})
		assert.Equal(t, tt.computeLimit, d.Limit(), tt.name)
	}
	// A key's client is its user id, from any address.
	d := h.decide(request{path: "/api/v1/test", remote: "198.51.100.20:1", header: withKey(premiumKey)})
	assert.Equal(t, core.ScopeKey, d.Scope())
	assert.Equal(t, "cust-1", d.ID())
	assert.EqualValues(t, 48, d.Remaining())
}

func TestAnAPIKeysCounterAndLogsNeverHoldTheRawKey(t *testing.T) {
	t.Parallel()
	db := newKeyDB()
	store := &keyStore{}
	h := newHarness(t, apiKeyConfig(), core.WithKeyLookup(db.lookup), core.WithStore(store))
	store.Store = h.store
	for _, key := range []string{plainKey, unknownKey} {
		for range 7 {
			h.decide(request{path: "/api/v1/test", header: withKey(key)})
		}
	}
	d := h.decide(request{path: "/api/v1/test", header: withKey(plainKey)})
	require.Equal(t, core.Denied, d.Outcome)
	assert.Contains(t, h.log.String(), `"client_id":"key:cust-2"`)
	assert.Contains(t, h.log.String(), `"scope":"key"`)
	for _, key := range []string{plainKey, unknownKey} {
		assert.NotContains(t, h.log.String(), key)
		for _, k := range store.keys {
			assert.NotContains(t, k, key)
		}
	}
	assert.Contains(t, store.keys, "key:cust-2:default")
	assert.Contains(t, store.keys, "ip:203.0.113.7:default", "an unknown key is counted by its IP")
}

func TestAPIKeyAnswersAreCachedForTheirTTLAndForgottenOnReload(t *testing.T) {
	t.Parallel()
	db := newKeyDB()
	cfg := apiKeyConfig()
	cfg.APIKey.CacheTTL = 10 * time.Second
	h := newHarness(t, cfg, core.WithKeyLookup(db.lookup))
	for range 3 {
		assert.Equal(t, "key:cust-1", h.decide(request{path: "/", header: withKey(premiumKey)}).ClientID())
		assert.Equal(t, "ip:203.0.113.7", h.decide(request{path: "/", header: withKey(unknownKey)}).ClientID())
	}
	assert.EqualValues(t, 2, db.calls.Load(), "one lookup per key: found and not found are both cached")

	h.clock.Advance(9 * time.Second)
	h.decide(request{path: "/", header: withKey(premiumKey)})
	h.decide(request{path: "/", header: withKey(unknownKey)})
	assert.EqualValues(t, 2, db.calls.Load(), "still cached")

	h.clock.Advance(time.Second)
	h.decide(request{path: "/", header: withKey(premiumKey)})
	h.decide(request{path: "/", header: withKey(unknownKey)})
	assert.EqualValues(t, 4, db.calls.Load(), "expired after cache_ttl")

	require.NoError(t, h.lim.Reload(cfg))
	h.decide(request{path: "/", header: withKey(premiumKey)})
	assert.EqualValues(t, 5, db.calls.Load(), "a reload forgets the answers")
	assert.NotContains(t, h.log.String(), "api_key_lookup_failed", "not found is a normal answer, not logged")
}

func TestAFailingKeyLookupIsAnonymousUncachedAndLoggedRateLimited(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	lookup := func(_ context.Context, key string) (core.Identity, error) {
		calls.Add(1)
		return core.Identity{}, fmt.Errorf("database down while looking up %s", key)
	}
	h := newHarness(t, apiKeyConfig(), core.WithKeyLookup(lookup))
	for range 3 {
		d := h.decide(request{path: "/", header: withKey(premiumKey)})
		assert.Equal(t, "ip:203.0.113.7", d.ClientID())
		assert.Equal(t, core.TierAnonymous, d.Tier)
	}
	assert.EqualValues(t, 3, calls.Load(), "failures are not cached")
	assert.Equal(t, 1, strings.Count(h.log.String(), `"msg":"api_key_lookup_failed"`), "at most one record a second: %s", h.log)
	assert.Contains(t, h.log.String(), `the lookup returned an error (*errors.errorString`)
	assert.NotContains(t, h.log.String(), "database down", "the lookup's words may quote the key in any form: not logged")
	assert.NotContains(t, h.log.String(), premiumKey)

	h.clock.Advance(time.Second)
	h.decide(request{path: "/", header: withKey(premiumKey)})
	assert.Equal(t, 2, strings.Count(h.log.String(), `"msg":"api_key_lookup_failed"`))
	assert.Contains(t, h.log.String(), `"suppressed":2`)
}

func TestKeyLookupsThatPanicOrAnswerNoUserAreFailures(t *testing.T) {
	t.Parallel()
	lookup := func(_ context.Context, key string) (core.Identity, error) {
		if key == "panics" {
			panic("lookup bug")
		}
		return core.Identity{Tier: "premium"}, nil
	}
	h := newHarness(t, apiKeyConfig(), core.WithKeyLookup(lookup))
	for _, key := range []string{"panics", "no-user"} {
		d := h.decide(request{path: "/", header: withKey(key)})
		assert.Equal(t, "ip:203.0.113.7", d.ClientID(), key)
		h.clock.Advance(time.Second) // past the log's rate limit
	}
	assert.Contains(t, h.log.String(), "the lookup panicked")
	assert.NotContains(t, h.log.String(), "lookup bug", "a panic's value may quote the key")
	assert.Contains(t, h.log.String(), "empty User")
}

// The lookup's timeout is fake time in a synctest bubble: nothing here waits on the wall
// clock, and the elapsed time is exact.
func TestAKeyLookupIsBoundedByTheTimeoutEvenWhenItIgnoresItsContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int64
		lookup := func(context.Context, string) (core.Identity, error) {
			calls.Add(1)
			<-release // ignores its context
			return core.Identity{User: "cust-1", Tier: "premium"}, nil
		}
		cfg := apiKeyConfig()
		cfg.APIKey.Timeout = 100 * time.Millisecond
		h := newHarness(t, cfg, core.WithKeyLookup(lookup))

		start := time.Now()
		d := h.decide(request{path: "/", header: withKey(premiumKey)})
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the request waited exactly api_key.timeout")
		assert.Equal(t, "ip:203.0.113.7", d.ClientID())
		assert.Contains(t, h.log.String(), `"kind":"timeout"`)

		// While the lookup hangs, other requests with the key wait for the same call.
		start = time.Now()
		d = h.decide(request{path: "/", header: withKey(premiumKey)})
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Equal(t, core.TierAnonymous, d.Tier)
		assert.EqualValues(t, 1, calls.Load())

		// Its late answer is cached all the same.
		close(release)
		synctest.Wait()
		start = time.Now()
		d = h.decide(request{path: "/", header: withKey(premiumKey)})
		assert.Zero(t, time.Since(start))
		assert.Equal(t, "key:cust-1", d.ClientID())
		assert.EqualValues(t, 1, calls.Load())
	})
}

func TestAKeyLookupThatHonoursItsContextGetsTheTimeoutAsDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var deadline time.Duration
		lookup := func(ctx context.Context, _ string) (core.Identity, error) {
			d, _ := ctx.Deadline()
			deadline = time.Until(d)
			<-ctx.Done()
			return core.Identity{}, ctx.Err()
		}
		cfg := apiKeyConfig()
		cfg.APIKey.Timeout = 250 * time.Millisecond
		h := newHarness(t, cfg, core.WithKeyLookup(lookup))
		start := time.Now()
		d := h.decide(request{path: "/", header: withKey(premiumKey)})
		assert.Equal(t, 250*time.Millisecond, time.Since(start))
		assert.Equal(t, core.TierAnonymous, d.Tier)
		synctest.Wait() // the lookup has returned
		assert.Equal(t, 250*time.Millisecond, deadline)
	})
}

func TestConcurrentLookupsOfOneKeyAreOneCall(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		db := newKeyDB()
		lookup := func(ctx context.Context, key string) (core.Identity, error) {
			<-release
			return db.lookup(ctx, key)
		}
		h := newHarness(t, apiKeyConfig(), core.WithKeyLookup(lookup))
		var wg sync.WaitGroup
		clients := make([]string, 20)
		for i := range clients {
			wg.Go(func() { clients[i] = h.decide(request{path: "/", header: withKey(premiumKey)}).ClientID() })
		}
		synctest.Wait() // every request waits for the one lookup
		close(release)
		wg.Wait()
		assert.EqualValues(t, 1, db.calls.Load())
		for _, c := range clients {
			assert.Equal(t, "key:cust-1", c)
		}
	})
}

func TestEnabledAPIKeysNeedALookupInCode(t *testing.T) {
	t.Parallel()
	_, err := core.New(apiKeyConfig(), core.WithStore(newHarness(t, config.Config{}).store))
	var invalid *config.ValidationError
	require.ErrorAs(t, err, &invalid)
	assert.ErrorContains(t, err, "api_key.enabled: is true, but no key lookup was given in code (core.WithKeyLookup)")

	h := newHarness(t, config.Config{})
	err = h.lim.Reload(apiKeyConfig())
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "api_key.enabled", invalid.Problems[0].Key)
	assert.Equal(t, core.TierAnonymous, h.decide(request{path: "/", header: withKey(premiumKey)}).Tier, "the old configuration stays")
}

func TestIdentityPrecedence(t *testing.T) {
	t.Parallel()
	cfg := apiKeyConfig()
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	h := newHarness(t, cfg, core.WithKeyLookup(newKeyDB().lookup))
	bearer := signHS256(t, testSecret, jwt.MapClaims{"sub": "alice", "tier": "premium", "exp": h.clock.Now().Add(time.Hour).Unix()})
	both := func(key string) http.Header { return http.Header{"X-Api-Key": {key}, "Authorization": {bearer}} }
	tests := []struct {
		name   string
		key    string // custom key
		header http.Header
		client string
	}{
		{"a custom key beats everything", "tenant-7", both(premiumKey), "key:tenant-7"},
		{"a verified API key beats a token", "", both(premiumKey), "key:cust-1"},
		{"an unknown API key falls through to the token", "", both(unknownKey), "user:alice"},
		{"a token beats the IP", "", http.Header{"Authorization": {bearer}}, "user:alice"},
		{"else the IP", "", withKey(unknownKey), "ip:203.0.113.7"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.client, h.decide(request{path: "/", key: tt.key, header: tt.header}).ClientID(), tt.name)
	}
}

func TestAnAPIKeysUserIDCanBeExempt(t *testing.T) {
	t.Parallel()
	cfg := apiKeyConfig()
	cfg.Exemptions.Users = []string{"cust-1"}
	h := newHarness(t, cfg, core.WithKeyLookup(newKeyDB().lookup))
	assert.Equal(t, core.Exempt, h.decide(request{path: "/", header: withKey(premiumKey)}).Outcome)
	assert.Equal(t, core.Allowed, h.decide(request{path: "/", header: withKey(plainKey)}).Outcome)
	assert.Equal(t, core.Allowed, h.decide(request{path: "/", key: "cust-1"}).Outcome, "a custom key is not verified: never exempt by id")
}

func TestTheKeyLookupGetsTheRequestsValuesAndMayWrapNotFound(t *testing.T) {
	t.Parallel()
	type ctxKey struct{}
	got := make(chan any, 1)
	lookup := func(ctx context.Context, _ string) (core.Identity, error) {
		got <- ctx.Value(ctxKey{})
		return core.Identity{}, fmt.Errorf("no such key: %w", core.ErrKeyNotFound)
	}
	h := newHarness(t, apiKeyConfig(), core.WithKeyLookup(lookup))
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.RemoteAddr = "203.0.113.7:1"
	req.Header.Set("X-API-Key", premiumKey)
	var d core.Decision
	h.lim.Decide(core.Input{Request: req}, &d)
	assert.Equal(t, "trace-1", <-got)
	assert.Equal(t, "ip:203.0.113.7", d.ClientID())
	assert.NotContains(t, h.log.String(), "api_key_lookup_failed", "an error wrapping ErrKeyNotFound is not found")
}

// Lookups that hang, ignoring their context, hold at most maxLookupsInFlight goroutines:
// random keys beyond that are anonymous at once (an attack review had 2,000 goroutines
// from 2,000 keys).
func TestHangingLookupsAreBounded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int64
	lookup := func(context.Context, string) (core.Identity, error) {
		calls.Add(1)
		<-release // ignores its context
		return core.Identity{}, core.ErrKeyNotFound
	}
	cfg := apiKeyConfig()
	cfg.APIKey.Timeout = time.Millisecond
	h := newHarness(t, cfg, core.WithKeyLookup(lookup))
	before := runtime.NumGoroutine()
	for i := range 2000 {
		d := h.decide(request{path: "/", header: withKey(fmt.Sprintf("random-%d", i))})
		require.Equal(t, "ip:203.0.113.7", d.ClientID())
	}
	assert.LessOrEqual(t, calls.Load(), int64(256), "lookups started")
	assert.Less(t, runtime.NumGoroutine()-before, 300, "goroutines left behind")
	assert.Contains(t, h.log.String(), "lookups already running")
	close(release)
}
