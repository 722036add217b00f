package redisstore_test

import (
	"context"
	"fmt"
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

// sentHook records the calls of the decision code a client sends — FCALL, FUNCTION LOAD
// ("function"), EVALSHA, EVAL — and runs before, when set, on each command before it goes.
type sentHook struct {
	mu     sync.Mutex
	names  []string
	before func(cmd redis.Cmder)
}

func (h *sentHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *sentHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch name := cmd.Name(); name {
		case "fcall", "function", "evalsha", "eval":
			h.mu.Lock()
			h.names = append(h.names, name)
			h.mu.Unlock()
		}
		if h.before != nil {
			h.before(cmd)
		}
		return next(ctx, cmd)
	}
}
func (h *sentHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// sent returns the commands sent since the last call.
func (h *sentHook) sent() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := h.names
	h.names = nil
	return names
}

// libraries returns the names of the Redis Function libraries c's server holds.
func libraries(t *testing.T, c *redis.Client) []string {
	t.Helper()
	libs, err := c.FunctionList(context.Background(), redis.FunctionListQuery{}).Result()
	require.NoError(t, err)
	var names []string
	for _, l := range libs {
		names = append(names, l.Name)
	}
	return names
}

// TestFunctionList: FUNCTION LIST shows the library a store loaded, named by its code's
// hash, with one function per algorithm.
func TestFunctionList(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	store := newStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()))
	ctx := context.Background()
	var res rate.Result
	require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.70:list", Policy: policy(t, rate.TokenBucket, nil, 10, time.Minute), Cost: 1}, &res))
	libs, err := srv.Client().FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "ratewarden_*"}).Result()
	require.NoError(t, err)
	require.Len(t, libs, 1)
	assert.Equal(t, redisstore.Library(), libs[0].Name)
	assert.Regexp(t, `^ratewarden_[0-9a-f]{16}$`, libs[0].Name)
	var got, want []string
	for _, f := range libs[0].Functions {
		got = append(got, f.Name+": "+f.Description)
	}
	for _, alg := range algorithms {
		want = append(want, libs[0].Name+"_"+alg.String()+": ratewarden: "+alg.String()+" decisions")
	}
	assert.ElementsMatch(t, want, got)
}

// TestLibraryVersionsCoexist: the Stores of two versions of ratewarden on one Redis (a
// rolling upgrade) each load and call the library of their own code, without replacing
// the other's, and share the counters. Deleting the other version's library, as
// docs/redis.md says to after an upgrade, costs a Store still using it one reload.
func TestLibraryVersionsCoexist(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	ours := newStore(t, cfg)
	// The other version: its FCALLs name its own functions and its FUNCTION LOAD loads
	// its own library (the same code under another hash stands in for another code).
	const other = "ratewarden_0123456789abcdef"
	otherSource := redisstore.LibraryAs(other)
	hook := &sentHook{before: func(cmd redis.Cmder) {
		args := cmd.Args()
		switch {
		case cmd.Name() == "fcall":
			args[1] = strings.Replace(args[1].(string), redisstore.Library(), other, 1)
		case cmd.Name() == "function" && args[1] == "load":
			args[2] = otherSource
		}
	}}
	theirs := hookedStore(t, cfg, hook)
	ctx := context.Background()
	p := policy(t, rate.TokenBucket, nil, 10, time.Hour)
	for i := range 12 {
		store := map[bool]*redisstore.Store{true: ours, false: theirs}[i%2 == 0]
		var res rate.Result
		require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.71:shared", Policy: p, Cost: 1}, &res))
		assert.Equal(t, i < 10, res.Allowed, "decision %d: one counter for both versions", i)
	}
	assert.ElementsMatch(t, []string{redisstore.Library(), other}, libraries(t, srv.Client()))
	stats := commandStats(t, srv.Client())
	assert.Equal(t, 2, stats["function|load"], "each version loaded its library once")

	require.NoError(t, srv.Client().FunctionDelete(ctx, other).Err())
	hook.sent()
	var res rate.Result
	require.NoError(t, theirs.Take(ctx, &rate.Request{Key: "ip:192.0.2.71:after", Policy: p, Cost: 1}, &res))
	assert.True(t, res.Allowed)
	assert.Equal(t, []string{"fcall", "function", "fcall"}, hook.sent(), "reloaded")
	assert.ElementsMatch(t, []string{redisstore.Library(), other}, libraries(t, srv.Client()))
}

// TestLibraryLoadedMeanwhile: a FUNCTION LOAD that finds the library already there —
// another instance loaded it between this one's FCALL and its FUNCTION LOAD — is no
// error: the decision calls the function.
func TestLibraryLoadedMeanwhile(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	var once sync.Once
	hook := &sentHook{before: func(cmd redis.Cmder) {
		if cmd.Name() == "function" {
			once.Do(func() {
				assert.NoError(t, srv.Client().FunctionLoad(ctx, redisstore.LibraryAs(redisstore.Library())).Err())
			})
		}
	}}
	logs := &syncBuffer{}
	store := hookedStore(t, redisConfig(config.RedisStandalone, false, srv.Addr()), hook, redisstore.WithLogger(jsonLogger(logs)))
	var res rate.Result
	require.NoError(t, store.Take(ctx, &rate.Request{Key: "ip:192.0.2.72:x", Policy: policy(t, rate.GCRA, nil, 5, time.Minute), Cost: 1}, &res))
	assert.True(t, res.Allowed)
	assert.Equal(t, []string{"fcall", "function", "fcall"}, hook.sent())
	assert.Equal(t, 2, commandStats(t, srv.Client())["function|load"], "the other instance's, then ours: already exists")
	assert.NotContains(t, logs.String(), "redis_function_library_loaded", "this store loaded nothing")
}

// TestClusterNodeWithoutTheLibrary: on a Cluster, a Store loads the library on each master
// as its decisions reach it (FUNCTION LOAD does not spread over a Cluster). A master that
// loses it (FUNCTION FLUSH; as a master added to the Cluster, or a replica promoted before
// the library reached it) gets it back from the first decision that finds it missing,
// alone or pipelined with concurrent ones, and the other masters are left alone.
func TestClusterNodeWithoutTheLibrary(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t)
	store := newStore(t, redisConfig(config.RedisCluster, false, cl.Addrs()...))
	ctx := context.Background()
	// 20 keys on each master.
	keys := map[string][]string{}
	nodes := map[string]*redistest.Server{}
	for _, n := range cl.Nodes() {
		nodes[n.Addr()] = n
	}
	for i := 0; len(keys) < len(nodes) || !full(keys, 20); i++ {
		key := fmt.Sprintf("ip:192.0.2.73:k%d", i)
		master, err := cl.Client().MasterForKey(ctx, "ratelimit:{"+key+"}:60")
		require.NoError(t, err)
		addr := master.Options().Addr
		require.Contains(t, nodes, addr)
		if len(keys[addr]) < 20 {
			keys[addr] = append(keys[addr], key)
		}
	}
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)
	take := func(key string) {
		var res rate.Result
		if assert.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1}, &res), key) {
			assert.True(t, res.Allowed, key)
		}
	}
	for addr, ks := range keys {
		take(ks[0])
		assert.Equal(t, []string{redisstore.Library()}, libraries(t, nodes[addr].Client()), "%s: loaded by its first decision", addr)
	}

	flushed := cl.Nodes()[0]
	require.NoError(t, flushed.Client().FunctionFlush(ctx).Err())
	var wg sync.WaitGroup
	for _, ks := range keys {
		for _, k := range ks {
			wg.Go(func() { take(k) })
		}
	}
	wg.Wait()
	for addr, n := range nodes {
		assert.Equal(t, []string{redisstore.Library()}, libraries(t, n.Client()), addr)
		loads := commandStats(t, n.Client())["function|load"]
		if n == flushed {
			assert.GreaterOrEqual(t, loads, 2, "%s: loaded again", addr)
		} else {
			assert.Equal(t, 1, loads, "%s: left alone", addr)
		}
	}
}

// full reports whether every list of keys has n.
func full(keys map[string][]string, n int) bool {
	for _, ks := range keys {
		if len(ks) < n {
			return false
		}
	}
	return true
}

// TestFallbackToScripts: where Redis Functions are unavailable — Redis before 7.0, or an
// ACL that denies FUNCTION LOAD or FCALL — the Store decides with the scripts (EVALSHA)
// from its first decision on, logs it once, and tries the functions again every
// recheck interval: each check costs one decision a round trip or two, and once Redis
// allows the functions (an admin loaded the library, or granted FCALL), the Store moves
// to them.
func TestFallbackToScripts(t *testing.T) {
	t.Parallel()
	// acl starts a server with a user "limited" whose rules are +@all then deny.
	acl := func(deny ...string) func(t *testing.T) (*redistest.Server, config.Config) {
		return func(t *testing.T) (*redistest.Server, config.Config) {
			srv := redistest.StartServer(t)
			args := append([]any{"ACL", "SETUSER", "limited", "on", ">secret", "~*", "&*", "+@all"}, toAny(deny)...)
			require.NoError(t, srv.Client().Do(context.Background(), args...).Err())
			cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
			cfg.Redis.Username, cfg.Redis.Password = "limited", "secret"
			return srv, cfg
		}
	}
	tests := []struct {
		name  string
		start func(t *testing.T) (*redistest.Server, config.Config)
		// what a decision that tries the functions sends before the scripts
		tries []string
		// allow makes Redis allow the functions (nil: never), and back is what the first
		// decision that tries them then sends
		allow func(t *testing.T, srv *redistest.Server)
		back  []string
	}{
		{
			name: "Redis without functions",
			start: func(t *testing.T) (*redistest.Server, config.Config) {
				srv := startWithoutFunctions(t)
				return srv, redisConfig(config.RedisStandalone, false, srv.Addr())
			},
			tries: []string{"fcall"},
		},
		{
			name:  "ACL denies FUNCTION LOAD",
			start: acl("-function"),
			tries: []string{"fcall", "function"},
			allow: func(t *testing.T, srv *redistest.Server) { // an admin loads the library
				require.NoError(t, srv.Client().FunctionLoad(context.Background(), redisstore.LibraryAs(redisstore.Library())).Err())
			},
			back: []string{"fcall"},
		},
		{
			name:  "ACL denies FCALL",
			start: acl("-fcall"),
			tries: []string{"fcall"},
			allow: func(t *testing.T, srv *redistest.Server) {
				require.NoError(t, srv.Client().Do(context.Background(), "ACL", "SETUSER", "limited", "+fcall").Err())
			},
			back: []string{"fcall", "function", "fcall"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := tt.start(t)
			start, elapsed := time.Now(), atomic.Int64{} // the store's clock, moved by hand
			clock := func() time.Time { return start.Add(time.Duration(elapsed.Load())) }
			advance := func(d time.Duration) { elapsed.Add(int64(d)) }
			logs := &syncBuffer{}
			hook := &sentHook{}
			store := hookedStore(t, cfg, hook, redisstore.WithClock(clock), redisstore.WithLogger(jsonLogger(logs)))
			p := policy(t, rate.FixedWindow, nil, 100, time.Hour)
			n := 0
			take := func() []string {
				t.Helper()
				n++
				var res rate.Result
				require.NoError(t, store.Take(context.Background(), &rate.Request{Key: "ip:192.0.2.74:fb", Policy: p, Cost: 1}, &res))
				require.Equal(t, int64(100-n), res.Windows[0].Remaining, "decision %d counted", n)
				return hook.sent()
			}
			logged := func(msg string) int { return strings.Count(logs.String(), `"msg":"`+msg+`"`) }

			assert.Equal(t, append(tt.tries, "evalsha", "eval"), take(), "the first decision")
			assert.Equal(t, 1, logged("redis_functions_unavailable"))
			for range 3 {
				assert.Equal(t, []string{"evalsha"}, take())
			}
			advance(redisstore.RecheckFunctions - time.Second)
			assert.Equal(t, []string{"evalsha"}, take(), "before the recheck")
			advance(time.Second)
			assert.Equal(t, append(tt.tries, "evalsha"), take(), "the recheck")
			assert.Equal(t, []string{"evalsha"}, take(), "after the recheck")
			assert.Equal(t, 1, logged("redis_functions_unavailable"), "logged once")
			assert.Zero(t, commandStats(t, srv.Client())["function|load"], "no library loaded")
			if tt.allow == nil {
				return
			}
			tt.allow(t, srv)
			assert.Equal(t, []string{"evalsha"}, take(), "until the next recheck")
			advance(redisstore.RecheckFunctions)
			assert.Equal(t, tt.back, take(), "the recheck")
			assert.Equal(t, []string{"fcall"}, take(), "functions from then on")
			assert.Equal(t, 1, logged("redis_functions_available"))
		})
	}
}

func toAny(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// documentedACL is the ACL user docs/redis.md gives for the default key_prefix.
const documentedACL = "ratewarden on >secret ~ratelimit:* resetchannels -@all +@connection +fcall +function|load +evalsha +eval +time +get +set +del +unlink +zadd +zcard +zrange +zrangebyscore +zremrangebyscore +zscore +pexpire"

// TestDocumentedACL: a store whose user has exactly the ACL docs/redis.md gives decides
// every algorithm, with several windows and a penalty, for every op, replaces a sliding
// window's stale admissions, an older layout's and another algorithm's state, and resets, by Redis Functions:
// every data command the ACL allows ran, nothing was denied, and nothing made the store
// fall back to scripts.
func TestDocumentedACL(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	admin := srv.Client()
	require.NoError(t, admin.Do(ctx, append([]any{"ACL", "SETUSER"}, toAny(strings.Fields(documentedACL))...)...).Err())
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.Redis.Username, cfg.Redis.Password = "ratewarden", "secret"
	logs := &syncBuffer{}
	store := newStore(t, cfg, redisstore.WithLogger(jsonLogger(logs)))
	take := func(key string, p *rate.Policy, op rate.Op) rate.Result {
		t.Helper()
		var res rate.Result
		require.NoError(t, store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Op: op}, &res), "%s %s", key, op)
		return res
	}
	pen := &rate.PenaltyPolicy{Threshold: 1, Period: time.Minute, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: time.Minute}
	for _, alg := range algorithms {
		p := policy(t, alg, pen, 2, time.Second, 3, time.Minute)
		key := "ip:192.0.2.75:acl-" + alg.String()
		denied := false
		for _, op := range append(ops, ops...) {
			for range 2 {
				denied = denied || !take(key, p, op).Allowed
			}
		}
		assert.True(t, denied, "%s: the penalty ran", alg)
		require.NoError(t, store.Reset(ctx, key, []time.Duration{time.Second, time.Minute}))
	}
	// A sliding window with an admission that left it long ago and one a second old, and
	// one key holding another algorithm's state.
	sw := policy(t, rate.SlidingWindow, nil, 5, time.Minute)
	serverNow, err := admin.Time(ctx).Result()
	require.NoError(t, err)
	recent := serverNow.Add(-time.Second).UnixMicro()
	require.NoError(t, admin.ZAdd(ctx, "ratelimit:{ip:192.0.2.76:old}:60", redis.Z{Score: 1, Member: "1:1:1"},
		redis.Z{Score: float64(recent), Member: fmt.Sprintf("%d:1:1", recent)}, redis.Z{Score: -2, Member: "#"}).Err())
	assert.Equal(t, int64(3), take("ip:192.0.2.76:old", sw, rate.OpTake).Windows[0].Remaining)
	// An older layout: one member per unit, no total (read with ZSCORE and ZCARD).
	require.NoError(t, admin.ZAdd(ctx, "ratelimit:{ip:192.0.2.76:older}:60", redis.Z{Score: float64(recent), Member: fmt.Sprintf("%d:1", recent)}).Err())
	assert.Equal(t, int64(3), take("ip:192.0.2.76:older", sw, rate.OpTake).Windows[0].Remaining)
	require.NoError(t, admin.Set(ctx, "ratelimit:{ip:192.0.2.76:other}:60", redisstore.PackState(rate.FixedWindow, 1, 1), 0).Err())
	assert.Equal(t, int64(4), take("ip:192.0.2.76:other", sw, rate.OpTake).Windows[0].Remaining)

	assert.NotContains(t, logs.String(), "redis_functions_unavailable")
	assert.NotContains(t, logs.String(), "redis_error")
	stats := commandStats(t, admin)
	assert.Equal(t, 1, stats["function|load"])
	assert.Zero(t, stats["evalsha"]+stats["eval"])
	for _, cmd := range []string{"time", "get", "set", "del", "unlink", "zadd", "zcard", "zrange", "zrangebyscore", "zremrangebyscore", "zscore", "pexpire"} {
		assert.Positive(t, stats[cmd], "the store ran %s", cmd)
	}
}

// TestRingUsesScripts: a Store on a redis.Ring of the caller's decides with the scripts:
// go-redis would send a keyless FUNCTION LOAD to one shard of its choosing.
func TestRingUsesScripts(t *testing.T) {
	t.Parallel()
	a, b := redistest.StartServer(t), redistest.StartServer(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr(), "b": b.Addr()}})
	t.Cleanup(func() { _ = ring.Close() })
	store, err := redisstore.NewWithClient(ring, redisConfig(config.RedisStandalone, false, a.Addr()), redisstore.WithFunctions())
	require.NoError(t, err)
	p := policy(t, rate.TokenBucket, nil, 10, time.Minute)
	for i := range 20 {
		var res rate.Result
		require.NoError(t, store.Take(context.Background(), &rate.Request{Key: fmt.Sprintf("ip:192.0.2.77:r%d", i), Policy: p, Cost: 1}, &res))
		assert.True(t, res.Allowed)
	}
	calls := 0
	for _, srv := range []*redistest.Server{a, b} {
		stats := commandStats(t, srv.Client())
		assert.Zero(t, stats["fcall"]+stats["function|load"], srv.Addr())
		calls += stats["evalsha"]
	}
	assert.Equal(t, 20, calls, "one EVALSHA per decision")
}

// TestScriptsByDefault: without WithFunctions a Store decides by EVALSHA, as SPEC section 5
// specifies, on a server that has Redis Functions, and loads no library into it.
func TestScriptsByDefault(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	store, err := redisstore.New(redisConfig(config.RedisStandalone, false, srv.Addr()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	p := policy(t, rate.TokenBucket, nil, 10, time.Minute)
	for i := range 5 {
		var res rate.Result
		require.NoError(t, store.Take(context.Background(), &rate.Request{Key: fmt.Sprintf("ip:192.0.2.78:r%d", i), Policy: p, Cost: 1}, &res))
		assert.True(t, res.Allowed)
	}
	stats := commandStats(t, srv.Client())
	assert.Zero(t, stats["fcall"]+stats["function|load"], "no FCALL, no library")
	assert.Equal(t, 5, stats["evalsha"], "one EVALSHA per decision")
	assert.Equal(t, 1, stats["eval"], "the first answered NOSCRIPT and loaded the script")
	libs, err := srv.Client().FunctionList(context.Background(), redis.FunctionListQuery{}).Result()
	require.NoError(t, err)
	assert.Empty(t, libs)
}
