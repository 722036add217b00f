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

// TestFastBlockExtremesLikeMemory: one-window, no-penalty policies (the fast block) at the
// validation caps, consumes beyond full, long windows and clock steps, on EVALSHA and
// FCALL, answer as the memory store does; a fifth of the runs near rate.MaxInstant (2^53
// µs), where both stores clamp later instants. From the attack review of the block's
// generalisation.
func TestFastBlockExtremesLikeMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	maxUs := rate.MaxWindow.Microseconds()
	for _, alg := range []rate.Algorithm{rate.FixedWindow, rate.SlidingWindowCounter, rate.TokenBucket, rate.GCRA, rate.SlidingWindow} {
		for _, fn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/functions=%v", alg, fn), func(t *testing.T) {
				var ws []rate.Window
				switch alg {
				case rate.FixedWindow:
					ws = []rate.Window{{Limit: 1 << 52, Period: time.Second}, {Limit: 1 << 52, Period: rate.MaxWindow}, {Limit: 3, Period: rate.MaxWindow}, {Limit: 1<<52 - 1, Period: 7 * time.Second}}
				case rate.SlidingWindow: // a timestamp per admission: its limit is capped lower
					ws = []rate.Window{{Limit: 100_000, Period: time.Second}, {Limit: 100_000, Period: rate.MaxWindow}, {Limit: 3, Period: rate.MaxWindow}, {Limit: 2, Period: 7 * time.Second}}
				default:
					ws = []rate.Window{{Limit: (1 << 52) / 1_000_000, Period: time.Second}, {Limit: (1 << 52) / maxUs, Period: rate.MaxWindow}, {Limit: (1 << 52) / 7_000_000, Period: 7 * time.Second}, {Limit: 2, Period: 7 * time.Second}}
				}
				var ps []*rate.Policy
				for _, w := range ws {
					w.Name = "r"
					p, err := rate.NewPolicy(alg, []rate.Window{w}, nil)
					require.NoError(t, err)
					ps = append(ps, p)
				}
				for run := range 25 {
					rng := rand.New(rand.NewPCG(uint64(run), uint64(alg)))
					mem := memorystore.New(config.MemoryConfig{})
					ref := memorystore.New(config.MemoryConfig{})
					t.Cleanup(func() { _, _ = mem.Close(), ref.Close() })
					red := storeOn(t, redisConfig(config.RedisStandalone, false, srv.Addr()), fn, redisstore.WithRequestTime())
					s := stores{mem, red, ref}
					keys := []string{fmt.Sprintf("x:%s#%d:a", t.Name(), rng.Uint64()), fmt.Sprintf("x:%s#%d:b", t.Name(), rng.Uint64())}
					base := storetest.Base
					if run%5 == 4 { // near rate.MaxInstant, where instants are clamped and units past 2^53 µs are counted
						base = time.UnixMicro(rate.MaxInstant).Add(-time.Hour)
					}
					now := base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
					for step := range 400 {
						p := ps[rng.IntN(len(ps))]
						per := p.Windows[0].Period
						switch r := rng.IntN(10); {
						case r < 3:
						case r < 6:
							now = now.Add(time.Duration(rng.Int64N(int64(per))))
						case r < 8:
							now = now.Add(time.Duration(rng.Int64N(1000)) * time.Microsecond)
						case r < 9:
							now = now.Add(time.Duration(rng.Int64N(3 * int64(per))))
						default:
							now = now.Add(-time.Duration(rng.Int64N(int64(per))))
						}
						if now.Sub(base) > 40*365*24*time.Hour {
							now = base.Add(time.Duration(rng.Int64N(int64(time.Hour)))) // far back
						}
						cost := int64(1)
						switch rng.IntN(4) {
						case 0:
							cost = p.MaxCost()
						case 1:
							cost = 1 + rng.Int64N(p.MaxCost())
						case 2:
							cost = max(1, p.MaxCost()-rng.Int64N(3))
						}
						req := rate.Request{Key: keys[rng.IntN(len(keys))], Policy: p, Cost: cost, Now: now}
						req.Op = []rate.Op{rate.OpTake, rate.OpCheck, rate.OpConsume, rate.OpPeek}[rng.IntN(4)]
						burst := 1
						if req.Op == rate.OpConsume && rng.IntN(2) == 0 {
							burst = 2 + rng.IntN(4)
						}
						for i := range burst {
							s.decide(t, ctx, req, fmt.Sprintf("run %d step %d.%d: %s %s cost %d at %s under %s", run, step, i, req.Op, req.Key, cost, now.Sub(base), describe(p)))
						}
					}
				}
			})
		}
	}
}

// TestGCRANearMaxInstantLikeMemory: at instants near rate.MaxInstant (2^53 µs, where the
// stores clamp a client's clock), gcra answers as memory does. Before, its state held the
// arrival time as an instant, past 2^53 there and rounded to an even number: under
// 1,000,000 per second, takes of 1 unit at 2^53 were admitted and never counted; at the
// validation cap, a second consume of the full limit read back as units past 2^53, and
// the next take was decided on a fresh bucket. From the attack review of the binary
// states.
func TestGCRANearMaxInstantLikeMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	type step struct {
		op   rate.Op
		cost int64
		at   int64 // µs
	}
	const top = rate.MaxInstant
	capLimit := int64(1<<52) / 1_000_000
	for _, tc := range []struct {
		name  string
		limit int64
		steps []step
	}{
		{"takes at 2^53", 1_000_000, []step{{rate.OpTake, 1, top}, {rate.OpTake, 1, top}, {rate.OpTake, 1_000_000, top}}},
		{"consumes at the cap", capLimit, []step{{rate.OpConsume, capLimit, top - 1}, {rate.OpConsume, capLimit, top - 1}, {rate.OpTake, 1, top - 1}}},
	} {
		for _, fn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/functions=%v", tc.name, fn), func(t *testing.T) {
				p, err := rate.NewPolicy(rate.GCRA, []rate.Window{{Name: "r", Limit: tc.limit, Period: time.Second}}, nil)
				require.NoError(t, err)
				mem := memorystore.New(config.MemoryConfig{})
				t.Cleanup(func() { _ = mem.Close() })
				red := storeOn(t, redisConfig(config.RedisStandalone, false, srv.Addr()), fn, redisstore.WithRequestTime())
				for i, s := range tc.steps {
					req := rate.Request{Key: "x:" + t.Name(), Policy: p, Cost: s.cost, Now: time.UnixMicro(s.at), Op: s.op}
					var want, got rate.Result
					memReq, redReq := req, req
					require.NoError(t, mem.Take(ctx, &memReq, &want))
					require.NoError(t, red.Take(ctx, &redReq, &got))
					require.Equal(t, want, got, "step %d: %s cost %d at %d µs", i, s.op, s.cost, s.at)
				}
			})
		}
	}
}
