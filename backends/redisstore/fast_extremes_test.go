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
// FCALL, answer as the memory store does (request times stay below 2^53 µs, as every
// number the scripts form must; see core/rate/policy.go). From the attack review of the
// block's generalisation.
func TestFastBlockExtremesLikeMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	maxUs := rate.MaxWindow.Microseconds()
	for _, alg := range []rate.Algorithm{rate.FixedWindow, rate.SlidingWindowCounter, rate.TokenBucket, rate.GCRA} {
		for _, fn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/functions=%v", alg, fn), func(t *testing.T) {
				var ws []rate.Window
				switch alg {
				case rate.FixedWindow:
					ws = []rate.Window{{Limit: 1 << 52, Period: time.Second}, {Limit: 1 << 52, Period: rate.MaxWindow}, {Limit: 3, Period: rate.MaxWindow}, {Limit: 1<<52 - 1, Period: 7 * time.Second}}
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
					now := storetest.Base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
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
						if now.Sub(storetest.Base) > 40*365*24*time.Hour {
							now = storetest.Base.Add(time.Duration(rng.Int64N(int64(time.Hour)))) // far back: stay below 2^53 µs
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
							s.decide(t, ctx, req, fmt.Sprintf("run %d step %d.%d: %s %s cost %d at %s under %s", run, step, i, req.Op, req.Key, cost, now.Sub(storetest.Base), describe(p)))
						}
					}
				}
			})
		}
	}
}
