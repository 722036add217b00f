package core_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// ctxStore is adaptertest's store (which fails on a done context, as the Redis store does)
// recording what each Take's context carried.
type ctxStore struct {
	*adaptertest.Store
	mu    sync.Mutex
	takes []takeContext
}

type takeContext struct {
	op          rate.Op
	err         error
	hasDeadline bool
	value       any // the request context's value of traceKey
}

type traceKey struct{}

func (s *ctxStore) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	_, hasDeadline := ctx.Deadline()
	s.mu.Lock()
	s.takes = append(s.takes, takeContext{req.Op, ctx.Err(), hasDeadline, ctx.Value(traceKey{})})
	s.mu.Unlock()
	return s.Store.Take(ctx, req, res)
}

// TestAClientCannotCancelItsDecision: a request whose context is done — its client hung up
// or half-closed the connection, or its deadline passed — is decided and counted all the
// same, by Decide, Gate, GateRule and Complete alike. The store sees the request's values
// but neither its cancellation nor its deadline (its own budget bounds the call).
// Before, the Redis store refused the done context, and fail_mode admitted the request
// uncounted; the consume of a failed login was dropped.
func TestAClientCannotCancelItsDecision(t *testing.T) {
	t.Parallel()
	store := &ctxStore{Store: adaptertest.NewStore()}
	lim, err := core.New(config.Config{
		Default: config.Limits{Limit: 2, Window: time.Minute},
		Endpoints: []config.Endpoint{
			{Name: "login", Pattern: "/login", Limits: config.Limits{Limit: 1, Window: time.Minute}, CountStatuses: []int{http.StatusUnauthorized}},
		},
	}, core.WithStore(store), core.WithClock(adaptertest.NewClock().Now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })

	hungUp := func(path string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = "203.0.113.7:41000"
		ctx, cancel := context.WithDeadline(context.WithValue(r.Context(), traceKey{}, "trace-1"), time.Now().Add(-time.Second))
		cancel()
		return r.WithContext(ctx)
	}

	var d core.Decision
	lim.Decide(core.Input{Request: hungUp("/x")}, &d)
	assert.Equal(t, core.Allowed, d.Outcome, "Decide")
	_, gated := lim.Gate(core.Input{Request: hungUp("/x")}, http.Header{})
	assert.Equal(t, core.Allowed, gated.Outcome, "Gate")
	_, gated = lim.Gate(core.Input{Request: hungUp("/x")}, http.Header{})
	assert.Equal(t, core.Denied, gated.Outcome, "the two before were counted")

	r, login := lim.Gate(core.Input{Request: hungUp("/login")}, http.Header{})
	require.Equal(t, core.Allowed, login.Outcome)
	require.True(t, login.CountsResponse())
	login.Complete(r.Context(), http.StatusUnauthorized)
	_, again := core.GateRule(r, http.Header{}, "login", "")
	assert.Equal(t, core.Denied, again.Outcome, "GateRule, after Complete counted the failed login")

	store.mu.Lock()
	defer store.mu.Unlock()
	require.Len(t, store.takes, 6)
	for i, tc := range store.takes {
		assert.NoError(t, tc.err, "take %d (%s)", i, tc.op)
		assert.False(t, tc.hasDeadline, "take %d (%s)", i, tc.op)
		assert.Equal(t, "trace-1", tc.value, "take %d (%s): the request's values reach the store", i, tc.op)
	}
	assert.Equal(t, rate.OpConsume, store.takes[4].op, "Complete's consume")
}

// TestAClientCannotCancelItsKeyLookup: a request with an API key whose client hangs up while
// the lookup runs (a database answering in its own time) is still identified by its key,
// and counted on the key's counter. Before, the wait for the lookup ended with the
// request's context, and the request was counted under its IP — served as the key's user,
// counted as anonymous (found by an attacker review).
func TestAClientCannotCancelItsKeyLookup(t *testing.T) {
	t.Parallel()
	called, release := make(chan struct{}), make(chan struct{})
	lookup := func(ctx context.Context, key string) (core.Identity, error) {
		close(called)
		<-release
		return core.Identity{User: "cust-1", Tier: "premium"}, nil
	}
	lim, err := core.New(config.Config{
		APIKey:  config.APIKeyConfig{Enabled: true, Timeout: time.Minute},
		Default: config.Limits{Limit: 5, Window: time.Minute},
		Tiers:   map[string]config.Limits{"premium": {Limit: 1, Window: time.Minute}},
	}, core.WithStore(adaptertest.NewStore()), core.WithClock(adaptertest.NewClock().Now), core.WithKeyLookup(lookup))
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })

	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.RemoteAddr = "203.0.113.7:41000"
	r.Header.Set("X-API-Key", "sk_live_1")
	ctx, cancel := context.WithCancel(r.Context())
	cancel()
	r = r.WithContext(ctx)

	decided := make(chan *core.Decision, 1)
	go func() {
		_, d := lim.Gate(core.Input{Request: r}, http.Header{})
		decided <- d
	}()
	<-called // the lookup runs; the request's context is done already
	close(release)
	d := <-decided
	assert.Equal(t, core.ScopeKey, d.Scope())
	assert.Equal(t, "cust-1", d.ID())
	assert.Equal(t, "premium", d.Tier)
	assert.Equal(t, core.Allowed, d.Outcome)
	_, d = lim.Gate(core.Input{Request: r}, http.Header{})
	assert.Equal(t, core.Denied, d.Outcome, "the key's limit of 1 applies to the next")
}
