package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
)

// lockedStore is the simplest complete core.Store: one map behind one mutex, deciding with
// core.Policy like every in-process store. Core's tests cannot import the memory backend
// (it is a module that requires core), and do not need its sharding.
type lockedStore struct {
	mu     sync.Mutex
	states map[string]*lockedState
	fail   error // when set, Take fails with it
}

type lockedState struct {
	policy *core.Policy
	state  []int64
}

func newLockedStore() *lockedStore { return &lockedStore{states: map[string]*lockedState{}} }

func (s *lockedStore) Take(_ context.Context, req *core.Request, res *core.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	now := req.Now.UnixMicro()
	st := s.states[req.Key]
	switch {
	case st == nil:
		st = &lockedState{policy: req.Policy, state: make([]int64, req.Policy.StateSize())}
		req.Policy.Init(st.state)
		s.states[req.Key] = st
	case st.policy != req.Policy:
		next := make([]int64, req.Policy.StateSize())
		req.Policy.Migrate(next, st.policy, st.state, now)
		st.policy, st.state = req.Policy, next
	}
	req.Policy.Apply(st.state, now, req.Cost, res)
	return nil
}

func (s *lockedStore) Close() error { return nil }

func (s *lockedStore) failWith(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_764_158_400, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a Limiter over a lockedStore with a test clock and a captured JSON log.
type harness struct {
	lim   *core.Limiter
	store *lockedStore
	clock *clock
	log   *bytes.Buffer
}

func newHarness(t *testing.T, cfg core.Config, opts ...core.Option) *harness {
	t.Helper()
	h := &harness{store: newLockedStore(), clock: newClock(), log: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: h.log}, nil))
	opts = append([]core.Option{core.WithStore(h.store), core.WithClock(h.clock.Now), core.WithLogger(logger)}, opts...)
	lim, err := core.New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })
	h.lim = lim
	return h
}

// request describes one request of a test.
type request struct {
	method, path, route, remote, key string
	header                           http.Header
}

func (h *harness) decide(r request) *core.Decision {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.remote == "" {
		r.remote = "203.0.113.7:41000"
	}
	req := httptest.NewRequest(r.method, r.path, nil)
	req.RemoteAddr = r.remote
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	d := new(core.Decision)
	h.lim.Decide(core.Input{Request: req, Route: r.route, Key: r.key}, d)
	return d
}

// decideN decides n identical requests and returns the last decision.
func (h *harness) decideN(n int, r request) *core.Decision {
	var d *core.Decision
	for i := 0; i < n; i++ {
		d = h.decide(r)
	}
	return d
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var errBackendDown = errors.New("backend down")

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}
