// The example apps, each started as a real process on a free port and exercised over real
// HTTP: the same cases for gin, echo and chi (SPEC section 8).
package examples_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/examples/internal/proc"
)

var apps = []string{"gin", "echo", "chi"}

// binaries maps each app to the binary TestMain built.
var binaries = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ratewarden-examples")
	if err != nil {
		panic(err)
	}
	for _, app := range apps {
		if binaries[app], err = proc.Build(dir, "./"+app); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// forEachApp runs test as a parallel subtest per app.
func forEachApp(t *testing.T, test func(t *testing.T, bin string)) {
	for _, app := range apps {
		t.Run(app, func(t *testing.T) {
			t.Parallel()
			test(t, binaries[app])
		})
	}
}

func start(t *testing.T, bin string, env []string, args ...string) *proc.Server {
	t.Helper()
	srv, err := proc.Start(bin, env, args...)
	require.NoError(t, err)
	t.Cleanup(func() {
		if code, err := srv.Stop(); err == nil {
			assert.Equal(t, 0, code, "graceful exit; stderr:\n%s", srv.Stderr())
		}
	})
	return srv
}

type response struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, method, url string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

func get(t *testing.T, url string) response { return send(t, http.MethodGet, url, nil) }

func writeConfig(t *testing.T, toml string) string {
	t.Helper()
	return writeFile(t, "ratewarden.toml", toml)
}

// writeFile writes content to a file named name in a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestDefaultsLimitTheHundredAndFirstRequest(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		// The built-in defaults, but with the exact sliding log instead of the token
		// bucket: a bucket of 100 a minute gives a token back every 0.6 s, and a real
		// process cannot be given a test clock, so on a loaded machine the counts below
		// would depend on how long the 101 requests took.
		srv := start(t, bin, []string{"RATELIMIT_ALGORITHM=sliding_window"})
		for i := 1; i <= 100; i++ {
			r := get(t, srv.URL+"/api/v1/test")
			require.Equal(t, 200, r.status, "request %d", i)
			require.Equal(t, fmt.Sprint(100-i), r.header.Get("X-RateLimit-Remaining"))
		}
		r := get(t, srv.URL+"/api/v1/test")
		assert.Equal(t, 429, r.status)
		assert.NotEmpty(t, r.header.Get("Retry-After"))
		assert.Equal(t, `"default";q=100;w=60`, r.header.Get("RateLimit-Policy"))
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &body))
		assert.Equal(t, "rate_limit_exceeded", body["error"])
		assert.Equal(t, 100.0, body["limit"])

		health := get(t, srv.URL+"/health")
		assert.Equal(t, 429, health.status, "/health shares the default counter")

		metrics := get(t, srv.URL+"/metrics")
		assert.Equal(t, 200, metrics.status, "/metrics is not limited")
		assert.Empty(t, metrics.header.Get("X-RateLimit-Limit"), "/metrics shows no limit")
		assert.Contains(t, metrics.body, `ratelimit_requests_total{decision="denied",rule="default",tier="anonymous"} 2`)

		assert.Contains(t, srv.Stderr(), `"msg":"rate_limit_exceeded"`, "denials are logged as JSON on stderr")
		assert.NotContains(t, srv.Stderr(), `"level":"INFO","msg":"request`, "no access log above debug")
	})
}

func TestRoutesAndRules(t *testing.T) {
	cfg := `
[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
methods = ["POST"]
windows = [{limit = 2, window = "1m"}, {limit = 100, window = "1h"}]

[[endpoints]]
name    = "users"
pattern = "/api/v1/users/{id}"
limit   = 3
window  = "1m"
`
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, nil, "-config", writeConfig(t, cfg))

		r := send(t, http.MethodPost, srv.URL+"/api/v1/compute", nil)
		assert.Equal(t, 200, r.status)
		assert.Equal(t, `"compute";q=2;w=60,"compute-3600";q=100;w=3600`, r.header.Get("RateLimit-Policy"))
		send(t, http.MethodPost, srv.URL+"/api/v1/compute", nil)
		assert.Equal(t, 429, send(t, http.MethodPost, srv.URL+"/api/v1/compute", nil).status)
		assert.Equal(t, "99", get(t, srv.URL+"/api/v1/compute").header.Get("X-RateLimit-Remaining"), "GET compute falls to the default rule")

		for i, id := range []string{"1", "2", "abc"} {
			u := get(t, srv.URL+"/api/v1/users/"+id)
			require.Equal(t, 200, u.status)
			assert.JSONEq(t, `{"id":"`+id+`"}`, u.body)
			assert.Equal(t, fmt.Sprint(2-i), u.header.Get("X-RateLimit-Remaining"), "every id shares the users rule")
		}
		assert.Equal(t, 429, get(t, srv.URL+"/api/v1/users/4").status)

		e := get(t, srv.URL+"/api/v1/error")
		assert.Equal(t, 500, e.status)
		assert.Equal(t, "100", e.header.Get("X-RateLimit-Limit"), "headers on a 500 from the handler")
	})
}

func TestAdminReload(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		noToken := start(t, bin, nil)
		assert.Equal(t, 404, send(t, http.MethodPost, noToken.URL+"/admin/reload", nil).status, "off without admin.token")

		path := writeConfig(t, "[admin]\ntoken = \"s3cret\"\n[default]\nlimit = 5\n")
		srv := start(t, bin, nil, "-config", path)
		bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
		assert.Equal(t, 401, send(t, http.MethodPost, srv.URL+"/admin/reload", nil).status)
		assert.Equal(t, 401, send(t, http.MethodPost, srv.URL+"/admin/reload", bearer("wrong")).status)

		get(t, srv.URL+"/api/v1/test")
		require.NoError(t, os.WriteFile(path, []byte("[admin]\ntoken = \"s3cret\"\n[default]\nlimit = 50\n"), 0o600))
		ok := send(t, http.MethodPost, srv.URL+"/admin/reload", bearer("s3cret"))
		assert.Equal(t, 200, ok.status)
		assert.JSONEq(t, `{"status":"reloaded"}`, ok.body)
		r := get(t, srv.URL+"/api/v1/test")
		assert.Equal(t, "50", r.header.Get("X-RateLimit-Limit"))
		assert.Equal(t, "48", r.header.Get("X-RateLimit-Remaining"), "the counter survived the reload")

		require.NoError(t, os.WriteFile(path, []byte("[admin]\ntoken = \"s3cret\"\n[default]\nlimit = -1\n"), 0o600))
		bad := send(t, http.MethodPost, srv.URL+"/admin/reload", bearer("s3cret"))
		assert.Equal(t, 422, bad.status)
		assert.Contains(t, bad.body, "default.limit")
		assert.Equal(t, "50", get(t, srv.URL+"/api/v1/test").header.Get("X-RateLimit-Limit"), "the old configuration stays")

		// A TOML syntax error is a problem of the file too: 422, naming its line and column.
		require.NoError(t, os.WriteFile(path, []byte("[admin]\ntoken = \"s3cret\"\n[default]\nlimit = 5\nwindow = \"1m\n"), 0o600))
		syntax := send(t, http.MethodPost, srv.URL+"/admin/reload", bearer("s3cret"))
		assert.Equal(t, 422, syntax.status)
		assert.JSONEq(t, `{"error":"invalid_configuration","problems":["`+path+`:5:13: toml: basic strings cannot have new lines"]}`, syntax.body)
		assert.Equal(t, "50", get(t, srv.URL+"/api/v1/test").header.Get("X-RateLimit-Limit"), "the old configuration stays")
		assert.Empty(t, syntax.header.Get("X-RateLimit-Limit"), "the admin endpoints are not rate limited")
	})
}

func TestAdminLocksOutAfterFiveFailedAttempts(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, nil, "-config", writeConfig(t, "[admin]\ntoken = \"s3cret\"\n"))
		for i := range 5 {
			r := send(t, http.MethodPost, srv.URL+"/admin/reload", http.Header{"Authorization": {"Bearer guess-" + fmt.Sprint(i)}})
			require.Equal(t, 401, r.status, "attempt %d", i+1)
		}
		// Locked out for a minute, the right token included.
		r := send(t, http.MethodPost, srv.URL+"/admin/reload", http.Header{"Authorization": {"Bearer s3cret"}})
		assert.Equal(t, 429, r.status)
		retry, err := strconv.Atoi(r.header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After %q", r.header.Get("Retry-After"))
		assert.True(t, retry >= 1 && retry <= 60, "Retry-After %d", retry)
		assert.JSONEq(t, `{"error":"too_many_failed_attempts"}`, r.body)
		assert.Equal(t, 200, get(t, srv.URL+"/api/v1/test").status, "the API is not affected")
	})
}

// TestUnroutedRequestsAreDecidedLikeAnyOther: the 404 and 405 the routers answer count
// against the client's default counter and carry the headers, the same in every app.
func TestUnroutedRequestsAreDecidedLikeAnyOther(t *testing.T) {
	cfg := `
[default]
limit = 4

[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
methods = ["GET"]
limit   = 1
window  = "1m"
`
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, nil, "-config", writeConfig(t, cfg))
		steps := []struct {
			method, path string
			status       int
		}{
			{http.MethodGet, "/no-such-route", 404},
			{http.MethodPost, "/api/v1/test", 405},
			{http.MethodDelete, "/api/v1/users/1", 405},
			{http.MethodGet, "/api/v1/test", 200},
		}
		for i, st := range steps {
			r := send(t, st.method, srv.URL+st.path, nil)
			require.Equal(t, st.status, r.status, "%s %s", st.method, st.path)
			assert.Equal(t, fmt.Sprint(3-i), r.header.Get("X-RateLimit-Remaining"), "%s %s", st.method, st.path)
			assert.Equal(t, `"default";q=4;w=60`, r.header.Get("RateLimit-Policy"))
		}
		assert.Equal(t, 429, get(t, srv.URL+"/no-such-route").status)
		assert.Equal(t, 429, get(t, srv.URL+"/health").status, "the 404s and 405s spent the default counter")

		// HEAD is decided under the GET rule.
		head := send(t, http.MethodHead, srv.URL+"/api/v1/compute", nil)
		assert.NotEqual(t, 429, head.status)
		assert.Equal(t, `"compute";q=1;w=60`, head.header.Get("RateLimit-Policy"))
		assert.Equal(t, 429, get(t, srv.URL+"/api/v1/compute").status, "GET shares the counter HEAD spent")

		// A path the skipper would skip once decoded, but that echo and chi route as sent
		// (a 404), is limited like any other request.
		for _, path := range []string{"/%6detrics", "/admin%2Freload"} {
			r := get(t, srv.URL+path)
			assert.Equal(t, 429, r.status, "%s: the default counter is spent", path)
			assert.NotEmpty(t, r.header.Get("X-RateLimit-Limit"), path)
		}

		metrics := get(t, srv.URL+"/metrics")
		assert.Equal(t, 200, metrics.status)
		assert.Empty(t, metrics.header.Get("X-RateLimit-Limit"))
	})
}

func TestSIGHUPReloadsTheFile(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		path := writeConfig(t, "[default]\nlimit = 5\n")
		srv := start(t, bin, nil, "-config", path)
		require.Equal(t, "5", get(t, srv.URL+"/api/v1/test").header.Get("X-RateLimit-Limit"))
		require.NoError(t, os.WriteFile(path, []byte("[default]\nlimit = 7\n"), 0o600))
		require.NoError(t, srv.Signal(syscall.SIGHUP))
		require.Eventually(t, func() bool { return strings.Contains(srv.Stderr(), `"msg":"config_reloaded"`) }, 20*time.Second, 10*time.Millisecond)
		assert.Equal(t, "7", get(t, srv.URL+"/api/v1/test").header.Get("X-RateLimit-Limit"))
	})
}

func TestEnvironmentOverrides(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, []string{"RATELIMIT_DEFAULT_LIMIT=3"})
		for i := 0; i < 3; i++ {
			require.Equal(t, 200, get(t, srv.URL+"/api/v1/test").status)
		}
		assert.Equal(t, 429, get(t, srv.URL+"/api/v1/test").status)
	})
}

func TestAnInvalidConfigurationExitsWithTheProblems(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		path := writeConfig(t, "mode = \"loud\"\n[[endpoints]]\npattern = \"/x\"\nlimit = 10\nwindow = \"0s\"\n")
		code, stderr := proc.Run(bin, nil, "-config", path)
		assert.NotEqual(t, 0, code)
		assert.Contains(t, stderr, "mode:")
		assert.Contains(t, stderr, "endpoints[0].window")
	})
}

func TestInstancesShareLimitsThroughRedis(t *testing.T) {
	server := redistest.StartServer(t)
	env := []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_ADDRS=" + server.Addr(), "RATELIMIT_DEFAULT_LIMIT=10"}
	a := start(t, binaries["gin"], env)
	b := start(t, binaries["chi"], env)
	allowed := 0
	for i := 0; i < 20; i++ {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		if get(t, srv.URL+"/api/v1/test").status == 200 {
			allowed++
		}
	}
	assert.Equal(t, 10, allowed, "two instances, one limit")
}

// Loading's warnings are records of the JSON log, like every line the apps write to stderr
// (SPEC section 8), naming the variable (SPEC section 4).
func TestConfigWarningsAreJSONLogRecords(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, []string{"RATELIMIT_FAIL_MOD=closed"})
		var warnings []string
		for _, line := range strings.Split(strings.TrimSpace(srv.Stderr()), "\n") {
			var rec struct{ Level, Msg, Warning string }
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "every stderr line is JSON: %q", line)
			if rec.Msg == "config_warning" {
				assert.Equal(t, "WARN", rec.Level)
				warnings = append(warnings, rec.Warning)
			}
		}
		assert.Equal(t, []string{`unknown environment variable RATELIMIT_FAIL_MOD ignored (did you mean "RATELIMIT_FAIL_MODE"?)`}, warnings)
	})
}
