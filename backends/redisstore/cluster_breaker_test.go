package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestAnOutageOfOneClusterMasterFailsOnlyItsKeys: on a 3-master Cluster, one master is
// killed; the other two still serve their slots (cluster-node-timeout is 60 s here, so no
// node marks the dead one FAIL during the test). Three decisions of clients whose counters
// were on the dead master fail and open its circuit breaker — and only its: a client whose
// counter lives on a healthy master is still decided by Redis and limited. Before, the
// store had one breaker for the whole Cluster, which those three failures opened: every
// client was cut off from Redis, fail_mode closed answered them 503, open admitted them
// uncounted past their limit, local counted them apart (found by an attacker review).
func TestAnOutageOfOneClusterMasterFailsOnlyItsKeys(t *testing.T) {
	for _, mode := range []config.FailMode{config.FailClosed, config.FailOpen, config.FailLocal} {
		t.Run(string(mode), func(t *testing.T) {
			cl := redistest.StartCluster(t, redistest.WithNodeTimeout(60*time.Second))
			cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
			cfg.FailMode = mode
			cfg.KeyPrefix = "breaker-" + string(mode)
			cfg.Default = config.Limits{Limit: 3, Window: time.Hour}
			cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: time.Hour}
			lim, err := core.New(cfg, core.WithStore(newStore(t, cfg)))
			require.NoError(t, err)
			t.Cleanup(func() { _ = lim.Close() })

			// Which master holds each client's counter.
			nodes := cl.Nodes()
			onNode := map[int][]string{}
			for i := range 30 {
				ip := fmt.Sprintf("198.51.100.%d", i+1)
				require.Equal(t, core.Allowed, decide(lim, ip).Outcome)
				for n, node := range nodes {
					keys, err := node.Client().Keys(context.Background(), "*{ip:"+ip+":*").Result()
					require.NoError(t, err)
					if len(keys) > 0 {
						onNode[n] = append(onNode[n], ip)
					}
				}
			}
			require.GreaterOrEqual(t, len(onNode[0]), 3)
			require.NotEmpty(t, onNode[1])

			nodes[0].Kill()
			for _, ip := range onNode[0][:3] {
				d := decide(lim, ip)
				require.True(t, d.Err != nil || d.Fallback(), "a client on the dead master")
			}

			healthy := onNode[1][0]
			// The healthy master still serves its slots: the cluster is ok there.
			info, err := nodes[1].Client().ClusterInfo(context.Background()).Result()
			require.NoError(t, err)
			require.Contains(t, info, "cluster_state:ok")
			n, err := cl.Client().Exists(context.Background(), cfg.KeyPrefix+":{ip:"+healthy+":default}:3600").Result()
			require.NoError(t, err, "the cluster client reaches the healthy master")
			t.Logf("the healthy master answers through the cluster client (EXISTS of the counter: %d)", n)
			var outcomes []string
			admitted := 1
			for range 6 {
				d := decide(lim, healthy)
				if d.Outcome == core.Allowed || d.Outcome == core.FailedOpen {
					admitted++
				}
				outcomes = append(outcomes, fmt.Sprintf("%v(fallback=%v err=%v)", d.Outcome, d.Fallback(), d.Err))
			}
			assert.LessOrEqual(t, admitted, 3, "admitted in all, against 3 an hour")
			t.Logf("client %s, its counter on the healthy master %s (limit 3/h, 1 used): %v", healthy, nodes[1].Addr(), outcomes)
			d := decide(lim, healthy)
			assert.NoError(t, d.Err, "a client whose counter is on a healthy master is still decided by Redis")
			assert.False(t, d.Fallback(), "a client whose counter is on a healthy master is still decided by Redis")
			assert.Equal(t, core.Denied, d.Outcome, "and is limited: 1 + 6 + 1 requests against 3 an hour")
		})
	}
}

// countedClusterStore builds a Cluster store (fail_mode closed, threshold 3, open 1 h) whose
// node clients count dials and commands. It makes no call: the client has no slot map yet.
func countedClusterStore(t *testing.T, addrs []string, budget time.Duration) (*redisstore.Store, *netCounter) {
	t.Helper()
	cfg := redisConfig(config.RedisCluster, false, addrs...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.Timeout = budget
	cfg.Redis.PoolSize = 50
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: time.Hour}
	client, err := redisstore.NewClient(cfg.Redis)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	cc := client.(*redis.ClusterClient)
	counter := &netCounter{}
	cc.OnNewNode(func(c *redis.Client) { c.AddHook(counter) })
	store, err := redisstore.NewWithClient(client, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return store, counter
}

func timedTake(t *testing.T, store *redisstore.Store, p *rate.Policy, key string) (time.Duration, error) {
	var res rate.Result
	start := time.Now()
	err := store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
	return time.Since(start), err
}

// TestAnOpenBreakerWithoutASlotMapDialsNothing: the store starts while every master of
// the Cluster is down (killed), so the client never had a slot map. Once the store's
// breaker has opened, decisions fail at once without touching the network
// (docs/redis.md). With one breaker per master, every decision first asked MasterForKey,
// which fetched a slot map from every seed node before the breaker was consulted: 3 dials
// a decision (found by an attacker review of 53b7bc4).
func TestAnOpenBreakerWithoutASlotMapDialsNothing(t *testing.T) {
	cl := redistest.StartCluster(t)
	addrs := cl.Addrs()
	for _, n := range cl.Nodes() {
		n.Kill()
	}
	store, counter := countedClusterStore(t, addrs, 150*time.Millisecond)
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)

	opened := false
	for i := 0; i < 10 && !opened; i++ {
		_, err := timedTake(t, store, p, fmt.Sprintf("ip:192.0.2.%d:default", i))
		require.Error(t, err)
		opened = errors.Is(err, redisstore.ErrCircuitOpen)
	}
	require.True(t, opened, "the fallback breaker opened")

	before := counter.dials.Load()
	for i := range 20 {
		_, err := timedTake(t, store, p, fmt.Sprintf("ip:198.51.100.%d:default", i))
		require.ErrorIs(t, err, redisstore.ErrCircuitOpen)
	}
	assert.Equal(t, before, counter.dials.Load(), "no dial while the breaker is open")
}

// TestAnOpenBreakerWithoutASlotMapSendsNothing: as above with every master frozen
// (SIGSTOP): with the breaker open, decisions send no command (they spent their whole
// budget on CLUSTER SLOTS before), and Reset returns within redis.timeout (it asked for the
// slot map outside its budget: ~3× the budget).
func TestAnOpenBreakerWithoutASlotMapSendsNothing(t *testing.T) {
	const budget = 300 * time.Millisecond
	cl := redistest.StartCluster(t)
	addrs := cl.Addrs()
	for _, n := range cl.Nodes() {
		freeze(t, n)
	}
	store, counter := countedClusterStore(t, addrs, budget)
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)

	opened := false
	for i := 0; i < 10 && !opened; i++ {
		took, err := timedTake(t, store, p, fmt.Sprintf("ip:192.0.2.%d:default", i))
		require.Error(t, err)
		t.Logf("decision %d: %v in %v", i, err, took)
		opened = errors.Is(err, redisstore.ErrCircuitOpen)
	}
	require.True(t, opened, "the fallback breaker opened")

	before := counter.cmds.Load()
	var slowest time.Duration
	for i := range 5 {
		took, err := timedTake(t, store, p, fmt.Sprintf("ip:198.51.100.%d:default", i))
		require.ErrorIs(t, err, redisstore.ErrCircuitOpen)
		slowest = max(slowest, took)
	}
	t.Logf("slowest decision with the breaker open: %v; node commands sent meanwhile: %d", slowest, counter.cmds.Load()-before)
	assert.Equal(t, before, counter.cmds.Load(), "no command sent while the breaker is open")

	start := time.Now()
	err := store.Reset(context.Background(), "ip:203.0.113.1:default", []time.Duration{time.Minute})
	took := time.Since(start)
	t.Logf("Reset: %v in %v", err, took)
	require.Error(t, err)
	assert.LessOrEqual(t, took, budget+schedulingAllowance, "Reset returns within redis.timeout")
}
