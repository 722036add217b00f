package benchmarks

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// growthSizes are the live key counts of BenchmarkMemoryGrowth (SPEC section 9: cost
// growth at 1k, 100k and 1M keys). With -short only the first runs, so that make test's
// bench-smoke stays fast.
var growthSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// BenchmarkMemoryGrowth is the memory store's decision at 1k, 100k and 1M live keys, for
// every algorithm: ns/op as in BenchmarkMemoryDecision (serial, each iteration the next
// key, at a core.CoarseClock's time), and B/key, the heap the store grew by from empty to holding the keys,
// measured after a GC once each key has had one request (a sliding window's log grows with every
// admission it holds: 8 bytes each).
func BenchmarkMemoryGrowth(b *testing.B) {
	for alg := rate.Algorithm(0); ; alg++ {
		if _, err := rate.ParseAlgorithm(alg.String()); err != nil {
			break // past the last algorithm
		}
		for _, size := range growthSizes {
			b.Run("alg="+alg.String()+"/keys="+size.name, func(b *testing.B) {
				if testing.Short() && size.n > growthSizes[0].n {
					b.Skip("-short: the first size only")
				}
				benchGrowth(b, alg, size.n)
			})
		}
	}
}

func benchGrowth(b *testing.B, alg rate.Algorithm, n int) {
	p, err := rate.NewPolicy(alg, []rate.Window{{Limit: memLimit, Period: memPeriod, Name: "default"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "ip:10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":default"
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	s := memorystore.New(config.MemoryConfig{MaxKeys: 2 * n, SweepInterval: memSweep})
	b.Cleanup(func() { _ = s.Close() })
	var clock core.CoarseClock
	b.Cleanup(clock.Stop)
	before := heap() // the empty store's shards are not the keys' cost
	ctx := context.Background()
	req := &rate.Request{Policy: p, Cost: 1}
	var res rate.Result
	for _, k := range keys {
		req.Key, req.Now = k, clock.Now()
		if err := s.Take(ctx, req, &res); err != nil || !res.Allowed {
			b.Fatalf("first request on %q: allowed %v, %v", k, res.Allowed, err)
		}
	}
	perKey := float64(heap()-before) / float64(n)
	if s.Len() != n {
		b.Fatalf("the store holds %d of %d keys", s.Len(), n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req.Key, req.Now = keys[i%n], clock.Now()
		if err := s.Take(ctx, req, &res); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(perKey, "B/key")
	runtime.KeepAlive(keys)
}
