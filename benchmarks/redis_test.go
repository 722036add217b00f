package benchmarks

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// The Redis comparison: the same limit (1,000 per minute, burst 1,000) over the same
// 10,000 distinct keys, on the same local redis-server, one decision per operation.
const (
	redisKeys  = 10_000
	redisLimit = 1000
)

func redisKeyset() []string {
	keys := make([]string, redisKeys)
	for i := range keys {
		keys[i] = "ip:10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":default"
	}
	return keys
}

// decider is one library's decision on a key.
type decider func(ctx context.Context, key string) (allowed bool, err error)

// BenchmarkRedis compares decisions per second of ratewarden's Redis store (each
// algorithm, one EVALSHA per decision, server time) with go-redis/redis_rate (GCRA, one
// EVALSHA per decision) on one redis-server, serial and with 16 requests in flight.
// Both use go-redis v9 with the same pool size; ratewarden's store also runs each decision
// under its redis.timeout budget and circuit breaker, which redis_rate has not, and
// returns per-window remaining, reset and retry-after. ratewarden's client speaks RESP2;
// redis_rate runs on a default (RESP3) client and on a RESP2 one.
func BenchmarkRedis(b *testing.B) {
	srv := redistest.StartServer(b)
	keys := redisKeyset()
	const poolSize = 32

	type namedDecider struct {
		name   string
		decide decider
	}
	var deciders []namedDecider
	// redis_rate on a go-redis client with default options (RESP3), as its README shows,
	// and on one with RESP2, as ratewarden's store configures its own.
	for _, proto := range []int{3, 2} {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: poolSize, Protocol: proto, DisableIdentity: true})
		b.Cleanup(func() { _ = rdb.Close() })
		peer := redis_rate.NewLimiter(rdb)
		limit := redis_rate.PerMinute(redisLimit)
		deciders = append(deciders, namedDecider{"redis_rate_resp" + strconv.Itoa(proto), func(ctx context.Context, key string) (bool, error) {
			res, err := peer.Allow(ctx, key, limit)
			if err != nil {
				return false, err
			}
			return res.Allowed > 0, nil
		}})
	}
	for _, alg := range rate.Algorithms() {
		cfg := config.Config{
			Backend: config.BackendRedis,
			// A 1s budget: this measures throughput, and a loaded machine can stall a
			// decision past the default 100ms (redis_rate has no budget at all).
			Redis: config.RedisConfig{Addrs: []string{srv.Addr()}, PoolSize: poolSize, Timeout: time.Second, LocalCache: config.Bool(false)},
		}
		store, err := redisstore.New(cfg)
		require.NoError(b, err)
		b.Cleanup(func() { _ = store.Close() })
		p, err := rate.NewPolicy(alg, []rate.Window{{Limit: redisLimit, Period: time.Minute, Name: "default"}}, nil)
		require.NoError(b, err)
		deciders = append(deciders, namedDecider{"ratewarden_" + alg.String(), func(ctx context.Context, key string) (bool, error) {
			var res rate.Result
			err := store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
			return res.Allowed, err
		}})
	}

	for _, d := range deciders {
		b.Run(d.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if _, err := d.decide(ctx, keys[i%redisKeys]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
		b.Run(d.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8) // 16 in flight on 2 CPUs
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := d.decide(ctx, keys[next.Add(1)%redisKeys]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// TestDeniedFloodRedisCalls counts, on the server (INFO commandstats), the script calls
// Redis receives while one client floods a key it is denied on: 5,000 requests against a
// limit of 10 per hour, with ratewarden's local cache on and off, and with redis_rate.
func TestDeniedFloodRedisCalls(t *testing.T) {
	srv := redistest.StartServer(t)
	const requests = 5000
	ctx := context.Background()
	scriptCalls := func() int {
		info, err := srv.Client().Info(ctx, "commandstats").Result()
		require.NoError(t, err)
		n := 0
		for line := range strings.SplitSeq(info, "\n") {
			for _, cmd := range []string{"cmdstat_evalsha:calls=", "cmdstat_eval:calls="} {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), cmd); ok {
					v, _, _ := strings.Cut(rest, ",")
					c, _ := strconv.Atoi(v)
					n += c
				}
			}
		}
		return n
	}
	p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: 10, Period: time.Hour, Name: "default"}}, nil)
	require.NoError(t, err)
	for _, cache := range []bool{true, false} {
		cfg := config.Config{Backend: config.BackendRedis, KeyPrefix: "flood" + strconv.FormatBool(cache),
			// The test counts Redis calls, not time: a budget far above the default 100 ms
			// keeps a loaded machine (every module's tests at once under -race) from
			// failing a call it is counting.
			Redis: config.RedisConfig{Addrs: []string{srv.Addr()}, LocalCache: config.Bool(cache), Timeout: 5 * time.Second}}
		store, err := redisstore.New(cfg)
		require.NoError(t, err)
		var warm rate.Result // loads the script (EVALSHA, NOSCRIPT, EVAL) before counting
		require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.2:default", Policy: p, Cost: 1, Now: time.Now()}, &warm))
		before, denied := scriptCalls(), 0
		start := time.Now()
		for range requests {
			var res rate.Result
			require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.1:default", Policy: p, Cost: 1, Now: time.Now()}, &res))
			if !res.Allowed {
				denied++
			}
		}
		calls := scriptCalls() - before
		t.Logf("ratewarden, local_cache=%-5v: %d requests (%d denied) in %s → %d Redis calls", cache, requests, denied, time.Since(start).Round(time.Millisecond), calls)
		if cache {
			require.Equal(t, 11, calls, "10 admissions and the first denial")
		} else {
			require.Equal(t, requests, calls)
		}
		require.NoError(t, store.Close())
	}

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	peer := redis_rate.NewLimiter(rdb)
	before := scriptCalls()
	start := time.Now()
	for range requests {
		_, err := peer.Allow(ctx, "ip:192.0.2.1:default", redis_rate.PerHour(10))
		require.NoError(t, err)
	}
	t.Logf("redis_rate:                %d requests in %s → %d Redis calls", requests, time.Since(start).Round(time.Millisecond), scriptCalls()-before)
}

// BenchmarkRedisPaired measures the same comparison in a way that holds on a machine whose
// load varies (a shared CI host): every iteration makes one decision with each library on
// the same key, alternating which goes first, and times each, so that both see the same
// load. It reports each library's mean latency per decision and their ratio (ratewarden /
// redis_rate: below 1 means ratewarden is faster). Serial only: with requests in flight
// the latencies are mostly queueing, shared by both. redis_rate runs on a RESP2 client,
// like ratewarden's.
func BenchmarkRedisPaired(b *testing.B) {
	srv := redistest.StartServer(b)
	keys := redisKeyset()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true})
	b.Cleanup(func() { _ = rdb.Close() })
	peer := redis_rate.NewLimiter(rdb)
	limit := redis_rate.PerMinute(redisLimit)
	theirs := func(ctx context.Context, key string) error {
		_, err := peer.Allow(ctx, "peer:"+key, limit)
		return err
	}
	for _, alg := range []rate.Algorithm{rate.TokenBucket, rate.GCRA} {
		store, err := redisstore.New(config.Config{
			Backend: config.BackendRedis,
			Redis:   config.RedisConfig{Addrs: []string{srv.Addr()}, Timeout: time.Second, LocalCache: config.Bool(false)},
		})
		require.NoError(b, err)
		b.Cleanup(func() { _ = store.Close() })
		p, err := rate.NewPolicy(alg, []rate.Window{{Limit: redisLimit, Period: time.Minute, Name: "default"}}, nil)
		require.NoError(b, err)
		ours := func(ctx context.Context, key string) error {
			var res rate.Result
			return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
		}
		b.Run(alg.String(), func(b *testing.B) {
			ctx := context.Background()
			var oursNs, theirsNs time.Duration
			i := 0
			for b.Loop() {
				key := keys[i%redisKeys]
				first, second, firstNs, secondNs := ours, theirs, &oursNs, &theirsNs
				if i%2 == 1 {
					first, second, firstNs, secondNs = theirs, ours, &theirsNs, &oursNs
				}
				t0 := time.Now()
				if err := first(ctx, key); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := second(ctx, key); err != nil {
					b.Fatal(err)
				}
				*firstNs += t1.Sub(t0)
				*secondNs += time.Since(t1)
				i++
			}
			b.ReportMetric(float64(oursNs)/float64(b.N), "ratewarden-ns/decision")
			b.ReportMetric(float64(theirsNs)/float64(b.N), "redis_rate-ns/decision")
			b.ReportMetric(float64(oursNs)/float64(theirsNs), "ratio")
		})
	}
}
