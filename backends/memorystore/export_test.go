package memorystore

import "github.com/ratewarden/ratewarden/core/config"

// NewWithShards is New with n shards, a power of two, so that a test can make shards
// larger than New would.
func NewWithShards(cfg config.MemoryConfig, n int, opts ...Option) *Store {
	return newStore(cfg, n, opts...)
}

// Visited returns how many keys and records the store has looked at to find fresh keys,
// in inserts into a full store and in sweeps.
func (s *Store) Visited() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.visited
		sh.mu.Unlock()
	}
	return n
}
