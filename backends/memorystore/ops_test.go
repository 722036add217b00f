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

// A check or a peek of a key the store does not hold adds no key, so it can make a full
// store evict no live key; a peek does not count as a use either: the key it looked at is
// still the least recently used one.
func TestChecksAndPeeksOfUnknownKeysAddNoKeyAndPeeksUseNone(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{MaxKeys: 16}) // one shard of 16 keys
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicyPer(t, 2, time.Hour, nil)
	ctx := context.Background()
	later := storetest.Base.Add(time.Minute) // long enough for a use to move a key in the LRU list
	do := func(op rate.Op, key string) rate.Result {
		var res rate.Result
		now := storetest.Base
		if op == rate.OpPeek {
			now = later
		}
		require.NoError(t, s.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: now, Op: op}, &res))
		return res
	}
	for i := range 16 {
		do(rate.OpTake, fmt.Sprintf("k%d", i)) // k0 is the least recently used
	}
	for i := range 100 {
		assert.True(t, do(rate.OpCheck, fmt.Sprintf("new%d", i)).Allowed)
		res := do(rate.OpPeek, fmt.Sprintf("new%d", i))
		assert.True(t, res.Allowed)
		assert.Equal(t, int64(2), res.Windows[0].Remaining)
	}
	require.Equal(t, 16, s.Len())
	assert.Equal(t, int64(1), do(rate.OpPeek, "k0").Windows[0].Remaining, "k0 kept its state")

	var res rate.Result
	require.NoError(t, s.Take(ctx, &rate.Request{Key: "another", Policy: p, Cost: 1, Now: later}, &res))
	// That take evicted the least recently used key: still k0, the peeks notwithstanding.
	assert.Equal(t, int64(2), do(rate.OpPeek, "k0").Windows[0].Remaining, "k0 was evicted")
	assert.Equal(t, int64(1), do(rate.OpPeek, "k1").Windows[0].Remaining)
	assert.Equal(t, 16, s.Len())
}

// Reset removes the key from the store: it no longer counts toward memory.max_keys.
func TestResetRemovesTheKey(t *testing.T) {
	t.Parallel()
	s := memorystore.New(config.MemoryConfig{})
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicyPer(t, 2, time.Hour, nil)
	take(t, s, "a", p, storetest.Base)
	take(t, s, "b", p, storetest.Base)
	require.Equal(t, 2, s.Len())
	require.NoError(t, s.Reset(context.Background(), "a", []time.Duration{time.Hour}))
	assert.Equal(t, 1, s.Len())
	require.NoError(t, s.Reset(context.Background(), "a", nil))
	assert.Equal(t, 1, s.Len())
}
