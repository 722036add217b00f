package core_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
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

// Requests that pass the check together are all counted, beyond the limit too: the
// window owes what it counted beyond full, and the next checks deny until it has drained.
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
	// 5 counted of 3 a minute: 2 units beyond full and the one a request needs must come
	// back, at one per 20 s (had only 3 counted, one would be back 20 s later).
	assert.Equal(t, time.Minute, d.RetryAfter())
	h.clock.Advance(time.Minute - time.Microsecond)
	d = h.decide(login)
	assert.Equal(t, core.Denied, d.Outcome)
	h.clock.Advance(time.Microsecond)
	d = h.decide(login)
	assert.Equal(t, core.Allowed, d.Outcome)
	assert.EqualValues(t, 1, d.Remaining(), "the state at the check")
}

// loginBursts sends a burst of inFlight failed logins (concurrent: all checked before any
// is counted) every step, rounds times, and returns the times of the requests admitted.
func loginBursts(h *harness, inFlight, rounds int, step time.Duration) []time.Time {
	login := request{method: http.MethodPost, path: "/login"}
	var admitted []time.Time
	for range rounds {
		var ds []*core.Decision
		for range inFlight {
			if d := h.decide(login); d.Outcome == core.Allowed {
				ds = append(ds, d)
				admitted = append(admitted, h.clock.Now())
			}
		}
		for _, d := range ds {
			d.Complete(context.Background(), http.StatusUnauthorized)
		}
		h.clock.Advance(step)
	}
	return admitted
}

// The attack on count_statuses: 20 concurrent failed logins every second against 5 a
// minute. Every failure admitted is counted, beyond full too, so no minute admits more
// than the limit and the 20 in flight (SPEC section 4). A consume that counted only while
// the window had room let a whole burst through each time one unit came back: 100 a
// minute with a token bucket.
func TestCountStatusesConcurrentBurstsKeepTheInFlightBound(t *testing.T) {
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			cfg := loginRule()
			cfg.Algorithm = config.Algorithm(alg.String())
			cfg.Endpoints[0].Limits = config.Limits{Limit: 5, Window: time.Minute}
			const inFlight = 20
			admitted := loginBursts(newHarness(t, cfg), inFlight, 180, time.Second)
			require.NotEmpty(t, admitted)
			for i := range admitted {
				within := 0
				for j := i; j < len(admitted) && admitted[j].Sub(admitted[i]) < time.Minute; j++ {
					within++
				}
				require.LessOrEqual(t, within, 5+inFlight, "failures admitted in the minute from %s", admitted[i].Sub(adaptertest.Base))
			}
		})
	}
}

// Two windows, 5 a minute and 20 an hour, and 10 failed logins in flight every minute: a
// consume beyond the minute's limit counts in the hour's too, so the hour admits at most
// its limit and the 10 in flight (and, for the token bucket and GCRA, what the hour
// refills in it). The all-or-nothing consume counted the overflow in neither window: 40
// admitted within the hour of a fixed window.
func TestCountStatusesTwoWindowsCountInBoth(t *testing.T) {
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			cfg := loginRule()
			cfg.Algorithm = config.Algorithm(alg.String())
			cfg.Endpoints[0].Limits = config.Limits{Windows: []config.WindowConfig{{Limit: 5, Window: time.Minute}, {Limit: 20, Window: time.Hour}}}
			const inFlight = 10
			bound := 20 + inFlight
			if alg.Continuous() {
				bound += 20 // the hour's refill within the hour
			}
			admitted := loginBursts(newHarness(t, cfg), inFlight, 60, time.Minute) // the aligned hour from Base
			require.NotEmpty(t, admitted)
			require.LessOrEqual(t, len(admitted), bound)
		})
	}
}
