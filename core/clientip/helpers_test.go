package clientip_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/clientip"
)

// testTrusted are the trusted proxies of most tests: a private IPv4 range, one single
// address, an IPv6 /48 and an IPv4 range written in its IPv4-mapped form.
var testTrusted = []string{"10.0.0.0/8", "192.168.1.1", "2001:db8:ffff::/48", "::ffff:172.16.0.0/108"}

// newResolver builds a Resolver trusting testTrusted and reading header.
func newResolver(t testing.TB, header string) *clientip.Resolver {
	t.Helper()
	r, err := clientip.New(clientip.Config{TrustedProxies: testTrusted, Header: header})
	require.NoError(t, err)
	return r
}

// headerOf returns a header holding the given lines of one field, in order.
func headerOf(name string, lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		h.Add(name, l)
	}
	return h
}

// resolveCase is one ClientIP expectation: peer and header lines in, address out.
type resolveCase struct {
	name   string
	remote string
	lines  []string
	want   string // "" when ok must be false
}

// runResolveCases runs cases against r, reading the header field named name.
func runResolveCases(t *testing.T, r *clientip.Resolver, name string, cases []resolveCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := r.ClientIP(tc.remote, headerOf(name, tc.lines...))
			if tc.want == "" {
				require.False(t, ok, "got %v", got)
				require.False(t, got.IsValid())
				return
			}
			require.True(t, ok)
			require.Equal(t, tc.want, got.String())
			require.False(t, got.Is4In6(), "result must be unmapped")
			require.Empty(t, got.Zone(), "result must have no zone")
		})
	}
}
