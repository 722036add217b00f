package clientip_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/clientip"
)

func TestPrefixSet(t *testing.T) {
	t.Parallel()
	s, err := clientip.ParsePrefixSet("exemptions.ips", []string{
		"10.0.0.0/8",
		"192.0.2.1",
		" 2001:db8::/32 ",
		"::ffff:198.51.100.0/120", // IPv4-mapped: also matches 198.51.100.0/24
		"fe80::1%eth0",            // zone dropped
		"172.16.9.9/16",           // host bits cleared
		"::/0",                    // every IPv6 address, but no IPv4 one
	})
	require.NoError(t, err)
	assert.Equal(t, 7, s.Len())

	tests := []struct {
		addr string
		want bool
	}{
		{"10.2.3.4", true},
		{"::ffff:10.2.3.4", true},
		{"11.0.0.1", false},
		{"192.0.2.1", true},
		{"192.0.2.2", false},
		{"198.51.100.7", true},
		{"::ffff:198.51.100.7", true},
		{"198.51.101.7", false},
		{"172.16.200.1", true},
		{"172.17.0.1", false},
		{"2001:db8:5::1", true},
		{"fe80::1", true},
		{"fe80::1%eth1", true},
		{"2001:db9::1", true}, // ::/0
		{"203.0.113.7", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, s.Contains(netip.MustParseAddr(tc.addr)))
		})
	}

	t.Run("zero addr", func(t *testing.T) {
		t.Parallel()
		assert.False(t, s.Contains(netip.Addr{}))
	})
}

func TestPrefixSetNarrow(t *testing.T) {
	t.Parallel()
	s, err := clientip.ParsePrefixSet("trusted_proxies", []string{"2001:db8::/32"})
	require.NoError(t, err)
	assert.True(t, s.Contains(netip.MustParseAddr("2001:db8::1")))
	assert.False(t, s.Contains(netip.MustParseAddr("2001:db9::1")))
	assert.False(t, s.Contains(netip.MustParseAddr("10.0.0.1")))
}

func TestPrefixSetZeroValue(t *testing.T) {
	t.Parallel()
	var s clientip.PrefixSet
	assert.Zero(t, s.Len())
	assert.False(t, s.Contains(netip.MustParseAddr("10.0.0.1")))
	assert.False(t, s.Contains(netip.MustParseAddr("::1")))

	empty, err := clientip.ParsePrefixSet("exemptions.ips", nil)
	require.NoError(t, err)
	assert.Zero(t, empty.Len())
}

func TestParsePrefixSetErrors(t *testing.T) {
	t.Parallel()
	_, err := clientip.ParsePrefixSet("exemptions.ips", []string{
		"10.0.0.0/8", "nope", "1.2.3.4/33", "", "1.2.3.4/8/9", "10.0.0.999", "2001:db8::/129", "fe80::1%eth0/64", "*",
	})
	require.Error(t, err)
	want := []string{
		`exemptions.ips[1]: not an IP or CIDR, got "nope"`,
		`exemptions.ips[2]: not an IP or CIDR, got "1.2.3.4/33"`,
		`exemptions.ips[3]: not an IP or CIDR, got ""`,
		`exemptions.ips[4]: not an IP or CIDR, got "1.2.3.4/8/9"`,
		`exemptions.ips[5]: not an IP or CIDR, got "10.0.0.999"`,
		`exemptions.ips[6]: not an IP or CIDR, got "2001:db8::/129"`,
		`exemptions.ips[7]: not an IP or CIDR, got "fe80::1%eth0/64"`,
		`exemptions.ips[8]: not an IP or CIDR, got "*"`,
	}
	assert.Equal(t, strings.Join(want, "\n"), err.Error())
}
