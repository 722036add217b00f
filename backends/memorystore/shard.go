package memorystore

import (
	"sync"

	"github.com/ratewarden/ratewarden/core"
)

// lruResolution is how stale a key's place in its shard's LRU list may get. Moving a key
// to the front writes to its two neighbours, which on a large store costs more cache
// misses than the decision itself; doing it at most once a second per key keeps eviction
// order exact to within a second at a negligible cost.
const lruResolution = 1_000_000 // µs

// inlineState is the state size kept inside the entry itself (token bucket, fixed window
// and GCRA need at most 2 per window), so that a decision touches one allocation.
const inlineState = 4

// shard is one lock's worth of keys, in a list from most to least recently used.
type shard struct {
	mu  sync.Mutex
	m   map[string]*entry
	lru entry // sentinel: lru.next is the most recently used key, lru.prev the least
}

// entry is the state of one key.
type entry struct {
	policy    *core.Policy // the policy state is laid out for
	state     []int64      // inline[:n] when it fits
	expiresAt int64        // Unix µs after which state equals a fresh key's
	movedAt   int64        // Unix µs of the last move to the front of the LRU list
	prev      *entry
	next      *entry
	key       string
	inline    [inlineState]int64
}

func (sh *shard) init() {
	sh.m = make(map[string]*entry)
	sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
}

// insert adds a fresh key, evicting the least recently used one when the shard is full:
// keys idle longest, expired ones first, go first.
func (sh *shard) insert(key string, p *core.Policy, limit int, now int64) *entry {
	if len(sh.m) >= limit {
		sh.remove(sh.lru.prev)
	}
	e := &entry{key: key, movedAt: now}
	e.layout(p)
	p.Init(e.state)
	sh.m[key] = e
	sh.pushFront(e)
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

// layout points e.state at storage for policy p: inline when it fits.
func (e *entry) layout(p *core.Policy) {
	e.policy = p
	if n := p.StateSize(); n <= inlineState {
		e.state = e.inline[:n:n]
	} else {
		e.state = make([]int64, n)
	}
}

// migrate re-lays the state of e out for policy p (after a reload or a tier change).
func (e *entry) migrate(p *core.Policy, now int64) {
	old, oldState := e.policy, append([]int64(nil), e.state...)
	e.layout(p)
	p.Migrate(e.state, old, oldState, now)
}

func (sh *shard) sweep(now int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	removed := 0
	for e := sh.lru.prev; e != &sh.lru; {
		prev := e.prev
		if e.expiresAt <= now {
			sh.remove(e)
			removed++
		}
		e = prev
	}
	return removed
}
