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
//
// The fields every decision reads (mu, t, rest, nextExpiry) come first, in the shard's first
// 64 bytes, and a shard is 192 bytes, a multiple of a cache line: a decision touches one line
// of its shard (it touched two, rest being 176 bytes after mu), so that the lines 256 shards
// need take 16 KB of the CPU's L1 cache, not 32 (TestAShardsHotFieldsShareACacheLine).
type shard struct {
	mu sync.Mutex
	t  table // the keys, by their hash under seed
	// soon and rest let a full store find a fresh key without visiting the whole shard
	// each time. soon is a min-heap, by exp, of records of keys that were to expire soonest;
	// a record is current while its key is in the shard with that ExpiresAt. Every key of
	// the shard has a current record or an ExpiresAt of rest or later. A sweep for an insert
	// records the keep soonest keys (see sweepLocked); a decision that sets an ExpiresAt
	// below rest adds a record while soon has room, and lowers rest otherwise. Both are
	// guarded by mu. A record that is no longer current may keep a forgotten entry from the
	// collector until it is taken or the next sweep: at most cap(soon), a quarter of the
	// shard's keys.
	rest int64
	// nextExpiry is a lower bound of the keys' ExpiresAt: no key is fresh before it. It is
	// lowered as keys are decided and raised by each sweep and each key taken from soon, so
	// that a full store looks for fresh keys to forget only where there may be some. It is
	// written under mu and read without it by inserts into other shards (Store.makeRoom).
	nextExpiry atomic.Int64
	seed       maphash.Seed // the store's

	lru  entry // sentinel: lru.next is the most recently used key, lru.prev the least
	soon []record
	// visited counts the keys and records looked at to find fresh keys (export_test.go).
	visited int
}

// record is a key that expired at exp when it was recorded.
type record struct {
	exp int64
	e   *entry
}

// current reports whether r still describes its key.
func (r record) current() bool { return r.e.prev != nil && r.e.ExpiresAt() == r.exp }

// entry is the state of one key.
type entry struct {
	rate.KeyState
	movedAt int64 // Unix µs of the last move to the front of the LRU list
	prev    *entry
	next    *entry
	key     string
}

// inlineKey is the longest key stored in its entry's own allocation ("ip:" and an IPv4
// address and a rule name of a dozen letters fit): one allocation per key instead of two,
// and the key compared on a lookup lies next to the state the decision reads. An entry and
// its inline key are 128 bytes, a size class whose objects are 128-byte aligned: a
// decision reads exactly two cache lines of its key (TestAnEntryFillsTwoCacheLines).
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
	sh.rest = math.MaxInt64
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

// noteExpiry keeps soon and rest valid after a decision set e's ExpiresAt to exp, and
// reports whether it lowered nextExpiry.
func (sh *shard) noteExpiry(e *entry, exp int64) bool {
	if exp >= sh.rest {
		return false // e's record, if it has one, is no longer current, and exp >= rest
	}
	if len(sh.soon) < cap(sh.soon) {
		sh.soon = append(sh.soon, record{exp, e})
		siftUp(sh.soon, len(sh.soon)-1, less)
	} else {
		sh.rest = exp
	}
	if exp < sh.nextExpiry.Load() {
		sh.nextExpiry.Store(exp)
		return true
	}
	return false
}

// forgetFresh forgets a key of the shard that is fresh at now, if it has one, and returns
// how many keys it forgot: the first current record of soon when it is fresh, and
// otherwise, when a key without a current record may be fresh (rest <= now), every fresh
// key of a sweep, which records the soonest keys again. Each record is looked at once, and
// a sweep happens after about keep inserts or decisions, so a full store visits O(1) keys
// per insert amortised, however its keys' expiries are staggered.
func (sh *shard) forgetFresh(now int64) int {
	for len(sh.soon) > 0 {
		r := sh.soon[0]
		if r.current() && r.exp > now {
			break // no key is fresh before r.exp or rest
		}
		sh.visited++
		last := len(sh.soon) - 1
		sh.soon[0], sh.soon[last] = sh.soon[last], record{}
		sh.soon = sh.soon[:last]
		siftDown(sh.soon, 0, less)
		if r.current() {
			sh.remove(r.e)
			sh.setNextExpiry()
			return 1
		}
	}
	if sh.rest <= now {
		return sh.sweepLocked(now, max(minKeep, sh.t.n/8))
	}
	sh.setNextExpiry()
	return 0
}

// minKeep is the fewest soonest keys a sweep for an insert records.
const minKeep = 8

// setNextExpiry makes nextExpiry the bound soon and rest give.
func (sh *shard) setNextExpiry() {
	next := sh.rest
	if len(sh.soon) > 0 {
		next = min(next, sh.soon[0].exp)
	}
	sh.nextExpiry.Store(next)
}

// sweepLocked forgets the keys that are fresh at now, records the keep keys that expire
// soonest in soon (with room for as many more), sets rest and nextExpiry, and returns how
// many keys it forgot.
func (sh *shard) sweepLocked(now int64, keep int) int {
	if cap(sh.soon) < 2*keep {
		sh.soon = make([]record, 0, 2*keep)
	}
	clear(sh.soon) // the records left would keep forgotten entries from the collector
	soon, removed, rest := sh.soon[:0], 0, int64(math.MaxInt64)
	for e := sh.lru.prev; e != &sh.lru; {
		prev := e.prev
		sh.visited++
		switch exp := e.ExpiresAt(); {
		case exp <= now:
			sh.remove(e)
			removed++
		case len(soon) < keep: // soon is a max-heap until the loop ends
			soon = append(soon, record{exp, e})
			siftUp(soon, len(soon)-1, greater)
		case keep == 0 || exp >= soon[0].exp:
			rest = min(rest, exp)
		default: // e replaces the latest of the keep soonest
			rest = min(rest, soon[0].exp)
			soon[0] = record{exp, e}
			siftDown(soon, 0, greater)
		}
		e = prev
	}
	for i := len(soon)/2 - 1; i >= 0; i-- {
		siftDown(soon, i, less)
	}
	sh.soon, sh.rest = soon, rest
	sh.setNextExpiry()
	return removed
}

func less(a, b int64) bool    { return a < b }
func greater(a, b int64) bool { return a > b }

// siftUp restores the heap order of h, by before, after h[i] changed.
func siftUp(h []record, i int, before func(a, b int64) bool) {
	for i > 0 {
		p := (i - 1) / 2
		if !before(h[i].exp, h[p].exp) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// siftDown restores the heap order of h, by before, after h[i] changed.
func siftDown(h []record, i int, before func(a, b int64) bool) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && before(h[c+1].exp, h[c].exp) {
			c++
		}
		if !before(h[c].exp, h[i].exp) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
