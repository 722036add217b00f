package configfile

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// warnings records what Source.Warnf is given.
type warnings struct {
	mu    sync.Mutex
	lines []string
}

func (w *warnings) warnf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, fmt.Sprintf(format, args...))
}

// loadEnv loads file (none when "") and environ, failing the test on warnings.
func loadEnv(t *testing.T, file string, environ ...string) (config.Config, error) {
	t.Helper()
	c, warned, err := loadWarned(t, file, environ...)
	assert.Empty(t, warned)
	return c, err
}

const envTestFile = `
[api_key]           # tiers come from a verified identity: without one, loading warns
enabled = true

[default]
windows = [{limit = 10, window = "1s"}, {limit = 100, window = "1m"}]

[tiers.premium]
limit  = 1000
window = "1m"

[tiers.Gold_Plus]
limit  = 2000
window = "1m"

[[endpoints]]
pattern = "/api/v1/compute"
limit   = 10
window  = "1m"
  [endpoints.tiers.premium]
  limit  = 100
  window = "1m"

[[endpoints]]
pattern = "/api/v1/users/{id}"
limit   = 20
window  = "1m"
`

func TestEnvSetsKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		environ []string
		check   func(t *testing.T, c config.Config)
	}{
		{"default limit without a file", "", []string{"RATELIMIT_DEFAULT_LIMIT=200"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.Limits{Limit: 200, Window: time.Minute}, c.Default)
		}},
		{"fail_mode is one key", "", []string{"RATELIMIT_FAIL_MODE=closed"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.FailClosed, c.FailMode)
		}},
		{"list", "", []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_ADDRS=a:6379, b:6379 ,"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.BackendRedis, c.Backend)
			assert.Equal(t, []string{"a:6379", "b:6379"}, c.Redis.Addrs)
		}},
		{"nested section", "", []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_CIRCUIT_BREAKER_FAILURE_THRESHOLD=9"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, 9, c.Redis.CircuitBreaker.FailureThreshold)
		}},
		{"durations", "", []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_TIMEOUT=250ms", "RATELIMIT_REDIS_CIRCUIT_BREAKER_OPEN_TIMEOUT=10", "RATELIMIT_JWT_ENABLED=true", "RATELIMIT_JWT_SECRET=" + strings.Repeat("k", 32), "RATELIMIT_JWT_LEEWAY=-1"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, 250*time.Millisecond, c.Redis.Timeout)
			assert.Equal(t, 10*time.Second, c.Redis.CircuitBreaker.OpenTimeout)
			assert.Equal(t, -time.Second, c.JWT.Leeway)
		}},
		{"bools", "", []string{"RATELIMIT_ENABLED=false", "RATELIMIT_HEADERS_IETF=0", "RATELIMIT_HEADERS_X_RATELIMIT=1", "RATELIMIT_PENALTY_ENABLED=true"}, func(t *testing.T, c config.Config) {
			assert.False(t, config.On(c.Enabled))
			assert.False(t, config.On(c.Headers.IETF))
			assert.True(t, config.On(c.Headers.XRateLimit))
			assert.True(t, c.Penalty.Enabled)
		}},
		{"ints and floats", "", []string{"RATELIMIT_PENALTY_ENABLED=true", "RATELIMIT_PENALTY_MULTIPLIER=1.5", "RATELIMIT_METRICS_TOP_CLIENTS=-1", "RATELIMIT_MEMORY_MAX_KEYS=5000"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, 1.5, c.Penalty.Multiplier)
			assert.Equal(t, -1, c.Metrics.TopClients)
			assert.Equal(t, 5000, c.Memory.MaxKeys)
		}},
		{"strings", "", []string{"RATELIMIT_JWT_ENABLED=true", "RATELIMIT_JWT_SECRET=" + strings.Repeat("k", 32), "RATELIMIT_ADMIN_TOKEN=s3cret", "RATELIMIT_CLIENT_IP_TRUSTED_PROXIES=10.0.0.0/8"}, func(t *testing.T, c config.Config) {
			assert.True(t, c.JWT.Enabled)
			assert.Equal(t, strings.Repeat("k", 32), c.JWT.Secret)
			assert.Equal(t, "s3cret", c.Admin.Token)
			assert.Equal(t, []string{"10.0.0.0/8"}, c.ClientIP.TrustedProxies)
		}},
		{"api key section", "", []string{"RATELIMIT_API_KEY_ENABLED=true", "RATELIMIT_API_KEY_HEADER=X-Customer-Key", "RATELIMIT_API_KEY_CACHE_TTL=5m", "RATELIMIT_API_KEY_TIMEOUT=250ms"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.APIKeyConfig{Enabled: true, Header: "X-Customer-Key", CacheTTL: 5 * time.Minute, Timeout: 250 * time.Millisecond}, c.APIKey)
		}},
		{"endpoint scope by name", envTestFile, []string{"RATELIMIT_ENDPOINTS_API_V1_USERS_ID_SCOPE=global"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.ScopeGlobal, c.Endpoints[1].Scope)
		}},
		{"lower-case name after the prefix", "", []string{"RATELIMIT_key_prefix=app"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, "app", c.KeyPrefix)
		}},
		{"tier of the file", envTestFile, []string{"RATELIMIT_TIERS_PREMIUM_LIMIT=5000"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.Limits{Limit: 5000, Window: time.Minute}, c.Tiers["premium"])
		}},
		{"tier of the file with an underscore and capitals", envTestFile, []string{"RATELIMIT_TIERS_GOLD_PLUS_WINDOW=1h"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.Limits{Limit: 2000, Window: time.Hour}, c.Tiers["Gold_Plus"])
			assert.Len(t, c.Tiers, 2)
		}},
		{"new tier", "", []string{"RATELIMIT_API_KEY_ENABLED=true", "RATELIMIT_TIERS_SILVER_PLUS_LIMIT=300", "RATELIMIT_TIERS_SILVER_PLUS_WINDOW=60", "RATELIMIT_TIERS_SILVER_PLUS_COST=2"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, map[string]config.Limits{"silver_plus": {Limit: 300, Window: time.Minute, Cost: 2}}, c.Tiers)
		}},
		{"endpoint by index", envTestFile, []string{"RATELIMIT_ENDPOINTS_1_LIMIT=5", "RATELIMIT_ENDPOINTS_0_METHODS=GET,POST"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, int64(5), c.Endpoints[1].Limit)
			assert.Equal(t, int64(10), c.Endpoints[0].Limit)
			assert.Equal(t, []string{"GET", "POST"}, c.Endpoints[0].Methods)
		}},
		{"endpoint tier", envTestFile, []string{"RATELIMIT_ENDPOINTS_0_TIERS_PREMIUM_LIMIT=50"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.Limits{Limit: 50, Window: time.Minute}, c.Endpoints[0].Tiers["premium"])
		}},
		{"window by index", envTestFile, []string{"RATELIMIT_DEFAULT_WINDOWS_1_LIMIT=500"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, []config.WindowConfig{{Limit: 10, Window: time.Second}, {Limit: 500, Window: time.Minute}}, c.Default.Windows)
		}},
		{"empty value means default", "backend = \"redis\"\n[redis]\ntimeout = \"1s\"\naddrs = [\"x:1\"]", []string{"RATELIMIT_REDIS_TIMEOUT=", "RATELIMIT_REDIS_ADDRS="}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.DefaultRedisTimeout, c.Redis.Timeout)
			assert.Equal(t, []string{config.DefaultRedisAddr}, c.Redis.Addrs)
		}},
		{"other variables are ignored", "", []string{"HOME=/root", "RATELIMITX=1", "PATH=/bin"}, func(t *testing.T, c config.Config) {
			assert.Equal(t, config.DefaultConfig(), c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadEnv(t, tt.file, tt.environ...)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestEnvBeatsFile(t *testing.T) {
	t.Parallel()
	file := "mode = \"shadow\"\nbackend = \"redis\"\n[default]\nlimit = 50\nwindow = \"1m\"\n[redis]\naddrs = [\"file:6379\"]\n"
	c, err := loadEnv(t, file, "RATELIMIT_DEFAULT_LIMIT=200", "RATELIMIT_REDIS_ADDRS=env:6379", "RATELIMIT_MODE=enforce")
	require.NoError(t, err)
	assert.Equal(t, config.Limits{Limit: 200, Window: time.Minute}, c.Default)
	assert.Equal(t, []string{"env:6379"}, c.Redis.Addrs)
	assert.Equal(t, config.ModeEnforce, c.Mode)
	assert.Equal(t, config.BackendRedis, c.Backend) // from the file
}

func TestEnvBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variable, value, key, want string
	}{
		{"RATELIMIT_DEFAULT_LIMIT", "abc", "default.limit", "must be an integer"},
		{"RATELIMIT_ENABLED", "yes", "enabled", "must be true, false, 1 or 0"},
		{"RATELIMIT_PENALTY_MULTIPLIER", "double", "penalty.multiplier", "must be a number"},
		{"RATELIMIT_REDIS_TIMEOUT", "soon", "redis.timeout", "must be a duration"},
		{"RATELIMIT_REDIS_DB", "1.5", "redis.db", "must be an integer"},
		{"RATELIMIT_TIERS_PREMIUM_WINDOW", "1 hour", "tiers.premium.window", "must be a duration"},
		{"RATELIMIT_ENDPOINTS_0_COST", "-", "endpoints[0].cost", "must be an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.variable, func(t *testing.T) {
			t.Parallel()
			ps := loadProblems(t, envTestFile, tt.variable+"="+tt.value)
			require.Len(t, ps, 1, "problems: %v", ps)
			assert.Equal(t, tt.key, ps[0].Key)
			assert.Contains(t, ps[0].Message, tt.want)
			assert.Contains(t, ps[0].Message, tt.variable)
			assert.Contains(t, ps[0].Message, fmt.Sprintf("%q", tt.value))
		})
	}
}

func TestEnvValuesAreValidated(t *testing.T) {
	t.Parallel()
	ps := loadProblems(t, "", "RATELIMIT_MODE=block", "RATELIMIT_DEFAULT_WINDOW=1500ms")
	assert.Equal(t, []string{
		`mode: must be "enforce" or "shadow", got "block" (from RATELIMIT_MODE)`,
		`default.window: must be whole seconds ≥ 1s, got "1.5s" (from RATELIMIT_DEFAULT_WINDOW)`,
	}, problemStrings(ps))
}

func TestEnvUnknownVariablesWarn(t *testing.T) {
	t.Parallel()
	var w warnings
	c, err := Source{
		Path: writeTOML(t, envTestFile),
		Environ: []string{
			"RATELIMIT_NOPE=1",
			"RATELIMIT_FAIL_MOD=closed",
			"RATELIMIT_ENDPOINTS_2_LIMIT=5", // the file has two endpoints
			"RATELIMIT_DEFAULT_WINDOWS_2_LIMIT=5",
			"RATELIMIT_REDIS=x", // a section, not a key
			"RATELIMIT_ENDPOINTS=x",
			"RATELIMIT_DEFAULT_LIMIT=200", // known
		},
		Warnf: w.warnf,
	}.Load()
	// Known keys still apply; the conflict with the file's windows is the only problem.
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []config.Problem{{Key: "default.windows", Message: "set either limit/window or windows, not both"}}, ve.Problems)
	assert.Equal(t, config.Config{}, c)

	require.Len(t, w.lines, 6, "warnings: %q", w.lines)
	for _, name := range []string{"RATELIMIT_DEFAULT_WINDOWS_2_LIMIT", "RATELIMIT_ENDPOINTS=", "RATELIMIT_ENDPOINTS_2_LIMIT", "RATELIMIT_FAIL_MOD", "RATELIMIT_NOPE", "RATELIMIT_REDIS="} {
		name, _ = strings.CutSuffix(name, "=")
		found := false
		for _, l := range w.lines {
			found = found || strings.Contains(l, name+" ")
		}
		assert.True(t, found, "no warning names %s: %q", name, w.lines)
	}
}

func TestEnvUnknownVariableIsNotFatal(t *testing.T) {
	t.Parallel()
	var w warnings
	c, err := Source{Environ: []string{"RATELIMIT_BOGUS=1", "RATELIMIT_DEFAULT_LIMIT=7"}, Warnf: w.warnf}.Load()
	require.NoError(t, err)
	assert.Equal(t, int64(7), c.Default.Limit)
	assert.Equal(t, []string{"unknown environment variable RATELIMIT_BOGUS ignored"}, w.lines)
}

// TestEnvProcessEnvironment cannot run in parallel: it sets the process environment.
func TestEnvProcessEnvironment(t *testing.T) {
	t.Setenv("RATELIMIT_DEFAULT_LIMIT", "42")
	t.Setenv("RATELIMIT_BACKEND", "redis")
	c, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, int64(42), c.Default.Limit)
	assert.Equal(t, config.BackendRedis, c.Backend)
}

func TestEnvEveryKeyIsReachable(t *testing.T) {
	t.Parallel()
	// Every leaf key of the schema (lists of tables and tables by name aside) resolves
	// from its variable name, so the mapping cannot drift from Config.
	var c config.Config
	c.Endpoints = make([]config.Endpoint, 1)
	c.Default.Windows = make([]config.WindowConfig, 1)
	c.Endpoints[0].Windows = make([]config.WindowConfig, 1)
	c.Tiers = map[string]config.Limits{"t": {Windows: make([]config.WindowConfig, 1)}}
	c.Endpoints[0].Tiers = map[string]config.Limits{"t": {Windows: make([]config.WindowConfig, 1)}}
	root := reflect.ValueOf(&c).Elem()
	for _, key := range configKeys(root.Type(), "") {
		key = strings.NewReplacer("[<i>]", "[0]", "<name>", "t").Replace(key)
		name := strings.ToUpper(strings.NewReplacer(".", "_", "[", "_", "]", "").Replace(key))
		target, ok := resolveEnv(name, root, "")
		if assert.True(t, ok, "%s does not resolve", name) {
			assert.Equal(t, key, target.key, name)
		}
	}
}

// Names and indexes that read the same in the environment never silently pick one: a tier
// "gold-plus" is reached as GOLD_PLUS (it used to create a tier "gold_plus"), tiers "Gold"
// and "gold" are both left alone (the map's order used to choose), and an endpoint named
// "1" is not overridden through endpoints[1] (the index used to win).
func TestEnvironmentNamesThatCollideReachNeither(t *testing.T) {
	t.Parallel()
	path := writeTOML(t, `
[tiers.gold-plus]
limit = 500
window = "1m"
[tiers.Gold]
limit = 10
window = "1m"
[tiers.gold]
limit = 20
window = "1m"
[[endpoints]]
name = "1"
pattern = "/one"
limit = 3
window = "1m"
[[endpoints]]
name = "other"
pattern = "/other"
limit = 4
window = "1m"
`)
	var warnings []string
	c, err := Source{Path: path, Warnf: func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }, Environ: []string{
		"RATELIMIT_TIERS_GOLD_PLUS_LIMIT=5",
		"RATELIMIT_TIERS_GOLD_LIMIT=6",
		"RATELIMIT_ENDPOINTS_1_LIMIT=7",
	}}.Load()
	require.NoError(t, err)
	assert.EqualValues(t, 5, c.Tiers["gold-plus"].Limit)
	assert.NotContains(t, c.Tiers, "gold_plus")
	assert.EqualValues(t, 10, c.Tiers["Gold"].Limit)
	assert.EqualValues(t, 20, c.Tiers["gold"].Limit)
	assert.EqualValues(t, 3, c.Endpoints[0].Limit)
	assert.EqualValues(t, 4, c.Endpoints[1].Limit)
	joined := strings.Join(warnings, "\n")
	assert.Contains(t, joined, "RATELIMIT_TIERS_GOLD_LIMIT")
	assert.Contains(t, joined, "RATELIMIT_ENDPOINTS_1_LIMIT")
}
