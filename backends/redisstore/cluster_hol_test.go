package redisstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestAHungMastersProbesDoNotHoldAnotherMastersDecisions: master A hangs (SIGSTOP) while
// 8 goroutines decide a key of A and 8 a key of master B whose slot go-redis's
// AutoPipeliner queues in the same shard (it shards by slot range, not by master). Once
// A's breaker has opened, A's decisions — its half-open probes every open_timeout — go
// alone, so no batch A holds holds B's decisions: from 1.5 s after the freeze on, none of
// B's fails. (Its probes, pipelined, held B's decisions behind them until they timed out
// and opened B's breaker, at every probe: a failover's new master stayed cut off for
// another open_timeout, TestAFrozenMasterFailsOverUnderConcurrentLoad.) The first batch
// sent to A, before any failure is known, can still hold B's for a budget.
func TestAHungMastersProbesDoNotHoldAnotherMastersDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A node timeout longer than the test: the Cluster never marks A failed, so B's slots
	// stay served (no CLUSTERDOWN) and no replica takes A's over.
	cl := redistest.StartCluster(t, redistest.WithNodeTimeout(time.Minute))
	const (
		budget      = 200 * time.Millisecond
		openTimeout = 500 * time.Millisecond
	)
	cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.Timeout = budget
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: openTimeout}
	store := newStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 1_000_000, time.Hour)

	// Two keys of different masters in one AutoPipeliner shard: slot × GOMAXPROCS / 16384.
	shards := min(runtime.GOMAXPROCS(0), 16)
	shardOf := func(key string) (int, *redistest.Server) {
		slot, err := cl.Client().ClusterKeySlot(ctx, "{"+key+"}").Result()
		require.NoError(t, err)
		m, err := cl.MasterFor(ctx, "{"+key+"}")
		require.NoError(t, err)
		return int(slot) * shards / 16384, m
	}
	var keyA, keyB string
	var a *redistest.Server
	for i := 0; i < 2000 && keyB == ""; i++ {
		key := fmt.Sprintf("ip:192.0.2.%d:hol-%d", i%250, i)
		shard, m := shardOf(key)
		switch {
		case keyA == "" && shard == 0:
			keyA, a = key, m
		case keyA != "" && shard == 0 && m != a:
			keyB = key
		}
	}
	if keyB == "" {
		t.Skipf("no two masters share an AutoPipeliner shard with GOMAXPROCS %d", shards)
	}
	take := func(key string) error {
		var res rate.Result
		return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
	}
	require.NoError(t, take(keyA))
	require.NoError(t, take(keyB))

	freeze(t, a)
	frozen := time.Now()
	var (
		mu        sync.Mutex
		failuresB []time.Duration
		kinds     = map[string]int{}
		decidedB  int
		wg        sync.WaitGroup
	)
	const run = 3 * time.Second
	for _, key := range []string{keyA, keyB} {
		for range 8 {
			wg.Go(func() {
				for time.Since(frozen) < run {
					err := take(key)
					if key == keyB {
						mu.Lock()
						decidedB++
						if err != nil {
							failuresB = append(failuresB, time.Since(frozen))
							kinds[fmt.Sprintf("%.1fs %v", time.Since(frozen).Seconds(), err)]++
						}
						mu.Unlock()
					}
					time.Sleep(2 * time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	late := 0
	for _, at := range failuresB {
		if at >= 1500*time.Millisecond {
			late++
		}
	}
	t.Logf("%d decisions of B's key, %d failed, %d of them 1.5 s or more after the freeze; failures by 100 ms and error: %v", decidedB, len(failuresB), late, kinds)
	assert.Zero(t, late, "B's decisions failed behind A's")
}
