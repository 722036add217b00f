package httplimit_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// limitsServer is an app limited by lim (default 3 a minute, compute 2 a minute with a
// premium tier) and its admin endpoints, on a clock of the test's.
type limitsServer struct {
	api, admin http.Handler
	clock      *adaptertest.Clock
}

func newLimitsServer(t *testing.T, store rate.Store) *limitsServer {
	t.Helper()
	cfg := config.Config{
		Admin:   config.AdminConfig{Token: "s3cret"},
		Default: config.Limits{Limit: 3, Window: time.Minute},
		Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/compute", Limits: config.Limits{Limit: 2, Window: time.Minute},
			Tiers: map[string]config.Limits{"premium": {Limit: 20, Window: time.Minute}}}},
	}
	s := &limitsServer{clock: adaptertest.NewClock()}
	lim, err := core.New(cfg, core.WithStore(store), core.WithClock(s.clock.Now), core.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	s.api = httplimit.Middleware(lim)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	s.admin = httplimit.NewAdmin(lim, func() (config.Config, error) { return cfg, nil }, httplimit.WithAdminClock(s.clock.Now))
	return s
}

func TestAdminLimits(t *testing.T) {
	t.Parallel()
	s := newLimitsServer(t, adaptertest.NewStore())
	for range 4 {
		adaptertest.Serve(s.api, http.MethodGet, "/test", "203.0.113.7:1")
	}
	adaptertest.Serve(s.api, http.MethodGet, "/compute", "203.0.113.7:1")
	reset := adaptertest.Base.Add(time.Minute).Unix()
	computeReset := adaptertest.Base.Add(30 * time.Second).Unix()

	rec := adaptertest.Serve(s.admin, http.MethodGet, "/admin/limits?client=ip:203.0.113.7", "198.51.100.1:1", bearer("s3cret")...)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, fmt.Sprintf(`{"client":"ip:203.0.113.7","rules":[
		{"rule":"default","windows":[{"limit":3,"window":60,"remaining":0,"reset":%d}],"penalty":{"cooldown":0,"violations":0}},
		{"rule":"compute","windows":[{"limit":2,"window":60,"remaining":1,"reset":%d}],"penalty":{"cooldown":0,"violations":0}}]}`, reset, computeReset), rec.Body.String())

	rec = adaptertest.Serve(s.admin, http.MethodGet, "/admin/limits?client=ip:203.0.113.7&rule=compute&tier=premium", "198.51.100.1:1", bearer("s3cret")...)
	assert.JSONEq(t, fmt.Sprintf(`{"client":"ip:203.0.113.7","rules":[
		{"rule":"compute","windows":[{"limit":20,"window":60,"remaining":19,"reset":%d}],"penalty":{"cooldown":0,"violations":0}}]}`, computeReset), rec.Body.String())
	assert.Equal(t, "0", adaptertest.Serve(s.api, http.MethodGet, "/test", "203.0.113.7:1").Header().Get("X-RateLimit-Remaining"), "GET consumed nothing")

	rec = adaptertest.Serve(s.admin, http.MethodDelete, "/admin/limits?client=ip:203.0.113.7&rule=default", "198.51.100.1:1", bearer("s3cret")...)
	assert.Equal(t, 204, rec.Code)
	assert.Empty(t, rec.Body.String())
	api := adaptertest.Serve(s.api, http.MethodGet, "/test", "203.0.113.7:1")
	assert.Equal(t, 200, api.Code)
	assert.Equal(t, "2", api.Header().Get("X-RateLimit-Remaining"), "the default counter was reset")
	assert.Equal(t, "0", adaptertest.Serve(s.api, http.MethodGet, "/compute", "203.0.113.7:1").Header().Get("X-RateLimit-Remaining"), "compute was not")

	assert.Equal(t, 204, adaptertest.Serve(s.admin, http.MethodDelete, "/admin/limits?client=ip:203.0.113.7", "198.51.100.1:1", bearer("s3cret")...).Code)
	assert.Equal(t, "1", adaptertest.Serve(s.api, http.MethodGet, "/compute", "203.0.113.7:1").Header().Get("X-RateLimit-Remaining"), "every rule was reset")
}

func TestAdminLimitsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		header               []string
		down                 bool
		status               int
		body                 string
	}{
		{"no token", "GET", "/admin/limits?client=ip:203.0.113.7", nil, false, 401, `{"error":"unauthorized"}`},
		{"wrong token", "DELETE", "/admin/limits?client=ip:203.0.113.7", bearer("nope"), false, 401, `{"error":"unauthorized"}`},
		{"no client", "GET", "/admin/limits", bearer("s3cret"), false, 400,
			`{"error":"invalid_client","message":"ratewarden: invalid client \"\": want ip:<address>, user:<id>, key:<id> or global"}`},
		{"malformed client", "DELETE", "/admin/limits?client=ip:nope", bearer("s3cret"), false, 400,
			`{"error":"invalid_client","message":"ratewarden: invalid client \"ip:nope\": want an IP address (ip:203.0.113.7) or an IPv6 prefix of at least 64 bits (ip:2001:db8:1:2::/64)"}`},
		{"unknown rule", "GET", "/admin/limits?client=user:alice&rule=nope", bearer("s3cret"), false, 404,
			`{"error":"unknown_rule","message":"ratewarden: unknown rule \"nope\": the rules are default, compute"}`},
		{"unknown rule, reset", "DELETE", "/admin/limits?client=user:alice&rule=nope", bearer("s3cret"), false, 404, ""},
		{"another method", "PUT", "/admin/limits?client=user:alice", bearer("s3cret"), false, 405, `{"error":"method_not_allowed"}`},
		{"backend down", "GET", "/admin/limits?client=user:alice", bearer("s3cret"), true, 503,
			`{"error":"rate_limit_unavailable","message":"The rate-limit backend is unavailable; retry later."}`},
		{"backend down, reset", "DELETE", "/admin/limits?client=user:alice", bearer("s3cret"), true, 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var store rate.Store = adaptertest.NewStore()
			if tt.down {
				store = adaptertest.DownStore{}
			}
			s := newLimitsServer(t, store)
			rec := adaptertest.Serve(s.admin, tt.method, tt.target, "198.51.100.1:1", tt.header...)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.body != "" {
				assert.JSONEq(t, tt.body, rec.Body.String())
			}
			switch tt.status {
			case 405:
				assert.Equal(t, "DELETE, GET", rec.Header().Get("Allow"))
			case 503:
				assert.Equal(t, "1", rec.Header().Get("Retry-After"))
			}
		})
	}
}

// TestAdminLimitsShareTheLockout: failed attempts on /admin/limits and /admin/reload count
// together, and a locked-out address gets neither, the right token included.
func TestAdminLimitsShareTheLockout(t *testing.T) {
	t.Parallel()
	s := newLimitsServer(t, adaptertest.NewStore())
	const attacker = "203.0.113.66:1"
	for i := range 5 {
		method, target := http.MethodGet, "/admin/limits?client=ip:203.0.113.7"
		switch i % 3 {
		case 1:
			method = http.MethodDelete
		case 2:
			method, target = http.MethodPost, "/admin/reload"
		}
		require.Equal(t, 401, adaptertest.Serve(s.admin, method, target, attacker, bearer("guess")...).Code, "attempt %d", i+1)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		rec := adaptertest.Serve(s.admin, method, "/admin/limits?client=ip:203.0.113.7", attacker, bearer("s3cret")...)
		assert.Equal(t, 429, rec.Code, method)
		assert.Equal(t, "60", rec.Header().Get("Retry-After"))
	}
	assert.Equal(t, 429, adaptertest.Serve(s.admin, http.MethodPost, "/admin/reload", attacker, bearer("s3cret")...).Code)
	assert.Equal(t, 200, adaptertest.Serve(s.admin, http.MethodGet, "/admin/limits?client=ip:203.0.113.7", "198.51.100.1:1", bearer("s3cret")...).Code, "another address is not locked out")
	s.clock.Advance(time.Minute)
	assert.Equal(t, 204, adaptertest.Serve(s.admin, http.MethodDelete, "/admin/limits?client=ip:203.0.113.7", attacker, bearer("s3cret")...).Code)
}
