package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/configfile"
)

const docPath = "../../docs/configuration.md"

// The committed reference is what the generator writes from the code: a key added,
// renamed or given another default, rule or meaning without `make config-ref` fails here.
func TestConfigurationReferenceIsCurrent(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	want, err := Generate(doc)
	require.NoError(t, err)
	if !bytes.Equal(doc, want) {
		got, exp := strings.Split(string(doc), "\n"), strings.Split(string(want), "\n")
		line := 0
		for line < len(got) && line < len(exp) && got[line] == exp[line] {
			line++
		}
		t.Fatalf("docs/configuration.md is out of date with core/config: run make config-ref\nline %d is\n  %s\nthe generator writes\n  %s",
			line+1, at(got, line), at(exp, line))
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end of file)"
}

// envFile has every kind of rule, each with a windows list, so that every variable form
// of the reference has an entry to reach; and both identity sources that give tiers on, so
// that a variable clearing either switch leaves the tiers in use, unwarned.
const envFile = `
[api_key]
enabled = true
[jwt]
enabled = true
[default]
windows = [{limit = 10, window = "1s"}]
[tiers.premium]
windows = [{limit = 20, window = "1s"}]
[[endpoints]]
name    = "api"
pattern = "/api"
windows = [{limit = 5, window = "1s"}]
  [endpoints.tiers.premium]
  windows = [{limit = 50, window = "1s"}]
`

// Every environment variable the reference names is one the loader knows: no "unknown
// environment variable" warning for any of its forms.
func TestReferenceEnvironmentNamesLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ratewarden.toml")
	require.NoError(t, os.WriteFile(path, []byte(envFile), 0o600))
	warnings := func(name string) []string {
		var w []string
		_, _ = configfile.Source{Path: path, Environ: []string{name + "="}, Warnf: func(f string, args ...any) {
			w = append(w, fmt.Sprintf(f, args...))
		}}.Load()
		return w
	}
	require.NotEmpty(t, warnings("RATELIMIT_ENDPOINTS_API_LIMT"), "a misspelt name warns")
	keys, err := Keys()
	require.NoError(t, err)
	for _, k := range keys {
		for _, name := range instances(k.Env) {
			assert.Empty(t, warnings(name), "%s (for %s)", name, k.Key)
		}
	}
}

// instances fills the placeholders of a variable name as envFile names things.
func instances(env string) []string {
	forms := []string{env}
	if strings.Contains(env, "<RULE>") {
		forms = nil
		for _, rule := range []string{"DEFAULT", "TIERS_PREMIUM", "ENDPOINTS_<NAME>", "ENDPOINTS_<NAME>_TIERS_PREMIUM"} {
			forms = append(forms, strings.Replace(env, "<RULE>", rule, 1))
		}
	}
	var out []string
	for _, f := range forms {
		f = strings.ReplaceAll(f, "<i>", "0")
		if strings.Contains(f, "ENDPOINTS_<NAME>") {
			out = append(out, strings.Replace(f, "<NAME>", "0", 1)) // the index form
			f = strings.Replace(f, "<NAME>", "API", 1)
		}
		out = append(out, f)
	}
	return out
}

func TestKeys(t *testing.T) {
	t.Parallel()
	keys, err := Keys()
	require.NoError(t, err)
	byKey := map[string]Key{}
	for _, k := range keys {
		byKey[k.Key] = k
	}
	for key, want := range map[string][3]string{ // type, default, environment
		"redis.circuit_breaker.failure_threshold": {"integer", "`5`", "RATELIMIT_REDIS_CIRCUIT_BREAKER_FAILURE_THRESHOLD"},
		"redis.addrs":                   {"list of strings", "`[\"127.0.0.1:6379\"]`", "RATELIMIT_REDIS_ADDRS"},
		"fail_mode":                     {"string", "`\"open\"`", "RATELIMIT_FAIL_MODE"},
		"penalty.multiplier":            {"number", "`2.0`", "RATELIMIT_PENALTY_MULTIPLIER"},
		"penalty.max_cooldown":          {"duration", "`\"1h\"`", "RATELIMIT_PENALTY_MAX_COOLDOWN"},
		"headers.ietf":                  {"bool", "`true`", "RATELIMIT_HEADERS_IETF"},
		"<rule>.window":                 {"duration", "— (`default`: `\"1m\"`)", "RATELIMIT_<RULE>_WINDOW"},
		"<rule>.windows[<i>].limit":     {"integer", "—", "RATELIMIT_<RULE>_WINDOWS_<i>_LIMIT"},
		"endpoints[<i>].count_statuses": {"list of integers", "`[]` = every admitted request counts", "RATELIMIT_ENDPOINTS_<NAME>_COUNT_STATUSES"},
		"endpoints[<i>].scope":          {"string", "`\"client\"`", "RATELIMIT_ENDPOINTS_<NAME>_SCOPE"},
		"jwt.jwks_timeout":              {"duration", "`\"500ms\"`", "RATELIMIT_JWT_JWKS_TIMEOUT"},
	} {
		k, ok := byKey[key]
		if assert.True(t, ok, key) {
			assert.Equal(t, want, [3]string{k.Type, k.Default, k.Env}, key)
		}
	}
	assert.Equal(t, "1m30s", shortDuration(90e9))
	assert.Equal(t, "100ms", shortDuration(100e6))
}

func TestGenerateRefusesKeysWithoutATable(t *testing.T) {
	t.Parallel()
	_, err := Generate([]byte("<!-- configref:begin top -->\n<!-- configref:end -->\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `redis.timeout (section "redis") is in no configref region`)

	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	doc = append(doc, "\n<!-- configref:begin nosuch -->\n<!-- configref:end -->\n"...)
	_, err = Generate(doc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `region "nosuch" lists no key`)
}

// run writes a stale file, and with -check refuses it, naming the make target.
func TestRun(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	stale := bytes.Replace(doc, []byte("| `redis.timeout` |"), []byte("| `redis.timeout_old` |"), 1)
	require.NotEqual(t, doc, stale)
	path := filepath.Join(t.TempDir(), "configuration.md")
	require.NoError(t, os.WriteFile(path, stale, 0o600))

	err = run(path, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "out of date with core/config: run make config-ref")

	require.NoError(t, run(path, false))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(doc), string(got))
	require.NoError(t, run(path, true))
}
