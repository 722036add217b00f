package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
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

// TestBatchDecidesLikeSeparateCalls queues decisions of two clients under two policies of
// each algorithm behind a frozen Redis, then lets Redis run them: "mixed", one window and
// three windows with a penalty, so that the requests of a batch have replies of different
// lengths (the general driver decides them); "one window", two policies of one window
// and no penalty, with different limits and periods (the code of every algorithm
// decides such a batch without the driver, lua/fast.lua). They share a few script
// calls, and every answer is the one separate calls give: each client admitted exactly
// its limit, each admitted request one unit fewer remaining than the one before it, in
// some order.
func TestBatchDecidesLikeSeparateCalls(t *testing.T) {
	t.Parallel()
	pen := &rate.PenaltyPolicy{Threshold: 1000, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	for _, alg := range algorithms {
		sets := map[string][]batchClient{
			"mixed": {
				{"ip:192.0.2.30:one", policy(t, alg, nil, 40, time.Hour), 0, 40},
				{"ip:192.0.2.31:three", policy(t, alg, pen, 100, time.Second, 25, time.Minute, 1000, time.Hour), 1, 25},
			},
			"one window": {
				{"ip:192.0.2.33:a", policy(t, alg, nil, 40, time.Hour), 0, 40},
				{"ip:192.0.2.34:b", policy(t, alg, nil, 30, time.Minute), 0, 30},
			},
		}
		for name, clients := range sets {
			for _, functions := range []bool{true, false} {
				t.Run(alg.String()+"/"+name+"/functions="+strconv.FormatBool(functions), func(t *testing.T) {
					t.Parallel()
					srv := redistest.StartServer(t)
					// One instant for every decision: nothing refills while they wait.
					store := storeOn(t, redisConfig(config.RedisStandalone, false, srv.Addr()), functions, redisstore.WithRequestTime())
					command := "evalsha"
					if functions {
						command = "fcall"
					}
					batchDecidesLikeSeparateCalls(t, srv, store, command, clients)
				})
			}
		}
	}
}

// batchDecidesLikeSeparateCalls is TestBatchDecidesLikeSeparateCalls for clients, on store,
// whose script calls are Redis's command.
func batchDecidesLikeSeparateCalls(t *testing.T, srv *redistest.Server, store *redisstore.Store, command string, clients []batchClient) {
	now := time.Now()
	// A first decision loads the code, so that the ones below find it.
	var res rate.Result
	require.NoError(t, store.Take(context.Background(), &rate.Request{Key: "ip:192.0.2.32:warm", Policy: clients[0].p, Cost: 1, Now: now}, &res))
	before := commandStats(t, srv.Client())[command]

	resume := freeze(t, srv)
	const perClient = 150
	results := make([][]rate.Result, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		results[i] = make([]rate.Result, perClient)
		for j := range perClient {
			wg.Go(func() {
				req := &rate.Request{Key: c.key, Policy: c.p, Cost: 1, Now: now}
				assert.NoError(t, store.Take(context.Background(), req, &results[i][j]))
			})
		}
	}
	// Two decisions are in flight, stuck in the frozen Redis; the others queue.
	eventually(t, 10*time.Second, "decisions queued", func() bool {
		return redisstore.QueuedDecisions(store) == len(clients)*perClient-2
	})
	resume()
	wg.Wait()

	calls := commandStats(t, srv.Client())[command] - before
	queued := len(clients)*perClient - 2
	assert.Equal(t, 2+(queued+redisstore.MaxBatch-1)/redisstore.MaxBatch, calls, "script calls: the two in flight, then the queue in batches of at most %d", redisstore.MaxBatch)
	for i, c := range clients {
		var remaining []int64
		for _, r := range results[i] {
			if r.Allowed {
				remaining = append(remaining, r.Windows[c.binding].Remaining)
			}
		}
		require.Len(t, remaining, int(c.limit), "%s: admitted", c.key)
		assert.ElementsMatch(t, countdown(c.limit), remaining, "%s: remaining after each admission", c.key)
	}
}

// batchClient is a client of TestBatchDecidesLikeSeparateCalls.
type batchClient struct {
	key     string
	p       *rate.Policy
	binding int // the window that runs out first
	limit   int64
}

// countdown is limit-1, limit-2, …, 0.
func countdown(limit int64) []int64 {
	var v []int64
	for r := limit - 1; r >= 0; r-- {
		v = append(v, r)
	}
	return v
}

// gateHook holds script calls (FCALL, EVALSHA, EVAL) until released, or until their
// context ends: lone calls (one request) until lone is closed — or, when their first key
// contains a name keys has, until that name's gate is — and batches until batch is.
type gateHook struct {
	mu          sync.Mutex // guards the gates: a batch may still be sent after its callers gave up
	lone, batch chan struct{}
	keys        map[string]chan struct{}
	waiting     atomic.Int64 // calls held
	batches     atomic.Int64 // batches held
	decisions   atomic.Int64 // the requests of the script calls let through
}

// set makes lone and batch the gates of lone calls and of batches (nil: unchanged).
func (h *gateHook) set(lone, batch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if lone != nil {
		h.lone = lone
	}
	if batch != nil {
		h.batch = batch
	}
}

func (h *gateHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if name := cmd.Name(); name != "fcall" && name != "evalsha" && name != "eval" || len(args) < 4 {
			return next(ctx, cmd)
		}
		gate, requests := h.gate(args)
		h.waiting.Add(1)
		defer h.waiting.Add(-1)
		if requests != 1 {
			h.batches.Add(1)
			defer h.batches.Add(-1)
		}
		select {
		case <-gate:
		case <-ctx.Done():
			cmd.SetErr(ctx.Err())
			return ctx.Err()
		}
		h.decisions.Add(int64(requests))
		return next(ctx, cmd)
	}
}
func (h *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// gate returns the gate of a script call of arguments args, and its requests.
func (h *gateHook) gate(args []any) (chan struct{}, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	requests := 0
	if nkeys, _ := args[2].(int); len(args) > 3+nkeys {
		requests, _ = args[3+nkeys].(int)
	}
	if requests != 1 {
		return h.batch, requests
	}
	key, _ := args[3].(string)
	for name, g := range h.keys {
		if strings.Contains(key, name) {
			return g, requests
		}
	}
	return h.lone, requests
}

// open lets every script call through.
func (h *gateHook) open() {
	open := make(chan struct{})
	close(open)
	h.set(open, open)
}

// gatedStore returns a Store for cfg whose client's script calls pass through a gateHook,
// open.
func gatedStore(t *testing.T, cfg config.Config) (*redisstore.Store, *gateHook) {
	t.Helper()
	hook := &gateHook{}
	hook.open()
	return hookedStore(t, cfg, hook), hook
}

// TestBatchKeepsEachDecisionsDeadline: a decision whose budget ends while its batch is
// still in Redis fails then, as a timeout, and the others of the batch, whose budgets
// started later, still get their answers — one decision's short time left never cuts
// another's short.
func TestBatchKeepsEachDecisionsDeadline(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.Redis.Timeout = 2 * time.Second
	store, hook := gatedStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)
	take := func(key string) error {
		var res rate.Result
		err := store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1}, &res)
		if err == nil && !res.Allowed {
			return errors.New("denied")
		}
		return err
	}
	require.NoError(t, take("ip:192.0.2.40:warm")) // loads the library

	lone, batch := make(chan struct{}), make(chan struct{})
	hook.set(lone, batch)
	var wg sync.WaitGroup
	for _, key := range []string{"ip:192.0.2.41:a", "ip:192.0.2.42:b"} {
		wg.Go(func() { assert.NoError(t, take(key)) }) // the two calls in flight
	}
	eventually(t, 10*time.Second, "two lone calls held", func() bool { return hook.waiting.Load() == 2 })
	first := make(chan error, 1)
	go func() { first <- take("ip:192.0.2.43:first") }()
	eventually(t, 10*time.Second, "the first decision queued", func() bool { return redisstore.QueuedDecisions(store) == 1 })
	time.Sleep(cfg.Redis.Timeout / 2) // the others' budgets start later
	const later = 20
	for i := range later {
		wg.Go(func() { assert.NoError(t, take("ip:192.0.2.44:later-"+strconv.Itoa(i)), "a later decision") })
	}
	eventually(t, 10*time.Second, "all queued", func() bool { return redisstore.QueuedDecisions(store) == 1+later })

	close(lone) // the two in flight end; the queue goes as one batch, held
	err := <-first
	var rerr *redisstore.Error
	require.ErrorAs(t, err, &rerr, "the first decision, at the end of its budget")
	assert.Equal(t, rate.KindTimeout, rerr.Kind)
	close(batch) // Redis answers the batch: the later decisions are within their budgets
	wg.Wait()
}

// TestBatchFailsTheBreakerOnce: the circuit breaker counts script calls, not decisions. Two
// lone calls and one batch of 40 decisions all time out in a Redis that never answers
// them: 42 decisions fail, as timeouts, but that is three failed calls, under the default
// failure_threshold of 5, so the breaker stays closed and the next decision is decided by
// Redis. (Counting decisions, one slow batch opened the breaker.)
func TestBatchFailsTheBreakerOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.Redis.Timeout = time.Second // time for the 40 to queue behind the two held calls
	store, hook := gatedStore(t, cfg)
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)
	take := func(key string) error {
		var res rate.Result
		return store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1}, &res)
	}
	require.NoError(t, take("ip:192.0.2.50:warm")) // loads the library

	held := make(chan struct{})
	hook.set(held, held)
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[rate.ErrorKind]int{}
	decide := func(key string) {
		err := take(key)
		var rerr *redisstore.Error
		mu.Lock()
		defer mu.Unlock()
		if errors.As(err, &rerr) {
			kinds[rerr.Kind]++
		} else {
			kinds["no error"]++
		}
	}
	for i := range 2 {
		wg.Go(func() { decide("ip:192.0.2.51:lone-" + strconv.Itoa(i)) })
	}
	eventually(t, 10*time.Second, "two lone calls held", func() bool { return hook.waiting.Load() == 2 })
	for i := range 40 {
		wg.Go(func() { decide("ip:192.0.2.52:queued-" + strconv.Itoa(i)) })
	}
	eventually(t, 10*time.Second, "40 queued", func() bool { return redisstore.QueuedDecisions(store) == 40 })
	wg.Wait()
	assert.Equal(t, map[rate.ErrorKind]int{rate.KindTimeout: 42}, kinds, "every decision timed out")
	assert.Equal(t, "closed", redisstore.BreakerState(store), "three failed script calls")

	hook.open()
	require.NoError(t, take("ip:192.0.2.53:after"))
}

// TestBatchIsolatesAFailingDecision: a decision the script fails on — Redis out of memory
// (maxmemory 1, noeviction) refuses the write of a take — fails alone, as a script
// error, whether sent alone or in a batch with 20 peeks, which write nothing and are
// decided as usual; and since the script calls themselves succeed, the breaker stays
// closed. On the scripts (EVALSHA): Redis refuses a FCALL whole when out of memory.
// (Before, the error failed the whole batch, and counted toward the breaker.) For the
// algorithms whose batches of one-window requests without penalty the fast block decides
// (lua/fast.lua), and for fixed_window with a penalty, whose batches the general driver
// decides.
func TestBatchIsolatesAFailingDecision(t *testing.T) {
	t.Parallel()
	pen := &rate.PenaltyPolicy{Threshold: 1000, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			batchIsolatesAFailingDecision(t, policy(t, alg, nil, 100, time.Minute))
		})
	}
	t.Run("fixed_window/penalty", func(t *testing.T) {
		t.Parallel()
		batchIsolatesAFailingDecision(t, policy(t, rate.FixedWindow, pen, 100, time.Minute))
	})
}

// batchIsolatesAFailingDecision is TestBatchIsolatesAFailingDecision for policy p.
func batchIsolatesAFailingDecision(t *testing.T, p *rate.Policy) {
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	hook := &gateHook{}
	hook.open()
	store := hookedStoreOn(t, cfg, hook, false) // the scripts
	ctx := context.Background()
	oom := func(on bool) {
		require.NoError(t, srv.Client().ConfigSet(ctx, "maxmemory", map[bool]string{true: "1", false: "0"}[on]).Err())
	}
	decide := func(key string, op rate.Op) (rate.Result, error) {
		var res rate.Result
		err := store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Op: op}, &res)
		return res, err
	}
	take := func(key string) (rate.Result, error) { return decide(key, rate.OpTake) }
	peek := func(key string) (rate.Result, error) { return decide(key, rate.OpPeek) }
	_, err := take("warm") // loads the script
	require.NoError(t, err)
	oom(true)
	scriptError := func(err error) bool {
		var rerr *redisstore.Error
		return errors.As(err, &rerr) && rerr.Kind == rate.KindScript
	}
	_, err = take("bad")
	assert.True(t, scriptError(err), "alone: %v", err)

	held := make(chan struct{})
	hook.set(held, nil)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			res, err := peek("ip:192.0.2.60:lone-" + strconv.Itoa(i))
			assert.NoError(t, err)
			assert.True(t, res.Allowed)
		})
	}
	eventually(t, 10*time.Second, "two lone calls held", func() bool { return hook.waiting.Load() == 2 })
	var badErr error
	wg.Go(func() { _, badErr = take("bad") })
	for i := range 20 {
		wg.Go(func() {
			res, err := peek("ip:192.0.2.61:good-" + strconv.Itoa(i))
			assert.NoError(t, err, "a decision batched with the failing one")
			assert.True(t, res.Allowed)
		})
	}
	eventually(t, 10*time.Second, "21 queued", func() bool { return redisstore.QueuedDecisions(store) == 21 })
	close(held)
	wg.Wait()
	assert.True(t, scriptError(badErr), "in a batch: %v", badErr)
	assert.Equal(t, "closed", redisstore.BreakerState(store))
	oom(false)
	res, err := take("bad")
	require.NoError(t, err, "once Redis has memory again")
	assert.True(t, res.Allowed)
}

// TestFailingSingleWindowDecision: the common call — one request, one window, no penalty,
// which the code of every algorithm decides without run (lua/fast.lua) — fails as run
// fails a request of a batch: a write Redis refuses (out of memory: maxmemory 1,
// noeviction) fails that decision alone, with the error of a decision the script failed
// on, and leaves its key as it was; once Redis has memory again, the next decision is
// decided as usual. On the scripts (EVALSHA): Redis refuses a FCALL whole when out of
// memory, so a function never fails one request this way.
func TestFailingSingleWindowDecision(t *testing.T) {
	t.Parallel()
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			srv := redistest.StartServer(t)
			ctx := context.Background()
			store := storeOn(t, redisConfig(config.RedisStandalone, false, srv.Addr()), false)
			p := policy(t, alg, nil, 100, time.Minute)
			var res rate.Result
			require.NoError(t, store.Take(ctx, &rate.Request{Key: "warm", Policy: p, Cost: 1}, &res)) // loads the script

			require.NoError(t, srv.Client().ConfigSet(ctx, "maxmemory", "1").Err())
			err := store.Take(ctx, &rate.Request{Key: "bad", Policy: p, Cost: 1}, &res)
			var rerr *redisstore.Error
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, rate.KindScript, rerr.Kind)
			assert.ErrorContains(t, err, "the script failed on this decision's keys")
			assert.Zero(t, srv.Client().Exists(ctx, "ratelimit:{bad}:60").Val())

			require.NoError(t, srv.Client().ConfigSet(ctx, "maxmemory", "0").Err())
			require.NoError(t, store.Take(ctx, &rate.Request{Key: "bad", Policy: p, Cost: 1}, &res))
			assert.True(t, res.Allowed)
			assert.Equal(t, int64(99), res.Windows[0].Remaining)
		})
	}
}

// TestSlidingWindowTotalItsMembersDoNotHold: a sliding window whose total ("#") claims
// more units than its members hold — a state this script never writes — is replaced like
// another algorithm's state: the decision ends (it looped forever, and in a batch after
// a write, SCRIPT KILL could not stop it), and the window counts from there.
func TestSlidingWindowTotalItsMembersDoNotHold(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	store := newStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()), redisstore.WithRequestTime())
	p := policy(t, rate.SlidingWindow, nil, 10, time.Minute)
	now := time.Now()
	us := now.UnixMicro()
	ctx := context.Background()
	key := "ratelimit:{ip:192.0.2.62:default}:60"
	require.NoError(t, srv.Client().ZAdd(ctx, key, redis.Z{Score: -1000, Member: "#"}, redis.Z{Score: float64(us), Member: strconv.FormatInt(us, 10) + ":1:1"}).Err())
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	admitted := 0
	for range 12 {
		var res rate.Result
		require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.62:default", Policy: p, Cost: 1, Now: now}, &res))
		if res.Allowed {
			admitted++
		}
	}
	assert.Equal(t, 10, admitted)
}

// TestQueuedDecisionsLearnADenial: the decisions of a key that queue behind the calls in
// flight are answered by the local cache as soon as one of those calls brings back a
// denial of the key, instead of each going to Redis in the next batches: a burst of one
// client on one instance (SPEC section 9) costs Redis a few calls, not one per maxBatch
// requests. Their answers are those Redis gives: denied, nothing remaining, a retry-after
// within the window. Without the local cache the queue goes to Redis, which denies it.
func TestQueuedDecisionsLearnADenial(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	withAndWithoutCache(t, srv, func(t *testing.T, cfg config.Config, cache bool) {
		store, hook := gatedStore(t, cfg)
		p := policy(t, rate.TokenBucket, nil, 1, time.Minute)
		take := func() (rate.Result, error) {
			var res rate.Result
			err := store.Take(context.Background(), &rate.Request{Key: "ip:192.0.2.50:burst", Policy: p, Cost: 1, Now: time.Now()}, &res)
			return res, err
		}
		first, err := take() // the one unit; loads the library
		require.NoError(t, err)
		require.True(t, first.Allowed)

		lone := make(chan struct{})
		hook.set(lone, nil)
		const queued = 30
		results := make(chan rate.Result, 2+queued)
		var wg sync.WaitGroup
		decide := func() {
			res, err := take()
			assert.NoError(t, err)
			results <- res
		}
		for range 2 {
			wg.Go(decide) // the two calls in flight
		}
		eventually(t, 10*time.Second, "two lone calls held", func() bool { return hook.waiting.Load() == 2 })
		for range queued {
			wg.Go(decide)
		}
		eventually(t, 10*time.Second, "all queued", func() bool { return redisstore.QueuedDecisions(store) == queued })
		before := hook.decisions.Load()
		close(lone) // both in flight come back denied
		wg.Wait()
		close(results)

		sent := hook.decisions.Load() - before
		t.Logf("%d decisions sent to Redis for 2 in flight and %d queued", sent, queued)
		if cache {
			assert.Equal(t, int64(2), sent, "decisions sent to Redis: the queued ones are answered locally")
		} else {
			assert.Equal(t, int64(2+queued), sent, "decisions sent to Redis")
		}
		n := 0
		for res := range results {
			n++
			assert.False(t, res.Allowed, "decision %d", n)
			assert.False(t, res.Fallback, "decision %d", n)
			w := res.Windows[0]
			assert.Zero(t, w.Remaining, "decision %d: remaining", n)
			assert.Greater(t, w.RetryAfter, time.Duration(0), "decision %d: retry-after", n)
			assert.LessOrEqual(t, w.RetryAfter, time.Minute, "decision %d: retry-after", n)
		}
		assert.Equal(t, 2+queued, n)
	})
}

// TestTimedOutDecisionsOfADeniedKeyAreDenied: decisions of a key that were sent before a
// denial of the key came back, and that Redis then does not answer within their budget,
// are answered by the local cache — denied — instead of failing open, when the denial was
// made before them. Here a denial is held in Redis while two later decisions of its key
// go out in a batch that never comes back: once the denial returns, the two end as denials
// at their deadline, not as timeouts (still counted as backend timeouts).
func TestTimedOutDecisionsOfADeniedKeyAreDenied(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, true, srv.Addr())
	cfg.Redis.Timeout = 300 * time.Millisecond
	hook := &gateHook{}
	hook.open()
	obs := newObserver()
	store := hookedStore(t, cfg, hook, redisstore.WithObserver(obs))
	p := policy(t, rate.TokenBucket, nil, 1, time.Minute)
	take := func(key string) (rate.Result, error) {
		var res rate.Result
		err := store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
		return res, err
	}
	const key = "ip:192.0.2.60:burst"
	first, err := take(key) // the one unit; loads the library
	require.NoError(t, err)
	require.True(t, first.Allowed)

	denial, other, batch := make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer close(batch)
	hook.mu.Lock()
	hook.keys = map[string]chan struct{}{"192.0.2.60": denial, "192.0.2.61": other}
	hook.batch = batch
	hook.mu.Unlock()
	denied := make(chan error, 1)
	go func() {
		res, err := take(key) // in flight, held: Redis denies it
		if err == nil && res.Allowed {
			err = errors.New("admitted")
		}
		denied <- err
	}()
	eventually(t, 10*time.Second, "the denial held", func() bool { return hook.waiting.Load() == 1 })
	go func() { _, _ = take("ip:192.0.2.61:other") }() // the second call in flight
	eventually(t, 10*time.Second, "two calls held", func() bool { return hook.waiting.Load() == 2 })
	type outcome struct {
		res rate.Result
		err error
	}
	later := make(chan outcome, 2)
	for range 2 {
		go func() {
			res, err := take(key) // made after the denial: queued
			later <- outcome{res, err}
		}()
	}
	eventually(t, 10*time.Second, "two decisions queued", func() bool { return redisstore.QueuedDecisions(store) == 2 })
	close(other) // its slot sends the queue as a batch, which Redis never answers
	eventually(t, 10*time.Second, "the batch held", func() bool { return hook.batches.Load() == 1 })
	close(denial) // the denial comes back while the batch is held
	require.NoError(t, <-denied)
	for range 2 {
		o := <-later
		require.NoError(t, o.err, "a decision held past its budget after its key's denial came back")
		assert.False(t, o.res.Allowed)
		assert.Zero(t, o.res.Windows[0].Remaining)
		assert.Greater(t, o.res.Windows[0].RetryAfter, time.Duration(0))
	}
	assert.Equal(t, 2, obs.count(rate.KindTimeout), "timeouts observed")
}
