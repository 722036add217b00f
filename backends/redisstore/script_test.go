package redisstore_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// algorithms is every algorithm, for the tests that run each.
var algorithms = rate.Algorithms()

// commandCounter counts the commands a client sends: its round trips.
type commandCounter struct {
	n    atomic.Int64
	last atomic.Value // string
}

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		h.last.Store(cmd.Name())
		return next(ctx, cmd)
	}
}
func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// countingStore returns a store on srv whose client counts the commands it sends.
func countingStore(t *testing.T, srv *redistest.Server, opts ...redisstore.Option) (*redisstore.Store, *commandCounter) {
	counter := &commandCounter{}
	return hookedStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()), counter, opts...), counter
}

// servers are the two kinds of Redis a Store decides on: with Redis Functions, where a
// decision is an FCALL, and without (Redis before 7.0), where it is an EVALSHA. flush
// empties a server of the decision code, and reload is what the decision after a flush
// sends to load it again.
var servers = []struct {
	name, command string
	start         func(t *testing.T) *redistest.Server
	flush         func(ctx context.Context, c *redis.Client) error
	reload        map[string]int
}{
	{
		"functions", "fcall", func(t *testing.T) *redistest.Server { return redistest.StartServer(t) },
		func(ctx context.Context, c *redis.Client) error { return c.FunctionFlush(ctx).Err() },
		map[string]int{"fcall": 2, "function|load": 1}, // FCALL, Function not found, FUNCTION LOAD, FCALL again
	},
	{
		"scripts", "evalsha", startWithoutFunctions,
		func(ctx context.Context, c *redis.Client) error { return c.ScriptFlush(ctx).Err() },
		map[string]int{"evalsha": 1, "eval": 1}, // EVALSHA, NOSCRIPT, EVAL
	},
}

// TestOneRoundTripPerDecision: a decision over three windows with a penalty, allowed or
// denied, is one FCALL, or one EVALSHA without Redis Functions. The decisions are made
// at one instant (WithRequestTime): on the server's clock, a fixed window of a second
// that rolled over between them admitted more (seen once in CI: 4 allowed of 10).
func TestOneRoundTripPerDecision(t *testing.T) {
	t.Parallel()
	for _, server := range servers {
		t.Run(server.name, func(t *testing.T) {
			t.Parallel()
			store, counter := countingStore(t, server.start(t), redisstore.WithRequestTime())
			pen := &rate.PenaltyPolicy{Threshold: 2, Period: time.Minute, BaseCooldown: 10 * time.Second, Multiplier: 2, MaxCooldown: time.Minute}
			for _, alg := range algorithms {
				p := policy(t, alg, pen, 3, time.Second, 5, time.Minute, 50, time.Hour)
				req := &rate.Request{Key: "ip:192.0.2.20:rt-" + alg.String(), Policy: p, Cost: 1, Now: time.Now()}
				var res rate.Result
				require.NoError(t, store.Take(context.Background(), req, &res)) // loads the code
				before := counter.n.Load()
				allowed, denied := 0, 0
				for range 10 {
					require.NoError(t, store.Take(context.Background(), req, &res))
					if res.Allowed {
						allowed++
					} else {
						denied++
					}
				}
				assert.Equal(t, int64(10), counter.n.Load()-before, "%s: round trips for 10 decisions", alg)
				assert.Equal(t, server.command, counter.last.Load())
				assert.Equal(t, 2, allowed, alg)
				assert.Equal(t, 8, denied, alg)
			}
		})
	}
}

// TestFlush: a server emptied of the decision code between decisions — FUNCTION FLUSH, or
// SCRIPT FLUSH without Redis Functions, as after a restart without persistence or a
// failover to a node that never had it — costs the decision after it one load, and the
// counters go on.
func TestFlush(t *testing.T) {
	t.Parallel()
	for _, server := range servers {
		t.Run(server.name, func(t *testing.T) {
			t.Parallel()
			srv := server.start(t)
			store := newStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()))
			ctx := context.Background()
			for _, alg := range algorithms {
				p := policy(t, alg, nil, 10, time.Minute)
				req := &rate.Request{Key: "ip:192.0.2.21:flush-" + alg.String(), Policy: p, Cost: 1, Now: time.Now()}
				for i := range 3 {
					require.NoError(t, server.flush(ctx, srv.Client()))
					var res rate.Result
					require.NoError(t, store.Take(ctx, req, &res), "%s after a flush", alg)
					assert.True(t, res.Allowed)
					assert.Equal(t, int64(9-i), res.Windows[0].Remaining, alg)
				}
			}
			stats := commandStats(t, srv.Client())
			for _, cmd := range []string{"fcall", "function|load", "evalsha", "eval"} {
				assert.Equal(t, 3*len(algorithms)*server.reload[cmd], stats[cmd], "%s calls: those of one reload per flushed decision", cmd)
			}
		})
	}
}

// commandStats returns the calls of each command from INFO commandstats.
func commandStats(t *testing.T, c *redis.Client) map[string]int {
	info, err := c.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	stats := map[string]int{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		stats[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(n)
	}
	return stats
}

// TestKeysAndTTLs: after a decision, the keys exist with the documented names and a TTL
// that is positive and no longer than the state needs.
func TestKeysAndTTLs(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = "rl"
	store := newStore(t, cfg)
	c := srv.Client()
	ctx := context.Background()
	pen := &rate.PenaltyPolicy{Threshold: 1, Period: 30 * time.Second, BaseCooldown: 5 * time.Second, Multiplier: 2, MaxCooldown: 20 * time.Second}
	// The longest TTL each window's state needs after one unit of 10 per 10s and of 100
	// per hour: until the bucket is full again (one unit's refill: 1s and 36s), until the
	// arrival time passes (the same), to the end of the aligned window, or until the
	// admission leaves the window.
	want := map[rate.Algorithm][2]time.Duration{
		rate.TokenBucket:   {time.Second, 36 * time.Second},
		rate.GCRA:          {time.Second, 36 * time.Second},
		rate.FixedWindow:   {10 * time.Second, time.Hour},
		rate.SlidingWindow: {10 * time.Second, time.Hour},
		// until the window after the current one ends (the unit weighs on it)
		rate.SlidingWindowCounter: {20 * time.Second, 2 * time.Hour},
	}
	for _, alg := range algorithms {
		p := policy(t, alg, pen, 10, 10*time.Second, 100, time.Hour)
		key := "ip:192.0.2.22:ttl-" + alg.String()
		var res rate.Result
		require.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res))
		require.True(t, res.Allowed)
		for i, suffix := range []string{":10", ":3600"} {
			name := "rl:{" + key + "}" + suffix
			ttl := c.PTTL(ctx, name).Val()
			assert.Positive(t, ttl, "%s has a TTL", name)
			assert.LessOrEqual(t, ttl, want[alg][i]+time.Millisecond, "%s TTL", name)
			typ := map[bool]string{true: "zset", false: "string"}[alg == rate.SlidingWindow]
			assert.Equal(t, typ, c.Type(ctx, name).Val(), name)
		}
		penaltyKey := "rl:{" + key + "}:penalty"
		assert.Zero(t, c.Exists(ctx, penaltyKey).Val(), "no violation yet, no penalty key")

		require.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 10, Now: time.Now()}, &res))
		require.False(t, res.Allowed)
		require.Equal(t, 5*time.Second, res.Cooldown.Round(time.Second))
		ttl := c.PTTL(ctx, penaltyKey).Val()
		assert.Positive(t, ttl)
		assert.LessOrEqual(t, ttl, 30*time.Second+time.Millisecond, "max(cooldown end, newest violation + period)")
		assert.Greater(t, ttl, 25*time.Second)

		keys, err := c.Keys(ctx, "rl:{"+key+"}*").Result()
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"rl:{" + key + "}:10", "rl:{" + key + "}:3600", penaltyKey}, keys)
	}
	tag, nums, ok := redisstore.UnpackState(c.Get(ctx, "rl:{ip:192.0.2.22:ttl-token_bucket}:10").Val())
	require.True(t, ok)
	require.Len(t, nums, 3, "'t' <used> <last> <limit>")
	assert.Equal(t, byte('t'), tag)
	assert.Equal(t, uint64(10_000_000), nums[0], "1 unit used × 10 s in µs")
	assert.Equal(t, uint64(10), nums[2])
	tag, nums, ok = redisstore.UnpackState(c.Get(ctx, "rl:{ip:192.0.2.22:ttl-gcra}:3600").Val())
	require.True(t, ok)
	require.Len(t, nums, 4, "'G' <delay> <rem> <limit> <last>")
	assert.Equal(t, byte('G'), tag)
	assert.Equal(t, uint64(36_000_000), nums[0], "one unit of 100 per hour is 36 s of arrival time")
	assert.Equal(t, []uint64{0, 100}, nums[1:3])
	fields := strings.Fields(c.Get(ctx, "rl:{ip:192.0.2.22:ttl-token_bucket}:penalty").Val())
	require.Len(t, fields, 4, "penalty <sig> <until> <violations>")
	assert.Equal(t, "penalty", fields[0])
}

// TestServerTime: without WithRequestTime the scripts decide with the Redis server's
// TIME: a client clock a century off changes nothing, and the state carries server
// instants.
func TestServerTime(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = "st"
	store := newStore(t, cfg)
	ctx := context.Background()
	for _, alg := range algorithms {
		p := policy(t, alg, nil, 5, time.Minute)
		key := "ip:192.0.2.23:time-" + alg.String()
		var res rate.Result
		for i := range 6 {
			// Each request claims to come a century later than the one before: with the
			// client's clock every one of them would pass.
			now := time.Now().AddDate(100*i, 0, 0)
			require.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: now}, &res))
			assert.Equal(t, i < 5, res.Allowed, "%s request %d", alg, i)
		}
		assert.Positive(t, res.Windows[0].RetryAfter, alg)
		if alg != rate.FixedWindow { // a fixed window may be about to end
			assert.Greater(t, res.Windows[0].RetryAfter, 10*time.Second, alg)
		}
	}
	serverNow, err := srv.Client().Time(ctx).Result()
	require.NoError(t, err)
	tag, tb, ok := redisstore.UnpackState(srv.Client().Get(ctx, "st:{ip:192.0.2.23:time-token_bucket}:60").Val())
	require.True(t, ok)
	require.Len(t, tb, 3, "'t' <used> <last> <limit>")
	assert.Equal(t, byte('t'), tag)
	assert.InDelta(t, serverNow.UnixMicro(), tb[1], float64(10*time.Second/time.Microsecond), "the bucket's last change is a server instant")
	tag, fw, ok := redisstore.UnpackState(srv.Client().Get(ctx, "st:{ip:192.0.2.23:time-fixed_window}:60").Val())
	require.True(t, ok)
	require.Len(t, fw, 2, "'f' <count> <last>")
	assert.Equal(t, byte('f'), tag)
	assert.InDelta(t, serverNow.UnixMicro(), fw[1], float64(10*time.Second/time.Microsecond), "the window's last change is a server instant")
}

// TestAlgorithmChangeStartsFresh: a key whose state another algorithm wrote (a string of
// another layout or a sorted set) is decided fresh, as core does when the algorithm
// changes: from every algorithm to every other.
func TestAlgorithmChangeStartsFresh(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	store := newStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()), redisstore.WithRequestTime())
	now := time.Unix(1_764_158_400, 0)
	for _, from := range algorithms {
		for _, to := range algorithms {
			if to == from {
				continue
			}
			key := "ip:192.0.2.24:" + from.String() + "-" + to.String()
			for _, alg := range []rate.Algorithm{from, to} {
				p := policy(t, alg, nil, 3, time.Minute)
				var res rate.Result
				require.NoError(t, store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 3, Now: now}, &res), "%s then %s", from, to)
				assert.True(t, res.Allowed, "%s then %s: %s, fresh, admits its whole limit", from, to, alg)
				require.NoError(t, store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: now}, &res))
				assert.False(t, res.Allowed, "%s then %s: %s", from, to, alg)
			}
		}
	}
}

// A sliding window holds one member per admitted request, whatever its cost, plus the
// total: a request of cost 100,000 wrote 100,000 members (~12 MB, seconds of Redis time).
func TestASlidingWindowRequestOfAnyCostIsOneMember(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = "cost"
	store := newStore(t, cfg)
	p := policy(t, rate.SlidingWindow, nil, 100_000, time.Hour)
	ctx := context.Background()
	var res rate.Result
	require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.24:c", Policy: p, Cost: 100_000, Now: time.Now()}, &res))
	require.True(t, res.Allowed)
	assert.Equal(t, int64(0), res.Windows[0].Remaining)
	assert.Equal(t, int64(2), srv.Client().ZCard(ctx, "cost:{ip:192.0.2.24:c}:3600").Val(), "the request and the total")
	require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.24:c", Policy: p, Cost: 1, Now: time.Now()}, &res))
	assert.False(t, res.Allowed)
}

// TestForeignCooldownPastDuration: a penalty state another program wrote, whose cooldown
// ends 2^54 µs after 1970, is read as a cooldown in force (lua/decide.lua accepts ends up to
// 2^54): about 520 years from now, past what a time.Duration holds. The store answers
// it saturated at the largest Duration. Before, it wrapped to a negative Cooldown
// (−619026 h), a denial telling the client to retry at once. From an attack review.
func TestForeignCooldownPastDuration(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	store := newStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()))
	pen := &rate.PenaltyPolicy{Threshold: 1, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 1, MaxCooldown: time.Second}
	p, err := rate.NewPolicy(rate.FixedWindow, []rate.Window{{Name: "r", Limit: 3, Period: time.Second}}, pen)
	require.NoError(t, err)
	require.NoError(t, srv.Client().Set(ctx, "ratelimit:{ip:192.0.2.31:foreign}:penalty", "penalty x 18014398509481984 ", time.Minute).Err())
	var res rate.Result
	require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.31:foreign", Policy: p, Cost: 1, Now: time.Now()}, &res))
	assert.False(t, res.Allowed)
	assert.Equal(t, time.Duration(math.MaxInt64), res.Cooldown, "%+v", res)
}
