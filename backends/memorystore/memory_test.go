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
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, k := range keys {
		var res rate.Result
		require.NoError(t, s.Take(context.Background(), &rate.Request{Key: k, Policy: p, Cost: cost, Now: storetest.Base}, &res))
		require.True(t, res.Allowed)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Equal(t, n, s.Len())
	runtime.KeepAlive(keys)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestBytesPerIdleKey measures what a key decided once costs, per algorithm, at the limit
// that made a sliding window cost ~800 KB per key when its log was sized by the limit
// (100,000 per hour). It is not parallel, so that no other test allocates meanwhile.
func TestBytesPerIdleKey(t *testing.T) {
	bounds := map[rate.Algorithm]float64{ // measured about 195 B and 277 B
		rate.TokenBucket:   250,
		rate.GCRA:          250,
		rate.FixedWindow:   250,
		rate.SlidingWindow: 350,

		rate.SlidingWindowCounter: 250,
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
