//go:build !race

package core_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

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

// TestSkippedAllocs: marking a request a skipper let through costs one allocation, which
// holds the context and the request copy; the decided path is TestGateAllocs's.
func TestSkippedAllocs(t *testing.T) {
	h := newHarness(t, config.Config{})
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	allocs := testing.AllocsPerRun(100, func() { h.lim.Skipped(req) })
	assert.Equal(t, 1.0, allocs)
}

// TestGateAllocsWithAnEscapedPath: a path sent with escapes of its own (RawPath set) costs
// one allocation more, url.URL.EscapedPath's check that RawPath encodes Path; the rules
// match its segments without allocating.
func TestGateAllocsWithAnEscapedPath(t *testing.T) {
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{endpoint("users", "/api/v1/users/{id}", 1000)}})
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users/a%2Fb", nil)
	req.RemoteAddr = "203.0.113.7:41000"
	header := http.Header{}
	_, d := h.lim.Gate(core.Input{Request: req}, header) // the store's first sight of the key allocates
	assert.Equal(t, "users", d.Rule)
	allocs := testing.AllocsPerRun(100, func() {
		h.lim.Gate(core.Input{Request: req}, header)
	})
	assert.Equal(t, 2.0, allocs)
}

// TestGateAllocsInEachPathView: reading an escaped path as the router does allocates
// nothing more; the decoded path (gin) needs no EscapedPath at all.
func TestGateAllocsInEachPathView(t *testing.T) {
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{endpoint("users", "/api/v1/users/{id}", 1000)}})
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users/%6De", nil)
	req.RemoteAddr = "203.0.113.7:41000"
	header := http.Header{}
	for view, want := range map[core.PathView]float64{core.PathSegmentsUnescaped: 2, core.PathSegmentsRaw: 2, core.PathDecoded: 1} {
		_, d := h.lim.Gate(core.Input{Request: req, PathView: view}, header) // the store's first sight of the key allocates
		require.Equal(t, "users", d.Rule)
		allocs := testing.AllocsPerRun(100, func() {
			h.lim.Gate(core.Input{Request: req, PathView: view}, header)
		})
		assert.Equalf(t, want, allocs, "view %d", view)
	}
}
