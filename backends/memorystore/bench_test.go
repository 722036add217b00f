package memorystore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// liveKeys is the number of distinct keys the benchmarks keep live: every key is created
// before the timer starts and each iteration decides a different one of them.
const liveKeys = 100_000

func benchKeys() []string {
	keys := make([]string, liveKeys)
	for i := range keys {
		keys[i] = "ip:10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":default"
	}
	return keys
}

func benchStore(b *testing.B, alg rate.Algorithm) (*memorystore.Store, *rate.Policy, []string) {
	p, err := rate.NewPolicy(alg, []rate.Window{{Limit: 1000, Period: time.Minute, Name: "default"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := memorystore.New(config.MemoryConfig{})
	b.Cleanup(func() { _ = s.Close() })
	keys := benchKeys()
	now := time.Now()
	var res rate.Result
	for _, k := range keys {
		if err := s.Take(context.Background(), &rate.Request{Key: k, Policy: p, Cost: 1, Now: now}, &res); err != nil {
			b.Fatal(err)
		}
	}
	if s.Len() != liveKeys {
		b.Fatalf("store holds %d keys, want %d", s.Len(), liveKeys)
	}
	return s, p, keys
}

// BenchmarkTake decides requests spread over 100,000 live keys, serially.
func BenchmarkTake(b *testing.B) {
	for _, alg := range rate.Algorithms() {
		b.Run(alg.String(), func(b *testing.B) {
			s, p, keys := benchStore(b, alg)
			req := rate.Request{Policy: p, Cost: 1, Now: time.Now()}
			var res rate.Result
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req.Key = keys[i%liveKeys]
				_ = s.Take(ctx, &req, &res)
			}
		})
	}
}

// BenchmarkTakeParallel decides requests spread over 100,000 live keys from GOMAXPROCS
// goroutines, each walking the keys from a different offset.
func BenchmarkTakeParallel(b *testing.B) {
	for _, alg := range rate.Algorithms() {
		b.Run(alg.String(), func(b *testing.B) {
			s, p, keys := benchStore(b, alg)
			var offset atomic.Int64
			ctx := context.Background()
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(offset.Add(7919))
				req := rate.Request{Policy: p, Cost: 1, Now: now}
				var res rate.Result
				for pb.Next() {
					req.Key = keys[i%liveKeys]
					_ = s.Take(ctx, &req, &res)
					i++
				}
			})
		})
	}
}
