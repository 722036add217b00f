package configfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/config"
)

// maxFuzzFile bounds the files FuzzLoadTOML loads: real configurations are a few KB, and
// larger inputs only slow the fuzzer down (readFile and checkShape bound the rest).
const maxFuzzFile = 4 << 10

// checkLoaded asserts what Source.Load promises for any input: a configuration that
// validates, or an error with the zero Config, and problems that each name their key.
func checkLoaded(t *testing.T, c config.Config, err error) {
	t.Helper()
	if err == nil {
		if verr := c.Validate(); verr != nil {
			t.Fatalf("loaded a configuration that does not validate: %v", verr)
		}
		return
	}
	if err.Error() == "" {
		t.Fatal("an error without a message")
	}
	if !reflect.DeepEqual(c, config.Config{}) {
		t.Fatalf("an error (%v) with a non-zero Config", err)
	}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if p.Key == "" || p.Message == "" {
				t.Fatalf("a problem without its key or message: %+v", p)
			}
		}
	}
}

// FuzzLoadTOML loads arbitrary files of up to 4 KB with an empty environment: Load never
// panics, and answers a valid configuration or an error.
func FuzzLoadTOML(f *testing.F) {
	for _, s := range []string{specTOML, envTestFile, "", "limit = 1", "[default]\nlimit = 0\nwindow = \"1m\"",
		"[[endpoints]]\npattern = \"/a/{id}\"\nlimit = 5\nwindow = \"1s\"\n[[endpoints]]\npattern = \"/a/{id}\"",
		"backend = \"redis\"\n[redis]\naddrs = [\"x:1\"]\ntimeout = \"-1s\"", "a = {b = {c = {d = 1}}}", "[tiers.A]\n[tiers.a]",
		"[default]\nwindows = [{limit = 10, window = \"1s\"}, {limit = 1, window = \"1m\"}]", "x = 1\nx = 2", "key_prefix = \"\\u0000\""} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "ratewarden.toml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzFile {
			t.Skip("larger than a real configuration")
		}
		require.NoError(t, os.WriteFile(path, data, 0o600))
		c, err := Source{Path: path, Environ: []string{}, Warnf: func(string, ...any) {}}.Load()
		checkLoaded(t, c, err)
	})
}

// FuzzEnv loads two arbitrary RATELIMIT_* variables, over envTestFile or no file: Load
// never panics, and a configuration it answers passes Validate.
func FuzzEnv(f *testing.F) {
	f.Add(false, "DEFAULT_LIMIT", "200", "MODE", "shadow")
	f.Add(false, "BACKEND", "redis", "REDIS_ADDRS", "a:6379, b:6379 ,")
	f.Add(false, "REDIS_TIMEOUT", "250ms", "JWT_LEEWAY", "-1")
	f.Add(false, "PENALTY_MULTIPLIER", "1.5", "METRICS_TOP_CLIENTS", "-1")
	f.Add(false, "JWT_ENABLED", "true", "JWT_SECRET", strings.Repeat("k", 32))
	f.Add(false, "API_KEY_ENABLED", "1", "API_KEY_CACHE_TTL", "5m")
	f.Add(false, "TIERS_SILVER_PLUS_LIMIT", "300", "TIERS_SILVER_PLUS_WINDOW", "60")
	f.Add(false, "CLIENT_IP_TRUSTED_PROXIES", "10.0.0.0/8", "CLIENT_IP_HEADER", "X-Forwarded-For")
	f.Add(true, "ENDPOINTS_API_V1_USERS_ID_SCOPE", "global", "ENDPOINTS_1_LIMIT", "5")
	f.Add(true, "ENDPOINTS_0_TIERS_PREMIUM_LIMIT", "50", "DEFAULT_WINDOWS_1_LIMIT", "500")
	f.Add(true, "TIERS_GOLD_PLUS_WINDOW", "1h", "TIERS_PREMIUM_LIMIT", "0")
	f.Add(true, "ENDPOINTS_0_METHODS", "GET,POST", "DEFAULT_LIMIT", "abc")
	f.Add(true, "key_prefix", "", "ENDPOINTS_9_LIMIT", "1")
	path := filepath.Join(f.TempDir(), "ratewarden.toml")
	require.NoError(f, os.WriteFile(path, []byte(envTestFile), 0o600))
	f.Fuzz(func(t *testing.T, withFile bool, name1, value1, name2, value2 string) {
		if len(name1)+len(value1)+len(name2)+len(value2) > maxFuzzFile {
			t.Skip("larger than a real environment")
		}
		s := Source{Environ: []string{envPrefix + name1 + "=" + value1, envPrefix + name2 + "=" + value2}, Warnf: func(string, ...any) {}}
		if withFile {
			s.Path = path
		}
		c, err := s.Load()
		checkLoaded(t, c, err)
	})
}
