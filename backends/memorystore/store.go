package memorystore

import (
	"context"
	"hash/maphash"
	"log/slog"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func init() {
	backend.Register(config.BackendMemory, func(cfg config.Config, env backend.Env) (rate.Store, error) {
		return New(cfg.Memory, WithClock(env.Now), WithLogger(env.Logger), WithObserver(env.Observer)), nil
	})
}

// maxShards bounds the shard count; with 256 mutexes, two requests on different keys
// share one with probability 1/256.
const maxShards = 256

// evictionLogEvery is how often, at most, a full store logs that it evicts live keys.
const evictionLogEvery = time.Minute

// Store is the in-memory [rate.Store]. Create it with [New]; the zero value is not usable.
// A Store is safe for concurrent use.
type Store struct {
	shards  []shard
	mask    uint64
	seed    maphash.Seed
	keys    atomic.Int64 // keys held, all shards together
	maxKeys int
	// nextExpiry is a lower bound of every shard's nextExpiry: no key of the store is fresh
	// before it, so a full store searches the other shards for fresh keys only once it has
	// passed (makeRoom).
	nextExpiry atomic.Int64
	now        func() time.Time
	memory     backend.MemoryObserver // nil when the observer reports no memory metrics
	evictLog   *backend.ThrottledLog

	stopSweeper chan struct{}
	sweeperDone chan struct{}
	closeOnce   sync.Once
}

// New builds a store bounded by cfg.MaxKeys keys and starts its sweeper, which runs every
// cfg.SweepInterval until [Store.Close]. Zero fields mean the defaults of
// [config.DefaultConfig].
func New(cfg config.MemoryConfig, opts ...Option) *Store { return newStore(cfg, 0, opts...) }

// newStore is [New] with shards shards, a power of two, or as many as the bound calls for
// when shards is 0.
func newStore(cfg config.MemoryConfig, shards int, opts ...Option) *Store {
	o := options{now: time.Now, logger: slog.Default()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	maxKeys := cfg.MaxKeys
	if maxKeys <= 0 {
		maxKeys = config.DefaultMaxKeys
	}
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = config.DefaultSweepInterval
	}
	// Shards hold 16 keys or more on average. The bound is the store's, not a shard's: a
	// shard that hashing fills beyond its share does not evict while the store has room.
	n := shards
	if n == 0 {
		n = 1
		if maxKeys >= 32 {
			n = min(maxShards, 1<<(bits.Len(uint(maxKeys/16))-1))
		}
	}
	s := &Store{
		shards:      make([]shard, n),
		mask:        uint64(n - 1),
		seed:        maphash.MakeSeed(),
		maxKeys:     maxKeys,
		now:         o.now,
		evictLog:    backend.NewThrottledLog(o.logger, slog.LevelWarn, evictionLogEvery, o.now),
		stopSweeper: make(chan struct{}),
		sweeperDone: make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].init(s.seed)
	}
	s.nextExpiry.Store(math.MaxInt64)
	if m, ok := o.observer.(backend.MemoryObserver); ok {
		s.memory = m
		m.WatchKeys(s.Len)
	}
	go s.sweepEvery(interval)
	return s
}

// Take decides req as [rate.Store] specifies, for each [rate.Op]. It never fails for a
// valid request; a cost no window could admit is [rate.ErrCost]. A check or a peek of a key
// the store does not hold is decided as a fresh key's without adding it: it would hold
// nothing, yet could make a full store evict a live key. A peek does not count as a use of
// the key for eviction either.
func (s *Store) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	p := req.Policy
	if err := p.CheckCost(req.Cost); err != nil {
		return err
	}
	// The instant Apply decides at (rate.ClampInstant), for expiry and eviction too.
	now := rate.ClampInstant(req.Now.UnixMicro())
	h := maphash.String(s.seed, req.Key) // the one hash of the decision: shard and table
	sh := &s.shards[h&s.mask]
	var ev evictions
	sh.mu.Lock()
	e := sh.t.get(h, req.Key)
	switch {
	case e == nil && (req.Op == rate.OpCheck || req.Op == rate.OpPeek):
		sh.mu.Unlock()
		var fresh rate.KeyState // a fresh key admits every valid cost: a check writes nothing
		p.Apply(&fresh, req.Op, now, req.Cost, res)
		return nil
	case e == nil:
		if s.full() {
			s.makeRoom(sh, now, &ev)
		}
		e = sh.insert(h, req.Key, now)
		s.keys.Add(1)
	case req.Op != rate.OpPeek:
		sh.touch(e, now)
	}
	p.Apply(&e.KeyState, req.Op, now, req.Cost, res)
	if exp := e.ExpiresAt(); sh.noteExpiry(e, exp) {
		s.lowerNextExpiry(exp)
	}
	sh.mu.Unlock()
	if ev != (evictions{}) {
		s.evicted(ctx, ev)
	}
	return nil
}

// Reset forgets key as [rate.Store] specifies: its whole state, every window length and
// the penalty, whatever periods lists (they are only validated: a period that is not whole
// seconds from 1s to [rate.MaxWindow] is an error, and nothing is forgotten).
func (s *Store) Reset(_ context.Context, key string, periods []time.Duration) error {
	if err := rate.CheckPeriods(periods); err != nil {
		return err
	}
	h := maphash.String(s.seed, key)
	sh := &s.shards[h&s.mask]
	sh.mu.Lock()
	if e := sh.t.get(h, key); e != nil {
		sh.remove(e)
		s.keys.Add(-1)
	}
	sh.mu.Unlock()
	return nil
}

func (s *Store) full() bool { return s.keys.Load() >= int64(s.maxKeys) }

// makeRoom makes room for a new key of shard own, whose lock the caller holds, in a full
// store (SPEC section 5): it forgets a key whose state equals a fresh key's, first in own,
// then in the other shards, and only when none was found the least recently used key
// of own (to within lruResolution: a global LRU order would cost every decision a
// store-wide lock), or, when own holds none, of another shard.
//
// It evicts until the store is under the bound, not just one key: inserts into several
// shards at once can each find room for one and take the store past the bound, by at
// most one key per shard; the next insert brings it back.
func (s *Store) makeRoom(own *shard, now int64, ev *evictions) {
	if own.nextExpiry.Load() <= now {
		ev.expired += s.forgetFresh(own, now)
	}
	if s.full() && s.nextExpiry.Load() <= now {
		s.sweepOthers(own, now, ev)
	}
	for s.full() && own.evictLRU() {
		s.keys.Add(-1)
		ev.lru++
	}
	// Like sweepOthers, only try the other shards' locks while holding own's.
	for i := 0; i < len(s.shards) && s.full(); i++ {
		if sh := &s.shards[i]; sh != own && sh.mu.TryLock() {
			if sh.evictLRU() {
				s.keys.Add(-1)
				ev.lru++
			}
			sh.mu.Unlock()
		}
	}
}

// sweepOthers forgets fresh keys of the shards other than own, shard by shard until
// the store has room, and makes s.nextExpiry a lower bound of the shards' again. It only
// tries the other shards' locks, never waiting for one while it holds own's, so two full
// inserts cannot deadlock; a shard busy at that moment is searched the next time.
func (s *Store) sweepOthers(own *shard, now int64, ev *evictions) {
	// From here on, a decision that lowers a shard's bound lowers s.nextExpiry too; the
	// bounds read below cover the rest.
	s.nextExpiry.Store(math.MaxInt64)
	next := int64(math.MaxInt64)
	for i := range s.shards {
		sh := &s.shards[i]
		if sh != own && s.full() && sh.nextExpiry.Load() <= now && sh.mu.TryLock() {
			ev.expired += s.forgetFresh(sh, now)
			sh.mu.Unlock()
		}
		next = min(next, sh.nextExpiry.Load())
	}
	s.lowerNextExpiry(next)
}

// forgetFresh forgets a fresh key of sh, whose lock the caller holds, or more when it
// sweeps sh (shard.forgetFresh), and returns how many it forgot.
func (s *Store) forgetFresh(sh *shard, now int64) int {
	n := sh.forgetFresh(now)
	s.keys.Add(-int64(n))
	return n
}

// lowerNextExpiry lowers s.nextExpiry to exp when exp is below it.
func (s *Store) lowerNextExpiry(exp int64) {
	for cur := s.nextExpiry.Load(); exp < cur; cur = s.nextExpiry.Load() {
		if s.nextExpiry.CompareAndSwap(cur, exp) {
			return
		}
	}
}

// evicted reports the keys a decision made room by forgetting. An eviction of a live key
// hands its client a fresh quota, so it is logged (at most once a minute).
func (s *Store) evicted(ctx context.Context, ev evictions) {
	if s.memory != nil {
		if ev.expired > 0 {
			s.memory.ObserveEvictions("expired", ev.expired)
		}
		if ev.lru > 0 {
			s.memory.ObserveEvictions("lru", ev.lru)
		}
	}
	if ev.lru > 0 {
		s.evictLog.Log(ctx, "memory_store_full", "lru",
			slog.Int("max_keys", s.maxKeys),
			slog.String("hint", "a live key was evicted and its client got a fresh quota: raise memory.max_keys or use the redis backend"))
	}
}

// Sweep forgets every key whose state is back to that of a fresh key at now, and returns
// how many it removed. The sweeper calls it; tests call it with chosen instants.
func (s *Store) Sweep(now time.Time) int {
	us, removed := rate.ClampInstant(now.UnixMicro()), 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n := sh.sweepLocked(us, 0) // records nothing: only a full store's inserts need them
		sh.mu.Unlock()
		s.keys.Add(-int64(n))
		removed += n
	}
	if s.memory != nil && removed > 0 {
		s.memory.ObserveEvictions("expired", removed)
	}
	return removed
}

// Len returns the number of keys the store holds. It exceeds memory.max_keys only after
// keys were added to several shards at once, by at most one per shard, until the next
// new key.
func (s *Store) Len() int { return int(s.keys.Load()) }

// Close stops the sweeper. The store keeps answering; Close is idempotent and always
// returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopSweeper)
		<-s.sweeperDone
	})
	return nil
}

func (s *Store) sweepEvery(interval time.Duration) {
	defer close(s.sweeperDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSweeper:
			return
		case <-t.C:
			s.Sweep(s.now())
		}
	}
}
