package memorystore_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// memoryObserver records what a store reports through backend.MemoryObserver.
type memoryObserver struct {
	mu        sync.Mutex
	count     func() int
	evictions map[string]int
}

func (o *memoryObserver) ObserveDecision(*core.Decision)                       {}
func (o *memoryObserver) ObserveBackend(string, time.Duration, rate.ErrorKind) {}
func (o *memoryObserver) WatchKeys(count func() int)                           { o.count = count }
func (o *memoryObserver) ObserveEvictions(reason string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.evictions == nil {
		o.evictions = map[string]int{}
	}
	o.evictions[reason] += n
}

func (o *memoryObserver) evicted(reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.evictions[reason]
}

// A limited client's key, older than keys whose state is already fresh, survives a flood of
// new keys while fresh keys remain to be forgotten: LRU alone evicted it first and handed
// its client a fresh quota.
func TestAFullStoreForgetsFreshKeysBeforeTheLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	obs := &memoryObserver{}
	s := memorystore.New(config.MemoryConfig{MaxKeys: 16}, memorystore.WithObserver(obs)) // one shard of 16 keys
	t.Cleanup(func() { _ = s.Close() })
	perHour := newPolicyPer(t, 3, time.Hour, nil)
	perSecond := newPolicyPer(t, 1, time.Second, nil)

	for range 3 {
		require.True(t, take(t, s, "limited", perHour, storetest.Base).Allowed)
	}
	require.False(t, take(t, s, "limited", perHour, storetest.Base).Allowed)
	for i := range 15 { // more recently used than "limited", fresh again a second later
		take(t, s, fmt.Sprintf("brief-%d", i), perSecond, storetest.Base.Add(2*time.Second))
	}
	later := storetest.Base.Add(10 * time.Second)
	for i := range 15 {
		take(t, s, fmt.Sprintf("new-%d", i), perHour, later)
	}
	assert.False(t, take(t, s, "limited", perHour, later).Allowed, "the limited client's key was evicted while fresh keys remained")
	assert.Equal(t, 15, obs.evicted("expired"))
	assert.Equal(t, 0, obs.evicted("lru"))
	assert.Equal(t, 16, obs.count(), "the key gauge reads the store")
}

// When no key is fresh, a full store evicts the least recently used one, counts it, and
// warns at most once a minute: an evicted live key gives its client a fresh quota.
func TestEvictingLiveKeysIsCountedAndLoggedOnceAMinute(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := storetest.Base
	obs := &memoryObserver{}
	s := memorystore.New(config.MemoryConfig{MaxKeys: 16},
		memorystore.WithObserver(obs),
		memorystore.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))),
		memorystore.WithClock(func() time.Time { return clock }))
	t.Cleanup(func() { _ = s.Close() })
	p := newPolicyPer(t, 3, time.Hour, nil)
	for i := range 116 {
		take(t, s, fmt.Sprintf("k-%d", i), p, storetest.Base)
	}
	clock = clock.Add(time.Minute)
	take(t, s, "one-more", p, storetest.Base)

	assert.Equal(t, 101, obs.evicted("lru"))
	assert.Equal(t, 0, obs.evicted("expired"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Contains(t, lines[0], `"level":"WARN"`)
	assert.Contains(t, lines[0], `"msg":"memory_store_full"`)
	assert.Contains(t, lines[0], `"max_keys":16`)
	assert.Contains(t, lines[1], `"suppressed":99`)
}

// The bound is the store's: no live key is evicted before the store holds max_keys keys,
// however unevenly the keys hash over the shards (a review saw the first eviction at 675
// keys of 1,000, when each shard had a hard share of the bound).
func TestNoLiveKeyIsEvictedBeforeTheStoreIsFull(t *testing.T) {
	t.Parallel()
	for _, maxKeys := range []int{1_000, 100_000} {
		obs := &memoryObserver{}
		s := memorystore.New(config.MemoryConfig{MaxKeys: maxKeys}, memorystore.WithObserver(obs))
		p := newPolicyPer(t, 3, time.Hour, nil)
		for i := range maxKeys {
			take(t, s, fmt.Sprintf("k-%d", i), p, storetest.Base)
		}
		require.Equal(t, 0, obs.evicted("lru"), "max_keys %d", maxKeys)
		require.Equal(t, maxKeys, s.Len())
		take(t, s, "one-more", p, storetest.Base)
		require.Equal(t, 1, obs.evicted("lru"), "max_keys %d", maxKeys)
		require.Equal(t, maxKeys, s.Len())
		require.NoError(t, s.Close())
	}
}
