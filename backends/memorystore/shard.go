package memorystore

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/ratewarden/ratewarden/core/rate"
)

// lruResolution is how stale a key's place in its shard's LRU list may get. Moving a key
// to the front writes to its two neighbours, which on a large store costs more cache
// misses than the decision itself; doing it at most once a second per key keeps eviction
// order exact to within a second at a negligible cost.
const lruResolution = 1_000_000 // µs

// shard is one lock's worth of keys, in a list from most to least recently used.
type shard struct {
	mu  sync.Mutex
	m   map[string]*entry
	lru entry // sentinel: lru.next is the most recently used key, lru.prev the least
	// nextExpiry is a lower bound of the keys' ExpiresAt: no key is fresh before it. It is
	// lowered as keys are decided and made exact by each sweep, so that a full shard looks
	// for fresh keys to forget only when there may be some.
	nextExpiry int64
}

// entry is the state of one key.
type entry struct {
	rate.KeyState
	movedAt int64 // Unix µs of the last move to the front of the LRU list
	prev    *entry
	next    *entry
	key     string
}

func (sh *shard) init() {
	sh.m = make(map[string]*entry)
	sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
	sh.nextExpiry = math.MaxInt64
}

// evictions counts the keys a shard forgot, by reason.
type evictions struct{ expired, lru int }

// insert adds a fresh key. When the store holds its bound, the shard first forgets its keys
// whose state equals a fresh key's, then, if that made no room, its least recently used
// key (SPEC section 5). keys counts the keys of the whole store.
func (sh *shard) insert(key string, keys *atomic.Int64, limit int64, now int64, ev *evictions) *entry {
	if keys.Load() >= limit && sh.nextExpiry <= now {
		n := sh.sweepLocked(now)
		keys.Add(-int64(n))
		ev.expired += n
	}
	if keys.Load() >= limit && len(sh.m) > 0 {
		sh.remove(sh.lru.prev)
		keys.Add(-1)
		ev.lru++
	}
	e := &entry{key: key, movedAt: now}
	sh.m[key] = e
	sh.pushFront(e)
	keys.Add(1)
	return e
}

// touch records a use of e at now.
func (sh *shard) touch(e *entry, now int64) {
	if now-e.movedAt < lruResolution {
		return
	}
	e.movedAt = now
	e.prev.next, e.next.prev = e.next, e.prev
	sh.pushFront(e)
}

func (sh *shard) pushFront(e *entry) {
	e.prev, e.next = &sh.lru, sh.lru.next
	sh.lru.next.prev = e
	sh.lru.next = e
}

func (sh *shard) remove(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(sh.m, e.key)
}

func (sh *shard) sweep(now int64, keys *atomic.Int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.sweepLocked(now)
	keys.Add(-int64(n))
	return n
}

// sweepLocked forgets the keys that are fresh at now, makes nextExpiry exact and returns
// how many keys it forgot.
func (sh *shard) sweepLocked(now int64) int {
	removed, next := 0, int64(math.MaxInt64)
	for e := sh.lru.prev; e != &sh.lru; {
		prev := e.prev
		if exp := e.ExpiresAt(); exp <= now {
			sh.remove(e)
			removed++
		} else {
			next = min(next, exp)
		}
		e = prev
	}
	sh.nextExpiry = next
	return removed
}
