package redisstore

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// DefaultCacheSize bounds the denials the local cache (redis.local_cache) remembers.
const DefaultCacheSize = 100_000

const cacheShards = 64

// denialCache remembers keys Redis denied until the instant they may pass again, so that a
// client flooding a key it is denied on costs Redis nothing until then. It is safe for
// concurrent use and bounded; expired entries are dropped when met, and a full shard
// drops its expired entries, else its oldest one.
//
// Entries are keyed by (key, policy): a request under another policy (another tier, a
// reloaded configuration) is never answered from a denial made under the first. Time is
// the request's own (rate.Request.Now: the limiter's clock, monotonic in production).
type denialCache struct {
	seed     maphash.Seed
	perShard int
	// epoch counts the forgets and clears: a denial Redis answered for a request sent in an
	// earlier epoch is not remembered (see remember).
	epoch  atomic.Uint64
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.Mutex
	m  map[cacheKey]*denial
	_  [40]byte // keep shards on separate cache lines
}

type cacheKey struct {
	key    string
	policy *rate.Policy
}

type denial struct {
	at, until time.Time
	cost      int64 // requests of a smaller cost may pass before until
	res       rate.Result
}

func newDenialCache(size int) *denialCache {
	c := &denialCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[cacheKey]*denial)
	}
	return c
}

func (c *denialCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// answer fills res from a remembered denial of req's key and policy and reports whether
// it did: the windows that denied, their retry-after and reset shrunk by the time since
// the denial (a window whose wait is over shows as allowing), the cooldown likewise. A
// window whose reset time has passed shows all its units; the others show the units
// remaining at the denial (a token bucket may have refilled some since: the answer errs
// on the low side). With a nil res it only reports whether it would.
func (c *denialCache) answer(req *rate.Request, res *rate.Result) bool {
	sh := c.shard(req.Key)
	k := cacheKey{req.Key, req.Policy}
	sh.mu.Lock()
	d := sh.m[k]
	if d == nil {
		sh.mu.Unlock()
		return false
	}
	if !req.Now.Before(d.until) {
		delete(sh.m, k)
		sh.mu.Unlock()
		return false
	}
	ok := req.Cost >= d.cost && !req.Now.Before(d.at)
	if !ok || res == nil {
		sh.mu.Unlock()
		return ok
	}
	elapsed := req.Now.Sub(d.at)
	*res = d.res
	sh.mu.Unlock()

	res.Cooldown = max(0, res.Cooldown-elapsed)
	for i, pw := range req.Policy.Windows {
		w := &res.Windows[i]
		if w.ResetAfter -= elapsed; w.ResetAfter <= 0 {
			w.ResetAfter, w.Remaining = 0, pw.Limit // full again
		}
		if !w.Allowed {
			if w.RetryAfter -= elapsed; w.RetryAfter <= 0 {
				w.RetryAfter, w.Allowed = 0, true
			}
		}
	}
	return true
}

// remember records a denial Redis answered for req. Without penalties the key is denied
// until every denying window's retry-after has passed. With penalties only a denial that
// comes with a cooldown is remembered, until the cooldown ends: a denial by the windows
// alone is a violation, which Redis must count.
//
// epoch is the cache's epoch read before req was sent to Redis: when a forget or a clear
// came since, the denial may predate it — Redis decided it before a Reset deleted the key,
// and its answer came back after — and it is not remembered, or the client would stay
// denied here after the Reset that unblocked it.
func (c *denialCache) remember(req *rate.Request, res *rate.Result, epoch uint64) {
	var wait time.Duration
	cost := req.Cost
	if req.Policy.Penalty != nil {
		wait, cost = res.Cooldown, 1 // a cooldown denies every cost
	} else {
		for i := range req.Policy.Windows {
			wait = max(wait, res.Windows[i].RetryAfter)
		}
	}
	if wait <= 0 {
		return
	}
	sh := c.shard(req.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.epoch.Load() != epoch { // forget and clear move it before they take a shard's lock
		return
	}
	k := cacheKey{req.Key, req.Policy}
	d := sh.m[k]
	if d == nil {
		if len(sh.m) >= c.perShard {
			sh.evict(req.Now, c.perShard)
		}
		d = &denial{}
		k.key = strings.Clone(k.key) // req.Key may live in a reused buffer
		sh.m[k] = d
	}
	*d = denial{at: req.Now, until: req.Now.Add(wait), cost: cost, res: *res}
}

// evict makes room in a shard holding limit entries: expired entries go, else the
// oldest one.
func (sh *cacheShard) evict(now time.Time, limit int) {
	var oldest cacheKey
	var oldestAt time.Time
	found := false
	for k, d := range sh.m {
		if !now.Before(d.until) {
			delete(sh.m, k)
		} else if !found || d.at.Before(oldestAt) {
			oldest, oldestAt, found = k, d.at, true
		}
	}
	if found && len(sh.m) >= limit {
		delete(sh.m, oldest)
	}
}

// forget forgets the denials of key, under every policy.
func (c *denialCache) forget(key string) {
	c.epoch.Add(1)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for k := range sh.m {
		if k.key == key {
			delete(sh.m, k)
		}
	}
}

// clear forgets every denial.
func (c *denialCache) clear() {
	c.epoch.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}

// len returns the number of denials remembered.
func (c *denialCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
