package httplimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
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
