package redisstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// BenchmarkTake measures decisions against a local redis-server started by the harness:
// 10,000 distinct keys, limits high enough that requests are admitted, one window, server
// time, no local cache. Each decision is one EVALSHA round trip on loopback; parallel runs
// share the store's connection pool.
func BenchmarkTake(b *testing.B) {
	srv := redistest.StartServer(b)
	const nkeys = 10_000
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = "ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) + ":default"
	}
	for _, alg := range algorithms {
		limit := 1_000_000
		if alg == rate.SlidingWindow {
			limit = rate.MaxSlidingLimit
		}
		p := policy(b, alg, nil, limit, time.Minute)
		store := newStore(b, redisConfig(config.RedisStandalone, false, srv.Addr()))
		b.Run(alg.String()+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			var res rate.Result
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := store.Take(ctx, &rate.Request{Key: keys[i%nkeys], Policy: p, Cost: 1, Now: time.Now()}, &res); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(alg.String()+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8) // requests in flight per CPU: a server handler waits on Redis
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				var res rate.Result
				ctx := context.Background()
				for pb.Next() {
					k := keys[next.Add(1)%nkeys]
					if err := store.Take(ctx, &rate.Request{Key: k, Policy: p, Cost: 1, Now: time.Now()}, &res); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkTakeDeniedFlood measures one client flooding a key it is denied on, with and
// without the local cache, and reports the Redis calls per request.
func BenchmarkTakeDeniedFlood(b *testing.B) {
	srv := redistest.StartServer(b)
	p := policy(b, rate.TokenBucket, nil, 1, time.Hour)
	for _, cache := range []bool{true, false} {
		name := map[bool]string{true: "local_cache", false: "no_cache"}[cache]
		b.Run(name, func(b *testing.B) {
			obs := newObserver()
			cfg := redisConfig(config.RedisStandalone, cache, srv.Addr())
			cfg.KeyPrefix = "flood-" + name
			store := newStore(b, cfg, redisstore.WithObserver(obs))
			ctx := context.Background()
			req := rate.Request{Key: "ip:192.0.2.99:default", Policy: p, Cost: 1}
			var res rate.Result
			b.ReportAllocs()
			for b.Loop() {
				req.Now = time.Now()
				if err := store.Take(ctx, &req, &res); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(obs.calls.Load())/float64(b.N), "redis-calls/op")
		})
	}
}
