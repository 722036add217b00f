package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// addrCounters counts, per node address, the commands a cluster client's node clients send.
type addrCounters struct {
	mu sync.Mutex
	by map[string]*netCounter
}

func (a *addrCounters) of(addr string) *netCounter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by[addr] == nil {
		a.by[addr] = &netCounter{}
	}
	return a.by[addr]
}

// TestAReshardDoesNotMakeADeadMastersBreakerHammerIt: a slot moves from master M2 to
// master M (a reshard, CLUSTER SETSLOT ... NODE), and the store's slot map follows it
// before the store decides a key of that slot again. Then M dies (no failover: node
// timeout 60 s) and its breaker opens. From then on, with open_timeout 1 h, every
// decision of M's keys must fail fast (circuit_open) and send nothing to M.
func TestAReshardDoesNotMakeADeadMastersBreakerHammerIt(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.WithNodeTimeout(60*time.Second))
	nodes := cl.Nodes()
	m, m2 := nodes[0], nodes[1]

	cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.Timeout = 300 * time.Millisecond
	cfg.Redis.PoolSize = 50
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 3, OpenTimeout: time.Hour}
	client, err := redisstore.NewClient(cfg.Redis)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	cc := client.(*redis.ClusterClient)
	counters := &addrCounters{by: map[string]*netCounter{}}
	cc.OnNewNode(func(c *redis.Client) { c.AddHook(counters.of(c.Options().Addr)) })
	store, err := redisstore.NewWithClient(client, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	p := policy(t, rate.TokenBucket, nil, 1000, time.Hour)
	take := func(key string) error {
		var res rate.Result
		return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: rate.OpTake}, &res)
	}

	// 40 clients whose counters are on M, one (moved) on M2.
	var onM []string
	moved := ""
	for i := 0; len(onM) < 40 || moved == ""; i++ {
		key := fmt.Sprintf("ip:10.9.%d.%d:default", i/250, i%250)
		srv, err := cl.MasterFor(ctx, key)
		require.NoError(t, err)
		switch {
		case srv == m && len(onM) < 40:
			onM = append(onM, key)
		case srv == m2 && moved == "":
			moved = key
		}
	}
	for _, k := range append([]string{moved}, onM...) {
		require.NoError(t, take(k))
	}

	// Reshard moved's slot from M2 to M (it holds no other key than moved's counter).
	slot, err := m2.Client().ClusterKeySlot(ctx, moved).Result()
	require.NoError(t, err)
	require.NoError(t, m2.Client().FlushAll(ctx).Err())
	mID, err := m.Client().Do(ctx, "CLUSTER", "MYID").Text()
	require.NoError(t, err)
	for _, n := range []*redistest.Server{m, m2, nodes[2]} {
		require.NoError(t, n.Client().Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", mID).Err())
	}
	got, err := cl.MasterFor(ctx, moved)
	require.NoError(t, err)
	require.Same(t, m, got, "the slot moved to M")
	eventually(t, 10*time.Second, "the store's slot map names M for the moved slot", func() bool {
		cc.ReloadState(ctx)
		c, err := cc.MasterForKey(ctx, moved)
		return err == nil && c.Options().Addr == m.Addr()
	})

	// M dies; its breaker opens on its clients' failures.
	m.Kill()
	opened := false
	for i := 0; i < 10 && !opened; i++ {
		opened = errors.Is(take(onM[i]), redisstore.ErrCircuitOpen)
	}
	require.True(t, opened, "M's breaker opened")

	// From now on, with open_timeout 1 h, decisions of M's clients fail fast.
	before := counters.of(m.Addr()).cmds.Load()
	through, decisions := 0, 0
	for range 5 {
		for _, k := range append([]string{moved}, onM...) {
			err := take(k)
			require.Error(t, err)
			decisions++
			if !errors.Is(err, redisstore.ErrCircuitOpen) {
				through++
			}
		}
	}
	sent := counters.of(m.Addr()).cmds.Load() - before
	t.Logf("%d of %d decisions of the dead master's clients were let through its open breaker; commands sent to the dead master %s: %d", through, decisions, m.Addr(), sent)
	assert.LessOrEqual(t, through, 3, "an open breaker fails fast: at most one renewal's worth of decisions reaches the dead master")
}
