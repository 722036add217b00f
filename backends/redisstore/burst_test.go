package redisstore_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// burstBudget is the decision budget of TestBurstIsDecidedByRedis: under -race on a
// loaded 2-core machine its slowest decision was measured at up to 1 s.
const burstBudget = 10 * time.Second

// burstSize is the burst of SPEC section 9: 1,500 concurrent requests on one instance.
const burstSize = 1500

// burstOutcome counts what a burst's requests got.
type burstOutcome struct {
	allowed, denied, failed int
	slowest                 time.Duration
}

// burst releases n goroutines together, each deciding one request of client ip through
// lim, and counts the outcomes.
func burst(lim *core.Limiter, ip string, n int) burstOutcome {
	var (
		mu    sync.Mutex
		out   burstOutcome
		wg    sync.WaitGroup
		ready sync.WaitGroup
	)
	start := make(chan struct{})
	ready.Add(n)
	for range n {
		// Built before the burst: the burst is the limiter's, not httptest's.
		r := httptest.NewRequest("GET", "/api/v1/test", nil)
		r.RemoteAddr = ip + ":40000"
		wg.Go(func() {
			ready.Done()
			<-start
			var d core.Decision
			begin := time.Now()
			lim.Decide(core.Input{Request: r}, &d)
			took := time.Since(begin)
			mu.Lock()
			defer mu.Unlock()
			out.slowest = max(out.slowest, took)
			switch {
			case !servedByRedis(d):
				out.failed++
			case d.Outcome == core.Allowed:
				out.allowed++
			default:
				out.denied++
			}
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	return out
}

// roundTrips counts what a client sends to Redis: pipelines (one write, one read of all
// the replies) and single commands.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// serverStat reads one integer field of INFO stats.
func serverStat(t *testing.T, srv *redistest.Server, field string) int {
	info, err := srv.Client().Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("INFO stats has no %s", field)
	return 0
}

// TestBurstIsDecidedByRedis is SPEC section 6's "load is not an outage" and section 9's
// burst: 1,500 requests of one client released together on one instance with the default
// redis settings against a limit of 5 per minute are all decided by Redis — exactly 5
// admitted, the rest denied, no error, the breaker still closed — and they share a few
// batched script calls on a few connections instead of queueing for a pooled connection
// each. Before batching, each decision took a connection of the pool (20 on 2 cores)
// for its own round trip: with the default 100 ms budget, decisions timed out waiting for
// one, the breaker opened and the instance failed open (up to 15 admitted).
//
// The budget here is burstBudget, not the default 100 ms, and the test asserts the
// mechanism — round trips and connections — rather than the time: on a loaded 2-core CI
// machine under -race, Redis alone may get too little CPU to run 1,500 scripts (≈ 22 ms
// of its time on an idle machine) within 100 ms whatever the client does. `make loadtest`
// measures the burst at the default budget, through an example app (benchmarks/README.md).
// Both a fresh Redis (every decision of the burst would find NOSCRIPT) and one that has
// the script are covered. Not parallel, so that the rest of the package's tests do not
// add to the machine's load while it runs.
func TestBurstIsDecidedByRedis(t *testing.T) {
	for _, warm := range []bool{false, true} {
		name := "fresh-redis"
		if warm {
			name = "script-loaded"
		}
		t.Run(name, func(t *testing.T) {
			srv := redistest.StartServer(t)
			cfg := config.Config{
				Backend: config.BackendRedis,
				Default: config.Limits{Limit: 5, Window: time.Minute},
				Redis:   config.RedisConfig{Addrs: []string{srv.Addr()}, Timeout: burstBudget},
			}
			client, err := redisstore.NewClient(cfg.Redis)
			require.NoError(t, err)
			t.Cleanup(func() { _ = client.Close() })
			hook := &roundTrips{}
			client.AddHook(hook)
			obs := newObserver()
			store, err := redisstore.NewWithClient(client, cfg, redisstore.WithObserver(obs))
			require.NoError(t, err)
			lim, err := core.New(cfg, core.WithStore(store), core.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)
			if warm {
				require.True(t, servedByRedis(decide(lim, "192.0.2.200")))
			}
			tripsBefore, connsBefore := hook.n.Load(), serverStat(t, srv, "total_connections_received")

			out := burst(lim, "192.0.2.201", burstSize)
			trips, conns := hook.n.Load()-tripsBefore, serverStat(t, srv, "total_connections_received")-connsBefore
			t.Logf("burst of %d: %d admitted, %d denied, %d not decided by Redis, slowest %s, breaker %s, errors %v, %d round trips, %d new connections",
				burstSize, out.allowed, out.denied, out.failed, out.slowest, redisstore.BreakerState(store), obs.kinds, trips, conns)
			assert.Zero(t, out.failed, "requests not decided by Redis")
			assert.Equal(t, 5, out.allowed, "admitted")
			assert.Equal(t, burstSize-5, out.denied, "denied")
			assert.Equal(t, "closed", redisstore.BreakerState(store))
			for kind, n := range obs.kinds {
				assert.Empty(t, kind, "%d backend errors of kind %s", n, kind)
			}
			// At most two script calls in flight (the next batch is written while the last
			// one's reply is read), with room for a spill.
			assert.LessOrEqual(t, conns, 4, "connections opened by the burst")
			assert.LessOrEqual(t, trips, int64(burstSize/10), "round trips for %d decisions", burstSize)
		})
	}
}
