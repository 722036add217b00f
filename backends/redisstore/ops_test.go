package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

var ops = []rate.Op{rate.OpTake, rate.OpCheck, rate.OpConsume, rate.OpPeek}

// TestEveryOpAndResetIsOneRoundTrip: a check, a consume and a peek are one FCALL each (one
// EVALSHA without Redis Functions), like a take; a reset of three window lengths and the
// penalty is one UNLINK.
func TestEveryOpAndResetIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	for _, server := range servers {
		t.Run(server.name, func(t *testing.T) {
			t.Parallel()
			srv := server.start(t)
			obs := newObserver()
			store, counter := countingStore(t, srv, redisstore.WithObserver(obs))
			pen := &rate.PenaltyPolicy{Threshold: 2, Period: time.Minute, BaseCooldown: 10 * time.Second, Multiplier: 2, MaxCooldown: time.Minute}
			ctx := context.Background()
			for _, alg := range algorithms {
				p := policy(t, alg, pen, 3, time.Second, 5, time.Minute, 50, time.Hour)
				key := "ip:192.0.2.30:rt-" + alg.String()
				var res rate.Result
				require.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)) // loads the code
				for _, op := range ops {
					before := counter.n.Load()
					for range 10 {
						require.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: op}, &res))
					}
					assert.Equal(t, int64(10), counter.n.Load()-before, "%s: round trips for 10 %ss", alg, op)
					assert.Equal(t, server.command, counter.last.Load())
				}
				before := counter.n.Load()
				require.NoError(t, store.Reset(ctx, key, []time.Duration{time.Second, time.Minute, time.Hour}))
				assert.Equal(t, int64(1), counter.n.Load()-before, "%s: round trips for a reset", alg)
				assert.Equal(t, "unlink", counter.last.Load())
				assert.Zero(t, srv.Client().Exists(ctx, "ratelimit:{"+key+"}:1", "ratelimit:{"+key+"}:60", "ratelimit:{"+key+"}:3600", "ratelimit:{"+key+"}:penalty").Val())
			}
			for _, op := range []string{"check", "consume", "peek"} {
				assert.Equal(t, 10*len(algorithms), obs.op(op), "observations labelled %s", op)
			}
			assert.Equal(t, len(algorithms), obs.op("reset"))
		})
	}
}

// writeCommands are the commands the scripts write with.
var writeCommands = []string{"set", "zadd", "zremrangebyscore", "pexpire", "del", "unlink"}

// TestPeekAndAdmittedCheckWriteNothing: peeks — at the state's time, far later, and with
// the clock stepped back — and checks that admit, of a key with state in every window and
// a penalty and of a key without any, run no write command in the scripts and leave every
// key as it was. The one write a check may make is a sliding window's removal of the
// admissions that have left it (core/rate.Store, OpCheck): a check after both windows have
// passed removes both window keys, which then hold nothing, and leaves the penalty as it was.
func TestPeekAndAdmittedCheckWriteNothing(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = "pk"
	store := newStore(t, cfg, redisstore.WithRequestTime())
	c := srv.Client()
	ctx := context.Background()
	pen := &rate.PenaltyPolicy{Threshold: 5, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	t0 := time.Unix(1_764_158_400, 0)
	for _, alg := range algorithms {
		p := policy(t, alg, pen, 3, 10*time.Second, 10, time.Hour)
		key, fresh := "ip:192.0.2.31:"+alg.String(), "ip:192.0.2.32:"+alg.String()
		take := func(op rate.Op, k string, cost int64, at time.Time) rate.Result {
			var res rate.Result
			require.NoError(t, store.Take(ctx, &rate.Request{Key: k, Policy: p, Cost: cost, Now: at, Op: op}, &res))
			return res
		}
		require.True(t, take(rate.OpTake, key, 1, t0).Allowed)
		require.True(t, take(rate.OpTake, key, 1, t0.Add(time.Second)).Allowed)
		require.False(t, take(rate.OpTake, key, 3, t0.Add(time.Second)).Allowed, "a violation, no cooldown yet")

		keys, err := c.Keys(ctx, "pk:{"+key+"}*").Result()
		require.NoError(t, err)
		require.Len(t, keys, 3, "two windows and the penalty")
		dump := func() map[string]string {
			m := map[string]string{}
			for _, k := range keys {
				m[k] = c.Dump(ctx, k).Val()
			}
			return m
		}
		state := dump()
		writes := func() (n int) {
			stats := commandStats(t, c)
			for _, cmd := range writeCommands {
				n += stats[cmd]
			}
			return n
		}
		written := writes()
		for _, at := range []time.Duration{time.Second, 5 * time.Second, 2 * time.Minute, 3 * time.Hour, -time.Hour} {
			for _, k := range []string{key, fresh} {
				take(rate.OpPeek, k, 1, t0.Add(at))
				take(rate.OpPeek, k, 3, t0.Add(at))
			}
		}
		assert.True(t, take(rate.OpCheck, key, 1, t0.Add(time.Second)).Allowed, alg)
		assert.True(t, take(rate.OpCheck, fresh, 3, t0).Allowed, alg)
		assert.Equal(t, written, writes(), "%s: write commands run by peeks and admitted checks", alg)
		assert.Equal(t, state, dump(), alg)
		assert.Zero(t, c.Exists(ctx, "pk:{"+fresh+"}:10", "pk:{"+fresh+"}:3600", "pk:{"+fresh+"}:penalty").Val(), "%s: no key for a fresh client", alg)

		assert.True(t, take(rate.OpCheck, key, 2, t0.Add(3*time.Hour)).Allowed, alg)
		if alg == rate.SlidingWindow {
			assert.Equal(t, written+2, writes(), "%s: a DEL of each window, whose admissions all left it", alg)
			assert.Zero(t, c.Exists(ctx, "pk:{"+key+"}:10", "pk:{"+key+"}:3600").Val(), alg)
			penalty := "pk:{" + key + "}:penalty"
			assert.Equal(t, state[penalty], c.Dump(ctx, penalty).Val(), alg)
			continue
		}
		assert.Equal(t, written, writes(), "%s: write commands run by a check after the windows passed", alg)
		assert.Equal(t, state, dump(), alg)
	}
}

// TestResetDeletesTheListedLengthsAndThePenalty: Reset deletes the key's window of each
// length it is given and its penalty; a length it is not given keeps its state (to expire
// by its TTL), and other keys are untouched.
func TestResetDeletesTheListedLengthsAndThePenalty(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = "rs"
	store := newStore(t, cfg)
	c := srv.Client()
	ctx := context.Background()
	pen := &rate.PenaltyPolicy{Threshold: 1, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	for _, alg := range algorithms {
		short := policy(t, alg, pen, 2, time.Second, 5, time.Minute)
		long := policy(t, alg, pen, 2, time.Hour)
		key, other := "user:alice:"+alg.String(), "user:bob:"+alg.String()
		for _, k := range []string{key, other} {
			for _, p := range []*rate.Policy{short, long} {
				var res rate.Result
				require.NoError(t, store.Take(ctx, &rate.Request{Key: k, Policy: p, Cost: 2, Now: time.Now()}, &res))
				require.True(t, res.Allowed)
			}
			var res rate.Result
			require.NoError(t, store.Take(ctx, &rate.Request{Key: k, Policy: long, Cost: 1, Now: time.Now()}, &res))
			require.False(t, res.Allowed, "a violation: the penalty key")
		}
		names := func(k string) []string {
			keys, err := c.Keys(ctx, "rs:{"+k+"}*").Result()
			require.NoError(t, err)
			return keys
		}
		tagged := func(k string, suffixes ...string) []string {
			var out []string
			for _, s := range suffixes {
				out = append(out, fmt.Sprintf("rs:{%s}:%s", k, s))
			}
			return out
		}
		require.ElementsMatch(t, tagged(key, "1", "60", "3600", "penalty"), names(key))

		require.NoError(t, store.Reset(ctx, key, []time.Duration{time.Second, time.Minute, time.Second}))
		assert.ElementsMatch(t, tagged(key, "3600"), names(key), "%s: the length not listed is left to its TTL", alg)
		assert.ElementsMatch(t, tagged(other, "1", "60", "3600", "penalty"), names(other), alg)
		require.NoError(t, store.Reset(ctx, key, []time.Duration{time.Hour}))
		assert.Empty(t, names(key), alg)
	}
}

// TestResetForgetsLocalCacheDenials: a denial the local cache remembers (under any policy)
// would keep a reset client denied without asking Redis; Reset forgets it.
func TestResetForgetsLocalCacheDenials(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	obs := newObserver()
	store := newStore(t, redisConfig(config.RedisStandalone, true, srv.Addr()), redisstore.WithObserver(obs))
	basic := policy(t, rate.TokenBucket, nil, 1, time.Hour)
	premium := policy(t, rate.TokenBucket, nil, 2, time.Hour)
	key := "user:carol:login"
	take := func(p *rate.Policy, op rate.Op) rate.Result {
		var res rate.Result
		require.NoError(t, store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: op}, &res))
		return res
	}
	require.True(t, take(basic, rate.OpTake).Allowed)
	require.False(t, take(basic, rate.OpTake).Allowed)
	require.True(t, take(premium, rate.OpTake).Allowed)
	require.False(t, take(premium, rate.OpTake).Allowed)
	calls := obs.calls.Load()
	require.False(t, take(basic, rate.OpTake).Allowed)
	require.False(t, take(premium, rate.OpCheck).Allowed)
	require.Equal(t, calls, obs.calls.Load(), "the denials are answered locally, takes and checks alike")

	peek := take(basic, rate.OpPeek)
	assert.False(t, peek.Allowed)
	assert.Equal(t, int64(0), peek.Windows[0].Remaining)
	assert.Equal(t, 1, obs.op("peek"), "a peek asks Redis")

	require.NoError(t, store.Reset(context.Background(), key, []time.Duration{time.Hour}))
	assert.True(t, take(basic, rate.OpTake).Allowed, "not denied by a forgotten denial")
	assert.True(t, take(premium, rate.OpTake).Allowed)
	assert.False(t, take(premium, rate.OpTake).Allowed)
}

// TestResetResetsTheLocalFallback: with fail_mode "local" and Redis down, Reset fails (Redis
// still holds the state) but resets the in-process store that decides meanwhile.
func TestResetResetsTheLocalFallback(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	obs := newObserver()
	store := newStore(t, faultConfig(config.FailLocal, srv.Addr()), redisstore.WithObserver(obs))
	srv.Kill()
	p := policy(t, rate.FixedWindow, nil, 2, time.Hour)
	key := "ip:192.0.2.33:fallback"
	take := func() rate.Result {
		var res rate.Result
		require.NoError(t, store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res))
		require.True(t, res.Fallback)
		return res
	}
	for range 2 {
		require.True(t, take().Allowed)
	}
	require.False(t, take().Allowed)
	err := store.Reset(context.Background(), key, []time.Duration{time.Hour})
	require.ErrorIs(t, err, rate.ErrUnavailable)
	var e *redisstore.Error
	require.ErrorAs(t, err, &e)
	assert.Positive(t, obs.count(e.Kind))
	res := take()
	assert.True(t, res.Allowed, "the fallback store forgot the key")
	assert.Equal(t, int64(1), res.Windows[0].Remaining)
}
