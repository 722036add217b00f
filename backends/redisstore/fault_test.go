package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// faultBudget is the decision budget (redis.timeout) of the fault tests.
const faultBudget = 150 * time.Millisecond

// schedulingAllowance is how much later than its budget a failing decision may return.
// The budget is enforced by a context deadline that go-redis turns into socket deadlines;
// once it passes, the runtime's timer and network poller must wake the goroutine, which on
// a 2-core machine running -race alongside other test processes takes up to a few tens of
// milliseconds (measured: see docs/redis.md). 100ms bounds that with a margin, and is
// still far below what a retry or a second dial would add.
const schedulingAllowance = 100 * time.Millisecond

// faultConfig is a 5-per-minute limit on Redis at addr with short breaker settings.
func faultConfig(failMode config.FailMode, addr string) config.Config {
	cfg := redisConfig(config.RedisStandalone, false, addr)
	cfg.FailMode = failMode
	cfg.Default = config.Limits{Limit: 5, Window: time.Minute}
	cfg.Redis.Timeout = faultBudget
	cfg.Redis.PoolSize = 50 // more than the dials before the breaker opens: go-redis's own dial breaker stays out of it
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: 300 * time.Millisecond}
	return cfg
}

// timedDecide decides one request and returns how long it took.
func timedDecide(lim *core.Limiter, ip string) (core.Decision, time.Duration) {
	start := time.Now()
	d := decide(lim, ip)
	return d, time.Since(start)
}

// servedByRedis reports whether d was decided by Redis.
func servedByRedis(d core.Decision) bool {
	return d.Err == nil && !d.Fallback() && (d.Outcome == core.Allowed || d.Outcome == core.Denied)
}

// TestRedisKilledMidTraffic kills Redis between decisions: "open" admits, "closed"
// answers 503 with a Retry-After, "local" keeps limiting in-process; no decision takes
// longer than its budget; the breaker opens; after a restart the decisions return to
// Redis by themselves.
func TestRedisKilledMidTraffic(t *testing.T) {
	t.Parallel()
	for _, mode := range []config.FailMode{config.FailOpen, config.FailClosed, config.FailLocal} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			srv := redistest.StartServer(t)
			obs := newObserver()
			var logs syncBuffer
			cfg := faultConfig(mode, srv.Addr())
			store := newStore(t, cfg, redisstore.WithObserver(obs), redisstore.WithLogger(jsonLogger(&logs)))
			lim, err := core.New(cfg, core.WithStore(store))
			require.NoError(t, err)

			for range 2 {
				d := decide(lim, "192.0.2.1")
				require.True(t, servedByRedis(d), "before the kill: %s %v", d.Outcome, d.Err)
			}

			srv.Kill()
			var slowest time.Duration
			for i := range 12 {
				d, took := timedDecide(lim, "192.0.2.1")
				slowest = max(slowest, took)
				switch mode {
				case config.FailOpen:
					require.Equal(t, core.FailedOpen, d.Outcome, "request %d", i)
					require.ErrorIs(t, d.Err, rate.ErrUnavailable)
					var e *redisstore.Error
					require.ErrorAs(t, d.Err, &e)
					assert.Contains(t, []rate.ErrorKind{rate.KindConnection, rate.KindCircuitOpen}, e.Kind)
				case config.FailClosed:
					require.Equal(t, core.Unavailable, d.Outcome, "request %d", i)
					rec := httptest.NewRecorder()
					d.WriteResponse(rec)
					assert.Equal(t, 503, rec.Code)
					ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
					require.NoError(t, err, "Retry-After %q", rec.Header().Get("Retry-After"))
					assert.GreaterOrEqual(t, ra, 1)
					assert.NotContains(t, rec.Body.String(), "refused", "the backend error stays out of the body")
				case config.FailLocal:
					require.NoError(t, d.Err)
					require.True(t, d.Fallback(), "request %d decided locally", i)
					// The local store starts empty: 5 admitted, then denied.
					want := core.Denied
					if i < 5 {
						want = core.Allowed
					}
					require.Equal(t, want, d.Outcome, "request %d", i)
				}
			}
			t.Logf("slowest decision with Redis down: %s (budget %s)", slowest, faultBudget)
			assert.LessOrEqual(t, slowest, faultBudget+schedulingAllowance)
			assert.GreaterOrEqual(t, obs.count(rate.KindConnection), 3, "failures before the breaker opened")
			assert.Positive(t, obs.count(rate.KindCircuitOpen), "fast failures once open")
			assert.Contains(t, logs.String(), `"msg":"redis_error"`)
			assert.Contains(t, logs.String(), `"msg":"redis_circuit_breaker"`)

			srv.Restart()
			var back time.Duration
			start := time.Now()
			eventually(t, 10*time.Second, "decisions served by Redis again", func() bool {
				return servedByRedis(decide(lim, "192.0.2.1"))
			})
			back = time.Since(start)
			t.Logf("back on Redis %s after the restart", back)
		})
	}
}

// TestBudgetHoldsWhenRedisHangs freezes Redis (SIGSTOP: connections are accepted by the
// kernel, never answered), the worst case for a time budget: every decision, concurrent
// ones included, returns within redis.timeout (plus the scheduling allowance), as a
// timeout, until the breaker fails fast.
func TestBudgetHoldsWhenRedisHangs(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	obs := newObserver()
	cfg := faultConfig(config.FailOpen, srv.Addr())
	cfg.Redis.CircuitBreaker.FailureThreshold = 30 // let the concurrent wave reach Redis
	store := newStore(t, cfg, redisstore.WithObserver(obs))
	lim, err := core.New(cfg, core.WithStore(store))
	require.NoError(t, err)
	require.True(t, servedByRedis(decide(lim, "192.0.2.2")))

	freeze(t, srv)
	var mu sync.Mutex
	var durations []time.Duration
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			d, took := timedDecide(lim, "192.0.2."+strconv.Itoa(10+i))
			assert.Equal(t, core.FailedOpen, d.Outcome)
			mu.Lock()
			durations = append(durations, took)
			mu.Unlock()
		})
	}
	wg.Wait()
	slowest := time.Duration(0)
	for _, d := range durations {
		slowest = max(slowest, d)
	}
	t.Logf("20 concurrent decisions against a frozen Redis: slowest %s (budget %s)", slowest, faultBudget)
	assert.LessOrEqual(t, slowest, faultBudget+schedulingAllowance)
	assert.GreaterOrEqual(t, slowest, faultBudget-time.Millisecond, "they waited for Redis")
	assert.Equal(t, 20, obs.count(rate.KindTimeout))
}

// freeze stops the server's process (SIGSTOP) until the test ends, or until the returned
// function resumes it.
func freeze(t *testing.T, srv *redistest.Server) (resume func()) {
	t.Helper()
	info, err := srv.Client().Info(context.Background(), "server").Result()
	require.NoError(t, err)
	var pid int
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err = strconv.Atoi(v)
			require.NoError(t, err)
		}
	}
	require.Positive(t, pid)
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	resume = func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(resume)
	return resume
}

// TestBreakerStopsHammering: once the breaker is open, decisions fail fast as
// circuit_open and the client dials nothing until the probe; the probe after open_timeout
// brings the store back to Redis by itself.
func TestBreakerStopsHammering(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := faultConfig(config.FailClosed, srv.Addr())
	const openTimeout = 2 * time.Second
	cfg.Redis.CircuitBreaker.OpenTimeout = openTimeout
	client, err := redisstore.NewClient(cfg.Redis)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	dials := &netCounter{}
	client.AddHook(dials)
	obs := newObserver()
	store, err := redisstore.NewWithClient(client, cfg, redisstore.WithObserver(obs))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)
	take := func() (time.Duration, error) {
		var res rate.Result
		start := time.Now()
		err := store.Take(context.Background(), &rate.Request{Key: "ip:192.0.2.3:default", Policy: p, Cost: 1, Now: time.Now()}, &res)
		return time.Since(start), err
	}
	_, err = take()
	require.NoError(t, err)

	srv.Kill()
	var opened time.Time
	for i := 0; opened.IsZero(); i++ {
		require.Less(t, i, 10, "the breaker never opened")
		_, err := take()
		var e *redisstore.Error
		require.ErrorAs(t, err, &e)
		if e.Kind == rate.KindCircuitOpen {
			opened = time.Now()
			assert.Equal(t, 3, i, "opened after failure_threshold consecutive failures")
			assert.Greater(t, e.RetryAfter(), openTimeout/2, "Retry-After: the time until the probe")
			assert.LessOrEqual(t, e.RetryAfter(), openTimeout)
		}
	}
	before := dials.dials.Load()
	for range 50 {
		took, err := take()
		require.ErrorIs(t, err, redisstore.ErrCircuitOpen)
		assert.Less(t, took, 20*time.Millisecond, "a fast failure")
	}
	if time.Since(opened) < openTimeout {
		assert.Equal(t, before, dials.dials.Load(), "no dial while the breaker is open")
	}
	assert.GreaterOrEqual(t, obs.count(rate.KindCircuitOpen), 51)

	srv.Restart()
	eventually(t, openTimeout+10*time.Second, "the probe closes the breaker", func() bool {
		_, err := take()
		return err == nil
	})
	assert.Greater(t, dials.dials.Load(), before, "the probe dialed")
}

// TestErrorsLoggedOncePerSecondPerKind: an outage produces a trickle of error records,
// not one per request.
func TestErrorsLoggedOncePerSecondPerKind(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	var logs syncBuffer
	cfg := faultConfig(config.FailOpen, srv.Addr())
	cfg.Redis.CircuitBreaker.FailureThreshold = 1000
	store := newStore(t, cfg, redisstore.WithLogger(jsonLogger(&logs)))
	srv.Kill()
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)
	start := time.Now()
	for range 50 {
		var res rate.Result
		err := store.Take(context.Background(), &rate.Request{Key: "ip:192.0.2.4:default", Policy: p, Cost: 1, Now: time.Now()}, &res)
		require.True(t, errors.Is(err, rate.ErrUnavailable))
	}
	elapsed := time.Since(start)
	records := strings.Count(logs.String(), `"msg":"redis_error"`)
	t.Logf("50 failures in %s: %d records", elapsed, records)
	assert.GreaterOrEqual(t, records, 1)
	assert.LessOrEqual(t, records, int(elapsed/time.Second)+1)
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), `"kind":"connection"`)
}

// TestACallerThatGivesUpIsNoRedisFailure: a decision whose caller's context is canceled —
// before it is sent, or while Redis holds it — returns context.Canceled: no backend error is observed or logged, and fail_mode "local" does not decide
// it in-process, which would count it apart from Redis (the breaker ignores it too).
func TestACallerThatGivesUpIsNoRedisFailure(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.FailMode = config.FailLocal
	var logs bytes.Buffer
	obs := newObserver()
	store := newStore(t, cfg, redisstore.WithObserver(obs), redisstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	p := policy(t, rate.TokenBucket, nil, 5, time.Minute)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	var res rate.Result
	err := store.Take(canceled, &rate.Request{Key: "gave-up", Policy: p, Cost: 1, Now: time.Now()}, &res)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, res.Allowed)
	assert.False(t, res.Fallback, "not decided in-process")
	require.NoError(t, store.Take(context.Background(), &rate.Request{Key: "gave-up", Policy: p, Cost: 1, Now: time.Now(), Op: rate.OpPeek}, &res))
	assert.Equal(t, int64(5), res.Windows[0].Remaining, "nothing was sent")

	// Given up while Redis holds the call: Redis may still count it when it wakes
	// (over-counting, never over-admitting). The caller has its answer when go-redis gives
	// the read up, by the budget at the latest: go-redis does not watch the context during
	// a socket read.
	resume := freeze(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- store.Take(ctx, &rate.Request{Key: "gave-up", Policy: p, Cost: 1, Now: time.Now()}, &res)
	}()
	eventually(t, 5*time.Second, "the call is in flight", func() bool { return redisstore.CallsInFlight(store) == 1 })
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.False(t, res.Fallback, "not decided in-process")
	resume()

	for _, kind := range []rate.ErrorKind{rate.KindOther, rate.KindTimeout, rate.KindConnection, rate.KindCircuitOpen} {
		assert.Zero(t, obs.count(kind), "no %s error observed", kind)
	}
	assert.NotContains(t, logs.String(), "redis_error")
}
