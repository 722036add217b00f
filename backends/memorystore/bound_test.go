package memorystore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

func newPolicy(t testing.TB, limit int64, penalty *rate.PenaltyPolicy) *rate.Policy {
	t.Helper()
	return newPolicyPer(t, limit, time.Minute, penalty)
}

func newPolicyPer(t testing.TB, limit int64, period time.Duration, penalty *rate.PenaltyPolicy) *rate.Policy {
	t.Helper()
	p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: limit, Period: period, Name: "r"}}, penalty)
	require.NoError(t, err)
	return p
}

func take(t testing.TB, s rate.Store, key string, p *rate.Policy, at time.Time) rate.Result {
	t.Helper()
	var res rate.Result
	require.NoError(t, s.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: at}, &res))
	return res
}

func TestMaxKeysBoundsTheStoreAndNeverEvictsTheMostRecentlyUsed(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{MaxKeys: 64})
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicyPer(t, 2, 24*time.Hour, nil) // refills too slowly to matter here
	now := storetest.Base

	take(t, s, "hot", p, now)
	take(t, s, "hot", p, now)
	require.False(t, take(t, s, "hot", p, now).Allowed, "hot is exhausted")
	for i := 0; i < 5000; i++ {
		now = now.Add(time.Second) // the LRU order is kept to the second
		take(t, s, fmt.Sprintf("cold-%d", i), p, now)
		// Touching hot keeps it the most recently used key of its shard, so it is never
		// the one evicted; if it were, it would come back fresh and be allowed.
		require.False(t, take(t, s, "hot", p, now).Allowed, "hot was evicted after %d cold keys", i)
		require.LessOrEqual(t, s.Len(), 64)
	}
	assert.Greater(t, s.Len(), 48, "the bound is used, not just respected")
}

func TestAFullShardEvictsExpiredKeysFirst(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{MaxKeys: 16}) // one shard of 16 keys
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicy(t, 1, nil)
	for i := 0; i < 15; i++ {
		take(t, s, fmt.Sprintf("old-%d", i), p, storetest.Base)
	}
	recent := storetest.Base.Add(2 * time.Minute) // the old keys have expired by now
	take(t, s, "recent", p, recent)
	require.False(t, take(t, s, "recent", p, recent).Allowed)
	for i := 0; i < 15; i++ {
		take(t, s, fmt.Sprintf("new-%d", i), p, recent)
	}
	assert.False(t, take(t, s, "recent", p, recent).Allowed, "a live key was evicted while expired ones remained")
	assert.Equal(t, 16, s.Len())
}

func TestSweepForgetsOnlyKeysBackToFresh(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{})
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicy(t, 5, nil) // a token refills every 12 s
	take(t, s, "a", p, storetest.Base)
	take(t, s, "a", p, storetest.Base)
	take(t, s, "b", p, storetest.Base.Add(30*time.Second))

	assert.Equal(t, 0, s.Sweep(storetest.Base.Add(24*time.Second-time.Microsecond)))
	assert.Equal(t, 1, s.Sweep(storetest.Base.Add(24*time.Second)), "a is full again once its two tokens have refilled")
	assert.Equal(t, 1, s.Len())
	assert.Equal(t, 0, s.Sweep(storetest.Base.Add(42*time.Second-time.Microsecond)))
	assert.Equal(t, 1, s.Sweep(storetest.Base.Add(42*time.Second)))
	assert.Equal(t, 0, s.Len())
}

func TestSweepKeepsKeysInACooldown(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{})
	t.Cleanup(func() { _ = s.Close() })
	penalty := &rate.PenaltyPolicy{Threshold: 1, Period: time.Minute, BaseCooldown: time.Hour, Multiplier: 1, MaxCooldown: time.Hour}
	p := newPolicy(t, 1, penalty)
	take(t, s, "a", p, storetest.Base)
	res := take(t, s, "a", p, storetest.Base)
	require.Equal(t, time.Hour, res.Cooldown)

	assert.Equal(t, 0, s.Sweep(storetest.Base.Add(59*time.Minute)), "forgetting a key in its cooldown would lift the penalty")
	assert.Equal(t, 1, s.Sweep(storetest.Base.Add(time.Hour)))
}

func TestSweeperRunsOnItsIntervalUntilClose(t *testing.T) {
	t.Parallel()
	later := storetest.Base.Add(time.Hour)
	s := memorystore.New(config.MemoryConfig{SweepInterval: time.Millisecond}, memorystore.WithClock(func() time.Time { return later }))
	take(t, s, "a", newPolicy(t, 5, nil), storetest.Base)
	require.Eventually(t, func() bool { return s.Len() == 0 }, 10*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
}

func TestTakeRejectsACostNoWindowCanAdmit(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{})
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicy(t, 5, nil)
	for _, cost := range []int64{0, -1, 6} {
		var res rate.Result
		err := s.Take(context.Background(), &rate.Request{Key: "a", Policy: p, Cost: cost, Now: storetest.Base}, &res)
		require.ErrorIs(t, err, rate.ErrCost, "cost %d", cost)
	}
}
