package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/jwtauth"
	"github.com/ratewarden/ratewarden/core/rate"
)

// validationProblems runs Validate and returns its problems (none when it passes).
func validationProblems(t *testing.T, c Config) []Problem {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "Validate returned %T, want *ValidationError", err)
	require.NotEmpty(t, ve.Problems)
	return ve.Problems
}

func TestValidateDefaultsAreValid(t *testing.T) {
	t.Parallel()
	assert.NoError(t, Config{}.Validate())
	assert.NoError(t, DefaultConfig().Validate())
}

// TestAWrongWindowDoesNotHideAWrongLimit: every problem at once (SPEC section 4). With a
// window that is itself wrong, the limit is still held to the algorithm's bounds that do not
// depend on the window: issue 10's fault 5 configuration, fixed_window 9223372036854775807
// per 2000000h, reported only the window.
func TestAWrongWindowDoesNotHideAWrongLimit(t *testing.T) {
	lim := func(limit int64, window time.Duration) Limits { return Limits{Limit: limit, Window: window} }
	for _, tt := range []struct {
		alg    string
		limits Limits
		want   []string
	}{
		{"fixed_window", lim(math.MaxInt64, 2_000_000*time.Hour), []string{
			`default.window: must be at most "87600h0m0s" (ten years), got "2000000h0m0s"`,
			"default.limit: fixed_window limit 9223372036854775807 is too large (at most 2^52)",
		}},
		{"sliding_window", lim(rate.MaxSlidingLimit+1, 1500*time.Millisecond), []string{
			`default.window: must be whole seconds ≥ 1s, got "1.5s"`,
			"default.limit: sliding_window keeps one timestamp per admitted request; limit 100001 exceeds 100000",
		}},
		// A token bucket's bound is limit × window: with no valid window there is no bound
		// to hold the limit to, and only the window is reported.
		{"token_bucket", lim(math.MaxInt64, 2_000_000*time.Hour), []string{
			`default.window: must be at most "87600h0m0s" (ten years), got "2000000h0m0s"`,
		}},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			ps := validationProblems(t, Config{Algorithm: Algorithm(tt.alg), Default: tt.limits})
			var got []string
			for _, p := range ps {
				got = append(got, p.Key+": "+p.Message)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValidateEachRule(t *testing.T) {
	t.Parallel()
	minute := time.Minute
	lim := func(limit int64, window time.Duration) Limits { return Limits{Limit: limit, Window: window} }
	ep := func(pattern string, l Limits) Endpoint { return Endpoint{Pattern: pattern, Limits: l} }
	redis := func(f func(r *RedisConfig)) func(c *Config) {
		return func(c *Config) { c.Backend = BackendRedis; f(&c.Redis) }
	}
	penalty := func(f func(p *PenaltyConfig)) func(c *Config) {
		return func(c *Config) { c.Penalty.Enabled = true; f(&c.Penalty) }
	}
	tests := []struct {
		name   string
		mutate func(c *Config)
		key    string
		want   string // the message contains it: usually the bad value
	}{
		{"mode", func(c *Config) { c.Mode = "block" }, "mode", `got "block"`},
		{"algorithm", func(c *Config) { c.Algorithm = "leaky_bucket" }, "algorithm", `got "leaky_bucket"`},
		{"backend", func(c *Config) { c.Backend = "disk" }, "backend", `got "disk"`},
		{"fail mode", func(c *Config) { c.FailMode = "maybe" }, "fail_mode", `got "maybe"`},
		{"key prefix with space", func(c *Config) { c.KeyPrefix = "rate limit" }, "key_prefix", `got "rate limit"`},
		{"key prefix with braces", func(c *Config) { c.KeyPrefix = "rl{x}" }, "key_prefix", `got "rl{x}"`},
		{"documentation url relative", func(c *Config) { c.DocumentationURL = "example.com/docs" }, "documentation_url", `got "example.com/docs"`},
		{"documentation url scheme", func(c *Config) { c.DocumentationURL = "ftp://example.com/docs" }, "documentation_url", `got "ftp://example.com/docs"`},

		{"limit and windows", func(c *Config) {
			c.Default = Limits{Limit: 5, Window: minute, Windows: []WindowConfig{{Limit: 10, Window: minute}}}
		}, "default.windows", "set either limit/window or windows, not both"},
		{"negative limit", func(c *Config) { c.Default = lim(-5, minute) }, "default.limit", "must be ≥ 1, got -5"},
		{"zero window", func(c *Config) { c.Endpoints = []Endpoint{{Pattern: "/x", Limits: lim(10, 0)}} }, "endpoints[0].window", `must be > 0, got "0s"`},
		{"negative window", func(c *Config) { c.Default = lim(10, -time.Minute) }, "default.window", `must be > 0, got "-1m0s"`},
		{"fractional window", func(c *Config) { c.Default = lim(10, 1500*time.Millisecond) }, "default.window", `must be whole seconds ≥ 1s, got "1.5s"`},
		{"sub-second window", func(c *Config) { c.Default = lim(10, 500*time.Millisecond) }, "default.window", `got "500ms"`},
		{"too many windows", func(c *Config) {
			c.Default = Limits{}
			for i := range rate.MaxWindows + 1 {
				c.Default.Windows = append(c.Default.Windows, WindowConfig{Limit: 100, Window: time.Duration(i+1) * time.Second})
			}
		}, "default.windows", fmt.Sprintf("at most %d windows, got %d", rate.MaxWindows, rate.MaxWindows+1)},
		{"same period twice", func(c *Config) {
			c.Default = Limits{Windows: []WindowConfig{{Limit: 10, Window: minute}, {Limit: 20, Window: 60 * time.Second}}}
		}, "default.windows[1].window", `same period as default.windows[0], got "1m0s"`},
		{"window limit", func(c *Config) {
			c.Default = Limits{Windows: []WindowConfig{{Limit: 10, Window: time.Second}, {Limit: 0, Window: minute}}}
		}, "default.windows[1].limit", "got 0"},
		{"window period", func(c *Config) {
			c.Default = Limits{Windows: []WindowConfig{{Limit: 10, Window: time.Second}, {Limit: 100, Window: 2500 * time.Millisecond}}}
		}, "default.windows[1].window", `got "2.5s"`},
		{"negative cost", func(c *Config) { c.Default = Limits{Limit: 10, Window: minute, Cost: -2} }, "default.cost", "got -2"},
		{"cost above limit", func(c *Config) { c.Default = Limits{Limit: 10, Window: minute, Cost: 20} }, "default.cost", "(10), got 20"},
		{"cost above smallest window", func(c *Config) {
			c.Default = Limits{Windows: []WindowConfig{{Limit: 5, Window: time.Second}, {Limit: 100, Window: minute}}, Cost: 6}
		}, "default.cost", "(5), got 6"},
		{"sliding window bound", func(c *Config) {
			c.Algorithm = "sliding_window"
			c.Default = lim(rate.MaxSlidingLimit+1, minute)
		}, "default.limit", "100001"},
		{"gcra bound", func(c *Config) { c.Algorithm = "gcra"; c.Default = lim(4_503_599_628, time.Second) }, "default.limit", "4503599628"},
		{"sliding window counter bound", func(c *Config) {
			c.Algorithm = "sliding_window_counter"
			c.Endpoints = []Endpoint{ep("/api/v1/x", lim(1_250_999, time.Hour)), ep("/api/v1/y", lim(1_251_000, time.Hour))}
		}, "endpoints[1].limit", "sliding_window_counter limit 1251000 per 1h0m0s is too large"},
		{"fixed window bound", func(c *Config) { c.Algorithm = "fixed_window"; c.Default = lim(1<<52+1, time.Second) }, "default.limit", "4503599627370497"},
		{"penalty period beyond ten years", func(c *Config) {
			c.Penalty = PenaltyConfig{Enabled: true, Threshold: 3, Period: 100_000 * time.Hour, BaseCooldown: time.Minute, Multiplier: 2, MaxCooldown: time.Hour}
		}, "penalty.period", `must be at most "87600h0m0s" (ten years), got "100000h0m0s"`},
		{"window beyond ten years", func(c *Config) {
			c.Algorithm = "fixed_window"
			c.Default = lim(100, 2_000_000*time.Hour)
		}, "default.window", `must be at most "87600h0m0s" (ten years), got "2000000h0m0s"`},
		{"token bucket bound", func(c *Config) { c.Default = lim(1<<50, time.Hour) }, "default.limit", "1125899906842624"},

		{"tier inherits too large a cost", func(c *Config) {
			c.Default = Limits{Limit: 100, Window: minute, Cost: 50}
			c.Tiers = map[string]Limits{"free": lim(10, minute)}
		}, "tiers.free", "inherits cost 50 from default.cost"},
		{"tier cost", func(c *Config) {
			c.Tiers = map[string]Limits{"free": {Limit: 10, Window: minute, Cost: 11}}
		}, "tiers.free.cost", "got 11"},
		{"tier name with space", func(c *Config) { c.Tiers = map[string]Limits{"gold plus": lim(10, minute)} }, `tiers."gold plus"`, `got "gold plus"`},
		{"empty tier name", func(c *Config) { c.Tiers = map[string]Limits{"": lim(10, minute)} }, `tiers.""`, `got ""`},
		{"tier without limits", func(c *Config) { c.Tiers = map[string]Limits{"premium": {}} }, "tiers.premium", "no limits"},
		{"tier window", func(c *Config) { c.Tiers = map[string]Limits{"premium": lim(10, 0)} }, "tiers.premium.window", `got "0s"`},
		{"tier bound", func(c *Config) {
			c.Algorithm = "sliding_window"
			c.Tiers = map[string]Limits{"premium": lim(rate.MaxSlidingLimit*2, minute)}
		}, "tiers.premium.limit", "200000"},

		{"count status too low", func(c *Config) {
			e := ep("/login", lim(5, minute))
			e.CountStatuses = []int{401, 99}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].count_statuses[1]", "got 99"},
		{"count status too high", func(c *Config) {
			e := ep("/login", lim(5, minute))
			e.CountStatuses = []int{600}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].count_statuses[0]", "got 600"},
		{"endpoint pattern missing", func(c *Config) { c.Endpoints = []Endpoint{ep("", lim(1, minute))} }, "endpoints[0].pattern", "required"},
		{"endpoint pattern relative", func(c *Config) {
			c.Endpoints = []Endpoint{ep("/a", lim(1, minute)), ep("api", lim(1, minute))}
		}, "endpoints[1].pattern", `must start with "/", got "api"`},
		{"endpoint pattern star inside", func(c *Config) { c.Endpoints = []Endpoint{ep("/a/*/b", lim(1, minute))} }, "endpoints[0].pattern", `got "/a/*/b"`},
		{"endpoint name", func(c *Config) {
			e := ep("/a", lim(1, minute))
			e.Name = "com pute"
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].name", `got "com pute"`},
		{"endpoint named default", func(c *Config) {
			e := ep("/a", lim(1, minute))
			e.Name = "default"
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].name", `"default" is reserved`},
		{"endpoint slug default", func(c *Config) { c.Endpoints = []Endpoint{ep("/default", lim(1, minute))} }, "endpoints[0].name", `"default" (the default name, a slug of the pattern)`},
		{"endpoint names collide", func(c *Config) {
			a, b := ep("/a", lim(1, minute)), ep("/b", lim(1, minute))
			a.Name, b.Name = "compute", "compute"
			c.Endpoints = []Endpoint{a, b}
		}, "endpoints[1].name", `"compute" is also the name of endpoints[0]`},
		{"endpoint slugs collide", func(c *Config) {
			c.Endpoints = []Endpoint{ep("/api/a-b", lim(1, minute)), ep("/api/a/b", lim(1, minute))}
		}, "endpoints[1].name", `"api-a-b" (the default name, a slug of the pattern) is also the name of endpoints[0]; set name`},
		{"endpoint method", func(c *Config) {
			e := ep("/a", lim(1, minute))
			e.Methods = []string{"GET", "GE T"}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].methods[1]", `got "GE T"`},
		{"endpoint method twice", func(c *Config) {
			e := ep("/a", lim(1, minute))
			e.Methods = []string{"GET", "get"}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].methods[1]", `duplicate method, got "get"`},
		{"endpoint route twice", func(c *Config) {
			a, b := ep("/users/{id}", lim(1, minute)), ep("/users/:uid", lim(2, minute))
			a.Name, b.Name, a.Methods, b.Methods = "a", "b", []string{"GET", "POST"}, []string{"post", "get"}
			c.Endpoints = []Endpoint{a, b}
		}, "endpoints[1].pattern", `same pattern and methods as endpoints[0], so this rule would never match, got "/users/:uid"`},
		{"endpoint without limits", func(c *Config) { c.Endpoints = []Endpoint{ep("/a", Limits{})} }, "endpoints[0]", "no limits"},
		{"endpoint window", func(c *Config) {
			c.Endpoints = []Endpoint{ep("/a", lim(1, minute)), ep("/b", lim(1, minute)), ep("/c", lim(5, 0))}
		}, "endpoints[2].window", `must be > 0, got "0s"`},
		{"endpoint tier", func(c *Config) {
			e := ep("/a", lim(10, minute))
			e.Tiers = map[string]Limits{"premium": lim(-1, minute)}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].tiers.premium.limit", "got -1"},
		{"endpoint tier inherits cost", func(c *Config) {
			e := ep("/a", Limits{Limit: 100, Window: minute, Cost: 20})
			e.Tiers = map[string]Limits{"premium": lim(10, minute)}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].tiers.premium", "inherits cost 20 from endpoints[0].cost"},

		{"endpoint scope", func(c *Config) {
			e := ep("/a", lim(1, minute))
			e.Scope = "user"
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].scope", `must be "client", "ip" or "global", got "user"`},
		{"global endpoint with tiers", func(c *Config) {
			e := ep("/a", lim(10, minute))
			e.Scope, e.Tiers = ScopeGlobal, map[string]Limits{"premium": lim(20, minute)}
			c.Endpoints = []Endpoint{e}
		}, "endpoints[0].tiers", `tiers do not apply to scope "global"`},

		{"api key header", func(c *Config) { c.APIKey.Header = "X API Key" }, "api_key.header", `got "X API Key"`},
		{"api key cache ttl", func(c *Config) { c.APIKey.CacheTTL = -time.Second }, "api_key.cache_ttl", `must be > 0, got "-1s"`},
		{"api key timeout", func(c *Config) { c.APIKey.Enabled, c.APIKey.Timeout = true, -time.Millisecond }, "api_key.timeout", `must be > 0, got "-1ms"`},

		{"trusted proxy", func(c *Config) { c.ClientIP.TrustedProxies = []string{"10.0.0.0/8", "nope"} }, "client_ip.trusted_proxies[1]", `got "nope"`},
		{"client ip header", func(c *Config) { c.ClientIP.Header = "X-Client" }, "client_ip.header", `got "X-Client"`},
		{"ipv6 prefix", func(c *Config) { c.ClientIP.IPv6Prefix = 200 }, "client_ip.ipv6_prefix", "got 200"},
		{"jwt without key", func(c *Config) { c.JWT = jwtauth.Config{Enabled: true} }, "jwt.secret", "exactly one"},
		{"jwt jwks url", func(c *Config) { c.JWT = jwtauth.Config{Enabled: true, JWKSURL: "keys.json"} }, "jwt.jwks_url", `got "keys.json"`},
		{"exempt ip", func(c *Config) { c.Exemptions.IPs = []string{"1.2.3.4/40"} }, "exemptions.ips[0]", `got "1.2.3.4/40"`},
		{"exempt user", func(c *Config) { c.Exemptions.Users = []string{"alice", " "} }, "exemptions.users[1]", `got " "`},

		{"penalty threshold", penalty(func(p *PenaltyConfig) { p.Threshold = 1001 }), "penalty.threshold", "got 1001"},
		{"penalty negative threshold", penalty(func(p *PenaltyConfig) { p.Threshold = -1 }), "penalty.threshold", "got -1"},
		{"penalty period", penalty(func(p *PenaltyConfig) { p.Period = -time.Second }), "penalty.period", `got "-1s"`},
		{"penalty base cooldown", penalty(func(p *PenaltyConfig) { p.BaseCooldown = -time.Second }), "penalty.base_cooldown", `got "-1s"`},
		{"penalty multiplier", penalty(func(p *PenaltyConfig) { p.Multiplier = 0.5 }), "penalty.multiplier", "got 0.5"},
		{"penalty max cooldown", penalty(func(p *PenaltyConfig) { p.MaxCooldown = 30 * time.Second }), "penalty.max_cooldown", `got "30s"`},

		{"response format", func(c *Config) { c.Response.Format = "xml" }, "response.format", `got "xml"`},

		{"redis mode", redis(func(r *RedisConfig) { r.Mode = "ring" }), "redis.mode", `got "ring"`},
		{"redis addr without port", redis(func(r *RedisConfig) { r.Addrs = []string{"a:6379", "localhost"} }), "redis.addrs[1]", `got "localhost"`},
		{"redis addr port", redis(func(r *RedisConfig) { r.Addrs = []string{"localhost:99999"} }), "redis.addrs[0]", `got "localhost:99999"`},
		{"redis master name", redis(func(r *RedisConfig) { r.Mode = RedisSentinel }), "redis.master_name", "required in sentinel mode"},
		{"redis db", redis(func(r *RedisConfig) { r.DB = -1 }), "redis.db", "got -1"},
		{"redis db in cluster", redis(func(r *RedisConfig) { r.Mode, r.DB = RedisCluster, 3 }), "redis.db", "got 3"},
		{"redis pool size", redis(func(r *RedisConfig) { r.PoolSize = -1 }), "redis.pool_size", "got -1"},
		{"redis dial timeout", redis(func(r *RedisConfig) { r.DialTimeout = -time.Second }), "redis.dial_timeout", `got "-1s"`},
		{"redis timeout", redis(func(r *RedisConfig) { r.Timeout = -time.Millisecond }), "redis.timeout", `got "-1ms"`},
		{"redis max retries", redis(func(r *RedisConfig) { r.MaxRetries = -2 }), "redis.max_retries", "got -2"},
		{"breaker threshold", redis(func(r *RedisConfig) { r.CircuitBreaker.FailureThreshold = -1 }), "redis.circuit_breaker.failure_threshold", "got -1"},
		{"breaker open timeout", redis(func(r *RedisConfig) { r.CircuitBreaker.OpenTimeout = -time.Second }), "redis.circuit_breaker.open_timeout", `got "-1s"`},

		{"memory max keys", func(c *Config) { c.Memory.MaxKeys = -1 }, "memory.max_keys", "got -1"},
		{"memory sweep interval", func(c *Config) { c.Memory.SweepInterval = -time.Minute }, "memory.sweep_interval", `got "-1m0s"`},
		{"redis URL with a password", redis(func(r *RedisConfig) { r.Addrs = []string{"redis://app:hunter2@cache:6379"} }), "redis.addrs[0]", `got "redis://app:xxxxx@cache:6379"`},
		{"redis address with credentials", redis(func(r *RedisConfig) { r.Addrs = []string{"app:hunter2@cache:6379"} }), "redis.addrs[0]", `got "…@cache:6379"`},
		{"memory sweep interval below a second", func(c *Config) { c.Memory.SweepInterval = time.Nanosecond }, "memory.sweep_interval", `must be ≥ "1s", got "1ns"`},
		{"metrics namespace dash", func(c *Config) { c.Metrics.Namespace = "rate-limit" }, "metrics.namespace", `got "rate-limit"`},
		{"metrics namespace digit", func(c *Config) { c.Metrics.Namespace = "1rl" }, "metrics.namespace", `got "1rl"`},
		{"metrics top clients", func(c *Config) { c.Metrics.TopClients = -2 }, "metrics.top_clients", "got -2"},
		{"metrics top clients beyond the bound", func(c *Config) { c.Metrics.TopClients = 20_000_000 }, "metrics.top_clients", "must be 0 to 1000, or -1 for none, got 20000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c Config
			tt.mutate(&c)
			ps := validationProblems(t, c)
			require.Len(t, ps, 1, "problems: %v", ps)
			assert.Equal(t, tt.key, ps[0].Key)
			assert.Contains(t, ps[0].Message, tt.want)
			if v, ok := strings.CutPrefix(tt.want, "got "); ok { // the problem's Value is that value
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				}
				assert.Equal(t, v, ps[0].Value)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := Config{
		Mode:    "block",
		Default: Limits{Limit: 0, Window: time.Minute, Windows: []WindowConfig{{Limit: 1, Window: time.Second}}},
		Tiers:   map[string]Limits{"premium": {Limit: -5, Window: time.Minute}},
		Endpoints: []Endpoint{
			{Pattern: "/a", Limits: Limits{Limit: 1, Window: time.Minute}},
			{Pattern: "api", Limits: Limits{Limit: 1, Window: time.Minute}},
			{Pattern: "/c", Limits: Limits{Limit: 1, Window: 0}},
		},
		ClientIP: clientip.Config{TrustedProxies: []string{"x"}},
		Response: ResponseConfig{Format: "xml"},
		Metrics:  MetricsConfig{Namespace: "rate-limit"},
	}
	err := c.Validate()
	require.Error(t, err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	keys := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		keys[i] = p.Key
	}
	assert.Equal(t, []string{
		"mode",
		"default.windows",
		"tiers.premium.limit",
		"endpoints[1].pattern",
		"endpoints[2].window",
		"client_ip.trusted_proxies[0]",
		"response.format",
		"metrics.namespace",
	}, keys)
	assert.Equal(t, `ratewarden: invalid configuration:
  mode: must be "enforce" or "shadow", got "block"
  default.windows: set either limit/window or windows, not both
  tiers.premium.limit: must be ≥ 1, got -5
  endpoints[1].pattern: must start with "/", got "api"
  endpoints[2].window: must be > 0, got "0s"
  client_ip.trusted_proxies[0]: not an IP or CIDR, got "x"
  response.format: must be "json" or "problem", got "xml"
  metrics.namespace: must be a Prometheus name matching ^[a-zA-Z_][a-zA-Z0-9_]*$, got "rate-limit"`, err.Error())
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"none values", func(c *Config) { c.Redis.MaxRetries, c.Metrics.TopClients = -1, -1 }},
		{"jwt leeway none", func(c *Config) {
			c.JWT = jwtauth.Config{Enabled: true, Secret: strings.Repeat("s", 32), Leeway: -1}
		}},
		{"anonymous tier", func(c *Config) {
			c.Tiers = map[string]Limits{"anonymous": {Limit: 10, Window: time.Minute}, "gold.v2_x-y": {Limit: 1, Window: time.Second}}
		}},
		{"lower-case methods", func(c *Config) {
			c.Endpoints = []Endpoint{{Pattern: "/a", Methods: []string{"get", "Post", "M-SEARCH"}, Limits: Limits{Limit: 1, Window: time.Minute}}}
		}},
		{"same pattern, other methods", func(c *Config) {
			c.Endpoints = []Endpoint{
				{Name: "a", Pattern: "/a", Methods: []string{"GET"}, Limits: Limits{Limit: 1, Window: time.Minute}},
				{Name: "b", Pattern: "/a", Methods: []string{"POST"}, Limits: Limits{Limit: 1, Window: time.Minute}},
			}
		}},
		{"fail mode local on memory", func(c *Config) { c.FailMode = FailLocal }},
		{"redis settings ignored on memory", func(c *Config) { c.Redis = RedisConfig{Mode: "ring", DB: -1, Timeout: -1} }},
		{"penalty settings ignored when off", func(c *Config) { c.Penalty = PenaltyConfig{Threshold: -1, Multiplier: 0.1} }},
		{"jwt settings ignored when off", func(c *Config) { c.JWT = jwtauth.Config{JWKSURL: "nope"} }},
		{"redis sentinel", func(c *Config) {
			c.Backend = BackendRedis
			c.Redis = RedisConfig{Mode: RedisSentinel, MasterName: "mymaster", Addrs: []string{"10.0.0.1:26379", "[::1]:26379"}}
		}},
		{"cost equal to the limit", func(c *Config) {
			c.Default = Limits{Windows: []WindowConfig{{Limit: 5, Window: time.Second}, {Limit: 100, Window: time.Hour}}, Cost: 5}
			c.Tiers = map[string]Limits{"premium": {Limit: 100, Window: time.Minute, Cost: 1}}
		}},
		{"algorithm bounds met", func(c *Config) {
			c.Algorithm = "sliding_window"
			c.Default = Limits{Limit: rate.MaxSlidingLimit, Window: time.Minute}
		}},
		{"sliding window counter at its bound", func(c *Config) {
			c.Algorithm = "sliding_window_counter"
			c.Default = Limits{Limit: 1_250_999, Window: time.Hour} // limit × window_µs ≤ 2^52
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c Config
			tt.mutate(&c)
			assert.Empty(t, validationProblems(t, c))
		})
	}
}
