package adaptertest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratewarden/ratewarden/core"
)

// store is the simplest complete core.Store: one map behind one mutex, deciding with
// core.Policy like every in-process store. The suite passes it with core.WithStore, so
// that core's own net/http middleware can run the suite without the memory backend (a
// module that requires core), and so that cases can make the backend fail. Backends
// prove their semantics in package storetest; this suite is about the HTTP side.
type store struct {
	mu     sync.Mutex
	states map[string]*keyState
	down   atomic.Bool // when set, Take fails with core.ErrUnavailable
}

type keyState struct {
	policy *core.Policy
	state  []int64
}

func newStore() *store { return &store{states: map[string]*keyState{}} }

func (s *store) Take(_ context.Context, req *core.Request, res *core.Result) error {
	if s.down.Load() {
		return core.ErrUnavailable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := req.Now.UnixMicro()
	st := s.states[req.Key]
	switch {
	case st == nil:
		st = &keyState{policy: req.Policy, state: make([]int64, req.Policy.StateSize())}
		req.Policy.Init(st.state)
		s.states[strings.Clone(req.Key)] = st // req.Key may share a buffer the caller reuses
	case st.policy != req.Policy:
		next := make([]int64, req.Policy.StateSize())
		req.Policy.Migrate(next, st.policy, st.state, now)
		st.policy, st.state = req.Policy, next
	}
	req.Policy.Apply(st.state, now, req.Cost, res)
	return nil
}

func (s *store) Close() error { return nil }

// base is the instant every case starts at: a multiple of one hour, so that fixed windows
// of a minute and of an hour both begin there.
var base = time.Unix(1_764_158_400, 0)

// clock is the stepped clock of one case.
type clock struct{ now atomic.Int64 } // Unix nanoseconds

func newClock() *clock {
	c := &clock{}
	c.now.Store(base.UnixNano())
	return c
}

func (c *clock) Now() time.Time { return time.Unix(0, c.now.Load()) }

func (c *clock) Advance(d time.Duration) { c.now.Add(int64(d)) }
