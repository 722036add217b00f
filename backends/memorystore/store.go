package memorystore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/ratewarden/ratewarden/core"
)

func init() {
	core.RegisterBackend(core.BackendMemory, func(cfg core.Config, env core.BackendEnv) (core.Store, error) {
		return New(cfg.Memory, WithClock(env.Now)), nil
	})
}

// maxShards bounds the shard count; with 256 mutexes, two requests on different keys
// share one with probability 1/256.
const maxShards = 256

// Store is the in-memory [core.Store]. Create it with [New]; the zero value is not usable.
type Store struct {
	shards   []shard
	mask     uint64
	seed     maphash.Seed
	perShard int // key bound of one shard
	now      func() time.Time

	stopSweeper chan struct{}
	sweeperDone chan struct{}
	closeOnce   sync.Once
}

// New builds a store bounded by cfg.MaxKeys keys and starts its sweeper, which runs every
// cfg.SweepInterval until [Store.Close]. Zero fields mean the defaults of
// [core.DefaultConfig].
func New(cfg core.MemoryConfig, opts ...Option) *Store {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	maxKeys := cfg.MaxKeys
	if maxKeys <= 0 {
		maxKeys = core.DefaultMaxKeys
	}
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = core.DefaultSweepInterval
	}
	// Shards hold at least 16 keys each, so rounding the bound down loses at most 1/16.
	n := 1
	if maxKeys >= 32 {
		n = min(maxShards, 1<<(bits.Len(uint(maxKeys/16))-1))
	}
	s := &Store{
		shards:      make([]shard, n),
		mask:        uint64(n - 1),
		seed:        maphash.MakeSeed(),
		perShard:    max(1, maxKeys/n),
		now:         o.now,
		stopSweeper: make(chan struct{}),
		sweeperDone: make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].init()
	}
	go s.sweepEvery(interval)
	return s
}

// ErrCost is returned by Take for a cost below 1 or above the smallest window limit of the
// policy, which no window could ever admit.
var ErrCost = errors.New("ratewarden: request cost outside 1..limit")

// Take decides req as [core.Store] specifies. It never fails for a valid request.
func (s *Store) Take(_ context.Context, req *core.Request, res *core.Result) error {
	p := req.Policy
	if req.Cost < 1 || req.Cost > p.MaxCost() {
		return fmt.Errorf("%w: %d", ErrCost, req.Cost)
	}
	now := req.Now.UnixMicro()
	sh := &s.shards[maphash.String(s.seed, req.Key)&s.mask]
	sh.mu.Lock()
	e := sh.m[req.Key]
	switch {
	case e == nil:
		e = sh.insert(strings.Clone(req.Key), p, s.perShard, now)
	case e.policy != p:
		e.migrate(p, now)
		fallthrough
	default:
		sh.touch(e, now)
	}
	p.Apply(e.state, now, req.Cost, res)
	e.expiresAt = max(e.expiresAt, p.ExpiresAt(e.state, now))
	sh.mu.Unlock()
	return nil
}

// Sweep forgets every key whose state is back to that of a fresh key at now, and returns
// how many it removed. The sweeper calls it; tests call it with chosen instants.
func (s *Store) Sweep(now time.Time) int {
	us, removed := now.UnixMicro(), 0
	for i := range s.shards {
		removed += s.shards[i].sweep(us)
	}
	return removed
}

// Len returns the number of keys the store holds.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// Close stops the sweeper. The store keeps answering; Close is idempotent.
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
