package examples_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
)

// A user with two valid tokens, one of the standard tier and one without a tier, alternates
// them (issue 10's first fault): each window length keeps its own state, so 100 requests
// admit 5 under each policy, on both backends. The memory backend used to start a fresh
// window at every flip and admitted all 100. The windows are an hour and a day, so that
// nothing refills while the requests run on the real clock.
func TestAlternatingTiersNeverGrantUnits(t *testing.T) {
	const secret = "a-secret-of-at-least-32-bytes-for-hs256"
	cfg := writeConfig(t, `
[default]
limit  = 5
window = "1h"
[tiers.standard]
limit  = 5
window = "24h"
[jwt]
enabled = true
secret  = "`+secret+`"
`)
	server := redistest.StartServer(t)
	tokens := map[string]string{}
	for _, tier := range []string{"standard", ""} {
		claims := jwt.MapClaims{"sub": "alice"}
		if tier != "" {
			claims["tier"] = tier
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		require.NoError(t, err)
		tokens[tier] = tok
	}
	for backend, env := range map[string][]string{
		"memory": nil,
		"redis":  {"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_ADDRS=" + server.Addr()},
	} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := start(t, binaries["gin"], env, "-config", cfg)
			admitted := map[string]int{}
			for i := range 100 {
				tier := []string{"standard", ""}[i%2]
				r := send(t, http.MethodGet, srv.URL+"/api/v1/test", http.Header{"Authorization": {"Bearer " + tokens[tier]}})
				if r.status == http.StatusOK {
					admitted[tier]++
				}
			}
			assert.Equal(t, map[string]int{"standard": 5, "": 5}, admitted)
		})
	}
}

// A full memory store (issue 10's sixth fault, as its reviewer ran it): max_keys = 1000, a
// client at 429 on a rule of 3 per hour, then 1,500 clients from distinct IPv6 /64s. No key
// is fresh, so the last 501 new keys each evict a live one: the app's /metrics counts them
// and holds the key count at the bound, and its log warns once (at most once a minute).
func TestAFullMemoryStoreCountsAndReportsEvictions(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `
[default]
limit  = 3
window = "1h"
[memory]
max_keys = 1000
[client_ip]
trusted_proxies = ["127.0.0.1/32"]
`)
	srv := start(t, binaries["gin"], nil, "-config", cfg)
	from := func(i int) http.Header {
		return http.Header{"X-Forwarded-For": {fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff)}}
	}
	for range 3 {
		require.Equal(t, http.StatusOK, send(t, http.MethodGet, srv.URL+"/api/v1/test", from(0)).status)
	}
	require.Equal(t, http.StatusTooManyRequests, send(t, http.MethodGet, srv.URL+"/api/v1/test", from(0)).status)
	for i := 1; i <= 1500; i++ {
		require.Equal(t, http.StatusOK, send(t, http.MethodGet, srv.URL+"/api/v1/test", from(i)).status)
	}
	assert.ElementsMatch(t, []string{
		`ratelimit_memory_evictions_total{reason="expired"} 0`,
		`ratelimit_memory_evictions_total{reason="lru"} 501`,
		`ratelimit_memory_keys 1000`,
	}, linesWith(get(t, srv.URL+"/metrics").body, "ratelimit_memory_"))
	warnings := linesWith(srv.Stderr(), `"msg":"memory_store_full"`)
	require.Len(t, warnings, 1, srv.Stderr())
	assert.Contains(t, warnings[0], `"level":"WARN"`)
	assert.Contains(t, warnings[0], `"max_keys":1000`)
}

// linesWith returns the lines of text that contain s and do not start with "#".
func linesWith(text, s string) []string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines
}
