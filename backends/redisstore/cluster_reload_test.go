package redisstore_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/rate"
)

func clusterSlotsCalls(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	info, err := srv.Client().Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_cluster|slots:calls="); ok {
			n, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			require.NoError(t, err)
			return n
		}
	}
	return 0
}

// TestAFrozenClusterIsNotHammered: every master hangs (SIGSTOP) after the store has its
// slot map. Once the key's master breaker is open, decisions fail at once, and the store
// fetches slot maps from the frozen Cluster 200 ms apart at least (each fetch dials anew: a
// timed-out connection is discarded, and the new ones queue in the frozen nodes' accept
// backlogs).
func TestAFrozenClusterIsNotHammered(t *testing.T) {
	const budget = 150 * time.Millisecond
	cl := redistest.StartCluster(t)
	store, counter := countedClusterStore(t, cl.Addrs(), budget)
	p := policy(t, rate.TokenBucket, nil, 1_000_000, time.Minute)
	_, err := timedTake(t, store, p, "ip:192.0.2.1:default")
	require.NoError(t, err)
	for _, n := range cl.Nodes() {
		freeze(t, n)
	}
	opened := false
	for i := 0; i < 10 && !opened; i++ {
		_, err := timedTake(t, store, p, "ip:192.0.2.1:default")
		require.Error(t, err)
		opened = errors.Is(err, redisstore.ErrCircuitOpen)
	}
	require.True(t, opened)
	g0 := runtime.NumGoroutine()
	d0, c0 := counter.dials.Load(), counter.cmds.Load()
	const watch = 3 * time.Second
	var slowest time.Duration
	for start := time.Now(); time.Since(start) < watch; {
		took, err := timedTake(t, store, p, "ip:192.0.2.1:default")
		require.ErrorIs(t, err, redisstore.ErrCircuitOpen)
		slowest = max(slowest, took)
		time.Sleep(time.Millisecond)
	}
	dials, cmds := counter.dials.Load()-d0, counter.cmds.Load()-c0
	t.Logf("in %v with the breaker open: %d dials, %d commands to the frozen Cluster; goroutines %d -> %d; slowest %v", watch, dials, cmds, g0, runtime.NumGoroutine(), slowest)
	// Fetches 200 ms apart at least: at most 16 in 3 s, each dialing and asking each of
	// the 3 nodes at most once (a fetch from the frozen nodes takes longer: fewer).
	assert.LessOrEqual(t, dials, int64(16*3))
	assert.LessOrEqual(t, cmds, int64(16*3))
	assert.Less(t, slowest, 100*time.Millisecond, "an open breaker fails at once")
}

// TestADeadMastersClientsDoNotHammerTheOthers counts CLUSTER SLOTS on the healthy masters
// while one master is dead (no replica, node timeout 60 s: the Cluster stays ok) and a
// client of its slots keeps asking: fetches 200 ms apart at least, not one per decision.
func TestADeadMastersClientsDoNotHammerTheOthers(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.WithNodeTimeout(60*time.Second))
	store, _ := countedClusterStore(t, cl.Addrs(), 150*time.Millisecond)
	p := policy(t, rate.TokenBucket, nil, 1_000_000, time.Minute)
	const key = "ip:192.0.2.1:default"
	_, err := timedTake(t, store, p, key)
	require.NoError(t, err)
	m, err := cl.MasterFor(context.Background(), key)
	require.NoError(t, err)
	m.Kill()
	var others []*redistest.Server
	for _, n := range cl.Nodes() {
		if n != m {
			others = append(others, n)
		}
	}
	before := 0
	for _, n := range others {
		before += clusterSlotsCalls(t, n)
	}
	const watch = 3 * time.Second
	for start := time.Now(); time.Since(start) < watch; {
		_, err := timedTake(t, store, p, key)
		require.Error(t, err)
		time.Sleep(time.Millisecond)
	}
	after := 0
	for _, n := range others {
		after += clusterSlotsCalls(t, n)
	}
	t.Logf("CLUSTER SLOTS on the healthy masters in %v: %d", watch, after-before)
	// Fetches 200 ms apart at least, each answered by one node: at most 16 in 3 s.
	assert.LessOrEqual(t, after-before, 16, "fetches 200 ms apart at least")
}

// TestADeadClusterIsNotAskedForItsSlotsAtEveryDecision: every master is killed after the
// store has its slot map; 32 goroutines keep deciding (breakers open). go-redis's 200 ms
// cooldown between slot-map fetches holds only after a fetch that succeeded: when the store
// asked for one on every decision that found its master failing, fetches ran back to back
// (554 commands in 2 s, found by an attacker review). The store spaces them itself.
func TestADeadClusterIsNotAskedForItsSlotsAtEveryDecision(t *testing.T) {
	cl := redistest.StartCluster(t)
	store, counter := countedClusterStore(t, cl.Addrs(), 150*time.Millisecond)
	p := policy(t, rate.TokenBucket, nil, 1_000_000, time.Minute)
	keys := []string{}
	for i := range 30 {
		keys = append(keys, "ip:192.0.2."+strconv.Itoa(i)+":default")
		_, err := timedTake(t, store, p, keys[i])
		require.NoError(t, err)
	}
	for _, n := range cl.Nodes() {
		n.Kill()
	}
	for range 3 {
		for _, k := range keys {
			_, _ = timedTake(t, store, p, k)
		}
	}
	d0, c0 := counter.dials.Load(), counter.cmds.Load()
	stop := make(chan struct{})
	peak := 0
	done := make(chan int64)
	for range 32 {
		go func() {
			var n int64
			for i := 0; ; i++ {
				select {
				case <-stop:
					done <- n
					return
				default:
				}
				_, err := timedTake(t, store, p, keys[i%len(keys)])
				assert.ErrorIs(t, err, redisstore.ErrCircuitOpen)
				n++
			}
		}()
	}
	for start := time.Now(); time.Since(start) < 2*time.Second; {
		peak = max(peak, runtime.NumGoroutine())
		time.Sleep(time.Millisecond)
	}
	close(stop)
	var decisions int64
	for range 32 {
		decisions += <-done
	}
	cmds := counter.cmds.Load() - c0
	t.Logf("2 s, %d decisions: %d dials, %d commands (slot-map fetch attempts x nodes); peak goroutines %d", decisions, counter.dials.Load()-d0, cmds, peak)
	// docs/redis.md: "one fetch at a time, at most every 200 ms"; a fetch asks each of the
	// 3 nodes at most once.
	assert.LessOrEqual(t, cmds, int64((2*time.Second/(200*time.Millisecond)+1)*3), "at most one slot-map fetch per 200 ms")
}

// TestAFrozenClusterBudgetUnderLoad: every master frozen, breakers that never open
// (threshold 1000), 32 goroutines deciding through the AutoPipeliner while the store asks
// for slot maps: no decision waits past its budget.
func TestAFrozenClusterBudgetUnderLoad(t *testing.T) {
	const budget = 200 * time.Millisecond
	cl := redistest.StartCluster(t)
	cfg := redisConfig("cluster", false, cl.Addrs()...)
	cfg.FailMode = "closed"
	cfg.Redis.Timeout = budget
	cfg.Redis.CircuitBreaker.FailureThreshold = 1000
	store := newStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 1_000_000, time.Minute)
	for i := range 30 {
		_, err := timedTake(t, store, p, "ip:192.0.2."+strconv.Itoa(i)+":default")
		require.NoError(t, err)
	}
	for _, n := range cl.Nodes() {
		freeze(t, n)
	}
	stop := make(chan struct{})
	done := make(chan time.Duration)
	for g := range 32 {
		go func() {
			var slowest time.Duration
			for i := 0; ; i++ {
				select {
				case <-stop:
					done <- slowest
					return
				default:
				}
				took, err := timedTake(t, store, p, "ip:192.0.2."+strconv.Itoa((g+i)%30)+":default")
				assert.Error(t, err)
				slowest = max(slowest, took)
			}
		}()
	}
	time.Sleep(4 * time.Second)
	close(stop)
	var slowest time.Duration
	for range 32 {
		slowest = max(slowest, <-done)
	}
	t.Logf("slowest decision against a frozen Cluster: %v (budget %v)", slowest, budget)
	assert.LessOrEqual(t, slowest, budget+schedulingAllowance)
}
