package consumertest_test

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/tools/consumertest"
	"github.com/ratewarden/ratewarden/tools/modset"
)

// programs are the consumer programs of testdata/consumer, one per adapter: each serves
// one route limited to one request a minute and prints the statuses of two requests.
var programs = []struct{ dir, name string }{
	{"gin", "gin"},
	{"echo", "echo"},
	{"chi", "chi"},
	{"nethttp", "net/http"},
	{"redisprom", "redis+prometheus"},
}

// TestGoGetFromAProxy installs the released modules as a user does, from a module proxy,
// with the README's own go get lines, into a module outside the repository that has no
// go.work and no replace, then builds and runs one program per adapter: 200, then 429.
// The README's go install line of the ratewarden command installs it from the same proxy
// (go install refuses a module with replace lines), and the binary runs.
// It fails when a go.mod requires a sibling at a version the proxy does not serve (the
// v0.0.0-00010101000000-000000000000 placeholder, say).
func TestGoGetFromAProxy(t *testing.T) {
	if testing.Short() {
		// make test runs it (without -short); make cover's report of the tools module
		// uses -short to leave out its few minutes of module builds.
		t.Skip("builds a consumer module per adapter from a file proxy (minutes)")
	}
	root, err := modset.FindRoot(".")
	require.NoError(t, err)
	set, err := modset.Load(root)
	require.NoError(t, err)
	tmp := t.TempDir()

	proxy := filepath.Join(tmp, "proxy")
	served, err := consumertest.WriteProxy(set, proxy)
	require.NoError(t, err)
	for _, mv := range served {
		t.Logf("file proxy serves %s@%s", mv.Path, mv.Version)
	}

	// The consumer module: testdata/consumer under a go.mod of its own, in no workspace.
	consumer := filepath.Join(tmp, "consumer")
	require.NoError(t, os.CopyFS(consumer, os.DirFS("testdata/consumer")))
	require.NoError(t, os.WriteFile(filepath.Join(consumer, "go.mod"), []byte("module consumer\n\ngo "+set.GoVersion+"\n"), 0o644))

	// A module cache of its own, so that the file proxy's modules never reach the shared
	// one (where a later run would find them instead of the working tree's); third-party
	// modules come from the shared cache's download directory, else the usual proxy.
	shared := goEnv(t, "GOMODCACHE")
	env := append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(shared, "cache", "download")+","+goEnv(t, "GOPROXY"),
		"GONOSUMDB="+modset.PathPrefix, // not in the checksum database: served by our file proxy
		"GOPRIVATE=", "GONOPROXY=",
		"GOTOOLCHAIN=local",
	)
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = consumer, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
		return string(out)
	}

	gets := installLines(t, root)
	for _, m := range set.Published() {
		assert.Containsf(t, strings.Join(gets, "\n"), m.Path+"@"+set.Version, "the README's Install section does not go get %s at %s", m.Dir, set.Version)
	}
	env = append(env, "GOBIN="+filepath.Join(tmp, "gobin"))
	for _, line := range gets {
		t.Logf("$ %s", line)
		for l := range strings.Lines(run("go", strings.Fields(line)[1:]...)) {
			if strings.Contains(l, modset.PathPrefix) {
				t.Logf("  %s", strings.TrimSpace(l))
			}
		}
	}
	// Every version of a sibling that any go.mod of the graph requires must be served too,
	// not only those minimal version selection picks: a placeholder require that a higher
	// one happens to mask today breaks the users whose graph does not hold the higher one.
	required := map[string]bool{}
	for line := range strings.Lines(run("go", "mod", "graph")) {
		if _, to, _ := strings.Cut(strings.TrimSpace(line), " "); strings.HasPrefix(to, modset.PathPrefix+"/") {
			required[to] = true
		}
	}
	t.Logf("$ go mod download: the %d versions of the set's modules that the graph requires", len(required))
	run("go", append([]string{"mod", "download"}, slices.Sorted(maps.Keys(required))...)...)
	for line := range strings.Lines(run("go", "list", "-m", "-f", "{{.Path}} {{.Version}} {{.Replace}}", "all")) {
		if path, rest, _ := strings.Cut(strings.TrimSpace(line), " "); strings.HasPrefix(path, modset.PathPrefix+"/") {
			assert.Equalf(t, set.Version+" <nil>", rest, "%s in the consumer's build list", path)
		}
	}

	// go install of the command, from the same proxy, outside any module: the binary
	// checks a configuration.
	cli := filepath.Join(tmp, "gobin", "ratewarden")
	cfg := filepath.Join(tmp, "ratewarden.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("[default]\nlimit = 5\nwindow = \"1m\"\n"), 0o644))
	out := run(cli, "check", "-config", cfg)
	assert.Equal(t, cfg+": valid (backend memory, algorithm token_bucket, mode enforce, 0 endpoint rules)\n", out)

	redis := redistest.StartServer(t)
	env = append(env, "REDIS_ADDR="+redis.Addr())
	for _, p := range programs {
		bin := filepath.Join(tmp, "bin", p.dir)
		run("go", "build", "-trimpath", "-o", bin, "./"+p.dir)
		out := run(bin)
		t.Logf("%s", strings.TrimSpace(out))
		assert.Contains(t, out, p.name+": GET /hello → 200")
		assert.Contains(t, out, p.name+": GET /hello → 429")
	}
}

// installLines returns the go get and go install lines of the README's Install section.
func installLines(t *testing.T, root string) []string {
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(data), "\n## Install\n")
	require.True(t, ok, "README.md has no Install section")
	section, _, _ = strings.Cut(section, "\n## ")
	var gets []string
	for line := range strings.Lines(section) {
		if strings.HasPrefix(line, "go get ") || strings.HasPrefix(line, "go install ") {
			gets = append(gets, strings.TrimSpace(line))
		}
	}
	require.NotEmpty(t, gets, "no go get line in the README's Install section")
	return gets
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}
