package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestADecisionInFlightAtCloseFailsAsAClosedClient: Close while a lone decision (on the
// Store's own client, with a caller's context that cannot be canceled, as core's) waits
// for a frozen Redis. Its caller never canceled anything, so it must not get
// context.Canceled — the error the Store reserves for "the caller gave up" (the breaker
// ignores it, TestACallerThatGivesUpIsNoRedisFailure) — but fail as a closed client does:
// a connection error, as it did before decisions shared deadline contexts, and as a
// decision sent just after Close does.
func TestADecisionInFlightAtCloseFailsAsAClosedClient(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.FailMode = config.FailClosed
	obs := newObserver()
	store := newStore(t, cfg, redisstore.WithObserver(obs))
	p := policy(t, rate.TokenBucket, nil, 5, time.Minute)
	var res rate.Result
	require.NoError(t, store.Take(context.Background(), &rate.Request{Key: "warm", Policy: p, Cost: 1, Now: time.Now()}, &res))

	freeze(t, srv)
	done := make(chan error, 1)
	go func() {
		var r rate.Result
		done <- store.Take(context.Background(), &rate.Request{Key: "in-flight", Policy: p, Cost: 1, Now: time.Now()}, &r)
	}()
	eventually(t, 5*time.Second, "the call is in flight", func() bool { return redisstore.CallsInFlight(store) == 1 })
	require.NoError(t, store.Close())
	var err error
	select {
	case err = <-done:
	case <-time.After(relaxedTimeout + 5*time.Second):
		t.Fatal("the decision in flight at Close never returned")
	}
	t.Logf("decision in flight at Close: %v", err)
	require.ErrorIs(t, err, rate.ErrUnavailable)
	assert.NotErrorIs(t, err, context.Canceled, "nobody canceled this decision's context")
	var e *redisstore.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, rate.KindConnection, e.Kind)
	assert.Zero(t, obs.count(rate.KindOther), "no decision observed as kind other")
}
