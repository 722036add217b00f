package core_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

func computeConfig(name, pattern string, limit int64) config.Config {
	return config.Config{Endpoints: []config.Endpoint{endpoint(name, pattern, limit)}}
}

func TestReloadKeepsTheCountersOfRulesThatStillExist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		next config.Config
		want int64 // remaining after one more request
	}{
		{"same name, higher limit", computeConfig("compute", "/api/v1/compute", 20), 14},
		{"renamed, same pattern", computeConfig("heavy", "/api/v1/compute", 10), 4},
		{"same name, new pattern", computeConfig("compute", "/api/v1/compute*/", 10), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, computeConfig("compute", "/api/v1/compute", 10))
			h.decideN(5, request{path: "/api/v1/compute"})
			if tt.name == "same name, new pattern" {
				tt.next.Endpoints[0].Pattern = "/api/v2/compute"
				require.NoError(t, h.lim.Reload(tt.next))
				assert.Equal(t, tt.want, h.decide(request{path: "/api/v2/compute"}).Remaining())
				return
			}
			require.NoError(t, h.lim.Reload(tt.next))
			assert.Equal(t, tt.want, h.decide(request{path: "/api/v1/compute"}).Remaining())
		})
	}
}

func TestAnInvalidReloadKeepsTheConfigurationInForce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, computeConfig("compute", "/api/v1/compute", 10))
	bad := computeConfig("compute", "api/v1/compute", 10)
	bad.Endpoints[0].Window = 0
	err := h.lim.Reload(bad)
	var invalid *config.ValidationError
	require.ErrorAs(t, err, &invalid)
	assert.Len(t, invalid.Problems, 2, "every problem at once: %v", err)
	assert.Equal(t, int64(9), h.decide(request{path: "/api/v1/compute"}).Remaining(), "the old rule still applies")
	assert.Contains(t, h.log.String(), "config_reload_failed")
}

// reloadCounter is a store that counts Reloaded calls.
type reloadCounter struct {
	*adaptertest.Store
	reloads atomic.Int32
}

func (r *reloadCounter) Reloaded() { r.reloads.Add(1) }

func TestReloadTellsTheStore(t *testing.T) {
	t.Parallel()
	store := &reloadCounter{Store: adaptertest.NewStore()}
	lim, err := core.New(config.Config{}, core.WithStore(store))
	require.NoError(t, err)
	require.NoError(t, lim.Reload(config.Config{Default: config.Limits{Limit: 5}}))
	assert.Equal(t, int32(1), store.reloads.Load())
}

func TestReloadUnderConcurrentTrafficNeverOverAdmits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, computeConfig("compute", "/api/v1/compute", 10))
	configs := []config.Config{computeConfig("compute", "/api/v1/compute", 20), computeConfig("compute", "/api/v1/compute", 10)}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if h.decide(request{path: "/api/v1/compute"}).Outcome == core.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 100; i++ {
		require.NoError(t, h.lim.Reload(configs[i%2]))
	}
	wg.Wait()
	// Used units are carried across every swap, so at one instant no more than the larger
	// limit is ever admitted.
	assert.LessOrEqual(t, admitted.Load(), int64(20))
	assert.GreaterOrEqual(t, admitted.Load(), int64(10))
}

func TestReloadOnSignalReloadsOnSIGHUP(t *testing.T) {
	h := newHarness(t, computeConfig("compute", "/api/v1/compute", 10))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	next := computeConfig("compute", "/api/v1/compute", 3)
	loads := make(chan config.Config, 2)
	loads <- next
	loads <- config.Config{Mode: "bogus"}
	results := h.lim.ReloadOnSignal(ctx, func() (config.Config, error) { return <-loads, nil })

	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGHUP))
	require.NoError(t, waitResult(t, results))
	assert.Equal(t, int64(3), h.decide(request{path: "/api/v1/compute"}).Limit())

	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGHUP))
	var invalid *config.ValidationError
	require.ErrorAs(t, waitResult(t, results), &invalid)
	assert.Equal(t, int64(3), h.decide(request{path: "/api/v1/compute"}).Limit(), "an invalid file changes nothing")

	cancel()
	for range results { // closed once ctx is done
	}
}

func waitResult(t *testing.T, results <-chan error) error {
	t.Helper()
	select {
	case err := <-results:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s of the signal")
		return errors.New("unreachable")
	}
}

// A reload renames rule a (pattern /x) to b and adds a new rule a on /y with another
// window: b keeps a's counter and the new a gets a counter of its own, so /x and /y never
// share one (they used to: alternating them admitted 50 + 50 instead of 5 + 5).
func TestARuleTakingARenamedRulesNameGetsACounterOfItsOwn(t *testing.T) {
	t.Parallel()
	rule := func(name, pattern string, window time.Duration) config.Endpoint {
		return config.Endpoint{Name: name, Pattern: pattern, Limits: config.Limits{Limit: 5, Window: window}}
	}
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{rule("a", "/x", time.Minute)}})
	h.decideN(2, request{path: "/x"})
	require.NoError(t, h.lim.Reload(config.Config{Endpoints: []config.Endpoint{
		rule("b", "/x", time.Minute),
		rule("a", "/y", time.Hour),
	}}))
	admitted := map[string]int{}
	for i := range 100 {
		path := []string{"/x", "/y"}[i%2]
		if h.decide(request{path: path}).Outcome == core.Allowed {
			admitted[path]++
		}
	}
	assert.Equal(t, map[string]int{"/x": 3, "/y": 5}, admitted, "b continues a's counter, the new a has its own")

	// Renaming them back and forth, in any order, never gives either rule a fresh counter
	// or one counter to both.
	for _, next := range [][]config.Endpoint{
		{rule("a", "/y", time.Hour), rule("b", "/x", time.Minute)},
		{rule("c", "/y", time.Hour), rule("a", "/x", time.Minute)},
		{rule("a", "/x", time.Minute), rule("b", "/y", time.Hour)},
	} {
		require.NoError(t, h.lim.Reload(config.Config{Endpoints: next}))
		assert.Equal(t, core.Denied, h.decide(request{path: "/x"}).Outcome)
		assert.Equal(t, core.Denied, h.decide(request{path: "/y"}).Outcome)
	}
}

// Two rules on one pattern for different methods never trade counters on a reload that
// renames them or adds a rule on the pattern: the exhausted POST /login counter stays with
// the POST rule (a review found 5 more logins admitted after each of these reloads).
func TestRulesOnOnePatternKeepTheirMethodsCounters(t *testing.T) {
	t.Parallel()
	rule := func(name, method string, limit int64) config.Endpoint {
		return config.Endpoint{Name: name, Pattern: "/login", Methods: []string{method}, Limits: config.Limits{Limit: limit, Window: 15 * time.Minute}}
	}
	post := request{method: "POST", path: "/login"}
	tests := []struct {
		name   string
		before []config.Endpoint
		after  []config.Endpoint
	}{
		{"both renamed, listed in another order",
			[]config.Endpoint{rule("login", "POST", 5), rule("login-page", "GET", 100)},
			[]config.Endpoint{rule("auth-page", "GET", 100), rule("auth", "POST", 5)}},
		{"a new GET rule listed before the renamed POST rule",
			[]config.Endpoint{rule("login", "POST", 5)},
			[]config.Endpoint{rule("login-page", "GET", 100), rule("auth", "POST", 5)}},
		{"a new GET rule before the POST rule renamed with a method added",
			[]config.Endpoint{rule("login", "POST", 5)},
			[]config.Endpoint{rule("login-page", "GET", 100), {Name: "auth", Pattern: "/login", Methods: []string{"POST", "PUT"}, Limits: config.Limits{Limit: 5, Window: 15 * time.Minute}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, config.Config{Endpoints: tt.before})
			require.Equal(t, core.Allowed, h.decideN(5, post).Outcome)
			require.Equal(t, core.Denied, h.decide(post).Outcome)
			require.NoError(t, h.lim.Reload(config.Config{Endpoints: tt.after}))
			assert.Equal(t, core.Denied, h.decide(post).Outcome, "the POST rule kept its exhausted counter")
			assert.Equal(t, core.Allowed, h.decide(request{path: "/login"}).Outcome, "the GET rule did not take it")
		})
	}
}

// restartWarnings returns the keys of each config_reload_needs_restart record logged so far.
func restartWarnings(t *testing.T, h *harness) [][]any {
	t.Helper()
	var out [][]any
	for _, line := range strings.Split(strings.TrimSpace(h.log.String()), "\n") {
		if rec := decodeJSON(t, []byte(line)); rec["msg"] == "config_reload_needs_restart" {
			keys, _ := rec["keys"].([]any)
			out = append(out, keys)
		}
	}
	return out
}

// The store is built once: a reload keeps the running value of every setting it was built
// from, says so on every reload whose file still differs, and is silent on a revert.
func TestAReloadKeepsTheRunningValuesOfRestartOnlySettings(t *testing.T) {
	t.Parallel()
	base := config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}}
	tests := []struct {
		name   string
		change func(*config.Config)
		keys   []any
	}{
		{"backend", func(c *config.Config) { c.Backend = config.BackendRedis }, []any{"backend"}},
		{"redis.*", func(c *config.Config) { c.Redis.Timeout = time.Second }, []any{"redis"}},
		{"memory.*", func(c *config.Config) { c.Memory.MaxKeys = 10 }, []any{"memory"}},
		{"key_prefix", func(c *config.Config) { c.KeyPrefix = "other" }, []any{"key_prefix"}},
		{"fail_mode to local", func(c *config.Config) { c.FailMode = config.FailLocal }, []any{"fail_mode"}},
		{"several", func(c *config.Config) { c.Backend, c.Memory.SweepInterval = config.BackendRedis, time.Hour }, []any{"backend", "memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, base)
			running := h.lim.Config()
			next := base
			tt.change(&next)
			for i := 1; i <= 2; i++ {
				require.NoError(t, h.lim.Reload(next))
				got := h.lim.Config()
				assert.Equal(t, running.Backend, got.Backend)
				assert.Equal(t, running.Redis, got.Redis)
				assert.Equal(t, running.Memory, got.Memory)
				assert.Equal(t, running.KeyPrefix, got.KeyPrefix)
				assert.Equal(t, running.FailMode, got.FailMode)
				assert.Equal(t, slices.Repeat([][]any{tt.keys}, i), restartWarnings(t, h), "every reload that still differs warns")
			}
			h.decideN(2, request{path: "/"})
			assert.Contains(t, h.log.String(), `"backend":"memory"`, "denials log the running backend")
			assert.NotContains(t, h.log.String(), `"backend":"redis"`)
			require.NoError(t, h.lim.Reload(base))
			assert.Len(t, restartWarnings(t, h), 2, "a revert to the running values is silent")
		})
	}
}

// A reload still applies what it can: open ↔ closed is decided per request.
func TestAReloadAppliesFailModeOpenAndClosed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{})
	require.NoError(t, h.lim.Reload(config.Config{FailMode: config.FailClosed}))
	assert.Equal(t, config.FailClosed, h.lim.Config().FailMode)
	assert.Empty(t, restartWarnings(t, h))
}

// TestAReloadThatReadEarlierNeverAppliesLater: a reload that read the file (a SIGHUP's,
// say) while a newer version was being written must not replace what a reload that read
// the newer one applied (a POST /admin/reload's): ReloadFrom reads and applies as one
// step against other reloads. Before, the second reload applied its newer configuration
// first and the first one's older configuration stayed in force until the file changed
// again (found by an attacker review).
func TestAReloadThatReadEarlierNeverAppliesLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t, computeConfig("v0", "/api/v1/compute", 10))
	var file atomic.Pointer[config.Config] // what a load reads
	v1, v2 := computeConfig("v1", "/api/v1/compute", 10), computeConfig("v2", "/api/v1/compute", 10)
	file.Store(&v1)

	read, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- h.lim.ReloadFrom(func() (config.Config, error) {
			cfg := *file.Load()
			close(read)
			<-release // still applying v1 when v2 is written and read
			return cfg, nil
		})
	}()
	<-read
	file.Store(&v2)
	second := make(chan error, 1)
	go func() { second <- h.lim.ReloadFrom(func() (config.Config, error) { return *file.Load(), nil }) }()
	var secondErr error
	secondDone := false
	select {
	case secondErr = <-second: // the second reload did not wait: it must not be overtaken
		secondDone = true
	case <-time.After(100 * time.Millisecond): // it waits for the first; it reads when its turn comes
	}
	close(release)
	require.NoError(t, <-first)
	if !secondDone {
		secondErr = <-second
	}
	require.NoError(t, secondErr)
	assert.Equal(t, "v2", h.lim.Config().Endpoints[0].Name, "the configuration read last is in force")
}
