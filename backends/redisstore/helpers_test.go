package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestMain silences go-redis's own log, which prints a line for every failed dial: the
// fault tests make hundreds on purpose. The store's errors go through its own rate-limited
// log (see docs/redis.md on go-redis's logger in production). It also starts the
// redis-server the examples use (redisAddr): an Example has no *testing.T to start one.
func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	srv, stop, err := redistest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	redisAddr = srv.Addr()
	code := m.Run()
	stop()
	os.Exit(code)
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// relaxedTimeout is the decision budget of tests that are not about timing: generous, so
// that a loaded 2-core machine running -race never trips it.
const relaxedTimeout = 2 * time.Second

// redisConfig returns a configuration for the redis backend at addrs in mode, with a
// relaxed budget, and the local cache as asked.
func redisConfig(mode string, localCache bool, addrs ...string) config.Config {
	return config.Config{
		Backend: config.BackendRedis,
		Redis: config.RedisConfig{
			Mode:       mode,
			Addrs:      addrs,
			Timeout:    relaxedTimeout,
			LocalCache: config.Bool(localCache),
		},
	}
}

// newStore builds a Store with New, WithFunctions and opts, and closes it when the test
// ends. The tests run the suites over FCALL this way; over EVALSHA, the default, on a
// server without Functions (TestSuitesWithoutFunctions) and TestScriptsByDefault.
func newStore(t testing.TB, cfg config.Config, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(cfg, append([]redisstore.Option{redisstore.WithFunctions()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// storeOn builds a Store for cfg that calls the Redis Functions (functions true, as
// newStore) or the scripts (EVALSHA, the default), with opts; it is closed when the test
// ends.
func storeOn(t testing.TB, cfg config.Config, functions bool, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	if functions {
		return newStore(t, cfg, opts...)
	}
	s, err := redisstore.New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// hookedStore builds a Store with NewWithClient (WithFunctions, then opts) on a client for
// cfg.Redis that sends its commands through hook; the client is closed when the test ends.
func hookedStore(t testing.TB, cfg config.Config, hook redis.Hook, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	return hookedStoreOn(t, cfg, hook, true, opts...)
}

// hookedStoreOn is hookedStore on the Redis Functions (functions true) or the scripts.
func hookedStoreOn(t testing.TB, cfg config.Config, hook redis.Hook, functions bool, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	client, err := redisstore.NewClient(cfg.Redis)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	client.AddHook(hook)
	if functions {
		opts = append([]redisstore.Option{redisstore.WithFunctions()}, opts...)
	}
	store, err := redisstore.NewWithClient(client, cfg, opts...)
	require.NoError(t, err)
	return store
}

// observer records backend observations by kind ("" = success).
type observer struct {
	mu    sync.Mutex
	kinds map[rate.ErrorKind]int
	ops   map[string]int // observations by operation label
	calls atomic.Int64
}

func newObserver() *observer {
	return &observer{kinds: map[rate.ErrorKind]int{}, ops: map[string]int{}}
}

func (o *observer) ObserveDecision(*core.Decision) {}

func (o *observer) ObserveBackend(op string, _ time.Duration, kind rate.ErrorKind) {
	switch op {
	case "take", "check", "consume", "peek", "reset":
	default:
		panic("unexpected operation " + op)
	}
	o.calls.Add(1)
	o.mu.Lock()
	o.kinds[kind]++
	o.ops[op]++
	o.mu.Unlock()
}

func (o *observer) op(name string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ops[name]
}

func (o *observer) count(kind rate.ErrorKind) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.kinds[kind]
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func jsonLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// policy builds a policy or fails the test.
func policy(t testing.TB, alg rate.Algorithm, pen *rate.PenaltyPolicy, limitPeriods ...any) *rate.Policy {
	t.Helper()
	var ws []rate.Window
	for i := 0; i < len(limitPeriods); i += 2 {
		ws = append(ws, rate.Window{Limit: int64(limitPeriods[i].(int)), Period: limitPeriods[i+1].(time.Duration), Name: "r"})
	}
	p, err := rate.NewPolicy(alg, ws, pen)
	require.NoError(t, err)
	return p
}

// eventually polls cond every 10ms until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startWithoutFunctions starts a redis-server whose FCALL and FUNCTION commands are
// renamed away: to a Store, it answers as Redis 6 does.
func startWithoutFunctions(t *testing.T) *redistest.Server {
	return redistest.StartServer(t, redistest.WithArgs("--rename-command", "FCALL", "", "--rename-command", "FUNCTION", ""))
}

// withAndWithoutCache runs test twice, as subtests local_cache=true and local_cache=false,
// each with a standalone config of srv under a key prefix of its own and a 10 s budget (the
// tests that use it hold calls on purpose; their budget is not what they test).
func withAndWithoutCache(t *testing.T, srv *redistest.Server, test func(t *testing.T, cfg config.Config, cache bool)) {
	for _, cache := range []bool{true, false} {
		t.Run("local_cache="+strconv.FormatBool(cache), func(t *testing.T) {
			cfg := redisConfig(config.RedisStandalone, cache, srv.Addr())
			cfg.KeyPrefix = t.Name()
			cfg.Redis.Timeout = 10 * time.Second
			test(t, cfg, cache)
		})
	}
}

// taker returns a function deciding one request of cost 1 on key under p, now, with op,
// through store, failing the test on an error.
func taker(t *testing.T, store rate.Store, p *rate.Policy, key string) func(op rate.Op) rate.Result {
	return func(op rate.Op) rate.Result {
		var res rate.Result
		require.NoError(t, store.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: op}, &res))
		return res
	}
}

// netCounter is a redis.Hook that counts a client's dial attempts and the commands it
// sends (those of a pipeline each), so that a test can tell that nothing touched the
// network.
type netCounter struct{ dials, cmds atomic.Int64 }

func (h *netCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h.dials.Add(1)
		return next(ctx, network, addr)
	}
}

func (h *netCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.cmds.Add(1)
		return next(ctx, cmd)
	}
}

func (h *netCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
