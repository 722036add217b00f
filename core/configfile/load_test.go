package configfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/internal/problem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specTOML is the configuration block of SPEC section 4, verbatim.
const specTOML = `enabled           = true
mode              = "enforce"        # enforce | shadow
algorithm         = "token_bucket"   # token_bucket | sliding_window | fixed_window | gcra
backend           = "memory"         # memory | redis
fail_mode         = "open"           # open | closed | local (section 6)
key_prefix        = "ratelimit"
documentation_url = ""

[default]                            # rule for every path no endpoint rule matches
limit  = 100
window = "1m"
# windows = [{limit = 10, window = "1s"}, {limit = 100, window = "1m"}]   # instead of limit/window
# cost  = 1

[tiers.standard]                     # per-tier override of the default rule
limit  = 1000
window = "1m"
[tiers.premium]
limit  = 5000
window = "1m"

[[endpoints]]
name    = "compute"                  # optional; used in headers, metrics and logs
pattern = "/api/v1/compute"
methods = ["POST"]                   # optional; empty = every method
limit   = 10
window  = "1m"
cost    = 1
  [endpoints.tiers.premium]          # optional per-tier override for this endpoint
  limit  = 100
  window = "1m"

# scope          = "client"          # client | ip | global (section 2, Rule scope)
# count_statuses = [401, 403]        # optional: only responses with these statuses consume
#                                    # (e.g. failed logins); see "Counting by response" below

[api_key]                            # section 2: API keys, verified by a lookup in code
enabled   = false
header    = "X-API-Key"
cache_ttl = "1m"
timeout   = "100ms"

[client_ip]
trusted_proxies = []                 # CIDRs or single IPs
header          = "X-Forwarded-For"  # X-Forwarded-For | Forwarded | X-Real-IP
ipv6_prefix     = 64

[jwt]
enabled         = false
secret          = ""                 # HMAC secret, or:
public_key_file = ""                 # PEM file, or:
jwks_url        = ""
algorithms      = []                 # default depends on the key
user_claim      = "sub"
tier_claim      = "tier"
issuer          = ""
audience        = ""
leeway          = "30s"

[exemptions]
ips   = []                           # IPs or CIDRs
users = []                           # user ids

[penalty]
enabled        = false
threshold      = 3                   # denials within ` + "`" + `period` + "`" + ` before the cooldown starts
period         = "10m"
base_cooldown  = "1m"
multiplier     = 2.0                 # cooldown = base_cooldown * multiplier^(denials - threshold)
max_cooldown   = "1h"

[headers]
x_ratelimit = true
ietf        = true

[response]
format = "json"                      # json | problem

[redis]
mode           = "standalone"        # standalone | sentinel | cluster
addrs          = ["127.0.0.1:6379"]
master_name    = ""                  # sentinel
username       = ""
password       = ""
db             = 0
pool_size      = 0                   # 0 = client default
dial_timeout   = "1s"
timeout        = "100ms"             # per decision, retries included
max_retries    = 2
local_cache    = true                # remember denied keys locally until they may pass again
  [redis.circuit_breaker]
  failure_threshold = 5
  open_timeout      = "5s"

[memory]
max_keys       = 1000000             # bound on tracked keys; oldest idle keys are evicted first
sweep_interval = "1m"

[metrics]
enabled     = true
namespace   = "ratelimit"
top_clients = 20                     # bound on per-client series (section 7)

[admin]
token = ""                           # bearer token for POST /admin/reload; empty = endpoint off
`

// writeTOML writes content to a file in a fresh temporary directory and returns its path.
func writeTOML(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ratewarden.toml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// loadTOML loads content with the given environment (none by default).
func loadTOML(t *testing.T, content string, environ ...string) (config.Config, error) {
	t.Helper()
	return Source{Path: writeTOML(t, content), Environ: append([]string{}, environ...)}.Load()
}

// loadProblems loads content, expecting a *ValidationError, and returns its problems.
func loadProblems(t *testing.T, content string, environ ...string) []config.Problem {
	t.Helper()
	_, err := loadTOML(t, content, environ...)
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	return ve.Problems
}

func problemStrings(ps []config.Problem) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return s
}

func problemKeys(ps []config.Problem) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Key
	}
	return s
}

func TestLoadEmptyFileIsDefaultConfig(t *testing.T) {
	t.Parallel()
	c, err := loadTOML(t, "")
	require.NoError(t, err)
	assert.Equal(t, config.DefaultConfig(), c)

	c, err = Source{Environ: []string{}}.Load() // no file at all
	require.NoError(t, err)
	assert.Equal(t, config.DefaultConfig(), c)
}

func TestLoadSpecFile(t *testing.T) {
	t.Parallel()
	c, err := loadTOML(t, specTOML)
	require.NoError(t, err)
	assert.Equal(t, config.Limits{Limit: 100, Window: time.Minute}, c.Default)
	assert.Equal(t, map[string]config.Limits{
		"standard": {Limit: 1000, Window: time.Minute},
		"premium":  {Limit: 5000, Window: time.Minute},
	}, c.Tiers)
	assert.Equal(t, []config.Endpoint{{
		Name:    "compute",
		Pattern: "/api/v1/compute",
		Methods: []string{"POST"},
		Limits:  config.Limits{Limit: 10, Window: time.Minute, Cost: 1},
		Tiers:   map[string]config.Limits{"premium": {Limit: 100, Window: time.Minute}},
	}}, c.Endpoints)
	assert.Equal(t, config.APIKeyConfig{Header: "X-API-Key", CacheTTL: time.Minute, Timeout: 100 * time.Millisecond}, c.APIKey)
	assert.Equal(t, []string{}, c.ClientIP.TrustedProxies)
	assert.Equal(t, 30*time.Second, c.JWT.Leeway)
	assert.Equal(t, config.PenaltyConfig{Threshold: 3, Period: 10 * time.Minute, BaseCooldown: time.Minute, Multiplier: 2, MaxCooldown: time.Hour}, c.Penalty)
	assert.Equal(t, []string{"127.0.0.1:6379"}, c.Redis.Addrs)
	assert.Equal(t, 100*time.Millisecond, c.Redis.Timeout)
	assert.Equal(t, 5*time.Second, c.Redis.CircuitBreaker.OpenTimeout)
	assert.Equal(t, 1_000_000, c.Memory.MaxKeys)
	assert.True(t, config.On(c.Redis.LocalCache))
	assert.NoError(t, c.Validate())
}

func TestLoadExampleFile(t *testing.T) {
	t.Parallel()
	warn := func(format string, args ...any) { t.Errorf("the example warns: "+format, args...) }
	c, err := Source{Path: filepath.Join("..", "..", "docs", "examples", "ratewarden.toml"), Environ: []string{}, Warnf: warn}.Load()
	require.NoError(t, err)
	assert.Len(t, c.Endpoints, 4)
	assert.Equal(t, []int{401}, c.Endpoints[3].CountStatuses, "the login rule counts only failed logins")
	assert.Len(t, c.Default.Windows, 2)
	assert.Equal(t, time.Minute, c.Tiers["premium"].Window)
	assert.True(t, c.Penalty.Enabled)
	assert.Equal(t, []string{"192.0.2.10"}, c.Exemptions.IPs, "no loopback exemption: a local trial must see the limiter")
}

func TestLoadDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, toml string
		get        func(c config.Config) time.Duration
		want       time.Duration
	}{
		{"go string", "[default]\nlimit = 5\nwindow = \"1m30s\"", func(c config.Config) time.Duration { return c.Default.Window }, 90 * time.Second},
		{"integer seconds", "[default]\nlimit = 5\nwindow = 60", func(c config.Config) time.Duration { return c.Default.Window }, time.Minute},
		{"integer seconds in a string", "[default]\nlimit = 5\nwindow = \"3600\"", func(c config.Config) time.Duration { return c.Default.Window }, time.Hour},
		{"milliseconds", "[redis]\ntimeout = \"250ms\"", func(c config.Config) time.Duration { return c.Redis.Timeout }, 250 * time.Millisecond},
		{"in a window list", "[default]\nwindows = [{limit = 1, window = 1}, {limit = 9, window = \"1h\"}]", func(c config.Config) time.Duration { return c.Default.Windows[1].Window }, time.Hour},
		{"none", "[jwt]\nleeway = -1", func(c config.Config) time.Duration { return c.JWT.Leeway }, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadTOML(t, tt.toml)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.get(c))
		})
	}
}

func TestLoadReportsBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, toml, key, want string
	}{
		{"bad duration", "[default]\nlimit = 5\nwindow = \"1 minute\"", "default.window", `got "1 minute"`},
		{"float duration", "[redis]\ntimeout = 0.5", "redis.timeout", "integer seconds, got 0.5"},
		{"string for integer", "[default]\nlimit = \"ten\"\nwindow = \"1m\"", "default.limit", `must be an integer, got "ten"`},
		{"float for integer", "[[endpoints]]\npattern = \"/a\"\nlimit = 1.5\nwindow = \"1m\"", "endpoints[0].limit", "got 1.5"},
		{"string for bool", `enabled = "yes"`, "enabled", `must be true or false, got "yes"`},
		{"integer for string", "key_prefix = 5", "key_prefix", "must be a string, got 5"},
		{"string for list", "[[endpoints]]\npattern = \"/a\"\nlimit = 1\nwindow = 1\nmethods = \"GET\"", "endpoints[0].methods", `must be an array, got "GET"`},
		{"table instead of array of tables", "[endpoints]\npattern = \"/a\"", "endpoints", "[[endpoints]]"},
		{"list item", "[exemptions]\nusers = [\"a\", 7]", "exemptions.users[1]", "must be a string, got 7"},
		{"value for table", "redis = 5", "redis", "must be a table, got 5"},
		{"value for tier", "[tiers]\npremium = 5", "tiers.premium", "must be a table, got 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := loadProblems(t, tt.toml)
			require.Len(t, ps, 1, "problems: %v", ps)
			assert.Equal(t, tt.key, ps[0].Key)
			assert.Contains(t, ps[0].Message, tt.want)
		})
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	t.Parallel()
	ps := loadProblems(t, `
enable = true

[[endpoints]]
pattern = "/a"
limit   = 1
window  = "1m"

[[endpoints]]
pattern = "/b"
limt    = 5
window  = "1m"
  [endpoints.tiers.premium]
  limit = 1
  windw = "1m"

[redis.circuit_breaker]
failure_treshold = 3

[tiers."gold plus"]
limit = 1
window = 1
burst = 2

[nope]
x = 1
`)
	assert.Equal(t, []string{
		`tiers."gold plus".burst: unknown key`,
		`tiers."gold plus": tier name must match ^[a-zA-Z0-9_.-]+$, got "gold plus"`,
		`endpoints[1].limt: unknown key (did you mean "limit"?)`,
		`endpoints[1].tiers.premium.windw: unknown key (did you mean "window"?)`,
		// What the misspellings leave behind (a window without a limit, and the reverse)
		// is not reported: the typo is the problem, not its consequence.
		`redis.circuit_breaker.failure_treshold: unknown key (did you mean "failure_threshold"?)`,
		// Unknown top-level keys have no section: they come last.
		`enable: unknown key (did you mean "enabled"?)`,
		`nope: unknown key`,
	}, problemStrings(ps))
}

func TestLoadProblemsInKeyOrder(t *testing.T) {
	t.Parallel()
	ps := loadProblems(t, `
mode = "block"
[metrics]
namespace = "a-b"
[[endpoints]]
pattern = "/a"
limit = 1
window = "1m"
[[endpoints]]
pattern = "b"
limit = 1
window = 0
[[endpoints]]
pattern = "/c"
limit = "x"
window = "1m"
[default]
limit = -1
`, "RATELIMIT_ENDPOINTS_0_WINDOW=soon")
	assert.Equal(t, []string{
		"mode",
		"default.limit",
		"endpoints[0].window",
		"endpoints[1].pattern",
		"endpoints[1].window",
		"endpoints[2].limit",
		"metrics.namespace",
	}, problemKeys(ps))
}

func TestLoadDefaultRuleOverDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, toml string
		want       config.Limits
	}{
		{"limit only", "[default]\nlimit = 200", config.Limits{Limit: 200, Window: time.Minute}},
		{"window only", "[default]\nwindow = \"1h\"", config.Limits{Limit: 100, Window: time.Hour}},
		{"windows replace limit and window", "[default]\nwindows = [{limit = 3, window = 1}]", config.Limits{Windows: []config.WindowConfig{{Limit: 3, Window: time.Second}}}},
		{"cost only", "[default]\ncost = 2", config.Limits{Limit: 100, Window: time.Minute, Cost: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadTOML(t, tt.toml)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Default)
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()
	var ve *config.ValidationError

	missing := filepath.Join(t.TempDir(), "missing.toml")
	_, err := Source{Path: missing, Environ: []string{}}.Load()
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "ratewarden: "), err.Error())
	assert.Contains(t, err.Error(), missing)

	path := writeTOML(t, "enabled = true\n\n[default\nlimit = 1\n")
	_, err = Source{Path: path, Environ: []string{}}.Load()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "ratewarden: "+path+":3:"), err.Error())
	assert.False(t, errors.As(err, &ve), "a syntax error is not a validation error")

	path = writeTOML(t, "enabled = true\nenabled = false\n")
	_, err = Source{Path: path, Environ: []string{}}.Load()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "ratewarden: "), err.Error())
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "already defined")
}

func TestLoadReturnsValidationError(t *testing.T) {
	t.Parallel()
	c, err := Source{Path: writeTOML(t, `mode = "block"`), Environ: []string{}}.Load()
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []config.Problem{{Key: "mode", Value: "block", Message: `must be "enforce" or "shadow", got "block"`}}, ve.Problems)
	assert.Equal(t, config.Config{}, c)
}

// configKeys lists every key path of Config, with <i> for list indexes and <name> for
// table names, from the koanf tags as the loader reads them.
func configKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for _, f := range fieldsOf(t) {
		ft := t.FieldByIndex(f.index).Type
		key := problem.JoinKey(prefix, f.name)
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			keys = append(keys, configKeys(ft, key)...)
		case ft.Kind() == reflect.Map:
			keys = append(keys, configKeys(ft.Elem(), key+".<name>")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, configKeys(ft.Elem(), key+"[<i>]")...)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

func TestDocsDescribeEveryKey(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	for _, key := range configKeys(reflect.TypeFor[config.Config](), "") {
		// The limits of the four kinds of rules are described once, as <rule>.limit etc.
		for _, rule := range []string{"endpoints[<i>].tiers.<name>.", "tiers.<name>.", "endpoints[<i>].", "default."} {
			rest, ok := strings.CutPrefix(key, rule)
			if ok && (rest == "limit" || rest == "cost" || strings.HasPrefix(rest, "window")) {
				key = "<rule>." + rest
				break
			}
		}
		assert.Contains(t, string(doc), "`"+key+"`", "docs/configuration.md does not describe %s", key)
	}
}

// A file of deeply nested tables is refused before it is flattened: flattening costs
// quadratic time and memory in the depth (a review grew an app to 22 GB with 200 KB).
func TestLoadRefusesDeepOrHugeFiles(t *testing.T) {
	t.Parallel()
	deep := "a = " + strings.Repeat("{x=", 50_000) + "1" + strings.Repeat("}", 50_000) + "\n"
	_, err := Source{Path: writeTOML(t, deep), Environ: []string{}}.Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tables nest deeper than 32 levels")

	// Unclosed brackets up to the size limit: the parser's recursion overflowed its stack
	// and killed the process (a review, on a reload); they are refused unparsed.
	unclosed := "a = " + strings.Repeat("[", maxConfigBytes-8) + "\n"
	_, err = Source{Path: writeTOML(t, unclosed), Environ: []string{}}.Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tables nest deeper than 32 levels")

	// Brackets in strings and comments are not nesting.
	c, err := Source{Path: writeTOML(t, "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"+
		"documentation_url = \"https://example.com/[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n"), Environ: []string{}}.Load()
	require.NoError(t, err)
	assert.Contains(t, c.DocumentationURL, "[[[[")

	huge := "# " + strings.Repeat("x", 2<<20) + "\n"
	_, err = Source{Path: writeTOML(t, huge), Environ: []string{}}.Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than a configuration file may have")
}

func TestLoadReadsCountStatusesFromTheFileAndTheEnvironment(t *testing.T) {
	t.Parallel()
	path := writeTOML(t, `
[[endpoints]]
name = "login"
pattern = "/api/v1/login"
limit = 5
window = "1m"
count_statuses = [401, 403]
`)
	c, err := Source{Path: path, Environ: []string{}}.Load()
	require.NoError(t, err)
	assert.Equal(t, []int{401, 403}, c.Endpoints[0].CountStatuses)

	c, err = Source{Path: path, Environ: []string{"RATELIMIT_ENDPOINTS_LOGIN_COUNT_STATUSES=429,401"}}.Load()
	require.NoError(t, err)
	assert.Equal(t, []int{429, 401}, c.Endpoints[0].CountStatuses)

	_, err = Source{Path: writeTOML(t, `
[[endpoints]]
pattern = "/login"
limit = 5
window = "1m"
count_statuses = ["401"]
`), Environ: []string{}}.Load()
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "endpoints[0].count_statuses[0]", ve.Problems[0].Key, "%v", ve.Problems)
}
