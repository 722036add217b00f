package benchmarks

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	ulule "github.com/ulule/limiter/v3"
	ululeredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// The Redis comparison: the same limit (1,000 per minute, burst 1,000) over the same
// 10,000 distinct keys, on the same local redis-server, one decision per operation.
const (
	redisKeys  = 10_000
	redisLimit = 1000
)

func redisKeyset() []string {
	keys := make([]string, redisKeys)
	for i := range keys {
		keys[i] = "ip:10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":default"
	}
	return keys
}

// decider is one library's decision on a key.
type decider func(ctx context.Context, key string) (allowed bool, err error)

// redisCallers are the concurrent callers of BenchmarkRedis (SPEC section 9: serial
// latency, and decisions/s with 64 callers).
var redisCallers = []int{1, 16, 64}

// redisDeciders returns each library's decider on the redis-server at addr, each on a
// go-redis v9 client of its own with the library's default settings: ratewarden's store
// from a redis configuration with its defaults (pool, batching), except a 1 s budget
// and no local cache; redis_rate and ulule on redis.NewClient with default options (RESP3,
// a pool of 10 per CPU). prefix keeps each run's keys apart from earlier runs'.
func redisDeciders(b *testing.B, addr, prefix string) []namedDecider {
	var ds []namedDecider
	for _, alg := range rate.Algorithms() {
		cfg := config.Config{
			Backend:   config.BackendRedis,
			KeyPrefix: prefix + "rw",
			// A 1 s budget: this measures throughput, and a loaded machine can stall a
			// decision past the default 100 ms (the peers have no budget at all).
			Redis: config.RedisConfig{Addrs: []string{addr}, Timeout: time.Second, LocalCache: config.Bool(false)},
		}
		store, err := redisstore.New(cfg)
		require.NoError(b, err)
		b.Cleanup(func() { _ = store.Close() })
		p, err := rate.NewPolicy(alg, []rate.Window{{Limit: redisLimit, Period: time.Minute, Name: "default"}}, nil)
		require.NoError(b, err)
		ds = append(ds, namedDecider{"ratewarden-" + strings.ReplaceAll(alg.String(), "_", "-"), func(ctx context.Context, key string) (bool, error) {
			var res rate.Result
			err := store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
			return res.Allowed, err
		}})
	}

	rdb := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { _ = rdb.Close() })
	peer := redis_rate.NewLimiter(rdb)
	limit := redis_rate.PerMinute(redisLimit)
	ds = append(ds, namedDecider{"redis_rate", func(ctx context.Context, key string) (bool, error) {
		res, err := peer.Allow(ctx, prefix+"rr:"+key, limit)
		if err != nil {
			return false, err
		}
		return res.Allowed > 0, nil
	}})

	udb := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { _ = udb.Close() })
	ustore, err := ululeredis.NewStoreWithOptions(udb, ulule.StoreOptions{Prefix: prefix + "ul"})
	require.NoError(b, err)
	ul := ulule.New(ustore, ulule.Rate{Period: time.Minute, Limit: redisLimit})
	ds = append(ds, namedDecider{"ulule", func(ctx context.Context, key string) (bool, error) {
		c, err := ul.Get(ctx, key)
		return !c.Reached, err
	}})
	return ds
}

type namedDecider struct {
	name   string
	decide decider
}

// BenchmarkRedis compares Redis decisions of ratewarden's store (each algorithm: server
// time, concurrent decisions batched into one EVALSHA, the default; docs/redis.md), go-redis/redis_rate
// (GCRA, one EVALSHA per decision) and ulule/limiter's Redis store (fixed window, one
// EVALSHA per decision) on one local redis-server, with 1, 16 and 64 callers deciding at once. Same limit
// (1,000 per minute), the same 10,000 distinct keys walked in turn, so that every
// decision admits (allowed/op shows it). ratewarden also runs each decision under its
// budget and circuit breaker, which the peers have not, and returns every window's
// remaining, reset and retry-after. ns/op is wall time per decision over all callers
// (1/throughput); decisions/s is its inverse.
func BenchmarkRedis(b *testing.B) {
	srv := redistest.StartServer(b)
	keys := redisKeyset()
	var run atomic.Int64
	for _, callers := range redisCallers {
		// Fresh keys for every callers= round and every b.N attempt: no key reaches its
		// limit, whatever b.N the framework tries.
		for _, d := range redisDeciders(b, srv.Addr(), "c"+strconv.Itoa(callers)+":") {
			b.Run("lib="+d.name+"/callers="+strconv.Itoa(callers), func(b *testing.B) {
				b.ReportAllocs()
				prefix := "r" + strconv.FormatInt(run.Add(1), 10) + ":"
				ctx := context.Background()
				var next, allowed atomic.Int64
				var wg sync.WaitGroup
				before, cpu0 := redisCost(b, srv), processCPU(b)
				b.ResetTimer()
				for range callers {
					wg.Go(func() {
						for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
							ok, err := d.decide(ctx, prefix+keys[i%redisKeys])
							if err != nil {
								b.Error(err)
								return
							}
							if ok {
								allowed.Add(1)
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				cpu := processCPU(b) - cpu0
				after := redisCost(b, srv)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
				b.ReportMetric((after.cmdUS-before.cmdUS)/float64(b.N), "redis-cmd-µs/op")
				b.ReportMetric((after.cpuUS-before.cpuUS)/float64(b.N), "redis-cpu-µs/op")
				b.ReportMetric((after.scripts-before.scripts)/float64(b.N), "script-calls/op")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "client-cpu-µs/op")
				b.ReportMetric(float64(allowed.Load())/float64(b.N), "allowed/op")
			})
		}
	}
}

// redisUse is what redis-server has spent so far: cmdUS the time its script calls ran (INFO
// commandstats usec of EVAL, EVALSHA and FCALL, the commands the scripts call included,
// reading and writing sockets not), cpuUS its process's CPU time (INFO cpu, user + sys:
// everything, network I/O included), and scripts the number of those script calls (fewer
// than the decisions when a library batches them). Every library decides with scripts
// (ratewarden by EVALSHA, its default; FCALL of Redis Functions with WithFunctions).
type redisUse struct{ cmdUS, cpuUS, scripts float64 }

// redisCost reads srv's redisUse. The benchmarks report its increase per decision: how
// much of one core Redis needs per decision, which bounds decisions/s on a shared machine
// whatever the client does.
func redisCost(b *testing.B, srv *redistest.Server) redisUse {
	b.Helper()
	info, err := srv.Client().Info(context.Background(), "commandstats", "cpu").Result()
	require.NoError(b, err)
	var u redisUse
	for line := range strings.SplitSeq(info, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(b, err)
			u.cpuUS += f * 1e6
		}
		// The commands a script calls have lines of their own, whose time the script's
		// includes: only the script calls count.
		if !isScriptCall(line) {
			continue
		}
		for field := range strings.SplitSeq(line[strings.IndexByte(line, ':')+1:], ",") {
			if v, ok := strings.CutPrefix(field, "usec="); ok {
				f, err := strconv.ParseFloat(v, 64)
				require.NoError(b, err)
				u.cmdUS += f
			}
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				f, err := strconv.ParseFloat(v, 64)
				require.NoError(b, err)
				u.scripts += f
			}
		}
	}
	return u
}

// isScriptCall reports whether an INFO commandstats line is a script call's: EVAL, EVALSHA
// or FCALL.
func isScriptCall(line string) bool {
	for _, cmd := range []string{"cmdstat_eval:", "cmdstat_evalsha:", "cmdstat_fcall:"} {
		if strings.HasPrefix(line, cmd) {
			return true
		}
	}
	return false
}

// processCPU is the CPU time this process has used, user and system: the benchmarks
// report its increase per decision (the client side's whole cost, go-redis and the
// runtime included).
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDeniedFloodRedisCalls counts, on the server (INFO commandstats), the script calls
// Redis receives while one client floods a key it is denied on: 5,000 requests against a
// limit of 10 per hour, with ratewarden's local cache on and off, and with redis_rate.
func TestDeniedFloodRedisCalls(t *testing.T) {
	srv := redistest.StartServer(t)
	const requests = 5000
	ctx := context.Background()
	scriptCalls := func() int {
		info, err := srv.Client().Info(ctx, "commandstats").Result()
		require.NoError(t, err)
		n := 0
		for line := range strings.SplitSeq(info, "\n") {
			if line = strings.TrimSpace(line); isScriptCall(line) {
				v, _, _ := strings.Cut(strings.TrimPrefix(line[strings.IndexByte(line, ':')+1:], "calls="), ",")
				c, _ := strconv.Atoi(v)
				n += c
			}
		}
		return n
	}
	p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: 10, Period: time.Hour, Name: "default"}}, nil)
	require.NoError(t, err)
	for _, cache := range []bool{true, false} {
		cfg := config.Config{Backend: config.BackendRedis, KeyPrefix: "flood" + strconv.FormatBool(cache),
			// The test counts Redis calls, not time: a budget far above the default 100 ms
			// keeps a loaded machine (every module's tests at once under -race) from
			// failing a call it is counting.
			Redis: config.RedisConfig{Addrs: []string{srv.Addr()}, LocalCache: config.Bool(cache), Timeout: 5 * time.Second}}
		store, err := redisstore.New(cfg)
		require.NoError(t, err)
		var warm rate.Result // gets the script into Redis (EVALSHA, then EVAL on NOSCRIPT) before counting
		require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.2:default", Policy: p, Cost: 1, Now: time.Now()}, &warm))
		before, denied := scriptCalls(), 0
		start := time.Now()
		for range requests {
			var res rate.Result
			require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.1:default", Policy: p, Cost: 1, Now: time.Now()}, &res))
			if !res.Allowed {
				denied++
			}
		}
		calls := scriptCalls() - before
		t.Logf("ratewarden, local_cache=%-5v: %d requests (%d denied) in %s → %d Redis calls", cache, requests, denied, time.Since(start).Round(time.Millisecond), calls)
		if cache {
			require.Equal(t, 11, calls, "10 admissions and the first denial")
		} else {
			require.Equal(t, requests, calls)
		}
		require.NoError(t, store.Close())
	}

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	peer := redis_rate.NewLimiter(rdb)
	before := scriptCalls()
	start := time.Now()
	for range requests {
		_, err := peer.Allow(ctx, "ip:192.0.2.1:default", redis_rate.PerHour(10))
		require.NoError(t, err)
	}
	t.Logf("redis_rate:                %d requests in %s → %d Redis calls", requests, time.Since(start).Round(time.Millisecond), scriptCalls()-before)
}

// BenchmarkRedisPaired measures the same comparison in a way that holds on a machine whose
// load varies (a shared CI host): every iteration makes one decision with each library on
// the same key, alternating which goes first, and times each, so that both see the same
// load. It reports each library's mean latency per decision and their ratio (ratewarden /
// redis_rate: below 1 means ratewarden is faster). Serial only: with requests in flight
// the latencies are mostly queueing, shared by both. redis_rate runs on a RESP2 client,
// like ratewarden's.
func BenchmarkRedisPaired(b *testing.B) {
	srv := redistest.StartServer(b)
	keys := redisKeyset()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true})
	b.Cleanup(func() { _ = rdb.Close() })
	peer := redis_rate.NewLimiter(rdb)
	limit := redis_rate.PerMinute(redisLimit)
	theirs := func(ctx context.Context, key string) error {
		_, err := peer.Allow(ctx, "peer:"+key, limit)
		return err
	}
	for _, alg := range []rate.Algorithm{rate.TokenBucket, rate.GCRA} {
		store, err := redisstore.New(config.Config{
			Backend: config.BackendRedis,
			Redis:   config.RedisConfig{Addrs: []string{srv.Addr()}, Timeout: time.Second, LocalCache: config.Bool(false)},
		})
		require.NoError(b, err)
		b.Cleanup(func() { _ = store.Close() })
		p, err := rate.NewPolicy(alg, []rate.Window{{Limit: redisLimit, Period: time.Minute, Name: "default"}}, nil)
		require.NoError(b, err)
		ours := func(ctx context.Context, key string) error {
			var res rate.Result
			return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now()}, &res)
		}
		b.Run(alg.String(), func(b *testing.B) {
			ctx := context.Background()
			var oursNs, theirsNs time.Duration
			i := 0
			for b.Loop() {
				key := keys[i%redisKeys]
				first, second, firstNs, secondNs := ours, theirs, &oursNs, &theirsNs
				if i%2 == 1 {
					first, second, firstNs, secondNs = theirs, ours, &theirsNs, &oursNs
				}
				t0 := time.Now()
				if err := first(ctx, key); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := second(ctx, key); err != nil {
					b.Fatal(err)
				}
				*firstNs += t1.Sub(t0)
				*secondNs += time.Since(t1)
				i++
			}
			b.ReportMetric(float64(oursNs)/float64(b.N), "ratewarden-ns/decision")
			b.ReportMetric(float64(theirsNs)/float64(b.N), "redis_rate-ns/decision")
			b.ReportMetric(float64(oursNs)/float64(theirsNs), "ratio")
		})
	}
}
