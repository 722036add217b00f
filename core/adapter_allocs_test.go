//go:build !race

package core_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestGateAllocs: deciding a request, keeping its decision in the request context and
// setting its headers cost one allocation, which holds the decision with its context and
// header values and the request copy that carries the context.
func TestGateAllocs(t *testing.T) {
	h := newHarness(t, config.Config{})
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users/42", nil)
	req.RemoteAddr = "203.0.113.7:41000"
	header := http.Header{}
	h.lim.Gate(core.Input{Request: req}, header) // the store's first sight of the key allocates
	allocs := testing.AllocsPerRun(100, func() {
		h.lim.Gate(core.Input{Request: req, Route: "/api/v1/users/{id}"}, header)
	})
	assert.Equal(t, 1.0, allocs)
}

// TestDeniedGateAllocs: a denial costs one allocation more than an admission, the store's
// whole answer that its 429 body, log and Retry-After read (Decision.denial), 160 bytes:
// an admitted request carries only its binding window's state.
func TestDeniedGateAllocs(t *testing.T) {
	h := newHarness(t, config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}},
		core.WithLogger(slog.New(slog.DiscardHandler))) // the denial log allocates on its own
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users/42", nil)
	header := http.Header{}
	h.lim.Gate(core.Input{Request: req}, header)
	allocs := testing.AllocsPerRun(100, func() {
		_, d := h.lim.Gate(core.Input{Request: req}, header)
		require.Equal(t, core.Denied, d.Outcome)
	})
	assert.Equal(t, 2.0, allocs)
}

// TestSkippedAllocs: marking a request a skipper let through costs one allocation, which
// holds the context and the request copy; the decided path is TestGateAllocs's.
func TestSkippedAllocs(t *testing.T) {
	h := newHarness(t, config.Config{})
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	allocs := testing.AllocsPerRun(100, func() { h.lim.Skipped(req) })
	assert.Equal(t, 1.0, allocs)
}

// TestGateAllocsInEachPathView: a path sent with escapes of its own (RawPath set) costs
// one allocation more, url.URL.EscapedPath's check that RawPath encodes Path; reading it as
// the router does (segments unescaped or raw) allocates nothing more, and the decoded path
// (gin) needs no EscapedPath at all.
func TestGateAllocsInEachPathView(t *testing.T) {
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{endpoint("users", "/api/v1/users/{id}", 1000)}})
	header := http.Header{}
	for _, c := range []struct {
		path string
		view core.PathView
		want float64
	}{
		{"/api/v1/users/a%2Fb", core.PathSegmentsUnescaped, 2},
		{"/api/v1/users/%6De", core.PathSegmentsUnescaped, 2},
		{"/api/v1/users/%6De", core.PathSegmentsRaw, 2},
		{"/api/v1/users/%6De", core.PathDecoded, 1},
	} {
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		req.RemoteAddr = "203.0.113.7:41000"
		_, d := h.lim.Gate(core.Input{Request: req, PathView: c.view}, header) // the store's first sight of the key allocates
		require.Equal(t, "users", d.Rule(), "%s, view %d", c.path, c.view)
		allocs := testing.AllocsPerRun(100, func() {
			h.lim.Gate(core.Input{Request: req, PathView: c.view}, header)
		})
		assert.Equalf(t, c.want, allocs, "%s, view %d", c.path, c.view)
	}
}
