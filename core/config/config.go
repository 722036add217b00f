package config

import (
	"time"

	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/internal/pattern"
	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// Config is the whole ratewarden configuration, the Go form of the TOML schema in
// docs/configuration.md. Its zero value is usable: every zero field means its documented
// default (100 requests per minute on the memory backend, token bucket, enforce mode).
// Booleans whose default is true are pointers so that "unset" and "false" differ; use [Bool].
// Where zero is a meaningful setting with a non-zero default (jwt.leeway, redis.max_retries,
// metrics.top_clients), -1 selects "none", as in go-redis.
//
// Build one in code, or read one from TOML and the environment with configfile.Load.
// [Config.Validate] reports every problem at once.
type Config struct {
	Enabled          *bool     `koanf:"enabled"`           // default true; false = pass-through
	Mode             Mode      `koanf:"mode"`              // "enforce" (default) or "shadow"
	Algorithm        Algorithm `koanf:"algorithm"`         // "token_bucket" (default), "sliding_window", "fixed_window", "gcra", "sliding_window_counter"
	Backend          Backend   `koanf:"backend"`           // "memory" (default) or "redis"
	FailMode         FailMode  `koanf:"fail_mode"`         // "open" (default), "closed" or "local"
	KeyPrefix        string    `koanf:"key_prefix"`        // default "ratelimit"
	DocumentationURL string    `koanf:"documentation_url"` // optional link in 429 bodies

	Default   Limits            `koanf:"default"`   // the rule for paths no endpoint rule matches
	Tiers     map[string]Limits `koanf:"tiers"`     // per-tier overrides of the default rule
	Endpoints []Endpoint        `koanf:"endpoints"` // per-endpoint rules

	APIKey     APIKeyConfig     `koanf:"api_key"`
	ClientIP   clientip.Config  `koanf:"client_ip"`
	JWT        jwtauth.Config   `koanf:"jwt"`
	Exemptions ExemptionsConfig `koanf:"exemptions"`
	Penalty    PenaltyConfig    `koanf:"penalty"`
	Headers    HeadersConfig    `koanf:"headers"`
	Response   ResponseConfig   `koanf:"response"`
	Redis      RedisConfig      `koanf:"redis"`
	Memory     MemoryConfig     `koanf:"memory"`
	Metrics    MetricsConfig    `koanf:"metrics"`
	Admin      AdminConfig      `koanf:"admin"`
}

// Limits are the windows of a rule and the cost of one request. Either Limit and Window, or
// Windows, is set. A zero Cost means 1.
type Limits struct {
	Limit   int64          `koanf:"limit"`
	Window  time.Duration  `koanf:"window"`
	Windows []WindowConfig `koanf:"windows"`
	Cost    int64          `koanf:"cost"`
}

// WindowConfig is one window of a rule: at most Limit units per Window.
type WindowConfig struct {
	Limit  int64         `koanf:"limit"`
	Window time.Duration `koanf:"window"`
}

// Endpoint is a rule for the requests whose path matches Pattern (and, when Methods is not
// empty, whose method is listed). See docs/rules.md for the pattern syntax.
type Endpoint struct {
	Name    string            `koanf:"name"`    // default: a slug of Pattern
	Pattern string            `koanf:"pattern"` // "/exact", "/prefix/*", "/users/{id}" or "/users/:id"
	Methods []string          `koanf:"methods"` // empty = every method
	Scope   Scope             `koanf:"scope"`   // whom the rule counts: "client" (default), "ip" or "global"
	Limits  `koanf:",squash"` // the rule's own limits
	Tiers   map[string]Limits `koanf:"tiers"` // per-tier overrides for this endpoint
	// CountStatuses, when not empty, makes the rule count by response: a request is
	// admitted when every window could take its cost, and the cost is consumed after the
	// handler only when the response status is listed (401 and 403 for failed logins).
	// Statuses are 100 to 599. See docs/rules.md for the in-flight bound.
	CountStatuses []int `koanf:"count_statuses"`
}

// RuleName returns the name of the endpoint's rule: its Name, or else a slug of its
// Pattern ("/api/v1/users/{id}" → "api-v1-users-id").
func (e Endpoint) RuleName() string {
	if e.Name != "" {
		return e.Name
	}
	return pattern.Slug(e.Pattern)
}

// APIKeyConfig identifies clients by an API key, verified by the lookup the application
// gives in code (core.WithKeyLookup): a key header alone never earns a counter or a tier.
// See docs/identity.md.
type APIKeyConfig struct {
	Enabled  bool          `koanf:"enabled"`   // default false; true needs core.WithKeyLookup
	Header   string        `koanf:"header"`    // request header carrying the key; default "X-API-Key"
	CacheTTL time.Duration `koanf:"cache_ttl"` // how long a lookup's answer, "not found" included, is reused; default 1m
	Timeout  time.Duration `koanf:"timeout"`   // bound on one lookup; default 100ms
}

// ExemptionsConfig lists clients that are never limited and get no rate-limit headers.
type ExemptionsConfig struct {
	IPs   []string `koanf:"ips"`   // IPs or CIDRs
	Users []string `koanf:"users"` // user ids from verified tokens
}

// PenaltyConfig configures progressive cooldowns for clients that keep hitting a limit.
type PenaltyConfig struct {
	Enabled      bool          `koanf:"enabled"`       // default false
	Threshold    int           `koanf:"threshold"`     // default 3
	Period       time.Duration `koanf:"period"`        // default 10m
	BaseCooldown time.Duration `koanf:"base_cooldown"` // default 1m
	Multiplier   float64       `koanf:"multiplier"`    // default 2
	MaxCooldown  time.Duration `koanf:"max_cooldown"`  // default 1h
}

// HeadersConfig switches the two header families.
type HeadersConfig struct {
	XRateLimit *bool `koanf:"x_ratelimit"` // X-RateLimit-*; default true
	IETF       *bool `koanf:"ietf"`        // RateLimit and RateLimit-Policy; default true
}

// ResponseConfig selects the 429 body format.
type ResponseConfig struct {
	Format string `koanf:"format"` // "json" (default) or "problem" (RFC 9457)
}

// RedisConfig configures the redis backend.
type RedisConfig struct {
	Mode           string               `koanf:"mode"`         // "standalone" (default), "sentinel" or "cluster"
	Addrs          []string             `koanf:"addrs"`        // default ["127.0.0.1:6379"]
	MasterName     string               `koanf:"master_name"`  // sentinel mode: required
	Username       string               `koanf:"username"`     // ACL user; "" = default user
	Password       string               `koanf:"password"`     // prefer RATELIMIT_REDIS_PASSWORD
	DB             int                  `koanf:"db"`           // ≥ 0; 0 in cluster mode
	PoolSize       int                  `koanf:"pool_size"`    // 0 = client default
	DialTimeout    time.Duration        `koanf:"dial_timeout"` // default 1s
	Timeout        time.Duration        `koanf:"timeout"`      // per decision, retries included; default 100ms
	MaxRetries     int                  `koanf:"max_retries"`  // default 2; -1 = none
	LocalCache     *bool                `koanf:"local_cache"`  // default true
	CircuitBreaker CircuitBreakerConfig `koanf:"circuit_breaker"`
}

// CircuitBreakerConfig configures the breaker in front of Redis.
type CircuitBreakerConfig struct {
	FailureThreshold int           `koanf:"failure_threshold"` // default 5
	OpenTimeout      time.Duration `koanf:"open_timeout"`      // default 5s
}

// MemoryConfig configures the memory backend.
type MemoryConfig struct {
	MaxKeys       int           `koanf:"max_keys"`       // default 1,000,000
	SweepInterval time.Duration `koanf:"sweep_interval"` // default 1m
}

// MetricsConfig configures the Prometheus observer.
type MetricsConfig struct {
	Enabled    *bool  `koanf:"enabled"`     // default true
	Namespace  string `koanf:"namespace"`   // default "ratelimit"
	TopClients int    `koanf:"top_clients"` // default 20; -1 = no per-client series
}

// AdminConfig guards the admin endpoints of the example apps.
type AdminConfig struct {
	Token string `koanf:"token"` // bearer token for POST /admin/reload; empty = endpoint off
}

// Bool returns a pointer to v, for the optional booleans of [Config].
func Bool(v bool) *bool { return &v }

// On reports whether an optional boolean is set, defaulting to true when it is nil.
func On(b *bool) bool { return b == nil || *b }
