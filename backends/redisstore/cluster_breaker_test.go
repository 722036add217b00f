package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
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
				require.True(t, d.Err != nil || d.Result.Fallback, "a client on the dead master")
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
				outcomes = append(outcomes, fmt.Sprintf("%v(fallback=%v err=%v)", d.Outcome, d.Result.Fallback, d.Err))
			}
			assert.LessOrEqual(t, admitted, 3, "admitted in all, against 3 an hour")
			t.Logf("client %s, its counter on the healthy master %s (limit 3/h, 1 used): %v", healthy, nodes[1].Addr(), outcomes)
			d := decide(lim, healthy)
			assert.NoError(t, d.Err, "a client whose counter is on a healthy master is still decided by Redis")
			assert.False(t, d.Result.Fallback, "a client whose counter is on a healthy master is still decided by Redis")
			assert.Equal(t, core.Denied, d.Outcome, "and is limited: 1 + 6 + 1 requests against 3 an hour")
		})
	}
}
