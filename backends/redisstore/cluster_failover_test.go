package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestAClusterFailoverToAReplica: a Cluster master holding a client's counter dies, and
// its replica takes its slots over. Decisions of the client fail (fail_mode decides them)
// only until the replica is promoted: then the store finds the new master and Redis decides
// them again, with the counter the replica holds.
func TestAClusterFailoverToAReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.WithReplicas(1), redistest.WithNodeTimeout(time.Second))
	cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.Timeout = 300 * time.Millisecond
	store := newStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 3, time.Hour)
	take := func(op rate.Op) (rate.Result, error) {
		var res rate.Result
		err := store.Take(ctx, &rate.Request{Key: "ip:192.0.2.7:default", Policy: p, Cost: 1, Now: time.Now(), Op: op}, &res)
		return res, err
	}
	for range 3 {
		res, err := take(rate.OpTake)
		require.NoError(t, err)
		require.True(t, res.Allowed)
	}

	master, err := cl.MasterFor(ctx, "ip:192.0.2.7:default")
	require.NoError(t, err)
	// The replica has every write before the master dies: asynchronous replication may
	// lose the last ones in a real failover, which is not what this test is about.
	require.NoError(t, master.WaitReplicated(ctx, 1))
	master.Kill()
	killed := time.Now()

	_, err = cl.WaitFailover(ctx, "ip:192.0.2.7:default", master)
	require.NoError(t, err)
	promoted := time.Now()
	t.Logf("replica promoted %v after the master died", promoted.Sub(killed).Round(time.Millisecond))

	var (
		res      rate.Result
		failures int
	)
	eventually(t, 30*time.Second, "Redis decides the client's requests again", func() bool {
		res, err = take(rate.OpPeek)
		if err != nil {
			failures++
			time.Sleep(50 * time.Millisecond)
		}
		return err == nil
	})
	back := time.Since(promoted)
	t.Logf("decided by Redis again %v after the promotion (%d failed decisions meanwhile)", back.Round(time.Millisecond), failures)
	assert.Zero(t, res.Windows[0].Remaining, "the promoted replica holds the counter: 3 of 3 used")
	res, err = take(rate.OpTake)
	require.NoError(t, err)
	assert.False(t, res.Allowed, "the client is still at its limit")
	assert.Less(t, back, 3*time.Second, "the store finds the new master soon after the promotion")
}
