package examples_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rssBytes reads the resident set size of process pid from /proc.
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if os.IsNotExist(err) {
		t.Skip("no /proc on this system")
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// A sliding window of 100,000 per hour used to reserve a timestamp per unit of the limit
// for every client: 2,000 clients making one request each grew the app by ~1.6 GB. The
// state now grows with the requests admitted.
func TestMemoryGrowsWithUseNotWithTheLimit(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `
algorithm = "sliding_window"
[default]
limit  = 100000
window = "1h"
[client_ip]
trusted_proxies = ["127.0.0.1/32"]
`)
	srv := start(t, binaries["gin"], nil, "-config", cfg)
	client := func(i int) http.Header {
		return http.Header{"X-Forwarded-For": {fmt.Sprintf("198.18.%d.%d", i>>8&255, i&255)}}
	}
	for i := range 200 { // warm up: connections, buffers, the first map growth
		require.Equal(t, 200, send(t, http.MethodGet, srv.URL+"/api/v1/test", client(i)).status)
	}
	before := rssBytes(t, srv.PID())
	const clients = 2000
	for i := 200; i < 200+clients; i++ {
		require.Equal(t, 200, send(t, http.MethodGet, srv.URL+"/api/v1/test", client(i)).status)
	}
	after := rssBytes(t, srv.PID())
	growth := after - before
	t.Logf("RSS %d KiB → %d KiB: %+d KiB for %d sliding-window clients of limit 100000 (%.0f B per client)",
		before>>10, after>>10, growth>>10, clients, float64(growth)/clients)
	assert.Less(t, growth, int64(64<<20), "RSS growth for %d clients", clients)
	assert.Contains(t, get(t, srv.URL+"/metrics").body, fmt.Sprintf("ratelimit_memory_keys %d", 200+clients))
}
