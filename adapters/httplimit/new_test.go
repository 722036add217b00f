package httplimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestNewDecidesWithNoExtraImport builds the middleware from the zero Config, whose backend
// is "memory", with nothing imported but core and httplimit: the module links the memory
// backend in itself, as the gin, echo and chi adapters do, so New neither panics nor needs a
// blank import.
func TestNewDecidesWithNoExtraImport(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	serve := func(h http.Handler) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		h.ServeHTTP(rec, req)
		return rec
	}

	var zero http.Handler
	require.NotPanics(t, func() { zero = httplimit.New(config.Config{})(ok) })
	rec := serve(zero)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "100", rec.Header().Get("X-RateLimit-Limit"), "the default rule: 100 per minute")
	assert.Equal(t, "99", rec.Header().Get("X-RateLimit-Remaining"))

	one := httplimit.New(config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}})(ok)
	assert.Equal(t, http.StatusNoContent, serve(one).Code)
	assert.Equal(t, http.StatusTooManyRequests, serve(one).Code, "the memory store counted the first request")
}

// WithPathView tells the middleware how a router other than ServeMux reads paths: one
// that routes RawPath undecoded serves "/users/m%65" with "/users/{id}", so the request
// counts under that rule, not under the static "/users/me" that ServeMux would serve.
func TestWithPathView(t *testing.T) {
	cfg := config.Config{Endpoints: []config.Endpoint{
		{Name: "me", Pattern: "/users/me", Limits: config.Limits{Limit: 100, Window: time.Minute}},
		{Name: "users", Pattern: "/users/{id}", Limits: config.Limits{Limit: 2, Window: time.Minute}},
	}}
	rule := func(opts ...httplimit.Option) string {
		var got string
		h := httplimit.New(cfg, opts...)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			d, ok := httplimit.FromContext(r.Context())
			require.True(t, ok)
			got = d.Rule()
		}))
		req := httptest.NewRequest(http.MethodGet, "/users/m%65", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		h.ServeHTTP(httptest.NewRecorder(), req)
		return got
	}
	assert.Equal(t, "me", rule(), "ServeMux's view: m%65 is me")
	assert.Equal(t, "users", rule(httplimit.WithPathView(core.PathSegmentsRaw)))
	assert.Equal(t, "me", rule(httplimit.WithPathView(core.PathDecoded)))
}
