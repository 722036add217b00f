package redisstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// replyHook lets script calls reach Redis but holds their replies (after Redis decided)
// until release is closed, while hold is set.
type replyHook struct {
	hold    atomic.Bool
	release chan struct{}
	held    atomic.Int64
}

func (h *replyHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *replyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := cmd.Name()
		script := name == "fcall" || name == "evalsha" || name == "eval"
		hold := script && h.hold.Load()
		err := next(ctx, cmd)
		if hold {
			h.held.Add(1)
			<-h.release
		}
		return err
	}
}
func (h *replyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestResetWinsOverDenialsInFlight: two takes of a client are decided in Redis, denied,
// and their replies are still on their way when the client is reset (Reset returns nil). A
// take made after Reset returned queues behind them. Redis holds a fresh state and admits
// it, and so must the store: the local cache must not learn the denials Redis made before
// the reset (denialCache.remember's epoch). Before the fix it answered the queued take from
// them, denied for 47 minutes.
func TestResetWinsOverDenialsInFlight(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	withAndWithoutCache(t, srv, func(t *testing.T, cfg config.Config, _ bool) {
		hook := &replyHook{release: make(chan struct{})}
		store := hookedStore(t, cfg, hook)
		p := policy(t, rate.FixedWindow, nil, 1, time.Hour)
		const key = "ip:192.0.2.77:reset"
		take := taker(t, store, p, key)
		require.True(t, take(rate.OpTake).Allowed) // the one unit

		hook.hold.Store(true)
		var wg sync.WaitGroup
		for range 2 { // two denials decided by Redis, replies held
			wg.Go(func() { assert.False(t, take(rate.OpTake).Allowed, "decided before the reset") })
		}
		eventually(t, 10*time.Second, "two replies held", func() bool { return hook.held.Load() == 2 })
		hook.hold.Store(false)

		require.NoError(t, store.Reset(context.Background(), key, []time.Duration{time.Hour}))

		queued := make(chan rate.Result, 1)
		go func() { queued <- take(rate.OpTake) }() // issued after Reset returned
		eventually(t, 10*time.Second, "the take queued", func() bool { return redisstore.QueuedDecisions(store) == 1 })
		close(hook.release)
		wg.Wait()
		q := <-queued
		assert.True(t, q.Allowed, "a take issued after Reset returned (Redis has a fresh state)")

		assert.False(t, take(rate.OpTake).Allowed, "the next take: the reset gave one unit, taken")
	})
}

// TestResetWinsOverALoneDenialInFlight: one take is decided in Redis — a violation that
// starts a 30-minute cooldown — and its reply is on its way when the client is reset. The
// next take is admitted, as Redis admits it; before the fix Store.Take remembered the
// denial after Reset had forgotten the key, and the client stayed denied for the cooldown.
func TestResetWinsOverALoneDenialInFlight(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	withAndWithoutCache(t, srv, func(t *testing.T, cfg config.Config, _ bool) {
		hook := &replyHook{release: make(chan struct{})}
		store := hookedStore(t, cfg, hook)
		pen := &rate.PenaltyPolicy{Threshold: 1, Period: time.Hour, BaseCooldown: 30 * time.Minute, Multiplier: 2, MaxCooldown: 2 * time.Hour}
		p := policy(t, rate.TokenBucket, pen, 1, time.Minute)
		const key = "user:alice:reset"
		take := taker(t, store, p, key)
		require.True(t, take(rate.OpTake).Allowed) // the one unit
		hook.hold.Store(true)
		done := make(chan rate.Result, 1)
		go func() { done <- take(rate.OpTake) }() // a violation: starts a 30 min cooldown
		eventually(t, 10*time.Second, "reply held", func() bool { return hook.held.Load() == 1 })
		hook.hold.Store(false)
		require.NoError(t, store.Reset(context.Background(), key, []time.Duration{time.Minute}))
		close(hook.release)
		assert.False(t, (<-done).Allowed, "the take decided before the reset")
		next := take(rate.OpTake)
		assert.True(t, next.Allowed, "a take after Reset returned")
		assert.Zero(t, next.Cooldown, "a take after Reset returned")
	})
}
