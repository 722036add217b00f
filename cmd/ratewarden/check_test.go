package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/configfile"
)

const validConfig = `
backend = "memory"
[default]
limit  = 100
window = "1m"
[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
limit   = 10
window  = "1m"
`

func TestCheckValid(t *testing.T) {
	path := writeConfig(t, validConfig)
	r := runCLI(t, nil, "check", "-config", path)
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, path+": valid (backend memory, algorithm token_bucket, mode enforce, 1 endpoint rule)\n", r.stdout)
	assert.Empty(t, r.stderr)
}

// The problems check prints are the loader's, the ones the example apps print under
// "ratewarden: invalid configuration:", one a line; the environment applies, and an
// unknown RATELIMIT_* variable is a warning, not a problem.
func TestCheckInvalidPrintsTheLoadersProblems(t *testing.T) {
	path := writeConfig(t, `
algorithm = "leaky"
[default]
limit  = 100
window = "1m"
[[endpoints]]
pattern = "/api/v1/compute"
limit   = 10
window  = "0s"
`)
	environ := []string{"RATELIMIT_DEFAULT_LIMIT=-5", "RATELIMIT_DEFAUT_WINDOW=1m", "HOME=/root"}
	r := runCLI(t, environ, "check", "-config", path)
	assert.Equal(t, exitFailure, r.code)
	assert.Empty(t, r.stdout)

	_, err := configfile.Source{Path: path, Environ: environ, Warnf: func(string, ...any) {}}.Load()
	var ve *config.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	var want []string
	for _, p := range ve.Problems {
		want = append(want, p.String())
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	require.NotEmpty(t, lines)
	assert.Contains(t, lines[0], "warning: unknown environment variable RATELIMIT_DEFAUT_WINDOW")
	assert.Equal(t, want, lines[1:])
	assert.Contains(t, lines, `endpoints[0].window: must be > 0, got "0s"`)
	assert.Len(t, want, 3, "algorithm, default.limit from the environment, endpoints[0].window: %q", want)
}

func TestCheckEnvironmentOverridesApply(t *testing.T) {
	path := writeConfig(t, validConfig)
	r := runCLI(t, []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_ENDPOINTS_COMPUTE_LIMIT=20"}, "check", "-config", path)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "valid (backend redis,")

	r = runCLI(t, []string{"RATELIMIT_ENDPOINTS_COMPUTE_LIMIT=zero"}, "check", "-config", path)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "endpoints[0].limit")
	assert.Contains(t, r.stderr, "zero")
}

func TestCheckSyntaxErrorNamesTheLine(t *testing.T) {
	path := writeConfig(t, "[default]\nlimit = 100\nwindow = \"1m\n")
	r := runCLI(t, nil, "check", "-config", path)
	assert.Equal(t, exitFailure, r.code)
	assert.True(t, strings.HasPrefix(r.stderr, path+":3:"), "%q", r.stderr)
}

// What core.New checks beyond the loader fails check too: here the JWT public key file.
func TestCheckCompilesTheJWTKey(t *testing.T) {
	path := writeConfig(t, validConfig+"[jwt]\nenabled = true\npublic_key_file = \"/nonexistent/key.pem\"\n")
	r := runCLI(t, nil, "check", "-config", path)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "/nonexistent/key.pem")
	assert.Empty(t, r.stdout)
}

func TestCheckMissingFile(t *testing.T) {
	r := runCLI(t, nil, "check", "-config", "/nonexistent/ratewarden.toml")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "/nonexistent/ratewarden.toml")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"check", "-bogus"},
		{"check", "extra"},
		{"explain", "GET"},
		{"explain", "-H", "no colon", "GET", "/"},
		{"explain", "-H", "X-A\r\n: b", "GET", "/"},
		{"explain", "-H", "X-A: b\r\nX-B: c", "GET", "/"},
		{"explain", "GET", "relative/path"},
		{"explain", "", "/x"},
		{"explain", "-remote", "not-an-ip", "GET", "/"},
		{"status"},
		{"reset", "-tier", "premium", "-client", "ip:203.0.113.7"},
	} {
		r := runCLI(t, nil, args...)
		assert.Equalf(t, exitUsage, r.code, "%q: %s", args, r.stderr)
		assert.NotEmptyf(t, r.stderr, "%q", args)
	}
	r := runCLI(t, nil, "check", "-h")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "usage: ratewarden check")
	r = runCLI(t, nil, "help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "usage: ratewarden <command>")
}

// The exit statuses of the real process, for a deploy pipeline.
func TestCheckProcess(t *testing.T) {
	dir := t.TempDir()
	valid := writeConfig(t, validConfig)
	invalid := writeConfig(t, "[default]\nlimit = -1\nwindow = \"1m\"\n")

	r := runProcess(t, dir, nil, "check", "-config", valid)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, ": valid (")

	r = runProcess(t, dir, []string{"RATELIMIT_XYZZY=1"}, "check", "-config", invalid)
	assert.Equal(t, exitFailure, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "warning: unknown environment variable RATELIMIT_XYZZY ignored\ndefault.limit: must be ≥ 1, got -1\n", r.stderr)

	r = runProcess(t, dir, nil, "check", "-config")
	assert.Equal(t, exitUsage, r.code)
}
