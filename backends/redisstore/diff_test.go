package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// TestSameResultsAsMemory applies random sequences of requests — key, cost, time step
// (backward ones included), policy and op (take, check, consume, peek), and resets — to the
// memory store and to the Redis store, and requires identical results, for every
// algorithm, with and without penalties. Policy switches cover limit increases and
// decreases and windows of other lengths, as a reload or a token of another tier brings
// them. A third store, in memory, gets the same sequence without the peeks and must give
// the same answer to everything else: a peek never changes a later answer. Consumes come
// alone or in bursts of up to 6 at one instant, as requests in flight answer, so that
// windows go beyond full and reach the cap of twice their limit.
func TestSameResultsAsMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	sameResultsAsMemory(t, redisConfig(config.RedisStandalone, false, srv.Addr()), 3)
}

// sameResultsAsMemory is TestSameResultsAsMemory on the Redis cfg describes, with runs
// sequences per algorithm and penalty setting.
func sameResultsAsMemory(t *testing.T, cfg config.Config, runs int) {
	seed := testSeed(t)
	for _, alg := range rate.Algorithms() {
		for _, withPenalty := range []bool{false, true} {
			name := fmt.Sprintf("%s/penalty=%v", alg, withPenalty)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				for run := range runs {
					rng := rand.New(rand.NewPCG(seed, uint64(run)<<8|uint64(alg)<<1|b2u(withPenalty)))
					mem := memorystore.New(config.MemoryConfig{})
					ref := memorystore.New(config.MemoryConfig{})
					t.Cleanup(func() { _, _ = mem.Close(), ref.Close() })
					red := newStore(t, cfg, redisstore.WithRequestTime())
					compare(t, rng, stores{mem, red, ref}, alg, withPenalty, fmt.Sprintf("seed %d run %d", seed, run))
				}
			})
		}
	}
}

// testSeed is RATEWARDEN_SEED when set, to replay a failure, else a new seed; it is
// logged either way.
func testSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("RATEWARDEN_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (replay with RATEWARDEN_SEED=%[1]d)", seed)
	return seed
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// stores are the stores compare compares: ref never sees a peek.
type stores struct{ mem, red, ref rate.Store }

// compare runs 300 random requests and resets against the stores.
func compare(t *testing.T, rng *rand.Rand, s stores, alg rate.Algorithm, withPenalty bool, label string) {
	ctx := context.Background()
	policies := randomPolicies(t, rng, alg, withPenalty)
	var periods []time.Duration // every window length of the policies, for resets
	for _, p := range policies {
		for _, w := range p.Windows {
			periods = append(periods, w.Period)
		}
	}
	keys := []string{
		fmt.Sprintf("ip:%s#%d:a", t.Name(), rng.Uint64()),
		fmt.Sprintf("ip:%s#%d:b", t.Name(), rng.Uint64()),
		fmt.Sprintf("user:%s#%d:c", t.Name(), rng.Uint64()),
	}
	var longest time.Duration
	for _, p := range policies {
		longest = max(longest, p.Windows[len(p.Windows)-1].Period)
	}
	now := storetest.Base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
	for step := range 300 {
		switch r := rng.IntN(100); {
		case r < 30: // same instant
		case r < 50:
			now = now.Add(time.Duration(rng.Int64N(1000)) * time.Microsecond)
		case r < 75:
			now = now.Add(time.Duration(rng.Int64N(int64(time.Second))))
		case r < 90:
			now = now.Add(time.Duration(rng.Int64N(int64(longest))))
		case r < 95:
			now = now.Add(time.Duration(rng.Int64N(3 * int64(longest))))
		default: // the clock steps back
			now = now.Add(-time.Duration(rng.Int64N(2 * int64(longest))))
		}
		p := policies[rng.IntN(len(policies))]
		cost := int64(1)
		if rng.IntN(4) == 0 {
			cost = 1 + rng.Int64N(p.MaxCost())
		}
		req := rate.Request{Key: keys[rng.IntN(len(keys))], Policy: p, Cost: cost, Now: now}
		switch r := rng.IntN(100); {
		case r < 2:
			for _, st := range []rate.Store{s.mem, s.red, s.ref} {
				require.NoError(t, st.Reset(ctx, req.Key, periods), "%s, step %d: reset %s", label, step, req.Key)
			}
			continue
		case r < 17:
			req.Op = rate.OpCheck
		case r < 32:
			req.Op = rate.OpConsume
		case r < 47:
			req.Op = rate.OpPeek
		}
		burst := 1
		if req.Op == rate.OpConsume && rng.IntN(3) == 0 {
			burst = 2 + rng.IntN(5)
		}
		for i := range burst {
			s.decide(t, ctx, req, fmt.Sprintf("%s, step %d.%d: %s %s cost %d at %s under %s", label, step, i, req.Op, req.Key, cost, now.Sub(storetest.Base), describe(p)))
		}
	}
}

// decide decides req on every store: the memory store and Redis must answer alike, and
// ref, which sees no peeks, as they do.
func (s stores) decide(t *testing.T, ctx context.Context, req rate.Request, where string) {
	t.Helper()
	var want, got, ref rate.Result
	r1, r2, r3 := req, req, req
	require.NoError(t, s.mem.Take(ctx, &r1, &want))
	require.NoError(t, s.red.Take(ctx, &r2, &got))
	require.Equal(t, want, got, where)
	if req.Op != rate.OpPeek {
		require.NoError(t, s.ref.Take(ctx, &r3, &ref))
		require.Equal(t, ref, want, "%s: the store that saw the peeks answers otherwise", where)
	}
}

// randomPolicies returns three policies of alg with distinct limits, all with a penalty or
// none. Their windows are drawn from one set of periods, so that they share some window
// lengths and not others, as a rule's tiers may.
func randomPolicies(t *testing.T, rng *rand.Rand, alg rate.Algorithm, withPenalty bool) []*rate.Policy {
	periodSets := [][]time.Duration{{time.Second}, {10 * time.Second}, {time.Second, time.Minute}, {2 * time.Second, 10 * time.Second, time.Minute}}
	periods := periodSets[rng.IntN(len(periodSets))]
	// One penalty period for the set: core forgets expired violations only when it counts
	// them, Redis also when their key expires, so a period that grows could bring back
	// violations in one store and not the other (see docs/redis.md).
	penaltyPeriod := time.Duration(10+rng.IntN(60)) * time.Second
	var ps []*rate.Policy
	for i := range 3 {
		var ws []rate.Window
		for j, period := range periods {
			if j > 0 && rng.IntN(3) == 0 {
				continue // a window length this policy lacks
			}
			l := 1 + rng.Int64N(12) + int64(j)*rng.Int64N(20)
			if len(ws) == 0 {
				l = int64(1 + i + 4*rng.IntN(3)) // distinct across the policies
			}
			ws = append(ws, rate.Window{Limit: l, Period: period, Name: "r"})
		}
		if i == 1 && len(periods) > 1 && rng.IntN(2) == 0 {
			ws = []rate.Window{{Limit: int64(1 + rng.IntN(6)), Period: periods[len(periods)-1] * 2, Name: "r"}} // another length only
		}
		var pen *rate.PenaltyPolicy
		if withPenalty {
			base := time.Duration(1+rng.IntN(5)) * time.Second
			pen = &rate.PenaltyPolicy{
				Threshold:    1 + rng.IntN(4),
				Period:       penaltyPeriod,
				BaseCooldown: base,
				Multiplier:   []float64{1, 1.1, 1.5, 2, 3}[rng.IntN(5)],
				MaxCooldown:  base * time.Duration(1+rng.IntN(20)),
			}
		}
		p, err := rate.NewPolicy(alg, ws, pen)
		require.NoError(t, err)
		ps = append(ps, p)
	}
	return ps
}

func describe(p *rate.Policy) string {
	s := p.Algorithm.String()
	for _, w := range p.Windows {
		s += fmt.Sprintf(" %d/%s", w.Limit, w.Period)
	}
	if p.Penalty != nil {
		s += fmt.Sprintf(" penalty%+v", *p.Penalty)
	}
	return s
}

// TestOrderedBatchesDecideLikeMemory checks the batched path against the memory store,
// which TestSameResultsAsMemory (one call per request) does not reach: requests queued one
// by one behind a frozen Redis go in batches, in a known order, and each must get the
// answer the memory store gives to the same sequence. Requests mix two keys, policies of
// one and two windows and with a penalty (which the fast block hands to the general
// driver), all four ops, costs up to the largest, and time steps back and forth, on
// EVALSHA and FCALL, for every algorithm (sliding_window's batches always go through the
// driver).
func TestOrderedBatchesDecideLikeMemory(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	pen := &rate.PenaltyPolicy{Threshold: 2, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	for _, alg := range rate.Algorithms() {
		for _, functions := range []bool{true, false} {
			for run := range uint64(3) {
				t.Run(fmt.Sprintf("%v/functions=%v/%d", alg, functions, run), func(t *testing.T) {
					t.Parallel()
					rng := rand.New(rand.NewPCG(seed, run<<8|uint64(alg)<<1|b2u(functions)))
					orderedBatchesDecideLikeMemory(t, rng, alg, functions, pen)
				})
			}
		}
	}
}

func orderedBatchesDecideLikeMemory(t *testing.T, rng *rand.Rand, alg rate.Algorithm, functions bool, pen *rate.PenaltyPolicy) {
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.Redis.Timeout = time.Minute // the frozen server must not time the calls out
	store := storeOn(t, cfg, functions, redisstore.WithRequestTime())
	mem := memorystore.New(config.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })

	pols := []*rate.Policy{
		policy(t, alg, nil, 3, time.Second),
		policy(t, alg, nil, 5, time.Second),
		policy(t, alg, nil, 2, time.Minute),
		policy(t, alg, nil, 4, time.Second, 6, time.Minute),
		policy(t, alg, pen, 3, time.Second),
	}
	if rng.IntN(2) == 0 { // every batch the fast block's
		pols = pols[:3]
	}
	base := time.Unix(1_000_000, 0)
	ctx := context.Background()
	var res rate.Result
	require.NoError(t, store.Take(ctx, &rate.Request{Key: "warm:0", Policy: pols[0], Cost: 1, Now: base}, &res)) // code loaded
	resume := freeze(t, srv)
	// Calls on other keys fill the in-flight slots; the next decision queues.
	var wg sync.WaitGroup
	for w := 1; redisstore.QueuedDecisions(store) == 0; w++ {
		require.Less(t, w, 10, "no decision queued behind the calls in flight")
		wg.Go(func() {
			var r rate.Result
			_ = store.Take(ctx, &rate.Request{Key: fmt.Sprintf("warm:%d", w), Policy: pols[0], Cost: 1, Now: base}, &r)
		})
		eventually(t, 5*time.Second, "the warm-up call is sent or queued", func() bool {
			return redisstore.QueuedDecisions(store) > 0 || redisstore.CallsInFlight(store) == w
		})
	}
	require.Equal(t, 1, redisstore.QueuedDecisions(store))

	const n = 40
	reqs := make([]rate.Request, n)
	got := make([]rate.Result, n)
	errs := make([]error, n)
	now := base
	for i := range reqs {
		p := pols[rng.IntN(len(pols))]
		if rng.IntN(3) > 0 {
			now = now.Add(time.Duration(rng.IntN(1500)-500) * time.Millisecond)
		}
		reqs[i] = rate.Request{Key: fmt.Sprintf("k%d", rng.IntN(2)), Policy: p, Cost: 1 + rng.Int64N(p.MaxCost()), Now: now, Op: rate.Op(rng.IntN(4))}
		wg.Go(func() { errs[i] = store.Take(ctx, &reqs[i], &got[i]) })
		eventually(t, 5*time.Second, "the request queues", func() bool { return redisstore.QueuedDecisions(store) == i+2 })
	}
	resume()
	wg.Wait()
	for i := range reqs {
		require.NoError(t, errs[i], "request %d", i)
		var want rate.Result
		require.NoError(t, mem.Take(ctx, &reqs[i], &want))
		require.Equal(t, want, got[i], "request %d %+v", i, reqs[i])
	}
}
