package clientip_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/clientip"
)

// TestZeroAllocs checks the promise of the package doc: the usual requests are resolved
// and keyed without allocating. Not parallel: testing.AllocsPerRun counts every
// allocation of the process.
func TestZeroAllocs(t *testing.T) {
	xff := newResolver(t, "")
	fwd := newResolver(t, "Forwarded")
	realIP := newResolver(t, "X-Real-IP")
	tests := []struct {
		name   string
		r      *clientip.Resolver
		remote string
		h      http.Header
	}{
		{"untrusted peer", xff, "203.0.113.7:51234", http.Header{"X-Forwarded-For": {"6.6.6.6"}}},
		{"untrusted ipv6 peer", xff, "[2001:db8:1:2::7]:51234", nil},
		{"zoned peer", xff, "[fe80::1%eth0]:51234", nil},
		{"trusted xff chain", xff, "10.0.0.1:51234", http.Header{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 10.0.0.2"}}},
		{"trusted xff lines", xff, "10.0.0.1:51234", http.Header{"X-Forwarded-For": {"6.6.6.6", "[2001:db8:1::7]:443, 10.0.0.2"}}},
		{"trusted xff all trusted", xff, "10.0.0.1:51234", http.Header{"X-Forwarded-For": {"10.0.0.3, 10.0.0.2"}}},
		{"forwarded", fwd, "10.0.0.1:51234", http.Header{"Forwarded": {`for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.1`}}},
		{"x-real-ip", realIP, "10.0.0.1:51234", http.Header{"X-Real-Ip": {"203.0.113.7"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := tc.r.ClientIP(tc.remote, tc.h)
			require.True(t, ok)
			allocs := testing.AllocsPerRun(200, func() {
				addr, _ := tc.r.ClientIP(tc.remote, tc.h)
				_ = tc.r.Key(addr)
			})
			assert.Zero(t, allocs)
		})
	}

	t.Run("AppendKey", func(t *testing.T) {
		buf := make([]byte, 0, 64)
		v4, v6 := xff.Key(netip.MustParseAddr("203.0.113.7")), xff.Key(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
		allocs := testing.AllocsPerRun(200, func() {
			buf = clientip.AppendKey(buf[:0], v4)
			buf = clientip.AppendKey(buf[:0], v6)
		})
		assert.Zero(t, allocs)
	})

	t.Run("PrefixSet.Contains", func(t *testing.T) {
		s, err := clientip.ParsePrefixSet("trusted_proxies", testTrusted)
		require.NoError(t, err)
		addrs := []netip.Addr{
			netip.MustParseAddr("10.0.0.1"),
			netip.MustParseAddr("::ffff:172.16.0.1"),
			netip.MustParseAddr("fe80::1%eth0"),
			netip.MustParseAddr("2001:db8:ffff::1"),
		}
		allocs := testing.AllocsPerRun(200, func() {
			for _, a := range addrs {
				s.Contains(a)
			}
		})
		assert.Zero(t, allocs)
	})
}
