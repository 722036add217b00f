package adaptertest

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// Store is the simplest complete rate.Store: one map behind one mutex, deciding with
// rate.Policy like every in-process store, that a test can make fail. The suite passes one
// with core.WithStore, so that adapters/httplimit can run the suite without
// the memory backend (a module that requires core), and so that cases can make the backend
// fail; core's own tests use it for the same reasons. Backends prove their semantics in
// package storetest; this store is for testing the HTTP side. Safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	states map[string]*rate.KeyState
	fail   error // when set, Take fails with it
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{states: map[string]*rate.KeyState{}} }

// Take decides req as rate.Store specifies, or fails with the error of [Store.Fail]. Like
// a store that asks a server (the Redis store), it fails with ctx's error when ctx is
// done, so that the suite sees what a caller's canceled context would do to a decision.
func (s *Store) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	st := s.states[req.Key]
	if st == nil {
		st = new(rate.KeyState)
		s.states[strings.Clone(req.Key)] = st // req.Key may share a buffer the caller reuses
	}
	req.Policy.Apply(st, req.Op, req.Now.UnixMicro(), req.Cost, res)
	return nil
}

// Reset forgets key, or fails with the error of [Store.Fail].
func (s *Store) Reset(_ context.Context, key string, _ []time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	delete(s.states, key)
	return nil
}

// Fail makes every Take fail with err from now on, as an unreachable backend does; nil
// makes the store work again.
func (s *Store) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// Len returns the number of keys the store holds.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.states)
}

// Keys returns the keys the store holds, in no order.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.states))
	for k := range s.states {
		keys = append(keys, k)
	}
	return keys
}

// Close does nothing.
func (s *Store) Close() error { return nil }
