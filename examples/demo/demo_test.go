package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/examples/internal/proc"
)

func TestHeaderLinesShowResetInSeconds(t *testing.T) {
	at := time.Unix(1796031604, 300e6)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "100")
	h.Set("X-RateLimit-Reset", "1796031664")
	h.Set("Retry-After", "1")
	h.Set("Content-Type", "application/json") // not a rate-limit header: not shown
	assert.Equal(t, []string{
		"X-RateLimit-Limit: 100",
		"X-RateLimit-Reset: 1796031664  (in 60 s)",
		"Retry-After: 1",
	}, headerLines(h, at))
}

func TestCountsOnOneLine(t *testing.T) {
	denied := &http.Response{Header: http.Header{"Retry-After": {"6"}}}
	r := &result{statuses: map[int]int{200: 10, 429: 1}, denied: denied}
	assert.Equal(t, "10 × 200,   1 × 429 (Retry-After: 6)", strings.TrimSpace(r.counts()))
	assert.Equal(t, "15 × 200", strings.TrimSpace((&result{statuses: map[int]int{200: 15}}).counts()))
}

// demo.toml exempts the health checker's address, as production configurations exempt a
// load balancer's: its requests get through with no rate-limit headers, while the same
// route from the client is counted.
func TestHealthCheckerIsExempt(t *testing.T) {
	bin, err := proc.Build(t.TempDir(), "../gin")
	require.NoError(t, err)
	srv, err := proc.Start(bin, nil, "-config", "demo.toml")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = srv.Stop() })

	r, err := step{n: 15, method: http.MethodGet, path: "/health", from: healthChecker}.play(srv.URL)
	require.NoError(t, err, "play fails on an exempt response with rate-limit headers")
	assert.Equal(t, map[int]int{http.StatusOK: 15}, r.statuses)

	resp, err := http.Get(srv.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "100", resp.Header.Get("X-RateLimit-Limit"), "the client's /health is counted")
	assert.Equal(t, "99", resp.Header.Get("X-RateLimit-Remaining"), "the checker's requests took nothing from the client")
}
