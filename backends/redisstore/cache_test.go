package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// flood sends a request every step for span from one client, to a store with and one
// without the local cache, and requires the same decisions (allowed, retry-after,
// cooldown, violations) from both. It returns the Redis calls each made.
func flood(t *testing.T, srv *redistest.Server, p *rate.Policy, step, span time.Duration) (withCache, without int64, requests, allowed int) {
	t.Helper()
	obsOn, obsOff := newObserver(), newObserver()
	on := newStore(t, redisConfig(config.RedisStandalone, true, srv.Addr()), redisstore.WithRequestTime(), redisstore.WithObserver(obsOn))
	offCfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	offCfg.KeyPrefix = "nocache"
	off := newStore(t, offCfg, redisstore.WithRequestTime(), redisstore.WithObserver(obsOff))
	key := "ip:192.0.2.30:" + t.Name()
	for at := time.Duration(0); at < span; at += step {
		req := rate.Request{Key: key, Policy: p, Cost: 1, Now: storetest.Base.Add(at)}
		var a, b rate.Result
		r1, r2 := req, req
		require.NoError(t, on.Take(context.Background(), &r1, &a))
		require.NoError(t, off.Take(context.Background(), &r2, &b))
		require.Equal(t, b.Allowed, a.Allowed, "at %s", at)
		require.Equal(t, b.Cooldown, a.Cooldown, "at %s", at)
		require.Equal(t, b.Violations, a.Violations, "at %s", at)
		for i := range p.Windows {
			require.Equal(t, b.Windows[i].RetryAfter, a.Windows[i].RetryAfter, "at %s: retry-after of window %d", at, i)
		}
		requests++
		if a.Allowed {
			allowed++
		}
	}
	return int64(obsOn.count("")), int64(obsOff.count("")), requests, allowed
}

// TestLocalCacheSparesRedis: a client flooding a key it is denied on costs Redis at most
// one call per denial period with the local cache, one per request without; the answers
// are the same.
func TestLocalCacheSparesRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	for _, alg := range algorithms {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			// 2 per second; a request every 10 ms for 5 s: 500 requests, about 12 allowed.
			p := policy(t, alg, nil, 2, time.Second)
			on, off, requests, allowed := flood(t, srv, p, 10*time.Millisecond, 5*time.Second)
			denialPeriods := int64(5 * 2) // at most one denial answered by Redis per refill or window
			t.Logf("%d requests, %d allowed: %d Redis calls with the local cache, %d without", requests, allowed, on, off)
			assert.Equal(t, int64(requests), off)
			assert.LessOrEqual(t, on, int64(allowed)+denialPeriods+1)
		})
	}
}

// TestLocalCacheWithPenalty: with penalties, window denials (violations) still reach
// Redis, which counts them; only cooldown denials are answered locally.
func TestLocalCacheWithPenalty(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	pen := &rate.PenaltyPolicy{Threshold: 3, Period: time.Minute, BaseCooldown: 2 * time.Second, Multiplier: 2, MaxCooldown: 10 * time.Second}
	p := policy(t, rate.TokenBucket, pen, 1, time.Second)
	on, off, requests, allowed := flood(t, srv, p, 10*time.Millisecond, 20*time.Second)
	t.Logf("%d requests, %d allowed: %d Redis calls with the local cache, %d without", requests, allowed, on, off)
	assert.Equal(t, int64(requests), off)
	assert.Less(t, on, off/10)
}

// TestLocalCacheKeyedByPolicyAndClearedOnReload: a cached denial answers only its own
// policy, and Reloaded forgets it.
func TestLocalCacheKeyedByPolicyAndClearedOnReload(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	obs := newObserver()
	store := newStore(t, redisConfig(config.RedisStandalone, true, srv.Addr()), redisstore.WithObserver(obs))
	basic := policy(t, rate.TokenBucket, nil, 1, time.Hour)
	premium := policy(t, rate.TokenBucket, nil, 5, time.Hour)
	key := "user:alice:cache"
	take := func(p *rate.Policy) rate.Result {
		var res rate.Result
		require.NoError(t, store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res))
		return res
	}
	assert.True(t, take(basic).Allowed)
	first := take(basic)
	assert.False(t, first.Allowed)
	calls := obs.calls.Load()
	for range 20 {
		res := take(basic)
		assert.False(t, res.Allowed)
		assert.LessOrEqual(t, res.Windows[0].RetryAfter, first.Windows[0].RetryAfter, "the wait shrinks")
		assert.Greater(t, res.Windows[0].RetryAfter, first.Windows[0].RetryAfter-time.Minute)
	}
	assert.Equal(t, calls, obs.calls.Load(), "answered locally")

	assert.True(t, take(premium).Allowed, "another tier's policy is not answered from the cache")
	assert.Equal(t, calls+1, obs.calls.Load())

	store.Reloaded()
	assert.False(t, take(basic).Allowed)
	assert.Equal(t, calls+2, obs.calls.Load(), "after Reloaded the denial comes from Redis again")
}
