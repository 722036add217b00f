package benchmarks

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	golimiter "github.com/sethvargo/go-limiter"
	golimitermem "github.com/sethvargo/go-limiter/memorystore"
	"github.com/throttled/throttled/v2"
	throttledmem "github.com/throttled/throttled/v2/store/memstore"
	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"
	xrate "golang.org/x/time/rate"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// The in-memory comparison: every library decides over the same 100,000 distinct keys,
// all created before the timer starts, with the same limit (1,000 per minute, burst
// 1,000, so that nearly every decision admits; the allowed/op column shows it). Each
// iteration decides a different key, and every library reads the clock on every decision
// as its users' code does: the peers inside (sethvargo from the runtime's time.now),
// x/time/rate given time.Now(), ratewarden given a core.CoarseClock's Now, the clock a
// core.Limiter decides with by default.
const (
	memKeys   = 100_000
	memLimit  = 1000
	memPeriod = time.Minute
	// memSweep keeps the periodic sweepers of ratewarden and ulule/limiter from dropping
	// keys during a run, so that every library decides over live keys only.
	memSweep = time.Hour
)

// memKeysets returns the key set, built once, twice over: "ip:10.a.b.c:default", as in
// the memory store's own benchmarks. create creates the keys; decide holds the same
// strings in other memory for the timed decisions, as a server builds each request's key
// anew. Deciding with the very strings a store was given would let the libraries that keep
// the caller's string (x/time/rate's map, sethvargo, throttled) skip the key comparison,
// and its cache miss, on the pointer-equality shortcut of Go's string comparison, which
// ratewarden (it copies the key) and ulule (it builds its own) cannot take.
var memKeysets = sync.OnceValues(func() (create, decide []string) {
	create = make([]string, memKeys)
	decide = make([]string, memKeys)
	for i := range create {
		create[i] = "ip:10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":default"
		decide[i] = strings.Clone(create[i])
	}
	return create, decide
})

// memLimiter is one library holding the key set.
type memLimiter struct {
	// newDecider returns a function that decides one request on key and reports whether it
	// was admitted. Each goroutine takes its own, so a library may reuse per-caller state.
	newDecider func() func(key string) bool
	// live reports how many of keys the library holds.
	live func(keys []string) int
	// close releases the library's store.
	close func()
}

// memLibraries lists the libraries in the order of the report. Each constructor only
// builds the limiter; [BenchmarkMemoryDecision] creates the keys.
var memLibraries = []struct {
	name string
	new  func(b *testing.B) memLimiter
}{
	{"ratewarden", newRatewardenMem},
	{"x-time-rate", newXTimeRateMem},
	{"sethvargo", newSethvargoMem},
	{"ulule", newUluleMem},
	{"throttled", newThrottledMem},
	{"httprate", newHttprateMem},
}

// BenchmarkMemoryDecision compares one in-process decision per operation over 100,000
// live keys, serially and from GOMAXPROCS goroutines (SPEC section 9, memory decision).
// The store is built and its keys created once per library, outside the timer; serial and
// parallel then run on it in turn.
func BenchmarkMemoryDecision(b *testing.B) {
	create, keys := memKeysets()
	for _, lib := range memLibraries {
		b.Run("lib="+lib.name, func(b *testing.B) {
			l := lib.new(b)
			b.Cleanup(l.close)
			decide := l.newDecider()
			for _, k := range create {
				if !decide(k) {
					b.Fatalf("the first request on %q was denied", k)
				}
			}
			checkLive(b, l, keys)

			b.Run("run=serial", func(b *testing.B) {
				decide := l.newDecider()
				allowed := 0
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if decide(keys[i%memKeys]) {
						allowed++
					}
				}
				b.ReportMetric(float64(allowed)/float64(b.N), "allowed/op")
			})
			b.Run("run=parallel", func(b *testing.B) {
				var offset, allowed atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					// Each goroutine walks the keys from its own offset.
					i := int(offset.Add(memKeys/8+7)) % memKeys
					decide := l.newDecider()
					n := int64(0)
					for pb.Next() {
						if decide(keys[i]) {
							n++
						}
						if i++; i == memKeys {
							i = 0
						}
					}
					allowed.Add(n)
				})
				b.ReportMetric(float64(allowed.Load())/float64(b.N), "allowed/op")
			})
			checkLive(b, l, keys)
		})
	}
}

// BenchmarkMemoryClock is the cost of the clock reads the decisions above include, for
// reading the table: time.Now(), which x/time/rate, ulule, throttled and httprate read,
// and core.CoarseClock, the clock of a core.Limiter (time.Now as of its last millisecond
// tick).
func BenchmarkMemoryClock(b *testing.B) {
	var coarse core.CoarseClock
	b.Cleanup(coarse.Stop)
	for _, c := range []struct {
		name string
		now  func() time.Time
	}{{"time.Now", time.Now}, {"core.CoarseClock", coarse.Now}} {
		b.Run("clock="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			var t time.Time
			for b.Loop() {
				t = c.now()
			}
			_ = t
		})
	}
}

func checkLive(b *testing.B, l memLimiter, keys []string) {
	b.Helper()
	if n := l.live(keys); n != len(keys) {
		b.Fatalf("the library holds %d of the %d keys", n, len(keys))
	}
}

// newRatewardenMem decides with the memory store's Take (token bucket), through the
// rate.Store interface as core.Limiter calls it, with one Request and Result reused per
// goroutine, at the time of a core.CoarseClock, the clock core.Limiter reads: the decision
// path only, without identity, rule matching or headers.
func newRatewardenMem(b *testing.B) memLimiter {
	p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: memLimit, Period: memPeriod, Name: "default"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := memorystore.New(config.MemoryConfig{MaxKeys: 4 * memKeys, SweepInterval: memSweep})
	var st rate.Store = s
	clock := &core.CoarseClock{}
	return memLimiter{
		newDecider: func() func(string) bool {
			ctx := context.Background()
			req := &rate.Request{Policy: p, Cost: 1}
			res := &rate.Result{}
			return func(key string) bool {
				req.Key, req.Now = key, clock.Now()
				if err := st.Take(ctx, req, res); err != nil {
					panic(err)
				}
				return res.Allowed
			}
		},
		live:  func([]string) int { return s.Len() },
		close: func() { clock.Stop(); _ = s.Close() },
	}
}

// mutexMap is the usual way to key golang.org/x/time/rate: a map of limiters behind one
// mutex.
type mutexMap struct {
	mu sync.Mutex
	m  map[string]*xrate.Limiter
}

func (mm *mutexMap) allow(key string, now time.Time) bool {
	mm.mu.Lock()
	l := mm.m[key]
	if l == nil {
		l = xrate.NewLimiter(xrate.Every(memPeriod/memLimit), memLimit)
		mm.m[key] = l
	}
	mm.mu.Unlock()
	return l.AllowN(now, 1)
}

func newXTimeRateMem(*testing.B) memLimiter {
	mm := &mutexMap{m: make(map[string]*xrate.Limiter)}
	return memLimiter{
		newDecider: func() func(string) bool {
			return func(key string) bool { return mm.allow(key, time.Now()) }
		},
		live: func([]string) int {
			mm.mu.Lock()
			defer mm.mu.Unlock()
			return len(mm.m)
		},
		close: func() {},
	}
}

// newSethvargoMem uses go-limiter's memorystore (a map behind an RWMutex, a mutex per
// bucket). Its own benchmark harness decided one key over and over; here every
// iteration takes the next of the 100,000 keys.
func newSethvargoMem(b *testing.B) memLimiter {
	st, err := golimitermem.New(&golimitermem.Config{Tokens: memLimit, Interval: memPeriod, InitialAlloc: memKeys})
	if err != nil {
		b.Fatal(err)
	}
	return memLimiter{
		newDecider: func() func(string) bool {
			ctx := context.Background()
			return func(key string) bool {
				_, _, _, ok, err := st.Take(ctx, key)
				if err != nil {
					panic(err)
				}
				return ok
			}
		},
		live: func(keys []string) int { return countKeys(keys, sethvargoHas(st)) },
		close: func() {
			_ = st.Close(context.Background())
		},
	}
}

func sethvargoHas(st golimiter.Store) func(string) bool {
	return func(key string) bool {
		tokens, _, err := st.Get(context.Background(), key)
		return err == nil && tokens > 0 // 0, 0 for a key it does not hold
	}
}

// newUluleMem uses ulule/limiter's memory store (a sync.Map of counters, fixed window)
// through Limiter.Get, which counts the request.
func newUluleMem(*testing.B) memLimiter {
	lim := ulule.New(
		ululemem.NewStoreWithOptions(ulule.StoreOptions{Prefix: ulule.DefaultPrefix, CleanUpInterval: memSweep}),
		ulule.Rate{Period: memPeriod, Limit: memLimit},
	)
	return memLimiter{
		newDecider: func() func(string) bool {
			ctx := context.Background()
			return func(key string) bool {
				c, err := lim.Get(ctx, key)
				if err != nil {
					panic(err)
				}
				return !c.Reached
			}
		},
		live: func(keys []string) int {
			return countKeys(keys, func(key string) bool {
				c, err := lim.Peek(context.Background(), key)
				return err == nil && c.Remaining < memLimit // a key it does not hold has all of them
			})
		},
		close: func() {},
	}
}

// newThrottledMem uses throttled's GCRA rate limiter on its memstore, whose LRU holds
// exactly the 100,000 keys (an eviction would show in the key check).
func newThrottledMem(b *testing.B) memLimiter {
	st, err := throttledmem.New(memKeys)
	if err != nil {
		b.Fatal(err)
	}
	rl, err := throttled.NewGCRARateLimiterCtx(throttled.WrapStoreWithContext(st),
		throttled.RateQuota{MaxRate: throttled.PerMin(memLimit), MaxBurst: memLimit - 1})
	if err != nil {
		b.Fatal(err)
	}
	return memLimiter{
		newDecider: func() func(string) bool {
			ctx := context.Background()
			return func(key string) bool {
				limited, _, err := rl.RateLimitCtx(ctx, key, 1)
				if err != nil {
					panic(err)
				}
				return !limited
			}
		},
		live: func(keys []string) int {
			return countKeys(keys, func(key string) bool {
				v, _, err := st.GetWithTime(key)
				return err == nil && v != -1 // -1 for a key it does not hold
			})
		},
		close: func() {},
	}
}

func countKeys(keys []string, has func(string) bool) int {
	n := 0
	for _, k := range keys {
		if has(k) {
			n++
		}
	}
	return n
}

// newHttprateMem uses go-chi/httprate's local counter (two maps of counters keyed by the
// xxh3 hash of the key, behind an RWMutex: a sliding window estimated from the current
// and previous fixed windows) with the decision of its RateLimiter.OnLimit, which holds
// the limiter's mutex around reading the rate and counting the request. OnLimit itself
// needs a ResponseWriter and sets three headers, which the other rows do not do; this is
// its decision alone, as httprate computes it.
func newHttprateMem(*testing.B) memLimiter {
	c := httprate.NewLocalLimitCounter(memPeriod)
	c.Config(memLimit, memPeriod)
	var mu sync.Mutex // RateLimiter.mu
	return memLimiter{
		newDecider: func() func(string) bool {
			return func(key string) bool {
				now := time.Now().UTC()
				cur := now.Truncate(memPeriod)
				mu.Lock()
				defer mu.Unlock()
				curN, prevN, err := c.Get(key, cur, cur.Add(-memPeriod))
				if err != nil {
					panic(err)
				}
				elapsed := float64(now.Sub(cur)) / float64(memPeriod)
				if int(math.Round(float64(prevN)*(1-elapsed)+float64(curN)))+1 > memLimit {
					return false
				}
				if err := c.IncrementBy(key, cur, 1); err != nil {
					panic(err)
				}
				return true
			}
		},
		live: func(keys []string) int {
			return countKeys(keys, func(key string) bool {
				cur := time.Now().UTC().Truncate(memPeriod)
				curN, prevN, err := c.Get(key, cur, cur.Add(-memPeriod))
				// A key it does not hold counts 0 in both windows (and a run that crosses two
				// window boundaries would fail here: the counter forgets every key).
				return err == nil && curN+prevN > 0
			})
		},
		close: func() {},
	}
}
