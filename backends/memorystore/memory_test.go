package memorystore_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// bytesPerKey measures the heap one idle key costs: n keys decided once each under p, with
// requests of cost units.
func bytesPerKey(t *testing.T, p *rate.Policy, n int, cost int64) float64 {
	s := memorystore.New(config.MemoryConfig{MaxKeys: 4 * n})
	defer func() { _ = s.Close() }()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:10.%d.%d.%d:default", i>>16, i>>8&255, i&255)
	}
	grown := heapGrowth(func() {
		for _, k := range keys {
			takeAllowed(t, s, k, p, cost, storetest.Base)
		}
	})
	require.Equal(t, n, s.Len())
	runtime.KeepAlive(keys)
	return float64(grown) / float64(n)
}

// heapGrowth returns how much live heap f added, from one GC to another. It collects twice
// first: sync.Pool's objects outlive one GC, and freed by the next during f they would
// count against it.
func heapGrowth(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

func takeAllowed(t *testing.T, s rate.Store, key string, p *rate.Policy, cost int64, at time.Time) {
	var res rate.Result
	require.NoError(t, s.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: cost, Now: at}, &res))
	require.True(t, res.Allowed, "%s at %s", key, at)
}

// TestBytesPerIdleKey measures what a key decided once costs, per algorithm, at the limit
// that made a sliding window cost ~800 KB per key when its log was sized by the limit
// (100,000 per hour). It is not parallel, so that no other test allocates meanwhile.
func TestBytesPerIdleKey(t *testing.T) {
	bounds := map[rate.Algorithm]float64{ // measured about 159 B and 238 B (SPEC 9: ≤ 200 B)
		rate.TokenBucket:   200,
		rate.GCRA:          200,
		rate.FixedWindow:   200,
		rate.SlidingWindow: 300,

		rate.SlidingWindowCounter: 200,
	}
	for _, alg := range rate.Algorithms() {
		limit := int64(100_000)
		p, err := rate.NewPolicy(alg, []rate.Window{{Limit: limit, Period: time.Hour, Name: "default"}}, nil)
		require.NoError(t, err)
		b := bytesPerKey(t, p, 20_000, 1)
		t.Logf("%s %d/1h: %.0f bytes per idle key", alg, limit, b)
		require.Less(t, b, bounds[alg], "%s: memory per key", alg)
	}
}

// A sliding window keeps one entry per admitted request, whatever its cost: a request of
// cost 100,000 stored 100,000 timestamps (~1 MB per key) when the log held one per unit.
func TestASlidingWindowRequestOfAnyCostIsOneEntry(t *testing.T) {
	p, err := rate.NewPolicy(rate.SlidingWindow, []rate.Window{{Limit: 100_000, Period: time.Hour, Name: "default"}}, nil)
	require.NoError(t, err)
	b := bytesPerKey(t, p, 2_000, 100_000)
	t.Logf("sliding_window 100000/1h, one request of cost 100000: %.0f bytes per key", b)
	require.Less(t, b, 350.0)
}

// A sliding window's log follows the requests in its window both ways: it grows with them
// and gives the memory back once they have left it, at the key's next admission (and the
// sweeper forgets a key none of whose requests is left). 200 keys of 1,000 requests each,
// one a second, hold about 16 KB each; an hour later, one request each brings every key
// back to the size of a key decided once.
func TestASlidingWindowLogShrinksAsItsRequestsLeaveTheWindow(t *testing.T) {
	p, err := rate.NewPolicy(rate.SlidingWindow, []rate.Window{{Limit: 100_000, Period: time.Hour, Name: "default"}}, nil)
	require.NoError(t, err)
	const n, requests = 200, 1000
	s := memorystore.New(config.MemoryConfig{MaxKeys: 4 * n})
	defer func() { _ = s.Close() }()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:10.0.%d.%d:default", i>>8, i&255)
	}
	full := heapGrowth(func() {
		for r := range requests {
			for _, k := range keys {
				takeAllowed(t, s, k, p, 1, storetest.Base.Add(time.Duration(r)*time.Second))
			}
		}
	})
	trimmed := full + heapGrowth(func() {
		for _, k := range keys {
			takeAllowed(t, s, k, p, 1, storetest.Base.Add(requests*time.Second+time.Hour))
		}
	})
	runtime.KeepAlive(keys)
	t.Logf("sliding_window 100000/1h: %d B per key holding %d requests, %d B once they left the window",
		full/n, requests, trimmed/n)
	require.Greater(t, full/n, int64(requests*16), "a log entry is 16 bytes")
	require.Less(t, trimmed/n, int64(350), "the log shrank with the requests it holds")
}
