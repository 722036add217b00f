package examples_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// login posts the form of POST /api/v1/login.
func login(t *testing.T, base, password string) response {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/login", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"password": {password}}.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	return response{status: resp.StatusCode, header: resp.Header}
}

// With the example configuration's login rule (count_statuses = [401]), five wrong
// passwords lock the client out and right ones never count (SPEC sections 4 and 8).
func TestLoginCountsOnlyFailedAttempts(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, nil, "-config", "../docs/examples/ratewarden.toml")
		for i := 0; i < 8; i++ {
			r := login(t, srv.URL, "letmein")
			require.Equal(t, http.StatusOK, r.status, "right password %d", i+1)
			assert.Equal(t, "5", r.header.Get("X-RateLimit-Remaining"), "right passwords never count")
		}
		for i := 0; i < 5; i++ {
			r := login(t, srv.URL, "guess")
			require.Equal(t, http.StatusUnauthorized, r.status, "wrong password %d", i+1)
			assert.Equal(t, fmt.Sprint(5-i), r.header.Get("X-RateLimit-Remaining"), "the state at the check")
		}
		r := login(t, srv.URL, "letmein")
		assert.Equal(t, http.StatusTooManyRequests, r.status, "locked out, even with the right password")
		assert.Equal(t, "12", r.header.Get("Retry-After"), "5 a minute: one failure comes back every 12 s")
		assert.Equal(t, `"login";q=5;w=60`, r.header.Get("RateLimit-Policy"))
	})
}
