package configfile

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests hold the configuration mistakes seen while writing a configuration from the
// docs to their exact messages: each names the key, and the fix where there is one.

// loadWarned loads file (none when "") and environ and returns what was warned.
func loadWarned(t *testing.T, file string, environ ...string) (config.Config, []string, error) {
	t.Helper()
	s := Source{Environ: append([]string{}, environ...)}
	if file != "" {
		s.Path = writeTOML(t, file)
	}
	var w warnings
	s.Warnf = w.warnf
	c, err := s.Load()
	return c, w.lines, err
}

// problemsOf returns the problems of a *ValidationError as "key: message" lines.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	lines := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		lines[i] = p.String()
	}
	return lines
}

func TestConfigMistakesWarn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		environ []string
		want    []string
	}{
		{
			name: "a [redis] table with backend left at memory",
			file: "[redis]\naddrs = [\"10.0.0.1:6379\"]\n",
			want: []string{`redis.addrs is set but backend is "memory": the [redis] settings are only read with backend = "redis"`},
		},
		{
			name:    "redis settings from the environment with backend left at memory",
			environ: []string{"RATELIMIT_REDIS_ADDRS=10.0.0.1:6379"},
			want:    []string{`redis.addrs is set but backend is "memory": the [redis] settings are only read with backend = "redis"`},
		},
		{
			name: "redis settings with backend = redis",
			file: "backend = \"redis\"\n[redis]\naddrs = [\"10.0.0.1:6379\"]\n",
		},
		{
			name: "a [jwt] table without enabled = true",
			file: "[jwt]\nsecret = \"0123456789abcdef0123456789abcdef\"\n",
			want: []string{`jwt.secret is set but jwt.enabled is false: the [jwt] settings are only read with jwt.enabled = true`},
		},
		{
			name: "a [penalty] table without enabled = true",
			file: "[penalty]\nthreshold = 2\n",
			want: []string{`penalty.threshold is set but penalty.enabled is false: the [penalty] settings are only read with penalty.enabled = true`},
		},
		{
			name: "an [api_key] table without enabled = true",
			file: "[api_key]\nheader = \"X-Key\"\ncache_ttl = \"5m\"\n",
			want: []string{`api_key.cache_ttl is set but api_key.enabled is false: the [api_key] settings are only read with api_key.enabled = true`},
		},
		{
			name:    "jwt and penalty settings from the environment without enabled = true",
			environ: []string{"RATELIMIT_JWT_SECRET=0123456789abcdef0123456789abcdef", "RATELIMIT_PENALTY_THRESHOLD=2"},
			want: []string{
				`jwt.secret is set but jwt.enabled is false: the [jwt] settings are only read with jwt.enabled = true`,
				`penalty.threshold is set but penalty.enabled is false: the [penalty] settings are only read with penalty.enabled = true`,
			},
		},
		{
			name: "tables switched off explicitly keep their settings unwarned",
			file: "[jwt]\nenabled = false\nsecret = \"0123456789abcdef0123456789abcdef\"\n[penalty]\nenabled = false\nthreshold = 2\n[tiers.premium]\nlimit = 10\nwindow = \"1m\"\n",
		},
		{
			name:    "tables enabled from the environment",
			file:    "[jwt]\nsecret = \"0123456789abcdef0123456789abcdef\"\n[tiers.premium]\nlimit = 10\nwindow = \"1m\"\n",
			environ: []string{"RATELIMIT_JWT_ENABLED=true"},
		},
		{
			name: "tiers without an identity source",
			file: "[[endpoints]]\npattern = \"/x\"\nlimit = 1\nwindow = \"1m\"\n[endpoints.tiers.pro]\nlimit = 5\nwindow = \"1m\"\n[tiers.anonymous]\nlimit = 10\nwindow = \"1m\"\n",
			want: []string{`endpoints[0].tiers.pro is set but neither jwt.enabled nor api_key.enabled is true: tiers other than "anonymous" come from a verified token or API key, so its limits never apply`},
		},
		{
			name:    "a tier from the environment without an identity source",
			environ: []string{"RATELIMIT_TIERS_PREMIUM_LIMIT=50", "RATELIMIT_TIERS_PREMIUM_WINDOW=1m"},
			want:    []string{`tiers.premium is set but neither jwt.enabled nor api_key.enabled is true: tiers other than "anonymous" come from a verified token or API key, so its limits never apply`},
		},
		{
			name: "the anonymous tier applies without an identity source",
			file: "[tiers.anonymous]\nlimit = 10\nwindow = \"1m\"\n",
		},
		{
			name: "tier names that differ only by case",
			file: `
[tiers.Pro]
limit  = 10
window = "1m"
[[endpoints]]
pattern = "/x"
limit   = 1
window  = "1m"
  [endpoints.tiers.pro]
  limit  = 5
  window = "1m"
`,
			environ: []string{"RATELIMIT_API_KEY_ENABLED=true"},
			want:    []string{`tiers.Pro and endpoints[0].tiers.pro differ only by case: tier names are case-sensitive and must equal the token's tier claim exactly`},
		},
		{
			name:    "the same tier in several rules",
			file:    "[tiers.pro]\nlimit = 10\nwindow = \"1m\"\n[[endpoints]]\npattern = \"/x\"\nlimit = 1\nwindow = \"1m\"\n[endpoints.tiers.pro]\nlimit = 5\nwindow = \"1m\"\n",
			environ: []string{"RATELIMIT_API_KEY_ENABLED=true"},
		},
		{
			name:    "environment typos",
			environ: []string{"RATELIMIT_FAIL_MOD=closed", "RATELIMIT_REDIS_ADDR=10.0.0.1:6379", "RATELIMIT_TOTALLY_UNKNOWN=1"},
			want: []string{
				`unknown environment variable RATELIMIT_FAIL_MOD ignored (did you mean "RATELIMIT_FAIL_MODE"?)`,
				`unknown environment variable RATELIMIT_REDIS_ADDR ignored (did you mean "RATELIMIT_REDIS_ADDRS"?)`,
				`unknown environment variable RATELIMIT_TOTALLY_UNKNOWN ignored`,
			},
		},
		{
			name:    "a typo in an endpoint's name",
			file:    "[[endpoints]]\nname = \"compute\"\npattern = \"/x\"\nlimit = 1\nwindow = \"1m\"\n",
			environ: []string{"RATELIMIT_ENDPOINTS_COMPUTE_LIMT=3", "RATELIMIT_ENDPOINTS_SEARCH_LIMIT=3"},
			want: []string{
				`unknown environment variable RATELIMIT_ENDPOINTS_COMPUTE_LIMT ignored (did you mean "RATELIMIT_ENDPOINTS_COMPUTE_LIMIT"?)`,
				`unknown environment variable RATELIMIT_ENDPOINTS_SEARCH_LIMIT ignored (RATELIMIT_ENDPOINTS_<NAME>_<KEY> and RATELIMIT_ENDPOINTS_<index>_<KEY> only reach endpoints defined in the configuration file)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, warned, err := loadWarned(t, tt.file, tt.environ...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, warned)
		})
	}
}

func TestConfigMistakesAreReportedPrecisely(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "a window left out of a tier is missing, not 0",
			file: "[tiers.free]\nlimit = 10\n",
			want: []string{`tiers.free.window: missing: a rule needs both limit and window, e.g. window = "1m"`},
		},
		{
			name: "a limit left out of an endpoint is missing",
			file: "[[endpoints]]\npattern = \"/x\"\nwindow = \"1m\"\n",
			want: []string{`endpoints[0].limit: missing: a rule needs both limit and window, e.g. limit = 100`},
		},
		{
			name: "a window written as 0 is out of range",
			file: "[tiers.free]\nlimit = 10\nwindow = \"0s\"\n",
			want: []string{`tiers.free.window: must be > 0, got "0s"`},
		},
		{
			name: "a misspelled key is reported with its suggestion, not its consequence",
			file: "[[endpoints]]\npattern = \"/x\"\nlimt = 10\nwindow = \"1m\"\n",
			want: []string{`endpoints[0].limt: unknown key (did you mean "limit"?)`},
		},
		{
			name: "both keys of a rule misspelled",
			file: "[default]\nlimt = 10\nwindw = \"1m\"\n",
			want: []string{`default.limt: unknown key (did you mean "limit"?)`, `default.windw: unknown key (did you mean "window"?)`},
		},
		{
			name: "a top-level key written after a table",
			file: "[default]\nlimit = 10\nwindow = \"1m\"\nbackend = \"redis\"\n",
			want: []string{`default.backend: unknown key (backend is a top-level key: put it before the first [table])`},
		},
		{
			name: "a top-level key written after an array of tables",
			file: "[[endpoints]]\npattern = \"/x\"\nlimit = 1\nwindow = \"1m\"\nalgorithm = \"gcra\"\n",
			want: []string{`endpoints[0].algorithm: unknown key (algorithm is a top-level key: put it before the first [table])`},
		},
		{
			name: "a top-level key written after a table of tables",
			file: "[tiers]\nmode = \"shadow\"\n",
			want: []string{`tiers.mode: must be a table, got "shadow" (mode is a top-level key: put it before the first [table])`},
		},
		{
			name: "a misspelling does not hide the other problems of its table",
			file: "[[endpoints]]\npattern = \"/x\"\nlimt = 10\nwindow = \"0s\"\n",
			want: []string{`endpoints[0].limt: unknown key (did you mean "limit"?)`, `endpoints[0].window: must be > 0, got "0s"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := loadWarned(t, tt.file)
			assert.Equal(t, tt.want, problemsOf(t, err))
		})
	}
}

func TestTOMLErrorsGiveFileLineAndColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file   string
		line, column int
		message      string
	}{
		{"duplicate key", "[default]\nlimit = 5\nlimit = 6\n", 3, 1, "toml: key limit is already defined"},
		{"duplicate key in an array of tables", "[[endpoints]]\npattern = \"/a\"\n[[endpoints]]\npattern = \"/b\"\nlimit = 1\n  limit = 2\n", 6, 3, "toml: key limit is already defined"},
		{"duplicate table", "[default]\nlimit = 5\n\n[default]\nwindow = \"1m\"\n", 4, 2, "toml: table default already exists"},
		{"syntax error", "[default]\nlimit = 5\nwindow = \"1m\n", 3, 13, "toml: basic strings cannot have new lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeTOML(t, tt.file)
			_, err := Source{Path: path, Environ: []string{}}.Load()
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%v", err)
			assert.Equal(t, FileError{Path: path, Line: tt.line, Column: tt.column, Message: tt.message}, *fe)
			assert.EqualError(t, err, "ratewarden: "+path+":"+itoa(tt.line)+":"+itoa(tt.column)+": "+tt.message)
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestEnvironmentAddressesEndpointsByName(t *testing.T) {
	t.Parallel()
	blocks := []string{`
[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
limit   = 10
window  = "1m"
`, `
[[endpoints]]
name    = "users.v2-read"
pattern = "/api/v2/users/{id}"
limit   = 5
window  = "1m"
`, `
[[endpoints]]
pattern = "/api/v1/search"
limit   = 7
window  = "1m"
`}
	computeFirst := strings.Join(blocks, "")
	slices.Reverse(blocks)
	usersFirst := strings.Join(blocks, "") // compute last
	environ := []string{
		"RATELIMIT_ENDPOINTS_COMPUTE_LIMIT=20",
		"RATELIMIT_ENDPOINTS_USERS_V2_READ_WINDOW=2m",
		"RATELIMIT_ENDPOINTS_API_V1_SEARCH_LIMIT=70", // an unnamed endpoint by the slug of its pattern
	}
	for _, file := range []string{computeFirst, usersFirst} {
		c, warned, err := loadWarned(t, file, environ...)
		require.NoError(t, err)
		assert.Empty(t, warned)
		byName := map[string]config.Endpoint{}
		for _, e := range c.Endpoints {
			byName[e.RuleName()] = e
		}
		assert.Equal(t, int64(20), byName["compute"].Limit, "the override follows its endpoint")
		assert.Equal(t, 2*time.Minute, byName["users.v2-read"].Window)
		assert.Equal(t, int64(70), byName["api-v1-search"].Limit)
	}

	// The index form still works, and a value that cannot be read names the endpoint's key.
	c, _, err := loadWarned(t, computeFirst, "RATELIMIT_ENDPOINTS_1_LIMIT=9")
	require.NoError(t, err)
	assert.Equal(t, int64(9), c.Endpoints[1].Limit)
	_, _, err = loadWarned(t, usersFirst, "RATELIMIT_ENDPOINTS_COMPUTE_WINDOW=soon")
	assert.Equal(t, []string{`endpoints[2].window: must be a duration such as "500ms" or "1m", or integer seconds, got "soon" (from RATELIMIT_ENDPOINTS_COMPUTE_WINDOW)`}, problemsOf(t, err))

	// Both forms for one key: one applies, and a warning names both.
	c, warned, err := loadWarned(t, computeFirst, "RATELIMIT_ENDPOINTS_0_LIMIT=30", "RATELIMIT_ENDPOINTS_COMPUTE_LIMIT=20")
	require.NoError(t, err)
	assert.Equal(t, int64(20), c.Endpoints[0].Limit)
	assert.Equal(t, []string{"environment variables RATELIMIT_ENDPOINTS_0_LIMIT and RATELIMIT_ENDPOINTS_COMPUTE_LIMIT both set endpoints[0].limit: RATELIMIT_ENDPOINTS_COMPUTE_LIMIT applies"}, warned)
}

func TestEndpointNamesThatReadTheSameInTheEnvironmentReachNeither(t *testing.T) {
	t.Parallel()
	file := "[[endpoints]]\nname = \"a-b\"\npattern = \"/x\"\nlimit = 1\nwindow = \"1m\"\n[[endpoints]]\nname = \"a.b\"\npattern = \"/y\"\nlimit = 1\nwindow = \"1m\"\n"
	c, warned, err := loadWarned(t, file, "RATELIMIT_ENDPOINTS_A_B_LIMIT=5")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Endpoints[0].Limit)
	assert.Equal(t, int64(1), c.Endpoints[1].Limit)
	require.Len(t, warned, 1)
	assert.Contains(t, warned[0], "RATELIMIT_ENDPOINTS_A_B_LIMIT ignored")
}

// TestEndpointNameThatContinuesAnothersKeyReachesNeither: with endpoints compute (a tier
// premium) and compute_tiers_premium, RATELIMIT_ENDPOINTS_COMPUTE_TIERS_PREMIUM_LIMIT reads
// as compute's tiers.premium.limit and as compute_tiers_premium's limit. It set the
// second (the longer name won) — raising another endpoint's limit, for everyone, when the
// operator meant one tier's. It now reaches neither, with a warning that says why.
func TestEndpointNameThatContinuesAnothersKeyReachesNeither(t *testing.T) {
	t.Parallel()
	file := `
[api_key]
enabled = true

[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
limit   = 5
window  = "1m"
[endpoints.tiers.premium]
limit  = 50
window = "1m"

[[endpoints]]
name    = "compute_tiers_premium"
pattern = "/other"
limit   = 7
window  = "1m"
`
	c, warned, err := loadWarned(t, file, "RATELIMIT_ENDPOINTS_COMPUTE_TIERS_PREMIUM_LIMIT=1000")
	require.NoError(t, err)
	assert.Equal(t, int64(50), c.Endpoints[0].Tiers["premium"].Limit)
	assert.Equal(t, int64(7), c.Endpoints[1].Limit)
	require.Len(t, warned, 1)
	assert.Equal(t, "unknown environment variable RATELIMIT_ENDPOINTS_COMPUTE_TIERS_PREMIUM_LIMIT ignored (it reads as a key of more than one endpoint: use RATELIMIT_ENDPOINTS_<index>_<KEY>)", warned[0])
	// The index form reaches either.
	c, _, err = loadWarned(t, file, "RATELIMIT_ENDPOINTS_0_TIERS_PREMIUM_LIMIT=40", "RATELIMIT_ENDPOINTS_1_LIMIT=6")
	require.NoError(t, err)
	assert.Equal(t, int64(40), c.Endpoints[0].Tiers["premium"].Limit)
	assert.Equal(t, int64(6), c.Endpoints[1].Limit)
}

// TestEnvironmentDoesNotCreateATableThatContinuesAnExistingOne: tier gold has a limit and a
// window, no windows list; RATELIMIT_TIERS_GOLD_WINDOWS_0_LIMIT meant gold's first window,
// and created a tier gold_windows_0 instead, silently. It is now an unknown variable, with
// a warning; and a variable name with a non-ASCII letter that upper-cases to a key's
// (the dotless ı) names no key.
func TestEnvironmentDoesNotCreateATableThatContinuesAnExistingOne(t *testing.T) {
	t.Parallel()
	file := "[api_key]\nenabled = true\n[tiers.gold]\nlimit = 10\nwindow = \"1m\"\n"
	c, warned, err := loadWarned(t, file, "RATELIMIT_TIERS_GOLD_WINDOWS_0_LIMIT=5", "RATELIMIT_DEFAULT_L\u0131M\u0131T=999")
	require.NoError(t, err)
	assert.Equal(t, []string{"gold"}, slices.Collect(maps.Keys(c.Tiers)))
	assert.Equal(t, int64(10), c.Tiers["gold"].Limit)
	assert.Equal(t, int64(config.DefaultLimit), c.Default.Limit, "the default, not 999")
	require.Len(t, warned, 2)
	assert.Contains(t, warned[0], "RATELIMIT_DEFAULT_L\u0131M\u0131T ignored")
	assert.Contains(t, warned[1], "RATELIMIT_TIERS_GOLD_WINDOWS_0_LIMIT ignored")
	// A new tier is still created from the environment.
	c, _, err = loadWarned(t, file, "RATELIMIT_TIERS_SILVER_LIMIT=5", "RATELIMIT_TIERS_SILVER_WINDOW=1m")
	require.NoError(t, err)
	assert.Equal(t, int64(5), c.Tiers["silver"].Limit)
}

func TestJWKSTimeoutFromTheFileAndTheEnvironment(t *testing.T) {
	t.Parallel()
	c, _, err := loadWarned(t, "")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, c.JWT.JWKSTimeout, "the default")

	jwks := "[jwt]\nenabled = true\njwks_url = \"https://idp.example.com/jwks.json\"\njwks_timeout = \"2s\"\n"
	c, _, err = loadWarned(t, jwks, "RATELIMIT_JWT_JWKS_TIMEOUT=250ms")
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, c.JWT.JWKSTimeout, "the environment overrides the file")

	_, _, err = loadWarned(t, jwks, "RATELIMIT_JWT_JWKS_TIMEOUT=1m")
	assert.Equal(t, []string{`jwt.jwks_timeout: must be > 0 and ≤ 10s (the time a fetch of the key set may take), got "1m0s" (from RATELIMIT_JWT_JWKS_TIMEOUT)`}, problemsOf(t, err))
	_, _, err = loadWarned(t, jwks, "RATELIMIT_JWT_JWKS_TIMEOUT=0s")
	assert.Equal(t, []string{`jwt.jwks_timeout: is set to "0s", which would silently mean the default "500ms": leave the key out for the default (from RATELIMIT_JWT_JWKS_TIMEOUT)`}, problemsOf(t, err))
}

// Every problem with a value from the environment names its variable, not only a value
// that could not be parsed: enums, ranges and explicit zeros are checked after the
// variables are applied, and a tier a variable creates is the variable's too.
func TestProblemsOfEnvironmentValuesNameTheVariable(t *testing.T) {
	t.Parallel()
	file := "[api_key]\nenabled = true\n[tiers.premium]\nlimit = 10\nwindow = \"1m\"\n"
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"an enum", []string{"RATELIMIT_BACKEND=Redis"}, []string{`backend: must be "memory" or "redis", got "Redis" (from RATELIMIT_BACKEND)`}},
		{"a range", []string{"RATELIMIT_DEFAULT_LIMIT=-1"}, []string{`default.limit: must be ≥ 1, got -1 (from RATELIMIT_DEFAULT_LIMIT)`}},
		{"an item of a list", []string{"RATELIMIT_CLIENT_IP_TRUSTED_PROXIES=10.0.0.0/8,nonsense"}, []string{`client_ip.trusted_proxies[1]: not an IP or CIDR, got "nonsense" (from RATELIMIT_CLIENT_IP_TRUSTED_PROXIES)`}},
		{
			"a tier a typo creates",
			[]string{"RATELIMIT_TIERS_PREMIUN_LIMIT=5"},
			[]string{`tiers.premiun.window: missing: a rule needs both limit and window, e.g. window = "1m" (from RATELIMIT_TIERS_PREMIUN_LIMIT, which creates tier "premiun": did you mean "premium"?)`},
		},
		{
			"a new tier not close to any",
			[]string{"RATELIMIT_TIERS_GOLD_LIMIT=5"},
			[]string{`tiers.gold.window: missing: a rule needs both limit and window, e.g. window = "1m" (from RATELIMIT_TIERS_GOLD_LIMIT)`},
		},
		{
			"the file's own problems name no variable",
			[]string{"RATELIMIT_MODE=shadow"},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := loadWarned(t, file, tt.environ...)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, tt.want, problemsOf(t, err))
		})
	}
	_, _, err := loadWarned(t, "[default]\nlimit = -1\n", "RATELIMIT_MODE=shadow")
	assert.Equal(t, []string{`default.limit: must be ≥ 1, got -1`}, problemsOf(t, err), "a file's value names no variable")
}

// A tier the environment creates under a name close to an existing tier's is most likely a
// typo: loading warns even when the new tier is complete and valid.
func TestANewTierFromTheEnvironmentCloseToAnExistingOneWarns(t *testing.T) {
	t.Parallel()
	file := "[api_key]\nenabled = true\n[tiers.premium]\nlimit = 10\nwindow = \"1m\"\n[[endpoints]]\nname = \"compute\"\npattern = \"/x\"\nlimit = 1\nwindow = \"1m\"\n"
	c, warned, err := loadWarned(t, file, "RATELIMIT_TIERS_PREMIUN_LIMIT=5", "RATELIMIT_TIERS_PREMIUN_WINDOW=1m",
		"RATELIMIT_ENDPOINTS_COMPUTE_TIERS_PREMIUMM_LIMIT=5", "RATELIMIT_ENDPOINTS_COMPUTE_TIERS_PREMIUMM_WINDOW=1m",
		"RATELIMIT_TIERS_ANONYMUS_LIMIT=5", "RATELIMIT_TIERS_ANONYMUS_WINDOW=1m",
		"RATELIMIT_TIERS_SILVER_LIMIT=5", "RATELIMIT_TIERS_SILVER_WINDOW=1m")
	require.NoError(t, err)
	assert.Contains(t, c.Tiers, "premiun", "a new tier is still created")
	assert.Equal(t, []string{
		`environment variable RATELIMIT_ENDPOINTS_COMPUTE_TIERS_PREMIUMM_LIMIT creates tier "premiumm" (did you mean "premium"?)`,
		`environment variable RATELIMIT_TIERS_ANONYMUS_LIMIT creates tier "anonymus" (did you mean "anonymous"?)`,
		`environment variable RATELIMIT_TIERS_PREMIUN_LIMIT creates tier "premiun" (did you mean "premium"?)`,
	}, warned)

	// "anonymous" applies without being configured: giving it limits is no typo of it
	// (loading suggested the name it was given).
	c, warned, err = loadWarned(t, file, "RATELIMIT_TIERS_ANONYMOUS_LIMIT=5", "RATELIMIT_TIERS_ANONYMOUS_WINDOW=1m")
	require.NoError(t, err)
	assert.Contains(t, c.Tiers, "anonymous")
	assert.Empty(t, warned)

	// An endpoint name is never created: a close one is an unknown variable with a suggestion.
	_, warned, err = loadWarned(t, file, "RATELIMIT_ENDPOINTS_COMPUTR_LIMIT=5")
	require.NoError(t, err)
	assert.Equal(t, []string{`unknown environment variable RATELIMIT_ENDPOINTS_COMPUTR_LIMIT ignored (did you mean "RATELIMIT_ENDPOINTS_COMPUTE_LIMIT"?)`}, warned)
}
