package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestAFailbackToTheOldMasterIsFollowedPromptly: master A of a client's counter dies, its
// breaker opens, replica B takes its slots over and the store follows. A comes back, as B's
// replica. Later B dies and A is promoted again (a failback: the same address serves the
// slots once more). The store must follow this failover as promptly as the first: but A's
// address still has the breaker that A's death opened, and it fails every decision of
// A's slots (circuit_open) until its open_timeout ends, although A is a healthy master.
func TestAFailbackToTheOldMasterIsFollowedPromptly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const key = "ip:192.0.2.9:default"
	cl := redistest.StartCluster(t, redistest.WithReplicas(1), redistest.WithNodeTimeout(time.Second))
	cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.Timeout = 300 * time.Millisecond
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: time.Minute}
	store := newStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 1000, time.Hour)
	take := func() error {
		var res rate.Result
		return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: rate.OpTake}, &res)
	}
	require.NoError(t, take())

	promotedFrom := func(old *redistest.Server) (*redistest.Server, time.Time) {
		m, err := cl.WaitFailover(ctx, key, old)
		require.NoError(t, err)
		return m, time.Now()
	}
	backToRedis := func(what string, since time.Time) time.Duration {
		// Back means 10 decisions in a row decided by Redis: the first after a promotion
		// may be chosen by a stale slot map and sent by a fresh one.
		var last error
		var back time.Duration
		deadline := time.Now().Add(20 * time.Second)
		for ok := 0; ok < 10; {
			if last = take(); last == nil {
				if ok == 0 {
					back = time.Since(since)
				}
				ok++
				continue
			}
			ok = 0
			if time.Now().After(deadline) {
				t.Fatalf("%s: decisions still fail 20 s after the promotion: %v", what, last)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return back
	}

	a, err := cl.MasterFor(ctx, key)
	require.NoError(t, err)
	a.Kill()
	// Decisions fail until A's breaker opens.
	eventually(t, 10*time.Second, "A's breaker opens", func() bool {
		return errors.Is(take(), redisstore.ErrCircuitOpen)
	})
	t.Logf("A's breaker: %q", redisstore.NodeBreakerState(store, a.Addr()))
	b, promoted := promotedFrom(a)
	t.Logf("first failover: %s -> %s; decided by Redis again %v after the promotion", a.Addr(), b.Addr(), backToRedis("first failover", promoted).Round(time.Millisecond))

	// A comes back, as B's replica, and catches up.
	a.Restart()
	eventually(t, 30*time.Second, "A rejoins as B's replica, in sync", func() bool {
		info, err := a.Client().Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up")
	})
	require.NoError(t, b.WaitReplicated(ctx, 1))

	t.Logf("A's breaker before B dies: %q", redisstore.NodeBreakerState(store, a.Addr()))
	b.Kill()
	a2, promoted := promotedFrom(b)
	require.Same(t, a, a2, "the failback promotes A again")
	back := backToRedis("failback", promoted)
	t.Logf("failback: %s -> %s; decided by Redis again %v after the promotion", b.Addr(), a.Addr(), back.Round(time.Millisecond))
	assert.Less(t, back, 3*time.Second, "the store follows the failback as promptly as the first failover")
}
