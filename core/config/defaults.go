package config

import (
	"time"

	"github.com/ratewarden/ratewarden/core/internal/defaults"
	"github.com/ratewarden/ratewarden/core/rate"
)

// The documented defaults, in one place. [Config.WithDefaults] applies them to zero fields.
const (
	DefaultLimit            = 100
	DefaultWindow           = time.Minute
	DefaultKeyPrefix        = "ratelimit"
	DefaultIPv6Prefix       = defaults.IPv6Prefix
	DefaultLeeway           = defaults.Leeway
	DefaultJWKSTimeout      = defaults.JWKSTimeout
	DefaultMaxKeys          = 1_000_000
	DefaultSweepInterval    = time.Minute
	DefaultRedisAddr        = "127.0.0.1:6379"
	DefaultRedisDialTimeout = time.Second
	DefaultRedisTimeout     = 100 * time.Millisecond
	DefaultRedisMaxRetries  = 2
	DefaultBreakerFailures  = 5
	DefaultBreakerOpen      = 5 * time.Second
	DefaultTopClients       = 20
	DefaultAPIKeyHeader     = "X-API-Key"
	DefaultAPIKeyCacheTTL   = time.Minute
	DefaultAPIKeyTimeout    = 100 * time.Millisecond
)

// Bounds that validation holds settings to beyond their type's.
const (
	// MinSweepInterval is the shortest memory.sweep_interval: a sweep walks every key, and
	// "1ns" kept a core busy with an idle limiter.
	MinSweepInterval = time.Second
	// MaxTopClients is the largest metrics.top_clients: the gauge's series live in the
	// process and go out on every scrape ("20000000" ran the process out of memory).
	MaxTopClients = 1000
)

// String values of the enumerated settings.
const (
	ModeEnforce Mode = "enforce"
	ModeShadow  Mode = "shadow"

	BackendMemory Backend = "memory"
	BackendRedis  Backend = "redis"

	FailOpen   FailMode = "open"
	FailClosed FailMode = "closed"
	FailLocal  FailMode = "local"

	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
	HeaderXRealIP       = "X-Real-IP"

	FormatJSON    = "json"
	FormatProblem = "problem"

	RedisStandalone = "standalone"
	RedisSentinel   = "sentinel"
	RedisCluster    = "cluster"

	ScopeClient Scope = "client"
	ScopeIP     Scope = "ip"
	ScopeGlobal Scope = "global"
)

// DefaultConfig returns the configuration that the zero [Config] stands for, with every
// default spelled out. configfile.Load starts from it.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// WithDefaults returns a copy of c with every zero field set to its documented default.
// Slices and maps are shared with c, not copied.
func (c Config) WithDefaults() Config {
	if c.Enabled == nil {
		c.Enabled = Bool(true)
	}
	setString((*string)(&c.Mode), string(ModeEnforce))
	setString((*string)(&c.Algorithm), rate.TokenBucket.String())
	setString((*string)(&c.Backend), string(BackendMemory))
	setString((*string)(&c.FailMode), string(FailOpen))
	setString(&c.KeyPrefix, DefaultKeyPrefix)
	if len(c.Default.Windows) == 0 { // each half on its own: Limits{Limit: 200} is 200 per minute
		setInt64(&c.Default.Limit, DefaultLimit)
		setDuration(&c.Default.Window, DefaultWindow)
	}

	setString(&c.APIKey.Header, DefaultAPIKeyHeader)
	setDuration(&c.APIKey.CacheTTL, DefaultAPIKeyCacheTTL)
	setDuration(&c.APIKey.Timeout, DefaultAPIKeyTimeout)

	setString(&c.ClientIP.Header, HeaderXForwardedFor)
	setInt(&c.ClientIP.IPv6Prefix, DefaultIPv6Prefix)

	setString(&c.JWT.UserClaim, defaults.UserClaim)
	setString(&c.JWT.TierClaim, defaults.TierClaim)
	setDuration(&c.JWT.Leeway, DefaultLeeway)
	setDuration(&c.JWT.JWKSTimeout, DefaultJWKSTimeout)

	setInt(&c.Penalty.Threshold, 3)
	setDuration(&c.Penalty.Period, 10*time.Minute)
	setDuration(&c.Penalty.BaseCooldown, time.Minute)
	if c.Penalty.Multiplier == 0 {
		c.Penalty.Multiplier = 2
	}
	setDuration(&c.Penalty.MaxCooldown, time.Hour)

	if c.Headers.XRateLimit == nil {
		c.Headers.XRateLimit = Bool(true)
	}
	if c.Headers.IETF == nil {
		c.Headers.IETF = Bool(true)
	}
	setString(&c.Response.Format, FormatJSON)

	setString(&c.Redis.Mode, RedisStandalone)
	if len(c.Redis.Addrs) == 0 {
		c.Redis.Addrs = []string{DefaultRedisAddr}
	}
	setDuration(&c.Redis.DialTimeout, DefaultRedisDialTimeout)
	setDuration(&c.Redis.Timeout, DefaultRedisTimeout)
	setInt(&c.Redis.MaxRetries, DefaultRedisMaxRetries)
	if c.Redis.LocalCache == nil {
		c.Redis.LocalCache = Bool(true)
	}
	setInt(&c.Redis.CircuitBreaker.FailureThreshold, DefaultBreakerFailures)
	setDuration(&c.Redis.CircuitBreaker.OpenTimeout, DefaultBreakerOpen)

	setInt(&c.Memory.MaxKeys, DefaultMaxKeys)
	setDuration(&c.Memory.SweepInterval, DefaultSweepInterval)

	if c.Metrics.Enabled == nil {
		c.Metrics.Enabled = Bool(true)
	}
	setString(&c.Metrics.Namespace, DefaultKeyPrefix)
	setInt(&c.Metrics.TopClients, DefaultTopClients)
	return c
}

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setInt64(p *int64, v int64) {
	if *p == 0 {
		*p = v
	}
}

func setDuration(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}
