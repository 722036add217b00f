package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// TestAnotherAlgorithmsDecisionThatCountsNothingKeepsTheState: a window length's state
// written under one algorithm is read as fresh under another, and replaced only by a
// decision that counts units there (docs/redis.md). A check, or a take another window
// denies, counts nothing: the first algorithm's state must still deny when its policy
// comes back, in both stores alike.
func TestAnotherAlgorithmsDecisionThatCountsNothingKeepsTheState(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	ctx := context.Background()
	bucket := policy(t, rate.TokenBucket, nil, 2, time.Minute)
	for _, tc := range []struct {
		name  string
		other *rate.Policy
		op    rate.Op
	}{
		{"an admitted check", policy(t, rate.FixedWindow, nil, 2, time.Minute), rate.OpCheck},
		{"a denied check", policy(t, rate.FixedWindow, nil, 2, time.Minute, 1, time.Hour), rate.OpCheck},
		{"a take denied by another window", policy(t, rate.FixedWindow, nil, 2, time.Minute, 1, time.Hour), rate.OpTake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memorystore.New(config.MemoryConfig{})
			t.Cleanup(func() { _ = mem.Close() })
			red := newStore(t, cfg, redisstore.WithRequestTime())
			key := fmt.Sprintf("ip:%s", t.Name())
			now := storetest.Base
			decide := func(s rate.Store, p *rate.Policy, op rate.Op) bool {
				var res rate.Result
				require.NoError(t, s.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: now, Op: op}, &res))
				return res.Allowed
			}
			for _, st := range []struct {
				name string
				s    rate.Store
			}{{"redis", red}, {"memory", mem}} {
				name, s := st.name, st.s
				if len(tc.other.Windows) > 1 { // fill the hour's fixed window, so the other policy denies
					require.True(t, decide(s, tc.other, rate.OpTake), "%s: the hour's unit", name)
				}
				require.True(t, decide(s, bucket, rate.OpTake), name)
				require.True(t, decide(s, bucket, rate.OpTake), name)
				require.False(t, decide(s, bucket, rate.OpTake), "%s: the bucket is empty", name)
				decide(s, tc.other, tc.op)
				require.False(t, decide(s, bucket, rate.OpTake), "%s: the bucket is still empty after %s under %s", name, tc.op, tc.other.Algorithm)
			}
		})
	}
}

// TestMixedPoliciesSameResultsAsMemory is TestSameResultsAsMemory over policies that differ
// in algorithm too, with 1 to 4 windows drawn from 12 lengths (so that a key holds more
// window lengths than an in-process store keeps before it prunes, and prunes its first),
// penalties on and off: the memory and Redis stores must answer alike, and a store that
// sees no peeks must answer as the one that does.
func TestMixedPoliciesSameResultsAsMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	seed := testSeed(t)
	for _, mixAlgorithms := range []bool{false, true} {
		t.Run(fmt.Sprintf("mixed algorithms=%v", mixAlgorithms), func(t *testing.T) {
			t.Parallel()
			for run := range 6 {
				rng := rand.New(rand.NewPCG(seed, uint64(run)<<1|b2u(mixAlgorithms)))
				mem := memorystore.New(config.MemoryConfig{})
				ref := memorystore.New(config.MemoryConfig{})
				t.Cleanup(func() { _, _ = mem.Close(), ref.Close() })
				red := newStore(t, cfg, redisstore.WithRequestTime())
				compareMixed(t, rng, stores{mem, red, ref}, mixAlgorithms, fmt.Sprintf("seed %d run %d", seed, run))
			}
		})
	}
}

var mixedPeriods = []time.Duration{
	time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second, 7 * time.Second, 10 * time.Second,
	15 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
}

// mixedPolicies returns 8 policies of 1 to 4 windows from mixedPeriods, of one algorithm
// or, when mixAlgorithms, each of a random one; each with the penalty or none. The penalty
// is one for all (see randomPolicies: a growing period is a known difference).
func mixedPolicies(t *testing.T, rng *rand.Rand, mixAlgorithms bool) []*rate.Policy {
	alg := rate.Algorithms()[rng.IntN(len(rate.Algorithms()))]
	pen := &rate.PenaltyPolicy{Threshold: 1 + rng.IntN(3), Period: 30 * time.Second, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: 8 * time.Second}
	var ps []*rate.Policy
	for range 8 {
		if mixAlgorithms {
			alg = rate.Algorithms()[rng.IntN(len(rate.Algorithms()))]
		}
		var ws []rate.Window
		for _, j := range rng.Perm(len(mixedPeriods))[:1+rng.IntN(rate.MaxWindows)] {
			ws = append(ws, rate.Window{Limit: 1 + rng.Int64N(8), Period: mixedPeriods[j], Name: "r"})
		}
		var p *rate.PenaltyPolicy
		if rng.IntN(2) == 0 {
			p = pen
		}
		pol, err := rate.NewPolicy(alg, ws, p)
		require.NoError(t, err)
		ps = append(ps, pol)
	}
	return ps
}

// compareMixed runs 400 random requests against the stores, two keys, policies from
// mixedPolicies. The clock only goes forward: the memory store forgets a window length's
// state once it is fresh at the decision's time (past 8 lengths), as a Redis key expires
// in the server's time, but a Redis server given the request's time (WithRequestTime)
// keeps the key until its TTL passes in real time, so a clock stepping back to before the
// state's last change would find it there and not in memory.
func compareMixed(t *testing.T, rng *rand.Rand, s stores, mixAlgorithms bool, label string) {
	ctx := context.Background()
	policies := mixedPolicies(t, rng, mixAlgorithms)
	keys := []string{fmt.Sprintf("ip:%s#%d:a", t.Name(), rng.Uint64()), fmt.Sprintf("ip:%s#%d:b", t.Name(), rng.Uint64())}
	now := storetest.Base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
	for step := range 400 {
		switch r := rng.IntN(100); {
		case r < 30:
		case r < 60:
			now = now.Add(time.Duration(rng.Int64N(int64(time.Second))))
		case r < 85:
			now = now.Add(time.Duration(rng.Int64N(int64(20 * time.Second))))
		default:
			now = now.Add(time.Duration(rng.Int64N(int64(5 * time.Minute))))
		}
		p := policies[rng.IntN(len(policies))]
		cost := int64(1)
		if rng.IntN(4) == 0 {
			cost = 1 + rng.Int64N(p.MaxCost())
		}
		req := rate.Request{Key: keys[rng.IntN(len(keys))], Policy: p, Cost: cost, Now: now}
		switch r := rng.IntN(100); {
		case r < 20:
			req.Op = rate.OpCheck
		case r < 35:
			req.Op = rate.OpConsume
		case r < 50:
			req.Op = rate.OpPeek
		}
		s.decide(t, ctx, req, fmt.Sprintf("%s, step %d: %s %s cost %d at %s under %s", label, step, req.Op, req.Key, cost, now.Sub(storetest.Base), describe(p)))
	}
}
