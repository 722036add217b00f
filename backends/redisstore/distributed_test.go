package redisstore_test

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// decide runs one request of client ip through lim.
func decide(lim *core.Limiter, ip string) core.Decision {
	r := httptest.NewRequest("GET", "/api/v1/test", nil)
	r.RemoteAddr = ip + ":40000"
	var d core.Decision
	lim.Decide(core.Input{Request: r}, &d)
	return d
}

// instances builds n limiters sharing Redis, each with a store and client of its own.
func instances(t *testing.T, n int, cfg config.Config, storeOpts []redisstore.Option, limOpts ...core.Option) []*core.Limiter {
	t.Helper()
	var lims []*core.Limiter
	for range n {
		s := newStore(t, cfg, storeOpts...)
		lim, err := core.New(cfg, append([]core.Option{core.WithStore(s)}, limOpts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { _ = lim.Close() })
		lims = append(lims, lim)
	}
	return lims
}

// TestDistributedAccuracy: three instances, each with its own store and connection pool,
// share one limit of 100 per minute: 40 + 35 + 25 requests pass, the 101st is denied on
// every instance, and 300 concurrent requests across the three admit exactly 100.
//
// Every algorithm runs at one fixed instant (request time), so no refill or window
// boundary can blur the count; sliding_window also runs on the server's clock.
func TestDistributedAccuracy(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	fixed := time.Unix(1_764_158_400, 0)
	type variant struct {
		alg        rate.Algorithm
		serverTime bool
	}
	variants := []variant{{rate.SlidingWindow, true}}
	for _, alg := range rate.Algorithms() {
		variants = append(variants, variant{alg, false})
	}
	for _, v := range variants {
		name := v.alg.String() + map[bool]string{true: "/server time", false: "/fixed instant"}[v.serverTime]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := redisConfig(config.RedisStandalone, true, srv.Addr())
			cfg.Algorithm = config.Algorithm(v.alg.String())
			cfg.KeyPrefix = fmt.Sprintf("acc-%s-%v", v.alg, v.serverTime)
			cfg.Default = config.Limits{Limit: 100, Window: time.Minute}
			var storeOpts []redisstore.Option
			var limOpts []core.Option
			if !v.serverTime {
				storeOpts = append(storeOpts, redisstore.WithRequestTime())
				limOpts = append(limOpts, core.WithClock(func() time.Time { return fixed }))
			}
			lims := instances(t, 3, cfg, storeOpts, limOpts...)

			for i, n := range []int{40, 35, 25} {
				for j := range n {
					d := decide(lims[i], "203.0.113.7")
					require.Equal(t, core.Allowed, d.Outcome, "instance %d, request %d", i, j)
					require.NoError(t, d.Err)
				}
			}
			for i, lim := range lims {
				d := decide(lim, "203.0.113.7")
				assert.Equal(t, core.Denied, d.Outcome, "the 101st request on instance %d", i)
				assert.Equal(t, int64(0), d.Remaining())
			}

			var admitted, denied atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 300 {
				wg.Go(func() {
					<-start
					switch d := decide(lims[i%3], "198.51.100.9"); d.Outcome {
					case core.Allowed:
						admitted.Add(1)
					case core.Denied:
						denied.Add(1)
					default:
						t.Errorf("outcome %s (%v)", d.Outcome, d.Err)
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Equal(t, int64(100), admitted.Load(), "admitted")
			assert.Equal(t, int64(200), denied.Load(), "denied")
		})
	}
}
