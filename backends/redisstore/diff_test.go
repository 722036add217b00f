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
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// TestSameResultsAsMemory applies random sequences of requests — key, cost, time step and
// policy — to the memory store and to the Redis store, and requires identical results,
// for every algorithm, with and without penalties. Policy switches cover limit increases
// and decreases (as on a reload or a tier change) with the same window periods, which is
// what core ever switches between for one counter.
func TestSameResultsAsMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for _, alg := range []core.Algorithm{core.TokenBucket, core.SlidingWindow, core.FixedWindow, core.GCRA} {
		for _, withPenalty := range []bool{false, true} {
			name := fmt.Sprintf("%s/penalty=%v", alg, withPenalty)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				for run := range 3 {
					rng := rand.New(rand.NewPCG(seed, uint64(run)<<8|uint64(alg)<<1|b2u(withPenalty)))
					mem := memorystore.New(core.MemoryConfig{})
					t.Cleanup(func() { _ = mem.Close() })
					red := newStore(t, redisConfig(core.RedisStandalone, false, srv.Addr()), redisstore.WithRequestTime())
					compare(t, rng, mem, red, alg, withPenalty, fmt.Sprintf("seed %d run %d", seed, run))
				}
			})
		}
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// compare runs 300 random requests against both stores.
func compare(t *testing.T, rng *rand.Rand, mem, red core.Store, alg core.Algorithm, withPenalty bool, label string) {
	policies := randomPolicies(t, rng, alg, withPenalty)
	keys := []string{
		fmt.Sprintf("ip:%s#%d:a", t.Name(), rng.Uint64()),
		fmt.Sprintf("ip:%s#%d:b", t.Name(), rng.Uint64()),
		fmt.Sprintf("user:%s#%d:c", t.Name(), rng.Uint64()),
	}
	longest := policies[0].Windows[len(policies[0].Windows)-1].Period
	now := storetest.Base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
	for step := range 300 {
		switch r := rng.IntN(100); {
		case r < 30: // same instant
		case r < 50:
			now = now.Add(time.Duration(rng.Int64N(1000)) * time.Microsecond)
		case r < 75:
			now = now.Add(time.Duration(rng.Int64N(int64(time.Second))))
		case r < 92:
			now = now.Add(time.Duration(rng.Int64N(int64(longest))))
		default:
			now = now.Add(time.Duration(rng.Int64N(3 * int64(longest))))
		}
		p := policies[rng.IntN(len(policies))]
		cost := int64(1)
		if rng.IntN(4) == 0 {
			cost = 1 + rng.Int64N(p.MaxCost())
		}
		req := core.Request{Key: keys[rng.IntN(len(keys))], Policy: p, Cost: cost, Now: now}
		var want, got core.Result
		r1, r2 := req, req
		require.NoError(t, mem.Take(context.Background(), &r1, &want))
		require.NoError(t, red.Take(context.Background(), &r2, &got))
		require.Equal(t, want, got, "%s, step %d: %s cost %d at %s under %s", label, step, req.Key, cost, now.Sub(storetest.Base), describe(p))
	}
}

// randomPolicies returns three policies of alg over the same window periods with distinct
// limits, all with a penalty or none. Sliding windows get the capacity core gives a rule's
// tiers: the largest limit of each period.
func randomPolicies(t *testing.T, rng *rand.Rand, alg core.Algorithm, withPenalty bool) []*core.Policy {
	periodSets := [][]time.Duration{{time.Second}, {10 * time.Second}, {time.Second, time.Minute}, {2 * time.Second, 10 * time.Second, time.Minute}}
	periods := periodSets[rng.IntN(len(periodSets))]
	limits := make([][]int64, 3)
	capacity := make([]int64, len(periods))
	for i := range limits {
		for j := range periods {
			l := 1 + rng.Int64N(12) + int64(j)*rng.Int64N(20)
			if j == 0 {
				l = int64(1 + i + 4*rng.IntN(3)) // distinct across the policies
			}
			limits[i] = append(limits[i], l)
			capacity[j] = max(capacity[j], l)
		}
	}
	// One penalty period for the set: core forgets expired violations only when it counts
	// them, Redis also when their key expires, so a period that grows could bring back
	// violations in one store and not the other (see docs/redis.md).
	penaltyPeriod := time.Duration(10+rng.IntN(60)) * time.Second
	var ps []*core.Policy
	for i := range limits {
		var ws []core.Window
		for j, period := range periods {
			ws = append(ws, core.Window{Limit: limits[i][j], Period: period, Name: "r", Capacity: capacity[j]})
		}
		var pen *core.PenaltyPolicy
		if withPenalty {
			base := time.Duration(1+rng.IntN(5)) * time.Second
			pen = &core.PenaltyPolicy{
				Threshold:    1 + rng.IntN(4),
				Period:       penaltyPeriod,
				BaseCooldown: base,
				Multiplier:   []float64{1, 1.1, 1.5, 2, 3}[rng.IntN(5)],
				MaxCooldown:  base * time.Duration(1+rng.IntN(20)),
			}
		}
		p, err := core.NewPolicy(alg, ws, pen)
		require.NoError(t, err)
		ps = append(ps, p)
	}
	return ps
}

func describe(p *core.Policy) string {
	s := p.Algorithm.String()
	for _, w := range p.Windows {
		s += fmt.Sprintf(" %d/%s", w.Limit, w.Period)
	}
	if p.Penalty != nil {
		s += fmt.Sprintf(" penalty%+v", *p.Penalty)
	}
	return s
}
