package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/configfile"
)

// statusConfig counts with sliding windows, whose state does not change with time within
// a window (a token bucket would refill while a slow test runs).
const statusConfig = `
backend   = "redis"
algorithm = "sliding_window"
[default]
limit  = 3
window = "1m"
[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
limit   = 2
window  = "1m"
  [endpoints.tiers.premium]
  limit  = 20
  window = "1m"
[penalty]
enabled   = true
threshold = 1
[jwt]                   # the premium tier comes from verified tokens
enabled = true
secret  = "status-test-secret-of-32-bytes-or-more"
[admin]
token = "admin-token-for-the-status-test"
`

// app is an application limiter on the same Redis as the command, and its admin
// endpoints: what the command must agree with.
type app struct {
	lim   *core.Limiter
	admin http.Handler
}

func newApp(t *testing.T, path string, environ []string) *app {
	t.Helper()
	if environ == nil {
		environ = []string{}
	}
	src := configfile.Source{Path: path, Environ: environ}
	cfg, err := src.Load()
	require.NoError(t, err)
	lim, err := core.New(cfg, core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })
	return &app{lim: lim, admin: httplimit.NewAdmin(lim, src.Load)}
}

// request decides n requests of method target from ip.
func (a *app) request(t *testing.T, n int, method, target, ip string) {
	t.Helper()
	for range n {
		req := httptest.NewRequest(method, target, nil)
		req.RemoteAddr = ip + ":4000"
		var d core.Decision
		a.lim.Decide(core.Input{Request: req}, &d)
		require.NoError(t, d.Err)
	}
}

// adminStatus is GET /admin/limits?<query>, as the app answers it.
func (a *app) adminStatus(t *testing.T, query string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/admin/limits?"+query, nil)
	req.Header.Set("Authorization", "Bearer admin-token-for-the-status-test")
	rec := httptest.NewRecorder()
	a.admin.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

// withoutTimes decodes a status and zeroes the reset times, which depend on the instant
// each was read at, and makes a cooldown left 1 (counting down from 60 s).
func withoutTimes(t *testing.T, body string) core.ClientStatus {
	t.Helper()
	var st core.ClientStatus
	require.NoError(t, json.Unmarshal([]byte(body), &st), body)
	for i := range st.Rules {
		if p := &st.Rules[i].Penalty; p.Cooldown > 0 {
			assert.InDelta(t, 55, p.Cooldown, 5, "cooldown left")
			p.Cooldown = 1
		}
		for j := range st.Rules[i].Windows {
			w := &st.Rules[i].Windows[j]
			assert.InDelta(t, time.Now().Unix(), w.Reset, 61, "reset %d", w.Reset)
			w.Reset = 0
		}
	}
	return st
}

func TestStatusAndResetAgainstRedis(t *testing.T) {
	srv := redistest.StartServer(t)
	path := writeConfig(t, statusConfig+"[redis]\naddrs = [\""+srv.Addr()+"\"]\n")
	a := newApp(t, path, nil)
	a.request(t, 2, "GET", "/api/v1/test", "203.0.113.7")
	a.request(t, 3, "POST", "/api/v1/compute", "203.0.113.7") // the third is denied: one violation, a cooldown
	a.request(t, 1, "GET", "/", "198.51.100.1")

	// The JSON of GET /admin/limits, every rule and one.
	for _, q := range []struct {
		args  []string
		query string
	}{
		{nil, "client=ip:203.0.113.7"},
		{[]string{"-rule", "compute"}, "client=ip:203.0.113.7&rule=compute"},
		{[]string{"-rule", "compute", "-tier", "premium"}, "client=ip:203.0.113.7&rule=compute&tier=premium"},
	} {
		r := runCLI(t, nil, append([]string{"status", "-json", "-config", path, "-client", "ip:203.0.113.7"}, q.args...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		assert.Equal(t, withoutTimes(t, a.adminStatus(t, q.query)), withoutTimes(t, r.stdout), q.query)
		assert.True(t, strings.HasSuffix(r.stdout, "}\n"), "one JSON document and a newline, as the endpoint writes it")
	}
	got := withoutTimes(t, runCLI(t, nil, "status", "-json", "-config", path, "-client", "ip:203.0.113.7").stdout)
	assert.Equal(t, core.ClientStatus{Client: "ip:203.0.113.7", Rules: []core.RuleStatus{
		{Rule: "default", Windows: []core.WindowStatus{{Limit: 3, Window: 60, Remaining: 1}}},
		{Rule: "compute", Windows: []core.WindowStatus{{Limit: 2, Window: 60, Remaining: 0}}, Penalty: core.PenaltyStatus{Cooldown: 1, Violations: 1}},
	}}, got)

	// A tier no rule configures: the rule's own limits, and a note on stderr.
	r := runCLI(t, nil, "status", "-json", "-config", path, "-client", "ip:203.0.113.7", "-rule", "compute", "-tier", "Premium")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, `no rule configures tier "Premium"`)
	assert.Equal(t, withoutTimes(t, a.adminStatus(t, "client=ip:203.0.113.7&rule=compute")), withoutTimes(t, r.stdout))

	// The human form.
	r = runCLI(t, nil, "status", "-config", path, "-client", "ip:203.0.113.7", "-rule", "compute")
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(r.stdout, "\n")
	require.Len(t, lines, 5, r.stdout)
	assert.Equal(t, "client ip:203.0.113.7", lines[0])
	assert.Equal(t, "rule compute", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "  2 per 60s: 0 remaining, full again at "), lines[2])
	assert.Regexp(t, `^  penalty: cooldown \d+s left, 1 violation$`, lines[3])

	// reset of one rule, as a real process; the other rule and client keep their state.
	p := runProcess(t, t.TempDir(), nil, "reset", "-config", path, "-client", "ip:203.0.113.7", "-rule", "compute")
	require.Equal(t, exitOK, p.code, p.stderr)
	assert.Equal(t, "reset ip:203.0.113.7 under rule compute\n", p.stdout)
	got = withoutTimes(t, a.adminStatus(t, "client=ip:203.0.113.7"))
	assert.Equal(t, int64(1), got.Rules[0].Windows[0].Remaining, "default untouched")
	assert.Equal(t, core.RuleStatus{Rule: "compute", Windows: []core.WindowStatus{{Limit: 2, Window: 60, Remaining: 2}}}, got.Rules[1])

	// reset of every rule.
	r = runCLI(t, nil, "reset", "-config", path, "-client", "ip:203.0.113.7")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, int64(3), withoutTimes(t, a.adminStatus(t, "client=ip:203.0.113.7")).Rules[0].Windows[0].Remaining)
	assert.Equal(t, int64(2), withoutTimes(t, a.adminStatus(t, "client=ip:198.51.100.1")).Rules[0].Windows[0].Remaining, "another client untouched")
}

func TestStatusErrors(t *testing.T) {
	srv := redistest.StartServer(t)
	path := writeConfig(t, statusConfig+"[redis]\naddrs = [\""+srv.Addr()+"\"]\n")

	r := runCLI(t, nil, "status", "-config", path, "-client", "203.0.113.7")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "invalid client")

	r = runCLI(t, nil, "reset", "-config", path, "-client", "ip:203.0.113.7", "-rule", "nope")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `unknown rule "nope": the rules are default, compute`)

	// The memory backend is refused: its counters live in the app processes.
	r = runCLI(t, []string{"RATELIMIT_BACKEND=memory"}, "status", "-config", path, "-client", "ip:203.0.113.7")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, `backend is "memory"`)
	assert.Empty(t, r.stdout)

	// Redis down: a failure, never the status of an empty fallback, whatever fail_mode says.
	for _, mode := range []config.FailMode{config.FailOpen, config.FailClosed, config.FailLocal} {
		down := writeConfig(t, "fail_mode = \""+string(mode)+"\"\n"+statusConfig+"[redis]\naddrs = [\"127.0.0.1:1\"]\ndial_timeout = \"50ms\"\n")
		r = runCLI(t, nil, "status", "-config", down, "-client", "ip:203.0.113.7")
		assert.Equal(t, exitFailure, r.code, mode)
		assert.Contains(t, r.stderr, "ratewarden status: ", mode)
		assert.Empty(t, r.stdout, mode)
		r = runCLI(t, nil, "reset", "-config", down, "-client", "ip:203.0.113.7")
		assert.Equal(t, exitFailure, r.code, mode)
		assert.Empty(t, r.stdout, mode)
	}
}
