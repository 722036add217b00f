package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// referenceBase is a valid configuration in which every section is validated (redis
// backend, JWT and penalties on) and every kind of rule exists, for the examples below.
func referenceBase() Config {
	return Config{
		Backend: BackendRedis,
		Tiers:   map[string]Limits{"premium": {Limit: 10, Window: time.Minute}},
		Endpoints: []Endpoint{{
			Pattern: "/api", Limits: Limits{Limit: 5, Window: time.Minute},
			Tiers: map[string]Limits{"premium": {Limit: 50, Window: time.Minute}},
		}},
		JWT:     jwtauth.Config{Enabled: true, Secret: strings.Repeat("s", 32)},
		Penalty: PenaltyConfig{Enabled: true},
	}
}

// invalidExamples make a configuration invalid at the key of each prose rule of the
// reference, so that a rule the reference states is one validation enforces.
var invalidExamples = map[string]func(c *Config){
	"algorithm":         func(c *Config) { c.Algorithm = "leaky_bucket" },
	"key_prefix":        func(c *Config) { c.KeyPrefix = "rate limit" },
	"documentation_url": func(c *Config) { c.DocumentationURL = "ftp://docs.example.com" },
	"<rule>.limit":      func(c *Config) { c.Default.Limit = -1 },
	"<rule>.window":     func(c *Config) { c.Default.Window = 1500 * time.Millisecond },
	"<rule>.windows[<i>].limit": func(c *Config) {
		c.Default = Limits{Windows: []WindowConfig{{Limit: -1, Window: time.Second}}}
	},
	"<rule>.windows[<i>].window": func(c *Config) {
		c.Default = Limits{Windows: []WindowConfig{{Limit: 1, Window: 1500 * time.Millisecond}}}
	},
	"<rule>.cost":                   func(c *Config) { c.Default.Cost = 101 },
	"endpoints[<i>].pattern":        func(c *Config) { c.Endpoints[0].Pattern = "api" },
	"endpoints[<i>].name":           func(c *Config) { c.Endpoints[0].Name = "default" },
	"endpoints[<i>].methods":        func(c *Config) { c.Endpoints[0].Methods = []string{"G T"} },
	"endpoints[<i>].count_statuses": func(c *Config) { c.Endpoints[0].CountStatuses = []int{600} },
	"api_key.header":                func(c *Config) { c.APIKey.Header = "X Key" },
	"client_ip.trusted_proxies":     func(c *Config) { c.ClientIP.TrustedProxies = []string{"proxy"} },
	"client_ip.header":              func(c *Config) { c.ClientIP.Header = "X-Client" },
	"client_ip.ipv6_prefix":         func(c *Config) { c.ClientIP.IPv6Prefix = 129 },
	"jwt.secret":                    func(c *Config) { c.JWT.Secret = "short" },
	"jwt.public_key_file":           func(c *Config) { c.JWT.Secret, c.JWT.PublicKeyFile = "", "testdata/missing.pem" },
	"jwt.jwks_url":                  func(c *Config) { c.JWT.Secret, c.JWT.JWKSURL = "", "ftp://keys.example.com" },
	"jwt.algorithms":                func(c *Config) { c.JWT.Algorithms = []string{"none"} },
	"jwt.leeway":                    func(c *Config) { c.JWT.Leeway = -2 * time.Second },
	"jwt.jwks_timeout":              func(c *Config) { c.JWT.JWKSTimeout = 11 * time.Second },
	"exemptions.ips":                func(c *Config) { c.Exemptions.IPs = []string{"10.0.0.0/33"} },
	"exemptions.users":              func(c *Config) { c.Exemptions.Users = []string{" "} },
	"penalty.threshold":             func(c *Config) { c.Penalty.Threshold = 1001 },
	"penalty.period":                func(c *Config) { c.Penalty.Period = 87601 * time.Hour },
	"penalty.base_cooldown":         func(c *Config) { c.Penalty.BaseCooldown = -time.Second },
	"penalty.multiplier":            func(c *Config) { c.Penalty.Multiplier = 0.5 },
	"penalty.max_cooldown":          func(c *Config) { c.Penalty.BaseCooldown, c.Penalty.MaxCooldown = time.Hour, time.Minute },
	"redis.addrs":                   func(c *Config) { c.Redis.Addrs = []string{"localhost"} },
	"redis.master_name":             func(c *Config) { c.Redis.Mode = RedisSentinel },
	"redis.db":                      func(c *Config) { c.Redis.DB = -1 },
	"metrics.namespace":             func(c *Config) { c.Metrics.Namespace = "rate-limit" },
}

// problemAt reports whether err lists a problem at key or below it.
func problemAt(err error, key string) bool {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, p := range ve.Problems {
		if p.Key == key || strings.HasPrefix(p.Key, key+".") || strings.HasPrefix(p.Key, key+"[") {
			return true
		}
	}
	return false
}

// instance is a reference key with its placeholders filled as in referenceBase.
func instance(key string) string {
	key = strings.ReplaceAll(key, "<rule>", "default")
	key = strings.ReplaceAll(key, "<i>", "0")
	return strings.ReplaceAll(key, "<name>", "premium")
}

// Every prose rule of the reference is enforced: its example is a problem at its key.
func TestReferenceProseRulesAreValidated(t *testing.T) {
	t.Parallel()
	require.NoError(t, referenceBase().Validate())
	documented := map[string]bool{}
	for _, d := range reference {
		documented[d.key] = true
		if d.rule == "" || d.check != nil {
			continue
		}
		example, ok := invalidExamples[d.key]
		if !assert.True(t, ok, "%s: the rule %q has no example in invalidExamples", d.key, d.rule) {
			continue
		}
		c := referenceBase()
		example(&c)
		err := c.Validate()
		assert.True(t, problemAt(err, instance(d.key)), "%s: rule %q, but its example is no problem at %s: %v", d.key, d.rule, instance(d.key), err)
	}
	for key := range invalidExamples {
		assert.True(t, documented[key], "%s: an example for a key the reference lacks", key)
	}
}

// Every check of the reference runs in validation: a value it rejects is a problem at its
// key.
func TestReferenceChecksAreValidated(t *testing.T) {
	t.Parallel()
	for _, d := range reference {
		if d.check == nil {
			continue
		}
		c := referenceBase()
		f := fieldAt(t, reflect.ValueOf(&c).Elem(), instance(d.key))
		switch {
		case f.Type() == reflect.TypeFor[time.Duration]():
			f.SetInt(int64(-time.Second))
		case f.Kind() == reflect.Int:
			f.SetInt(-2)
		case f.Kind() == reflect.String:
			f.SetString("bogus")
		default:
			t.Fatalf("%s: no bad value for a %s", d.key, f.Type())
		}
		err := c.Validate()
		assert.True(t, problemAt(err, instance(d.key)), "%s: the check %q does not run in validation: %v", d.key, d.check.doc, err)
	}
}

// fieldAt is the field of v at a key path ("redis.circuit_breaker.open_timeout",
// "endpoints[0].scope"), found by the koanf tags.
func fieldAt(t *testing.T, v reflect.Value, key string) reflect.Value {
	t.Helper()
	for part := range strings.SplitSeq(key, ".") {
		name, index, indexed := strings.Cut(part, "[")
		v = fieldByTag(t, v, name)
		if indexed {
			require.Equal(t, "0]", index, key)
			v = v.Index(0)
		}
	}
	return v
}

func fieldByTag(t *testing.T, v reflect.Value, name string) reflect.Value {
	t.Helper()
	for i := range v.NumField() {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("koanf"), ","); tag == name {
			return v.Field(i)
		}
	}
	t.Fatalf("no key %q in %s", name, v.Type())
	return reflect.Value{}
}

// The messages of checks are the ones validation always gave (other packages and the docs
// quote them).
func TestReferenceCheckMessages(t *testing.T) {
	t.Parallel()
	c := referenceBase()
	c.Redis.PoolSize = -1
	c.Redis.MaxRetries = -3
	c.Redis.Timeout = -time.Second
	c.Response.Format = "xml"
	c.Mode = "block"
	c.Memory.MaxKeys = -1
	var ve *ValidationError
	require.ErrorAs(t, c.Validate(), &ve)
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.String()+" ["+p.Value+"]")
	}
	assert.Equal(t, []string{
		`mode: must be "enforce" or "shadow", got "block" [block]`,
		`response.format: must be "json" or "problem", got "xml" [xml]`,
		`redis.pool_size: must be ≥ 0 (0 = client default), got -1 [-1]`,
		`redis.timeout: must be > 0, got "-1s" [-1s]`,
		`redis.max_retries: must be ≥ 0, or -1 for none, got -3 [-3]`,
		`memory.max_keys: must be ≥ 1, got -1 [-1]`,
	}, got)
}

func TestReferenceRules(t *testing.T) {
	t.Parallel()
	ref := Reference()
	require.Len(t, ref, len(reference))
	byKey := map[string]KeyDoc{}
	for _, d := range ref {
		_, dup := byKey[d.Key]
		assert.False(t, dup, "%s twice", d.Key)
		byKey[d.Key] = d
	}
	assert.Equal(t, "one of `enforce`, `shadow`", byKey["mode"].Rule)
	assert.Equal(t, "one of `token_bucket`, `sliding_window`, `fixed_window`, `gcra`, `sliding_window_counter`", byKey["algorithm"].Rule)
	assert.Equal(t, "≥ 0 (0 = client default)", byKey["redis.pool_size"].Rule)
	assert.Equal(t, "a slug of the pattern", byKey["endpoints[<i>].name"].Default)
}
