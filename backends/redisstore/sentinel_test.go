package redisstore_test

import (
	"context"
	"strings"
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

// TestSentinelFailover kills the master of a Sentinel group under traffic (fail_mode
// local, so every request keeps being decided) and measures the disruption: the time
// from the kill to the first decision served by Redis again, on the promoted replica.
// Counters replicated before the kill carry over, and so does the Redis Function library
// (the new master needs no FUNCTION LOAD); limiting resumes on the new master.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	sg := redistest.StartSentinel(t, redistest.WithDownAfter(time.Second))
	cfg := config.Config{
		Backend:  config.BackendRedis,
		FailMode: config.FailLocal,
		Default:  config.Limits{Limit: 100_000, Window: time.Minute},
		Redis: config.RedisConfig{
			Mode:           config.RedisSentinel,
			Addrs:          sg.SentinelAddrs(),
			MasterName:     sg.MasterName(),
			Timeout:        200 * time.Millisecond,
			LocalCache:     config.Bool(false),
			CircuitBreaker: config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: 200 * time.Millisecond},
		},
	}
	obs := newObserver()
	logs := &syncBuffer{}
	store := newStore(t, cfg, redisstore.WithObserver(obs), redisstore.WithLogger(jsonLogger(logs)))
	lim, err := core.New(cfg, core.WithStore(store))
	require.NoError(t, err)
	ctx := context.Background()

	// A counter that must survive the failover: 4 of 10 used, replicated before the kill.
	p := policy(t, rate.TokenBucket, nil, 10, time.Hour)
	take := func() rate.Result {
		var res rate.Result
		require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.60:kept", Policy: p, Cost: 1, Now: time.Now()}, &res))
		return res
	}
	for range 4 {
		require.False(t, take().Fallback)
	}
	require.True(t, servedByRedis(decide(lim, "192.0.2.61")))
	require.NoError(t, sg.Master().WaitReplicated(ctx, 1))
	assert.Equal(t, []string{redisstore.Library()}, libraries(t, sg.Replica().Client()), "the library replicated with the counters")

	old := sg.Master().Addr()
	killed := time.Now()
	sg.Master().Kill()
	local := 0
	var disruption time.Duration
	for {
		d := decide(lim, "192.0.2.61")
		if servedByRedis(d) {
			disruption = time.Since(killed)
			break
		}
		require.NoError(t, d.Err, "fail_mode local always decides")
		require.True(t, d.Fallback())
		local++
		require.Less(t, time.Since(killed), 30*time.Second, "no failover")
		time.Sleep(5 * time.Millisecond) // pace the traffic: ~200 requests/s
	}
	newMaster, err := sg.WaitForFailover(ctx, old)
	require.NoError(t, err)
	assert.Equal(t, sg.Replica().Addr(), newMaster)
	t.Logf("failover disruption (kill → first decision by Redis): %s; %d requests decided locally meanwhile; %d circuit_open, %d connection, %d timeout failures",
		disruption.Round(time.Millisecond), local, obs.count(rate.KindCircuitOpen), obs.count(rate.KindConnection), obs.count(rate.KindTimeout))

	res := take()
	require.False(t, res.Fallback)
	assert.Equal(t, int64(5), res.Windows[0].Remaining, "the 4 units used before the failover stay used")
	for range 5 {
		require.True(t, take().Allowed)
	}
	res = take()
	assert.False(t, res.Allowed, "limiting resumed on the new master")
	assert.False(t, res.Fallback)
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"redis_function_library_loaded"`), "loaded on the first master only")
}
