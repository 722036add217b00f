package core_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// loginRule counts only failed logins: 3 a minute.
func loginRule() config.Config {
	return config.Config{Endpoints: []config.Endpoint{{
		Name: "login", Pattern: "/login", Methods: []string{http.MethodPost},
		Limits: config.Limits{Limit: 3, Window: time.Minute}, CountStatuses: []int{401, 403},
	}}}
}

func TestCountStatusesConsumesOnlyListedResponses(t *testing.T) {
	h := newHarness(t, loginRule())
	login := request{method: http.MethodPost, path: "/login"}
	ctx := context.Background()

	for i := 0; i < 10; i++ { // right passwords never count
		d := h.decide(login)
		require.Equal(t, core.Allowed, d.Outcome)
		require.True(t, d.CountsResponse())
		assert.EqualValues(t, 3, d.Remaining(), "the headers show the state at the check")
		d.Complete(ctx, http.StatusOK)
	}
	for i := int64(0); i < 3; i++ { // wrong ones do
		d := h.decide(login)
		require.Equal(t, core.Allowed, d.Outcome, "failure %d", i+1)
		assert.EqualValues(t, 3-i, d.Remaining(), "before its own cost")
		d.Complete(ctx, http.StatusUnauthorized)
		d.Complete(ctx, http.StatusUnauthorized) // once per decision
		assert.False(t, d.CountsResponse())
	}
	d := h.decide(login)
	assert.Equal(t, core.Denied, d.Outcome, "three failures lock the client out")
	assert.Equal(t, 20*time.Second, d.RetryAfter())
	assert.False(t, d.CountsResponse(), "a denial has nothing to count")

	other := h.decide(request{method: http.MethodGet, path: "/login"})
	assert.False(t, other.CountsResponse(), "a rule without count_statuses consumed already")
	assert.EqualValues(t, 99, other.Remaining())
}

// Requests that pass the check together are counted as far as the windows have room:
// the counted never exceed the limit, and the next check denies.
func TestCountStatusesInFlightRequests(t *testing.T) {
	h := newHarness(t, loginRule())
	login := request{method: http.MethodPost, path: "/login"}
	var inFlight []*core.Decision
	for i := 0; i < 5; i++ {
		d := h.decide(login)
		require.Equal(t, core.Allowed, d.Outcome)
		inFlight = append(inFlight, d)
	}
	for _, d := range inFlight {
		d.Complete(context.Background(), http.StatusForbidden)
	}
	d := h.decide(login)
	require.Equal(t, core.Denied, d.Outcome)
	assert.EqualValues(t, 0, d.Remaining())
	h.clock.Advance(20 * time.Second)
	d = h.decide(login)
	assert.Equal(t, core.Allowed, d.Outcome)
	assert.EqualValues(t, 1, d.Remaining(), "one unit came back 20 s later: 3 were counted, not 5")
}
