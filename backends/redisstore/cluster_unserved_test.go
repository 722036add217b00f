package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestAnUnservedSlotDoesNotOpenHealthyMastersBreakers: with cluster-require-full-coverage
// no, one slot is served by no master (CLUSTER DELSLOTS). Decisions of a client whose
// counter hashes to that slot fail; they must not open the breakers of the healthy
// masters, whose clients go on being decided by Redis.
func TestAnUnservedSlotDoesNotOpenHealthyMastersBreakers(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.WithNodeTimeout(60*time.Second))
	nodes := cl.Nodes()
	cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.Timeout = 300 * time.Millisecond
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: time.Hour}
	store := newStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 1000, time.Hour)
	take := func(key string) error {
		var res rate.Result
		return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: rate.OpTake}, &res)
	}
	const lost = "ip:10.8.0.1:default"
	healthy := map[*redistest.Server]string{}
	for i := 0; len(healthy) < len(nodes); i++ {
		key := fmt.Sprintf("ip:10.7.%d.%d:default", i/250, i%250)
		srv, err := cl.MasterFor(ctx, key)
		require.NoError(t, err)
		if healthy[srv] == "" {
			healthy[srv] = key
		}
	}
	for _, k := range healthy {
		require.NoError(t, take(k))
	}
	require.NoError(t, take(lost))

	slot, err := nodes[0].Client().ClusterKeySlot(ctx, lost).Result()
	require.NoError(t, err)
	owner, err := cl.MasterFor(ctx, lost)
	require.NoError(t, err)
	require.NoError(t, owner.Client().FlushAll(ctx).Err())
	for _, n := range nodes {
		require.NoError(t, n.Client().ConfigSet(ctx, "cluster-require-full-coverage", "no").Err())
	}
	for _, n := range nodes {
		require.NoError(t, n.Client().Do(ctx, "CLUSTER", "DELSLOTS", slot).Err())
	}
	var lastErr error
	cut, healthyDecisions := 0, 0
	for range 100 {
		for range 4 {
			lastErr = take(lost)
		}
		for _, k := range healthy {
			healthyDecisions++
			if err := take(k); err != nil {
				cut++
			}
		}
	}
	t.Logf("the unserved slot's client: %v", lastErr)
	t.Logf("%d of %d decisions of clients on healthy masters failed", cut, healthyDecisions)
	assert.Zero(t, cut, "a healthy master's clients are not failed by an unserved slot")
}
