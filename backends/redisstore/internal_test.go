package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func testPolicy(t *testing.T, pen *rate.PenaltyPolicy, limit int64) *rate.Policy {
	t.Helper()
	p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: limit, Period: time.Minute, Name: "r"}}, pen)
	require.NoError(t, err)
	return p
}

func deniedResult(retry time.Duration) *rate.Result {
	res := &rate.Result{}
	res.Windows[0] = rate.WindowResult{Allowed: false, Remaining: 0, ResetAfter: 2 * retry, RetryAfter: retry}
	return res
}

func TestCacheAnswersUntilTheRetryInstant(t *testing.T) {
	t.Parallel()
	c := newDenialCache(100)
	p := testPolicy(t, nil, 10)
	t0 := time.Unix(1000, 0)
	req := &rate.Request{Key: "ip:a:r", Policy: p, Cost: 2, Now: t0}
	c.remember(req, deniedResult(3*time.Second), c.epoch.Load())

	var res rate.Result
	later := *req
	later.Now = t0.Add(time.Second)
	require.True(t, c.answer(&later, &res))
	assert.False(t, res.Allowed)
	assert.Equal(t, 2*time.Second, res.Windows[0].RetryAfter)
	assert.Equal(t, 5*time.Second, res.Windows[0].ResetAfter)

	cheaper := later
	cheaper.Cost = 1
	assert.False(t, c.answer(&cheaper, &res), "a smaller cost may pass earlier")
	earlier := later
	earlier.Now = t0.Add(-time.Second)
	assert.False(t, c.answer(&earlier, &res))
	other := later
	other.Policy = testPolicy(t, nil, 10)
	assert.False(t, c.answer(&other, &res), "another policy")

	due := later
	due.Now = t0.Add(3 * time.Second)
	assert.False(t, c.answer(&due, &res), "the retry instant has come")
	assert.Zero(t, c.len(), "expired entries are dropped when met")
}

func TestCacheKeepsPenaltyDenialsOnlyDuringACooldown(t *testing.T) {
	t.Parallel()
	c := newDenialCache(100)
	p := testPolicy(t, &rate.PenaltyPolicy{Threshold: 2, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}, 10)
	t0 := time.Unix(1000, 0)
	req := &rate.Request{Key: "ip:a:r", Policy: p, Cost: 3, Now: t0}
	c.remember(req, deniedResult(10*time.Second), c.epoch.Load())
	assert.Zero(t, c.len(), "a window denial is a violation: Redis must see the next one")

	res := deniedResult(10 * time.Second)
	res.Cooldown, res.Violations = 4*time.Second, 2
	c.remember(req, res, c.epoch.Load())
	var got rate.Result
	later := *req
	later.Now, later.Cost = t0.Add(3*time.Second), 1
	require.True(t, c.answer(&later, &got), "during a cooldown every cost is denied")
	assert.Equal(t, time.Second, got.Cooldown)
	assert.Equal(t, 2, got.Violations)
	later.Now = t0.Add(4 * time.Second)
	assert.False(t, c.answer(&later, &got), "after the cooldown the windows decide again, on Redis")
}

func TestCacheWindowsRecoverAsTimePasses(t *testing.T) {
	t.Parallel()
	c := newDenialCache(100)
	p, err := rate.NewPolicy(rate.FixedWindow, []rate.Window{{Limit: 3, Period: time.Second, Name: "a"}, {Limit: 5, Period: time.Minute, Name: "b"}}, nil)
	require.NoError(t, err)
	t0 := time.Unix(1000, 0)
	res := &rate.Result{}
	res.Windows[0] = rate.WindowResult{Allowed: false, Remaining: 0, ResetAfter: 500 * time.Millisecond, RetryAfter: 500 * time.Millisecond}
	res.Windows[1] = rate.WindowResult{Allowed: false, Remaining: 0, ResetAfter: 30 * time.Second, RetryAfter: 30 * time.Second}
	req := &rate.Request{Key: "k", Policy: p, Cost: 1, Now: t0}
	c.remember(req, res, c.epoch.Load())
	var got rate.Result
	req.Now = t0.Add(time.Second)
	require.True(t, c.answer(req, &got))
	assert.True(t, got.Windows[0].Allowed)
	assert.Equal(t, int64(3), got.Windows[0].Remaining, "past its reset the window is full")
	assert.Zero(t, got.Windows[0].RetryAfter)
	assert.False(t, got.Windows[1].Allowed)
	assert.Equal(t, 29*time.Second, got.Windows[1].RetryAfter)
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	const size = 640 // 10 per shard
	c := newDenialCache(size)
	p := testPolicy(t, nil, 10)
	t0 := time.Unix(1000, 0)
	for i := range 10 * size {
		c.remember(&rate.Request{Key: fmt.Sprintf("ip:%d:r", i), Policy: p, Cost: 1, Now: t0.Add(time.Duration(i) * time.Millisecond)}, deniedResult(time.Hour), c.epoch.Load())
	}
	assert.LessOrEqual(t, c.len(), size)
	var res rate.Result
	newest := &rate.Request{Key: fmt.Sprintf("ip:%d:r", 10*size-1), Policy: p, Cost: 1, Now: t0.Add(time.Hour - time.Second)}
	assert.True(t, c.answer(newest, &res), "the newest entries stay; the oldest went")

}

func TestCacheShardEvictsExpiredThenOldest(t *testing.T) {
	t.Parallel()
	p := testPolicy(t, nil, 10)
	t0 := time.Unix(1000, 0)
	sh := &cacheShard{m: map[cacheKey]*denial{}}
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Second)
		until := at.Add(time.Hour)
		if i%2 == 0 {
			until = at.Add(time.Second) // expired by t0+1m
		}
		sh.m[cacheKey{fmt.Sprint(i), p}] = &denial{at: at, until: until}
	}
	sh.evict(t0.Add(time.Minute), 10)
	assert.Len(t, sh.m, 5, "the expired entries went, nothing else")
	sh.evict(t0.Add(time.Minute), 5)
	assert.Len(t, sh.m, 4, "then the oldest live one")
	assert.NotContains(t, sh.m, cacheKey{"1", p})
}

func TestCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	c := newDenialCache(1000)
	p := testPolicy(t, nil, 10)
	t0 := time.Unix(1000, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				req := &rate.Request{Key: fmt.Sprintf("k%d", (g*7+i)%300), Policy: p, Cost: 1, Now: t0.Add(time.Duration(i) * time.Millisecond)}
				var res rate.Result
				if !c.answer(req, &res) {
					c.remember(req, deniedResult(50*time.Millisecond), c.epoch.Load())
				}
				if i%500 == 0 {
					c.clear()
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, c.len(), 1000)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want rate.ErrorKind
	}{
		{"budget", fmt.Errorf("redis: %w", context.DeadlineExceeded), rate.KindTimeout},
		{"net timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, rate.KindTimeout},
		{"pool timeout", redis.ErrPoolTimeout, rate.KindTimeout},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, rate.KindConnection},
		{"eof", io.EOF, rate.KindConnection},
		{"closed client", redis.ErrClosed, rate.KindConnection},
		{"readonly replica", redisErr("READONLY You can't write against a read only replica."), rate.KindConnection},
		{"loading", redisErr("LOADING Redis is loading the dataset in memory"), rate.KindConnection},
		{"cluster down", redisErr("CLUSTERDOWN The cluster is down"), rate.KindConnection},
		{"sentinels", errors.New("redis: all sentinels specified in configuration are unreachable"), rate.KindConnection},
		{"script", redisErr("ERR user_script:12: Script attempted to access nonexistent global variable"), rate.KindScript},
		{"noscript", redis.ErrNoScript, rate.KindScript},
		{"breaker", gobreaker.ErrOpenState, rate.KindCircuitOpen},
		{"half-open", gobreaker.ErrTooManyRequests, rate.KindCircuitOpen},
		{"canceled", context.Canceled, rate.KindOther},
		{"reply", errors.New("redisstore: the script answered 2 numbers, want 7"), rate.KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, classify(tt.err))
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

func TestErrorMatchesUnavailableAndHintsRetry(t *testing.T) {
	t.Parallel()
	e := &Error{Kind: rate.KindCircuitOpen, Err: ErrCircuitOpen, retryAfter: 3 * time.Second}
	var err error = e
	assert.ErrorIs(t, err, rate.ErrUnavailable)
	assert.ErrorIs(t, err, ErrCircuitOpen)
	var h rate.RetryHinter
	require.ErrorAs(t, err, &h)
	assert.Equal(t, 3*time.Second, h.RetryAfter())
	assert.Equal(t, "ratewarden: redis circuit_open: ratewarden: redis circuit breaker open", e.Error())
}

func TestCooldownTableMirrorsCore(t *testing.T) {
	t.Parallel()
	for _, pen := range []*rate.PenaltyPolicy{
		{Threshold: 3, Period: 10 * time.Minute, BaseCooldown: time.Minute, Multiplier: 2, MaxCooldown: time.Hour},
		{Threshold: 1, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 1, MaxCooldown: time.Minute},
		{Threshold: 2, Period: time.Minute, BaseCooldown: 7 * time.Second, Multiplier: 1.1, MaxCooldown: 24 * time.Hour},
	} {
		cs := cooldowns(pen)
		require.NotEmpty(t, cs)
		for n := 0; n <= pen.Capacity(); n++ {
			want := pen.Cooldown(n).Microseconds()
			got := int64(0)
			if n >= pen.Threshold {
				got = cs[min(n-pen.Threshold, len(cs)-1)]
			}
			assert.Equal(t, want, got, "%+v: violation %d", *pen, n)
		}
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	mk := func(limit int64, name string, pen *rate.PenaltyPolicy) string {
		p, err := rate.NewPolicy(rate.GCRA, []rate.Window{{Limit: limit, Period: time.Minute, Name: name}}, pen)
		require.NoError(t, err)
		return signature(p)
	}
	pen := &rate.PenaltyPolicy{Threshold: 3, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	assert.Equal(t, mk(10, "a", nil), mk(10, "b", nil), "a rule's name is no part of its state")
	assert.NotEqual(t, mk(10, "a", nil), mk(11, "a", nil))
	assert.NotEqual(t, mk(10, "a", nil), mk(10, "a", pen))
}

func TestKeyLayout(t *testing.T) {
	t.Parallel()
	p, err := rate.NewPolicy(rate.SlidingWindow, []rate.Window{{Limit: 10, Period: time.Second, Name: "a"}, {Limit: 100, Period: time.Hour, Name: "b"}},
		&rate.PenaltyPolicy{Threshold: 3, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"ratelimit:{ip:203.0.113.7:default}:1",
		"ratelimit:{ip:203.0.113.7:default}:3600",
		"ratelimit:{ip:203.0.113.7:default}:penalty",
	}, newPlan(p).keys("ratelimit", "ip:203.0.113.7:default"))
}

func TestConstruction(t *testing.T) {
	t.Parallel()
	_, err := New(config.Config{Redis: config.RedisConfig{Timeout: -time.Second, Mode: "replicated"}})
	var verr *config.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Contains(t, err.Error(), "redis.timeout")
	assert.Contains(t, err.Error(), "redis.mode")

	_, err = New(config.Config{Redis: config.RedisConfig{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}}})
	assert.ErrorContains(t, err, "standalone mode takes one address")

	_, err = NewWithClient(nil, config.Config{})
	assert.Error(t, err)

	for _, mode := range []string{config.RedisStandalone, config.RedisSentinel, config.RedisCluster} {
		s, err := New(config.Config{FailMode: config.FailLocal, Redis: config.RedisConfig{Mode: mode, MasterName: "m", Timeout: 50 * time.Millisecond}})
		require.NoError(t, err, mode)
		assert.NotNil(t, s.local)
		assert.NotNil(t, s.cache, "local_cache defaults to on")
		assert.Equal(t, 50*time.Millisecond, s.budget)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "idempotent")
	}
	s, err := New(config.Config{Redis: config.RedisConfig{LocalCache: config.Bool(false)}})
	require.NoError(t, err)
	assert.Nil(t, s.cache)
	assert.Nil(t, s.local)
	assert.Equal(t, config.DefaultRedisTimeout, s.budget)
	require.NoError(t, s.Close())
}

func TestRejectsCostsNoWindowAdmits(t *testing.T) {
	t.Parallel()
	s, err := New(config.Config{})
	require.NoError(t, err)
	defer s.Close()
	p := testPolicy(t, nil, 5)
	var res rate.Result
	for _, cost := range []int64{0, 6} {
		err := s.Take(context.Background(), &rate.Request{Key: "k", Policy: p, Cost: cost, Now: time.Now()}, &res)
		assert.ErrorIs(t, err, rate.ErrCost)
		assert.NotErrorIs(t, err, rate.ErrUnavailable)
	}
}

func TestPlanCacheIsBoundedAndClearedOnReload(t *testing.T) {
	t.Parallel()
	s, err := New(config.Config{})
	require.NoError(t, err)
	defer s.Close()
	for range maxPlans + 10 {
		s.plan(testPolicy(t, nil, 5))
	}
	assert.LessOrEqual(t, s.nplans.Load(), int64(maxPlans))
	s.Reloaded()
	assert.Zero(t, s.nplans.Load())
}

// TestNewWithClientWarnings checks what NewWithClient says about the caller's
// client: a client that ignores context deadlines is warned about, and one
// without an AutoPipeliner (a Ring) is used one command per connection.
func TestNewWithClientWarnings(t *testing.T) {
	t.Parallel()
	newStore := func(t *testing.T, c redis.UniversalClient) (*Store, string) {
		t.Helper()
		t.Cleanup(func() { _ = c.Close() })
		var logs bytes.Buffer
		s, err := NewWithClient(c, config.Config{}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s, logs.String()
	}

	s, logs := newStore(t, redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}))
	assert.Contains(t, logs, "redis_client_ignores_context_deadlines")
	assert.Len(t, s.batchers, len(scripts), "a Client's decisions are batched, one batcher per script")
	assert.Nil(t, s.pipe, "… not pipelined one by one")

	s, logs = newStore(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}))
	assert.Contains(t, logs, "redis_client_ignores_context_deadlines", "a ClusterClient is checked too")
	assert.NotNil(t, s.pipe, "a ClusterClient's decisions are pipelined")
	assert.Nil(t, s.batchers)

	_, logs = newStore(t, redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}))
	assert.Empty(t, logs)
	_, logs = newStore(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}))
	assert.Empty(t, logs)

	s, logs = newStore(t, redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}))
	assert.Nil(t, s.pipe, "a Ring has no AutoPipeliner")
	assert.Contains(t, logs, "redis_autopipeline_unavailable")
	assert.NotContains(t, logs, "redis_client_ignores_context_deadlines", "a Ring's options are not known")
}

// TestCacheIgnoresADenialSentBeforeAForget: a denial of a request sent before a forget or
// a clear (Redis decided it before a Reset, and its answer came back after) is not
// remembered; one sent after is. Another key's forget counts too: a Reset is rare, and a
// denial not cached only costs a round trip.
func TestCacheIgnoresADenialSentBeforeAForget(t *testing.T) {
	t.Parallel()
	c := newDenialCache(100)
	p := testPolicy(t, nil, 10)
	t0 := time.Unix(1000, 0)
	req := &rate.Request{Key: "ip:a:r", Policy: p, Cost: 1, Now: t0}
	later := *req
	later.Now = t0.Add(time.Second)
	for name, reset := range map[string]func(){"forget": func() { c.forget(req.Key) }, "forget another key": func() { c.forget("ip:b:r") }, "clear": c.clear} {
		sent := c.epoch.Load()
		reset()
		c.remember(req, deniedResult(time.Minute), sent)
		assert.False(t, c.answer(&later, nil), "%s: a denial sent before it is remembered", name)
		c.remember(req, deniedResult(time.Minute), c.epoch.Load())
		assert.True(t, c.answer(&later, nil), "%s: a denial sent after it is not remembered", name)
		c.forget(req.Key)
	}
}
