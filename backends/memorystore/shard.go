package memorystore

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ratewarden/ratewarden/core/rate"
)

// lruResolution is how stale a key's place in its shard's LRU list may get. Moving a key
// to the front writes to its two neighbours, which on a large store costs more cache
// misses than the decision itself; doing it at most once a second per key keeps eviction
// order exact to within a second at a negligible cost.
const lruResolution = 1_000_000 // µs

// shard is one lock's worth of keys, in a list from most to least recently used.
type shard struct {
	mu   sync.Mutex
	t    table        // the keys, by their hash under seed
	seed maphash.Seed // the store's
	lru  entry        // sentinel: lru.next is the most recently used key, lru.prev the least
	// nextExpiry is a lower bound of the keys' ExpiresAt: no key is fresh before it. It is
	// lowered as keys are decided and made exact by each sweep, so that a full store looks
	// for fresh keys to forget only where there may be some. It is written under mu and
	// read without it by inserts into other shards (Store.makeRoom).
	nextExpiry atomic.Int64
}

// entry is the state of one key.
type entry struct {
	rate.KeyState
	movedAt int64 // Unix µs of the last move to the front of the LRU list
	prev    *entry
	next    *entry
	key     string
}

// inlineKey is the longest key stored in its entry's own allocation ("ip:" and an IPv6
// /64 and a rule name of a few letters fit): one allocation per key instead of two, and
// the key compared on a lookup lies next to the state the decision reads.
const inlineKey = 32

// entryWithKey is an entry and the bytes of its key, in one allocation.
type entryWithKey struct {
	entry
	buf [inlineKey]byte
}

// newEntry returns a fresh entry for a copy of key, which the caller may reuse.
func newEntry(key string, now int64) *entry {
	if len(key) > inlineKey || len(key) == 0 {
		return &entry{key: strings.Clone(key), movedAt: now}
	}
	ek := &entryWithKey{}
	n := copy(ek.buf[:], key)
	ek.key, ek.movedAt = unsafe.String(&ek.buf[0], n), now
	return &ek.entry
}

func (sh *shard) init(seed maphash.Seed) {
	sh.seed = seed
	sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
	sh.nextExpiry.Store(math.MaxInt64)
}

// evictions counts the keys a shard forgot, by reason.
type evictions struct{ expired, lru int }

// insert adds a fresh key (a copy of key, whose hash is hash). The store has made room.
func (sh *shard) insert(hash uint64, key string, now int64) *entry {
	e := newEntry(key, now)
	sh.t.put(hash, e)
	sh.pushFront(e)
	return e
}

// evictLRU forgets the shard's least recently used key, and reports whether it had one.
func (sh *shard) evictLRU() bool {
	if sh.t.n == 0 {
		return false
	}
	sh.remove(sh.lru.prev)
	return true
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
	sh.t.remove(maphash.String(sh.seed, e.key), e)
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
	sh.nextExpiry.Store(next)
	return removed
}
