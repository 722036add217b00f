package promlimit_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/promlimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func ip(i int) string { return fmt.Sprintf("10.%d.%d.%d:5000", i>>16&255, i>>8&255, i&255) }

// busy is the i-th busy client (1..15): 20+5i requests, a usage of (20+5i)% of 100.
func busy(i int) (remote string, requests int) {
	return fmt.Sprintf("198.51.100.%d:7000", i), 20 + 5*i
}

func TestCurrentUsageShowsOnlyTheBusiestClients(t *testing.T) {
	t.Parallel()
	cfg := limitCfg(100) // token bucket, 100 per minute
	cfg.Metrics.TopClients = 10
	e := newEnv(t, cfg, envConfig{})

	// 5,000 clients with one request each (1%), and 15 busy clients from 25% to 95%, their
	// requests spread through the crowd so that the tracker is full long before they are done.
	left := map[int]int{}
	for i := 1; i <= 15; i++ {
		_, left[i] = busy(i)
	}
	for c := 0; c < 5000; c++ {
		e.do(req{remote: ip(c)})
		if c%50 == 0 {
			for i := 1; i <= 15; i++ {
				if left[i] > 0 {
					remote, _ := busy(i)
					e.do(req{remote: remote})
					left[i]--
				}
			}
		}
	}
	for i := 1; i <= 15; i++ {
		remote, _ := busy(i)
		e.doN(left[i], req{remote: remote})
	}

	want := map[string]float64{}
	for i := 6; i <= 15; i++ {
		remote, n := busy(i)
		want["ip:"+remote[:len(remote)-5]] = float64(n) / 100
	}
	got := usage(t, e.reg, "default")
	assert.Len(t, got, 10, "never more than top_clients series")
	assert.InDeltaMapValues(t, want, got, 1e-9)
	assert.Equal(t, 10, testutil.CollectAndCount(e.reg, "ratelimit_current_usage"))
	assert.Equal(t, 5000.0+15*20+5*120, values(t, e.reg, "ratelimit_requests_total", nil, "decision")["allowed"])

	// Token bucket usage drains linearly: a client at r% is full again after r% of the
	// minute. After 30 s the clients up to 50% have reset and the others are 50 points lower.
	e.clock.Advance(30 * time.Second)
	want = map[string]float64{}
	for i := 7; i <= 15; i++ {
		remote, n := busy(i)
		want["ip:"+remote[:len(remote)-5]] = float64(n)/100 - 0.5
	}
	assert.InDeltaMapValues(t, want, usage(t, e.reg, "default"), 1e-9)

	// Once every window has reset, every series is gone.
	e.clock.Advance(30 * time.Second)
	assert.Empty(t, usage(t, e.reg, "default"))
	assert.Equal(t, 0, testutil.CollectAndCount(e.reg, "ratelimit_current_usage"))

	// A client that comes back gets its series back.
	e.doN(7, req{remote: "192.0.2.1:1"})
	assert.InDeltaMapValues(t, map[string]float64{"ip:192.0.2.1": 0.07}, usage(t, e.reg, "default"), 1e-9)
}

func TestCurrentUsageFollowsTheAlgorithmUntilTheWindowResets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		algorithm string
		at        time.Duration // since the requests
		want      float64       // usage after 6 of 10 requests; 0 = no series
	}{
		{"token_bucket", 0, 0.6},
		{"token_bucket", 12 * time.Second, 0.4},
		{"token_bucket", 36 * time.Second, 0},
		{"gcra", 24 * time.Second, 0.2},
		{"gcra", 36 * time.Second, 0},
		{"fixed_window", 0, 0.6},
		{"fixed_window", 49 * time.Second, 0.6}, // the window started 10 s before the requests
		{"fixed_window", 50 * time.Second, 0},
		{"sliding_window", 59 * time.Second, 0.6}, // the last request's value: an upper bound
		{"sliding_window", 60 * time.Second, 0},
		{"sliding_window_counter", 109 * time.Second, 0.6}, // kept until the window after the requests' ends
		{"sliding_window_counter", 110 * time.Second, 0},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.algorithm] = true
	}
	for _, alg := range rate.Algorithms() {
		require.True(t, covered[alg.String()], "no case for %s", alg)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s after %v", tt.algorithm, tt.at), func(t *testing.T) {
			t.Parallel()
			cfg := config.Config{Algorithm: config.Algorithm(tt.algorithm), Default: config.Limits{Limit: 10, Window: time.Minute}}
			e := newEnv(t, cfg, envConfig{})
			e.clock.Advance(10 * time.Second)
			e.doN(6, req{})
			e.clock.Advance(tt.at)
			got := usage(t, e.reg, "default")
			if tt.want == 0 {
				assert.Empty(t, got)
				return
			}
			assert.InDeltaMapValues(t, map[string]float64{"ip:203.0.113.7": tt.want}, got, 1e-9)
		})
	}
}

func TestCurrentUsageIsOfTheBindingWindowAndOnePerRuleAndClient(t *testing.T) {
	t.Parallel()
	cfg := config.Config{
		Default: config.Limits{Windows: []config.WindowConfig{{Limit: 4, Window: time.Second}, {Limit: 10, Window: time.Minute}}},
		Endpoints: []config.Endpoint{
			{Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Limit: 5, Window: time.Minute}},
		},
	}
	e := newEnv(t, cfg, envConfig{})
	e.doN(3, req{})
	e.doN(2, req{path: "/api/v1/compute"})
	assert.InDeltaMapValues(t, map[string]float64{"ip:203.0.113.7": 0.75}, usage(t, e.reg, "default"), 1e-9, "3 of 4 per second binds")
	assert.InDeltaMapValues(t, map[string]float64{"ip:203.0.113.7": 0.4}, usage(t, e.reg, "compute"), 1e-9)

	e.clock.Advance(time.Second) // the 1 s window refills
	e.doN(4, req{})              // and binds again, now empty
	assert.InDeltaMapValues(t, map[string]float64{"ip:203.0.113.7": 1}, usage(t, e.reg, "default"), 1e-9)
	e.doN(1, req{}) // denied: nothing consumed, still full
	assert.InDeltaMapValues(t, map[string]float64{"ip:203.0.113.7": 1}, usage(t, e.reg, "default"), 1e-9)
}

func TestTopClientsSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		topClients int
		want       int // series after 30 clients
	}{
		{0, config.DefaultTopClients},
		{-1, 0},
		{1, 1},
		{25, 25},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.topClients), func(t *testing.T) {
			t.Parallel()
			cfg := limitCfg(100)
			cfg.Metrics.TopClients = tt.topClients
			e := newEnv(t, cfg, envConfig{})
			for c := 1; c <= 30; c++ {
				e.doN(c, req{remote: ip(c)})
			}
			got := usage(t, e.reg, "default")
			assert.Len(t, got, tt.want)
			for c := 30; c > 30-tt.want; c-- {
				assert.InDelta(t, float64(c)/100, got["ip:"+ip(c)[:len(ip(c))-5]], 1e-9, "the busiest are shown")
			}
			if tt.topClients == -1 {
				assert.NotContains(t, gather(t, e.reg), "ratelimit_current_usage", "no per-client gauge at all")
				assert.Len(t, samples(t, e.reg, "ratelimit_requests_total"), 5, "the rest is exported")
			}
		})
	}
}

func TestObserverIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	cfg := limitCfg(50)
	cfg.Metrics.TopClients = 5
	e := newEnv(t, cfg, envConfig{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				e.do(req{remote: ip(g*1000 + i%37)})
				if i%50 == 0 {
					e.obs.ObserveBackend("take", time.Millisecond, "timeout")
					e.clock.Advance(time.Second)
				}
			}
		}()
	}
	for range 20 {
		assert.LessOrEqual(t, len(usage(t, e.reg, "default")), 5)
	}
	wg.Wait()
	assert.Equal(t, 8*400.0, func() float64 {
		var sum float64
		for _, v := range values(t, e.reg, "ratelimit_requests_total", nil, "decision") {
			sum += v
		}
		return sum
	}())
	assert.Equal(t, 8*8.0, values(t, e.reg, "ratelimit_redis_errors_total", nil, "kind")["timeout"])
}

func TestSeveralLimitersMayShareAnObserver(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	obs, err := promlimit.New(reg, config.MetricsConfig{})
	require.NoError(t, err)
	for _, limit := range []int64{1, 2} {
		lim, err := core.New(limitCfg(limit), core.WithObserver(obs), core.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		(&env{lim: lim}).doN(3, req{})
		require.NoError(t, lim.Close())
	}
	assert.Equal(t, map[string]float64{"allowed": 3, "denied": 3, "exempt": 0, "shadow_denied": 0, "error": 0},
		values(t, reg, "ratelimit_requests_total", nil, "decision"))
}

func TestClientLabelsOfCustomKeysAreValidAndUnique(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limitCfg(10), envConfig{})
	e.doN(2, req{key: "tenant-7"})
	e.doN(3, req{key: "tenant-\xff"})
	e.doN(4, req{key: "tenant-\xfe"}) // the same label once made valid UTF-8: the busier is kept
	assert.InDeltaMapValues(t, map[string]float64{"key:tenant-7": 0.2, "key:tenant-\uFFFD": 0.4}, usage(t, e.reg, "default"), 1e-9)
}

// The client label carries the id as the logs do: a huge or brace-holding key is its
// digest, so a client cannot put a megabyte into /metrics (a review saw a 100 KB label).
func TestCurrentUsageLabelsBoundedIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limitCfg(100), envConfig{})
	d := e.do(req{key: strings.Repeat("k", 100_000)})
	e.do(req{key: "{tag}x"})
	got := usage(t, e.reg, "default")
	require.Len(t, got, 2)
	for client := range got {
		assert.Less(t, len(client), 100, client)
		assert.True(t, strings.HasPrefix(client, "key:sha256:"), client)
	}
	assert.Contains(t, got, d.ClientID(), "the label is the logs' client_id")
}
